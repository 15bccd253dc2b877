"""Rule logic for what a text signal does (issue 14: R-SAFE-01, R-SAFE-02, R-PUP-02, R-SOC-01, R-CASE-10).

The caller classifies the message once (``trygg.policy.signals.classify``) and puts the result in
``context["signals"]`` (a ``Signals`` value: categories and language, never text). These rules only
say what follows from it:

* ``nudge`` obligations, one per category the rule covers, with ``category`` in their data: the
  writer sees each as its own entry before sending and in the send's answer;
* ``safety_alert`` obligations for a threat or self-harm: the writer's contact teacher (and for a
  threat the receivers' contact teachers) get an in-app alert without the text, the receiver of a
  threat is offered "show an adult", self-harm shows the writer the help lines;
* ``safety_repeat`` obligations: how many signals of which kinds from one pupil in how many days
  raise one aggregated alert.

A rule reads only its parameters and the context: no database, no text kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trygg.policy.engine import Effect, Obligation, Request, logic

# The categories the classifier knows (``policy/signals/types.py``), in the order nudges are shown.
SIGNAL_CATEGORIES = ("threat", "selfharm", "bullying", "sexual", "exclusion", "about_absent")


def _categories(req: Request) -> frozenset[str]:
    signals = req.context.get("signals")
    return frozenset(getattr(signals, "categories", ()) or ())


def _writer_role(actor: Any) -> str:
    if actor.is_staff_member:
        return "staff"
    if "guardian" in actor.roles or actor.is_adult:
        return "guardian"
    return "pupil"



def _roles_param(params: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(params.get("writer_roles") or ("pupil", "guardian", "staff"))


@logic("safety.signal_nudges")
def signal_nudges(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-SAFE-01 / S4: a nudge for each category the rule covers (``categories``) that the message
    holds, for writers in ``writer_roles``, and only in the conversation kinds of ``kinds`` (empty:
    all). The writer may change the text or send anyway."""
    found = _categories(req)
    if not found:
        return None
    if _writer_role(req.actor) not in _roles_param(params):
        return None
    kinds = tuple(params.get("kinds") or ())
    kind = req.context.get("kind") or getattr(req.target, "kind", "")
    if kinds and kind not in kinds:
        return None
    wanted = [c for c in SIGNAL_CATEGORIES if c in found and c in set(params.get("categories") or ())]
    if not wanted:
        return None
    return Effect(None, tuple(Obligation("nudge", "", {"category": c, "signal": True}) for c in wanted))


@logic("safety.adult_told")
def adult_told(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-PUP-02 / R-CASE-10: a threat or self-harm gets a nudge, and if it is sent, an adult is told.

    The ``safety_alert`` obligation tells the sender's action whom to alert: the writer's contact
    teacher, and for a threat (``tell_receivers_teacher``) the receivers' too; the receivers of a
    threat are offered "show an adult". Self-harm adds the help lines (``help_lines``; empty: the
    built-in lines of the writer's country).
    """
    found = _categories(req)
    covered = [c for c in ("threat", "selfharm") if c in found and c in set(params.get("categories") or ())]
    if not covered:
        return None
    obligations: list[Obligation] = []
    for category in covered:
        data: dict[str, Any] = {"category": category, "signal": True}
        if category == "selfharm":
            data["help_lines"] = list(params.get("help_lines") or ())
        obligations.append(Obligation("nudge", "", data))
        obligations.append(Obligation("safety_alert", "", {
            "category": category,
            "tell_receivers_teacher": category == "threat" and bool(params.get("tell_receivers_teacher", True)),
            "offer_show_an_adult": category == "threat",
            "notice": bool(params.get("out_of_app_notice", True)),
        }))
    return Effect(None, tuple(obligations))


@logic("safety.repeated_signals")
def repeated_signals(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-SAFE-01: bullying, talk about someone absent or exclusion from one pupil, ``threshold`` times
    within ``window_days``, raise one aggregated alert to the contact teacher (counts, no text)."""
    found = _categories(req) & set(params.get("categories") or ())
    if not found or _writer_role(req.actor) != "pupil":
        return None
    return Effect(None, (Obligation("safety_repeat", "", {
        "categories": sorted(found),
        "threshold": int(params.get("threshold", 3)),
        "window_days": int(params.get("window_days", 7)),
        "watched": sorted(params.get("categories") or ()),
    }),))


@logic("safety.exclusion_noticed")
def exclusion_noticed(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-SOC-01: asked by the weekly job for one class; says whether groups made by pupils or
    guardians that hold most of the class but leave out 1..``left_out_max`` classmates are told to
    the contact teacher. The notice holds counts only: no names, no text."""
    if req.action != "safety.exclusion_notice":
        return None
    return Effect("allow", (Obligation("exclusion_notice", "", {
        "left_out_max": int(params.get("left_out_max", 3)),
    }),))
