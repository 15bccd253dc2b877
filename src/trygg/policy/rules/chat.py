"""Rule logic for conversations and messages (R-CHAT-01..04, R-STAFF-04/05/07, R-SAFE-01, R-SOC-01).

Context keys (see docs/conventions.md): ``kind``, ``members`` (tuple of ``PersonFacts``, the
actor included), ``school_owned``, ``class_id``, ``class_grade``, ``body``, ``new_member``,
``child_grade``. Messaging adds, for the nudges: ``pupil_names`` ({person id: first name} of the
pupils in the conversation), ``outside_names`` (first names of classmates of the members who are
not in it), ``class_pupil_ids`` ({class id: frozenset of pupil ids} for the pupils' classes),
``reply`` (the message answers another), ``guardian`` (``PersonFacts``, for sharing).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from trygg.policy.engine import Effect, Obligation, Request, allow, deny, logic, oblige

PEER_KINDS = ("direct", "group")
CHANNEL_KINDS = ("class", "guardians")

# Words that make a sentence praise or criticism of a person, in nb, nn, da and en. Short on
# purpose: a nudge that fires too often teaches people to click it away.
PRAISE_CRITICISM_WORDS = (
    "flink", "flinke", "dyktig", "dyktige", "bra jobba", "godt jobba", "imponert", "stolt", "skuffet",
    "skuffa", "lat", "doven", "slurvet", "uakseptabel", "frekk", "dårlig", "dårleg", "sjuskete",
    "dygtig", "dygtige", "godt gået", "skuffende", "uacceptabel", "sløset", "uopdragen",
    "well done", "great job", "proud of", "disappointed", "lazy", "sloppy", "unacceptable", "rude",
    "excellent work", "poor work", "naughty",
)


def _members(req: Request) -> tuple[Any, ...]:
    return tuple(req.context.get("members") or ())


def _is_pupil_only(facts: Any) -> bool:
    return "pupil" in facts.roles and not facts.is_adult


def _words(text: str) -> str:
    return " " + re.sub(r"[^\w]+", " ", text.lower()) + " "


def _mentions(text: str, names: Iterable[str]) -> list[str]:
    padded = _words(text)
    return sorted({n for n in names if n and f" {n.lower()} " in padded})


def is_work_chat(kind: str, members: Iterable[Any]) -> bool:
    """R-CHAT-04: a direct chat between a staff member and a pupil or guardian of their school is
    work, so the school owns it, whoever started it (no tick box needed).

    ``members`` are the two people's ``PersonFacts``.
    """
    people = tuple(members)
    if kind != "direct" or len(people) != 2:
        return False
    staff = [m for m in people if m.is_staff_member]
    families = [m for m in people if not m.is_staff_member and m.roles & {"pupil", "guardian"}]
    if len(staff) != 1 or len(families) != 1:
        return False
    return bool(staff[0].school_ids & families[0].school_ids)


def _kind(req: Request) -> str:
    kind = req.context.get("kind")
    if kind is None and req.target is not None:
        kind = getattr(req.target, "kind", None)
    return kind or ""


def _school_owned(req: Request) -> bool:
    if "school_owned" in req.context:
        return bool(req.context["school_owned"])
    return bool(getattr(req.target, "school_owned", False))


# ---------------------------------------------------------------- baseline (core_messaging)


@logic("chat.members_may_create")
def members_may_create(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """A person may start a direct chat or a group they are in; class channels come from the roster."""
    kind = _kind(req)
    members = _members(req)
    if kind in CHANNEL_KINDS:
        return deny()
    if kind not in PEER_KINDS or req.actor.id not in {m.id for m in members}:
        return deny()
    if kind == "direct" and len(members) != 2:
        return deny()
    if len(members) < 2:
        return deny()
    return allow()


@logic("chat.members_may_send")
def members_may_send(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """Members write to their conversation; in a class channel, only staff post, others reply."""
    members = _members(req)
    if req.actor.id not in {m.id for m in members}:
        return deny()
    if _kind(req) in CHANNEL_KINDS and not req.actor.is_staff_member and not req.context.get("reply"):
        return deny()
    return allow()


@logic("chat.owner_manages_members")
def owner_manages_members(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """In a group, the creator adds and removes members; class channels follow the roster."""
    conversation = req.target
    if getattr(conversation, "kind", "") != "group":
        return deny()
    if getattr(conversation, "created_by_id", None) == req.actor.id or _adds_missing_adult(req):
        return allow()
    return deny()


def _adds_missing_adult(req: Request) -> bool:
    """Return whether a staff member in a frozen group adds an adult from the school (R-STAFF-07):
    the creator may be the one who is gone, and the group must not stay frozen for that."""
    new_member = req.context.get("new_member")
    return bool(req.action == "conversation.add_member" and req.context.get("frozen")
                and req.actor.is_staff_member and new_member is not None and new_member.is_staff_member)


@logic("chat.sender_changes_own")
def sender_changes_own(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """Only the sender edits or deletes a message, or opens an announcement for discussion."""
    message = req.target
    return allow() if getattr(message, "sender_id", None) == req.actor.id else deny()


@logic("chat.deliver_to_member")
def deliver_to_member(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """Out-of-app notices go to the recipient the caller names; the guideline rules may hold them."""
    return allow() if req.context.get("recipient") is not None else deny()


# ---------------------------------------------------------------- guideline rules


@logic("chat.school_conversations")
def school_conversations(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-CHAT-01: only staff start school conversations; the rest are social, and labelled so."""
    if req.action != "conversation.create":
        return None
    if _school_owned(req) and not req.actor.is_staff_member and not is_work_chat(_kind(req), _members(req)):
        return deny()
    return oblige("label", None, social=not _school_owned(req))


