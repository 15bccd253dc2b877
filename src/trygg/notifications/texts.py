"""The only texts that leave Trygg: neutral, with no names and no message text (R-STAFF-06)."""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from trygg.links import absolute


def _what_and_path(kinds: list[str], conversations: int) -> tuple[str, str]:
    """Return the neutral sentence for these notices and the path inside Trygg that shows them."""
    if "new_message" in kinds:
        return ngettext(
            "You have new messages in %(n)d conversation in Trygg.",
            "You have new messages in %(n)d conversations in Trygg.",
            conversations,
        ) % {"n": conversations}, "/messages/"
    if kinds and set(kinds) <= {"classlist_reminder"}:
        # R-LIST-03: the same words to every guardian of the class, naming nobody.
        return _("The school asks you to look at the class contact list and choose what you want to share."), \
            "/classes/"
    if kinds and set(kinds) <= {"case_new", "case_follow_up"}:
        # A new case or a follow-up that is due (R-CASE-12, R-CASE-17): neutral words, the case list.
        return _("Something new is waiting for you in Trygg."), "/cases/handling/"
    if kinds and set(kinds) <= {"meeting_request", "meeting_request_answered"}:
        # R-PAR-01: a request for a meeting, or its answer; the topic never leaves Trygg.
        return _("Something new is waiting for you in Trygg."), "/meetings/"
    if kinds and set(kinds) <= {"signin_attempts"}:
        # The daily ceiling of failed sign-ins was passed: the owner learns it, nothing more.
        return _("Many wrong passwords were tried for your Trygg account today. If that was not you, "
                 "change your password or ask the school."), "/signin/sessions/"
    if kinds and set(kinds) <= {"safety_alert"}:
        # Issue 14: a safety alert for staff. Neutral words: no category, no names, no text.
        return _("Something new is waiting for you in Trygg."), "/safety/alerts/"
    return _("Something new is waiting for you in Trygg."), "/messages/"


def notice_text(language: str, kinds: list[str], conversations: int, digest: bool) -> tuple[str, str]:
    """Return (subject, body) for a person's ready notices, in their language."""
    with translation.override(language or "nb"):
        what, path = _what_and_path(kinds, conversations)
        link = absolute(path)
        subject = _("Trygg: summary") if digest else _("Trygg: something new")
        lead = _("Held during school hours:") + " " if digest else ""
        sign_in = _("Sign in to read it:")
        body = f"{lead}{what} {sign_in} {link}"
        return subject, body


def push_payload(language: str, kinds: list[str], conversations: int, digest: bool) -> dict[str, Any]:
    """Return what a push notice shows: a title, the same neutral sentence as e-mail, and a path.

    The path is inside Trygg (the service worker opens nothing else); ``tag`` lets a newer notice
    replace an older one on the device, so forty messages are one notice, not forty.
    """
    with translation.override(language or "nb"):
        what, path = _what_and_path(kinds, conversations)
        title = _("Trygg: summary") if digest else _("Trygg: something new")
        lead = _("Held during school hours:") + " " if digest else ""
        return {"title": title, "body": f"{lead}{what}", "url": path, "tag": f"trygg-{path.strip('/') or 'home'}"}
