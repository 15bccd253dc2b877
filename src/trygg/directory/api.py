"""Sign-in, the signed-in person, and their classes."""

from __future__ import annotations

from django.contrib.auth import logout
from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from trygg.directory import actions, queries

router = Router(tags=["directory"])


class TokenIn(Schema):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=1024)


class TokenOut(Schema):
    token: str


class MeOut(Schema):
    id: int
    username: str
    name: str
    roles: list[str]
    language: str


class ClassOut(Schema):
    id: int
    name: str
    grade: int
    school: str


class MemberOut(Schema):
    username: str
    name: str
    role: str


@router.post("/auth/token", auth=None, response={200: TokenOut})
def issue_token(request: HttpRequest, payload: TokenIn) -> dict[str, str]:
    person = actions.check_credentials(
        None, payload.username, payload.password, actions.client_address(request)
    )
    return {"token": actions.do_issue_token(person)}


@router.post("/auth/logout", response={204: None})
def sign_out(request: HttpRequest) -> Status:
    token = getattr(request, "api_token", None)
    if token is not None:
        actions.do_revoke_token(token)
    else:
        logout(request)
    return Status(204, None)


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> dict[str, object]:
    person = request.auth
    return {
        "id": person.id,
        "username": person.username,
        "name": person.name,
        "roles": sorted(person.facts.roles),
        "language": person.language,
    }


@router.get("/classes", response=list[ClassOut])
def classes(request: HttpRequest) -> list[dict[str, object]]:
    return [
        {"id": c.id, "name": c.name, "grade": c.grade, "school": c.school.name}
        for c in queries.list_classes(request.auth)
    ]


@router.get("/classes/{int:class_id}/members", response=list[MemberOut])
def class_members(request: HttpRequest, class_id: int) -> list[dict[str, str]]:
    _school_class, members = queries.access_class_members(request.auth, class_id)
    return members