@logic("chat.pupil_chat_grade")
def pupil_chat_grade(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-CHAT-02: below ``min_grade``, pupils chat with adults only (not with other pupils).

    This holds inside school-owned groups too: a group two teachers make is still pupils chatting
    with each other. A municipality may allow supervised pupil groups below the grade
    (``supervised_groups_below_grade``, off by default); class channels are the school's
    announcements, not pupil–pupil chat. A pupil without a grade (only in classes
    without one) counts as below the limit: not knowing a child's age must not open pupil–pupil chat.
    """
    if _kind(req) not in PEER_KINDS:
        return None
    if _school_owned(req) and params.get("supervised_groups_below_grade"):
        return None
    min_grade = int(params.get("min_grade", 8))
    pupils = [m for m in _members(req) if _is_pupil_only(m)]
    if len(pupils) < 2:
        return None
    if any(m.grade is None or m.grade < min_grade for m in pupils):
        return deny(min_grade=min_grade)
    return None


@logic("chat.creator_and_owner_shown")
def creator_and_owner_shown(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-CHAT-04: a group made by a pupil or guardian cannot carry the school's mark, even with staff
    in it; a direct chat with a staff member of their school is the school's (``is_work_chat``)."""
    if req.action != "conversation.create" or _kind(req) not in PEER_KINDS:
        return None
    if _school_owned(req) and not req.actor.is_staff_member and not is_work_chat(_kind(req), _members(req)):
        return deny()
    return oblige("label", None, created_by=req.actor.id, school_owned=_school_owned(req))


@logic("chat.closed_groups")
def closed_groups(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-STAFF-04: a closed group's members are chosen by its creator, nobody else."""
    conversation = req.target
    if getattr(conversation, "kind", "") != "group":
        return None
    if getattr(conversation, "created_by_id", None) != req.actor.id and not _adds_missing_adult(req):
        return deny()
    return None


@logic("chat.two_staff_adults")
def two_staff_adults(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-STAFF-07: a group with pupils that staff run needs at least ``min_adults`` staff adults.

    Refused when a staff member would be the only adult; the reason says to add a colleague. The
    guideline speaks to staff, so it binds staff acting, not pupils inviting a teacher. Leaving or
    removing a staff member from a staff-run group (school-owned or made by staff) is refused too
    while it would leave fewer adults than that: add the colleague first.
    """
    if _kind(req) != "group":
        return None
    members = _members(req)
    if not any(_is_pupil_only(m) for m in members):
        return None
    staff = [m for m in members if m.is_staff_member]
    min_adults = int(params.get("min_adults", 2))
    if req.action in ("conversation.leave", "conversation.remove_member"):
        going = req.context.get("new_member")
        creator = req.context.get("creator")
        staff_run = _school_owned(req) or (creator is not None and creator.is_staff_member)
        if going is None or not going.is_staff_member or not staff_run:
            return None
        return deny(min_adults=min_adults) if len(staff) < min_adults else None
    if not req.actor.is_staff_member or not staff:
        return None
    new_member = req.context.get("new_member")
    if req.action == "conversation.add_member" and new_member is not None and new_member.is_staff_member:
        # Adding an adult only brings the group nearer the rule: a frozen group gets its adults
        # back one at a time.
        return None
    if len(staff) < min_adults:
        return deny(min_adults=min_adults)
    return None


@logic("chat.frozen_without_adults")
def frozen_without_adults(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-STAFF-07: a staff-run group with pupils that has lost all its adults (deactivated, employment
    ended) is read-only until an adult from the school is added."""
    return deny() if req.context.get("frozen") else None


@logic("chat.members_may_leave")
def members_may_leave(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """A member may leave a group (guideline rules may say "not yet")."""
    return allow() if _kind(req) == "group" else deny()


@logic("chat.no_individual_praise_in_groups")
def no_individual_praise_in_groups(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-STAFF-05: staff praising or criticising one named pupil in a group get a nudge (may still send)."""
    if _kind(req) not in ("group", "class", "guardians") or not req.actor.is_staff_member:
        return None
    members = _members(req)
    if members and len(members) < int(params.get("min_group_size", 3)):
        return None
    body = str(req.context.get("body") or "")
    names = dict(req.context.get("pupil_names") or {})
    named = _mentions(body, names.values())
    if len(named) != 1:
        return None
    words = params.get("words") or PRAISE_CRITICISM_WORDS
    padded = _words(body)
    if not any(f" {w} " in padded for w in words):
        return None
    return oblige("nudge", None, category="praise_criticism", name=named[0])


@logic("chat.talk_with_not_about")
def talk_with_not_about(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-SAFE-01: writing about a classmate who is not in the conversation gets a nudge."""
    if req.action != "message.send" or _kind(req) not in PEER_KINDS:
        return None
    body = str(req.context.get("body") or "")
    outside = _mentions(body, req.context.get("outside_names") or ())
    if not outside:
        return None
    return oblige("nudge", None, category="about_absent", names=outside)


@logic("chat.left_out_noticed")
def left_out_noticed(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-SOC-01 / R-SAFE-01: a group with nearly all of a class, but not everyone, is noticed."""
    if _kind(req) != "group":
        return None
    member_ids = {m.id for m in _members(req)}
    left_out_max = int(params.get("left_out_max", 3))
    for class_id, pupils in (req.context.get("class_pupil_ids") or {}).items():
        pupils = frozenset(pupils)
        missing = pupils - member_ids
        if pupils and 0 < len(missing) <= left_out_max and len(pupils & member_ids) > len(missing):
            return oblige("nudge", None, category="exclusion", class_id=class_id, missing=len(missing))
    return None


@logic("chat.zero_tolerance")
def zero_tolerance(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-SAFE-01 (workflow): every conversation offers "Report" on messages; shown as information."""
    if req.action != "conversation.create":
        return None
    return oblige("inform", None)


@logic("chat.guardian_sees_contacts")
def guardian_sees_contacts(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-CHAT-03: a guardian with parental responsibility sees whom a young child chats with."""
    if req.action != "conversation.view_child":
        return None
    child = req.target
    child_id = getattr(child, "id", child)
    if child_id not in req.actor.child_ids:
        return deny(oversight_max_grade=params.get("oversight_max_grade", 7))
    grade = req.context.get("child_grade")
    max_grade = int(params.get("oversight_max_grade", 7))
    if grade is None or grade > max_grade:
        return deny(oversight_max_grade=max_grade)
    return allow()


@logic("chat.child_shares_conversation")
def child_shares_conversation(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-CHAT-03: a pupil shares one of their conversations with a guardian who has responsibility."""
    if req.action != "conversation.share_with_guardian":
        return None
    guardian = req.context.get("guardian")
    members = {m.id for m in _members(req)}
    if "pupil" not in req.actor.roles or req.actor.id not in members or guardian is None:
        return deny()
    if req.actor.id not in guardian.child_ids:
        return deny()
    return allow()


# ---------------------------------------------------------------- staff conduct (R-STAFF-01, R-STF-01)

STAFF_WORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "staff_negative_words.yaml"


@functools.cache
def staff_negative_words() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return the built-in (negative words, words about people or the workplace) in nb, da and en.

    Read once per process from ``policy/data/staff_negative_words.yaml``, not per decision.
    """
    data = yaml.safe_load(STAFF_WORDS_FILE.read_text(encoding="utf-8"))

    def flat(section: str) -> tuple[str, ...]:
        return tuple(sorted({str(w).lower() for words in data[section].values() for w in words}))

    return flat("negative"), flat("about")


@functools.lru_cache(maxsize=32)
def _matcher(words: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
    """Split a word list into single words (matched as a set) and phrases (matched in the padded text).

    Cached per list: this runs in the send path, where a set lookup per word of the message is far
    cheaper than a substring search per word of the list.
    """
    singles = frozenset(w for w in words if re.fullmatch(r"\w+", w))
    phrases = tuple(_words(w) for w in words if w not in singles and w.strip())
    return singles, phrases


# Compiled once: rule functions run on every send, and a module-level pattern skips re's cache lookup.
_WORD = re.compile(r"\w+")


def _tokens(text: str) -> tuple[frozenset[str], str]:
    """Return the lower-case words of ``text`` and the text as " word word " for phrase lookups."""
    words = _WORD.findall(text.lower())
    return frozenset(words), " " + " ".join(words) + " "


def _has_any(tokens: frozenset[str], padded: str, words: tuple[str, ...]) -> bool:
    singles, phrases = _matcher(words)
    return not singles.isdisjoint(tokens) or any(p in padded for p in phrases)


@logic("chat.no_negative_about_people")
def no_negative_about_people(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-STF-01: staff writing negatively about colleagues, pupils, parents or the workplace get a
    nudge ("there is no undo") and may still send.

    Fires when the text holds a negative word and refers to people or the workplace (a word such
    as "foreldrene"/"kollegerne"/"school", or the first name of a pupil the conversation concerns).
    Word matching cannot tell criticism from a report of a problem; a nudge, not a refusal, is the
    honest answer to that.
    """
    if req.action != "message.send" or not req.actor.is_staff_member:
        return None
    body = str(req.context.get("body") or "")
    if not body:
        return None
    builtin_negative, builtin_about = staff_negative_words()
    tokens, padded = _tokens(body)
    negative = tuple(str(w).lower() for w in params.get("words") or ()) or builtin_negative
    if not _has_any(tokens, padded, negative):
        return None
    about = tuple(str(w).lower() for w in params.get("about_words") or ()) or builtin_about
    names = [*dict(req.context.get("pupil_names") or {}).values(), *(req.context.get("outside_names") or ())]
    if not _has_any(tokens, padded, about) and not _mentions(body, names):
        return None
    return oblige("nudge", None, category="negative_staff")


@logic("chat.work_talk_stays_here")
def work_talk_stays_here(req: Request, params: Mapping[str, Any]) -> Effect | None:
    """R-STAFF-01 (inform): a staff member starting a direct conversation with a pupil or guardian is
    shown that work communication with pupils and parents stays on the school's platform.

    The decision carries an ``inform`` obligation (what the guideline is) and the same notice as a
    ``nudge`` obligation, because the chat pages and API show nudges (with the rule's level, here
    "inform") and nothing else yet; it never blocks.
    """
    if req.action != "conversation.create" or _kind(req) != "direct" or not req.actor.is_staff_member:
        return None
    others = [m for m in _members(req) if m.id != req.actor.id]
    if not any(m.roles & {"pupil", "guardian"} for m in others):
        return None
    return Effect(None, (
        Obligation("inform", "", {"show": True}),
        Obligation("nudge", "", {"inform": True, "category": "other"}),
    ))
