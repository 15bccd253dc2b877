"""The only texts that leave Trygg: neutral, with no names and no message text (R-STAFF-06)."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def notice_text(language: str, kinds: list[str], conversations: int, digest: bool) -> tuple[str, str]:
    """Return (subject, body) for a person's ready notices, in their language."""
    with translation.override(language or "nb"):
        link = settings.TRYGG_PUBLIC_URL.rstrip("/") + "/messages/"
        if "new_message" in kinds:
            what = ngettext(
                "You have new messages in %(n)d conversation in Trygg.",
                "You have new messages in %(n)d conversations in Trygg.",
                conversations,
            ) % {"n": conversations}
        elif kinds and set(kinds) <= {"classlist_reminder"}:
            # R-LIST-03: the same words to every guardian of the class, naming nobody.
            link = settings.TRYGG_PUBLIC_URL.rstrip("/") + "/classes/"
            what = _("The school asks you to look at the class contact list and choose what you want to share.")
        elif kinds and set(kinds) <= {"case_new", "case_follow_up"}:
            # A new case or a follow-up that is due (R-CASE-12, R-CASE-17): neutral words, the case list.
            link = settings.TRYGG_PUBLIC_URL.rstrip("/") + "/cases/handling/"
            what = _("Something new is waiting for you in Trygg.")
        elif kinds and set(kinds) <= {"meeting_request", "meeting_request_answered"}:
            # R-PAR-01: a request for a meeting, or its answer; the topic never leaves Trygg.
            link = settings.TRYGG_PUBLIC_URL.rstrip("/") + "/meetings/"
            what = _("Something new is waiting for you in Trygg.")
        elif kinds and set(kinds) <= {"signin_attempts"}:
            # The daily ceiling of failed sign-ins was passed: the owner learns it, nothing more.
            link = settings.TRYGG_PUBLIC_URL.rstrip("/") + "/signin/sessions/"
            what = _("Many wrong passwords were tried for your Trygg account today. If that was not you, "
                     "change your password or ask the school.")
        else:
            what = _("Something new is waiting for you in Trygg.")
        subject = _("Trygg: summary") if digest else _("Trygg: something new")
        lead = _("Held during school hours:") + " " if digest else ""
        sign_in = _("Sign in to read it:")
        body = f"{lead}{what} {sign_in} {link}"
        return subject, body
