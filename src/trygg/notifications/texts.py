"""The only texts that leave Trygg: neutral, with no names and no message text (R-STAFF-06)."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from trygg.links import absolute


def notice_text(language: str, kinds: list[str], conversations: int, digest: bool) -> tuple[str, str]:
    """Return (subject, body) for a person's ready notices, in their language."""
    with translation.override(language or "nb"):
        link = absolute("/messages/")
        if "new_message" in kinds:
            what = ngettext(
                "You have new messages in %(n)d conversation in Trygg.",
                "You have new messages in %(n)d conversations in Trygg.",
                conversations,
            ) % {"n": conversations}
        elif kinds and set(kinds) <= {"classlist_reminder"}:
            # R-LIST-03: the same words to every guardian of the class, naming nobody.
            link = absolute("/classes/")
            what = _("The school asks you to look at the class contact list and choose what you want to share.")
        elif kinds and set(kinds) <= {"case_new", "case_follow_up"}:
            # A new case or a follow-up that is due (R-CASE-12, R-CASE-17): neutral words, the case list.
            link = absolute("/cases/handling/")
            what = _("Something new is waiting for you in Trygg.")
        elif kinds and set(kinds) <= {"meeting_request", "meeting_request_answered"}:
            # R-PAR-01: a request for a meeting, or its answer; the topic never leaves Trygg.
            link = absolute("/meetings/")
            what = _("Something new is waiting for you in Trygg.")
        elif kinds and set(kinds) <= {"safety_alert"}:
            # Issue 14: a safety alert for staff. Neutral words: no category, no names, no text.
            link = absolute("/safety/alerts/")
            what = _("Something new is waiting for you in Trygg.")
        else:
            what = _("Something new is waiting for you in Trygg.")
        subject = _("Trygg: summary") if digest else _("Trygg: something new")
        lead = _("Held during school hours:") + " " if digest else ""
        sign_in = _("Sign in to read it:")
        body = f"{lead}{what} {sign_in} {link}"
        return subject, body
