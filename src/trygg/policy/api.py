"""JSON API of the policy app: the rulebook as data (``GET /api/v1/policy/rules``) and acknowledging
the guidelines (``GET|POST /api/v1/policy/acknowledgement``, R-ACK-01)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from trygg.policy.actions import check_acknowledge_guidelines
from trygg.policy.queries import acknowledgement_entry, acknowledgement_status, list_rules

router = Router(tags=["policy"])


class SourceOut(Schema):
    file: str
    owner: str
    title: str


class RuleOut(Schema):
    id: str
    pack: str
    pack_title: str
    title: str
    what_to_do: str
    requirements: list[str]
    level: str
    enforced: bool
    wired: bool
    quote: str
    quote_language: str
    source: SourceOut
    roles: list[str]
    params: dict[str, Any]


@router.get("/rules", response=list[RuleOut])
def rules(request: HttpRequest, all: bool = False, lang: str | None = None) -> list[dict[str, Any]]:
    """Return the active rules that concern the signed-in person (``all=true``: every active rule),
    localised to ``lang`` or the request's language; each quote stays in its original language."""
    return list_rules(request.auth, lang, everyone=all)


# ---------------------------------------------------------------- R-ACK-01


class AckIn(Schema):
    model_config = ConfigDict(extra="forbid")
    # The pupil a guardian went through the guidelines with (only their own, with parental responsibility).
    child_id: int | None = None
    # The fingerprint of the rules the person read (``version`` of GET); a stale one answers 409.
    version: str | None = Field(default=None, max_length=64)


class ChildRefOut(Schema):
    id: int
    name: str


class AcknowledgementOut(Schema):
    id: int
    version: str
    current: bool
    language: str
    acknowledged_at: str
    child: ChildRefOut | None
    rule_count: int
    packs: list[str]


class LinkOut(Schema):
    url: str
    label: str


class ChildStatusOut(Schema):
    id: int
    name: str
    current: bool


class AckStatusOut(Schema):
    required: bool
    current: bool
    version: str
    rule_count: int
    packs: list[str]
    links: list[LinkOut]
    acknowledgements: list[AcknowledgementOut]
    children: list[ChildStatusOut]


@router.get("/acknowledgement", response=AckStatusOut)
def acknowledgement(request: HttpRequest) -> dict[str, Any]:
    """R-ACK-01: whether the signed-in person is asked to acknowledge the guidelines in force, whether
    they have (``current``; false again once the rules change), their records and the nettvett links."""
    return acknowledgement_status(request.auth)


@router.post("/acknowledgement", response={200: AcknowledgementOut, 201: AcknowledgementOut})
def acknowledge(request: HttpRequest, payload: AckIn) -> Status:
    """R-ACK-01: acknowledge the guidelines in force (201; the same version again: 200 with the first record)."""
    ack, created = check_acknowledge_guidelines(request.auth, child_id=payload.child_id, version=payload.version)
    return Status(201 if created else 200, acknowledgement_entry(ack, ack.version))
