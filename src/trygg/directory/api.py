"""The signed-in person and their classes (sign-in itself is ``trygg.signin.api``)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from trygg.directory import queries
from trygg.directory.counts import counts_for

router = Router(tags=["directory"])


class MeOut(Schema):
    id: int
    username: str
    name: str
    roles: list[str]
    language: str
    # Unread messages, photos waiting for my permission, cases I handle that wait, meetings today.
    counts: dict[str, int]


class ClassOut(Schema):
    id: int
    name: str
    grade: int | None
    school: str


class MemberOut(Schema):
    username: str
    name: str
    role: str


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> dict[str, object]:
    person = request.auth
    return {
        "id": person.id,
        "username": person.username,
        "name": person.name,
        "roles": sorted(person.facts.roles),
        "language": person.language,
        "counts": counts_for(person),
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
