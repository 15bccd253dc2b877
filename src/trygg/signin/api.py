"""JSON API of sign-in: tokens (with a second factor for step-up), sign-out, the providers offered,
one's own sessions and tokens, signing out everywhere, and link codes for leaders."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from trygg.api_schemas import Out
from trygg.directory import actions as directory_actions
from trygg.errors import Forbidden, NotFoundOrHidden, NotSignedIn
from trygg.signin import actions, queries
from trygg.signin.revocation import session_credential
from trygg.signin.stepup import strong_until, window_for

router = Router(tags=["sign-in"])


class In(Schema):
    model_config = ConfigDict(extra="forbid")


class TokenIn(In):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=1024)
    # A current TOTP code: the token is then stepped up (passes step-up for the pack's window).
    otp: str | None = Field(default=None, max_length=10)
    # The device token of an earlier sign-in of this client to this account: it skips the delay.
    device_token: str | None = Field(default=None, max_length=300)


class TokenOut(Schema):
    token: str
    strong_until: str | None = None
    # Keep it, and send it with the next sign-in to this account (``device_token``).
    device_token: str


class OtpIn(In):
    otp: str = Field(min_length=1, max_length=10)


class LinkCodeIn(In):
    username: str = Field(min_length=1, max_length=150)


class ProviderOut(Schema):
    id: int
    name: str
    login_url: str


class StrongUntilOut(Out):
    strong_until: str | None


class SessionOut(Out):
    id: int
    created_at: str
    method: str
    device: str
    provider: str | None
    current: bool


class TokenInfoOut(Out):
    id: int
    created_at: str
    method: str
    device: str
    last_used_at: str | None
    expires_at: str
    current: bool


class SessionsOut(Out):
    sessions: list[SessionOut]
    tokens: list[TokenInfoOut]


class RevokedOut(Out):
    sessions: int
    tokens: int


class LinkCodeOut(Out):
    code: str
    username: str
    expires_at: str


def _label(request: HttpRequest) -> str:
    return (request.META.get("HTTP_USER_AGENT") or "")[:120]


@router.post("/auth/token", auth=None, response={200: TokenOut})
def issue_token(request: HttpRequest, payload: TokenIn) -> dict[str, Any]:
    """Issue a bearer token; with ``otp`` it is stepped up (R-STAFF-02)."""
    address = directory_actions.client_address(request)
    verified: dict[int, bool] = {}

    def otp_ok(who: Any) -> bool:
        # A code is accepted once (django-otp): checked here once, remembered for below.
        if who.pk not in verified:
            verified[who.pk] = payload.otp is not None and actions.verify_otp(who, payload.otp)
        return verified[who.pk]

    person = directory_actions.check_credentials(
        None, payload.username, payload.password, address, device=payload.device_token, otp_ok=otp_ok)
    strong = False
    if payload.otp is not None:
        if not otp_ok(person):
            directory_actions.note_failure(payload.username, address)
            raise NotSignedIn(_("That code is not right. Type the current code from your authenticator app."),
                              code="bad_otp")
        strong = True
    raw = directory_actions.do_issue_token(person, strong=strong, label=_label(request))
    body: dict[str, Any] = {"token": raw, "strong_until": None,
                            "device_token": directory_actions.device_value(person.username)}
    if strong:
        body["strong_until"] = (timezone.now() + window_for(person)).isoformat()
    return body


@router.post("/auth/logout", response={204: None})
def sign_out(request: HttpRequest) -> Status:
    """Revoke the calling token (or end the calling session); its sockets close."""
    actions.do_sign_out(request)
    return Status(204, None)


@router.post("/auth/step-up", response=StrongUntilOut)
def step_up(request: HttpRequest, payload: OtpIn) -> dict[str, Any]:
    """Step up the calling token or session with a current TOTP code (R-STAFF-02)."""
    actions.check_step_up_with_otp(request, request.auth, payload.otp)
    until = strong_until(request)
    return {"strong_until": until.isoformat() if until else None}


@router.get("/auth/providers", auth=None, response=list[ProviderOut])
def providers(request: HttpRequest) -> list[dict[str, Any]]:
    """The sign-in services offered next to passwords (Feide, ID-porten, UNI-login, MitID brokers)."""
    return [queries.provider_out(p) for p in queries.list_providers()]


@router.get("/auth/sessions", response=SessionsOut)
def my_sessions(request: HttpRequest) -> dict[str, Any]:
    """The caller's signed-in browsers and API tokens; ``current`` marks the one asking."""
    person = request.auth
    token = getattr(request, "api_token", None)
    mine = session_credential(request.session.session_key) if token is None and hasattr(request, "session") else None
    return {
        "sessions": [
            {"id": s.pk, "created_at": s.created_at.isoformat(), "method": s.method, "device": s.label,
             "provider": s.provider.name if s.provider else None,
             "current": mine is not None and session_credential(s.session_key) == mine}
            for s in queries.list_my_sessions(person)
        ],
        "tokens": [
            {"id": t.pk, "created_at": t.created_at.isoformat(), "method": t.method, "device": t.label,
             "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
             "expires_at": t.expires_at.isoformat(), "current": token is not None and t.pk == token.pk}
            for t in queries.list_my_tokens(person)
        ],
    }


@router.post("/auth/sessions/revoke-all", response=RevokedOut)
def sign_out_everywhere(request: HttpRequest) -> dict[str, int]:
    """Sign out of every browser and revoke every token, this one included; every socket closes."""
    return actions.do_revoke_everywhere(request.auth, request.auth, reason="person")


@router.delete("/auth/sessions/{session_id}", response={204: None})
def end_session(request: HttpRequest, session_id: int) -> Status:
    actions.do_revoke_session(request.auth, queries.access_my_session(request.auth, session_id))
    return Status(204, None)


@router.delete("/auth/tokens/{token_id}", response={204: None})
def revoke_token(request: HttpRequest, token_id: int) -> Status:
    actions.do_revoke_token(request.auth, queries.access_my_token(request.auth, token_id))
    return Status(204, None)


@router.post("/link-codes", response={201: LinkCodeOut})
def create_link_code(request: HttpRequest, payload: LinkCodeIn) -> Status:
    """A one-time code that links a person's first sign-in through a provider to them; shown once."""
    person = queries.find_person_for_link_code(payload.username)
    try:
        code, raw = actions.check_create_link_code(request.auth, person)
    except Forbidden as exc:
        # Someone who may not hand out codes for this person does not learn that the person exists.
        raise NotFoundOrHidden() from exc
    return Status(201, {"code": raw, "username": person.username, "expires_at": code.expires_at.isoformat()})
