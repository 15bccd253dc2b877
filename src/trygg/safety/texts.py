"""What a writer is told when a message holds a signal, in words for their age, and the help lines
of their country (issue 14). Texts are English in the source, translated in ``locale/``."""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

# A pupil up to this grade is a child; above it, a young person (the words change, not the rules).
CHILD_MAX_GRADE = 7

# The help lines children can call, by the municipality's country. Numbers are the services' own.
HELP_LINES: dict[str, tuple[dict[str, str], ...]] = {
    "NO": (
        {"name": "Kors på halsen", "number": "800 33 321"},
        {"name": "Alarmtelefonen for barn og unge", "number": "116 111"},
    ),
    "DK": (
        {"name": "BørneTelefonen", "number": "116 111"},
    ),
}
# For an adult writer (a guardian, staff), the lines for adults of the same country.
ADULT_HELP_LINES: dict[str, tuple[dict[str, str], ...]] = {
    "NO": ({"name": "Mental Helse hjelpetelefonen", "number": "116 123"},),
    "DK": ({"name": "Livslinien", "number": "70 201 201"},),
}


def age_band(facts: Any) -> str:
    """child (pupil to grade 7), young (older pupils) or adult."""
    if facts is None or getattr(facts, "is_adult", True) or "pupil" not in getattr(facts, "roles", ()):
        return "adult"
    grade = getattr(facts, "grade", None)
    return "child" if grade is not None and grade <= CHILD_MAX_GRADE else "young"


def _messages(band: str) -> dict[str, str]:
    # Built per call so gettext picks the active language.
    if band == "child":
        return {
            "threat": _("This could scare someone. Do you want to change it? If you send it, a grown-up at "
                        "school will be told."),
            "selfharm": _("It sounds like you are having a hard time. You are not alone. Talk to a grown-up you "
                          "trust, or call someone who helps children. Your teacher will be told so they can help."),
            "bullying": _("This could hurt. Do you want to change it?"),
            "sexual": _("This is not OK to write. Do you want to change it?"),
            "exclusion": _("Leaving someone out hurts. Do you want to change it?"),
            "about_absent": _("We talk with the people here, not about others. Do you want to change it?"),
        }
    if band == "young":
        return {
            "threat": _("This can read as a threat. Do you want to change it? If you send it, your contact "
                        "teacher will be told that you sent a message like this (not what it says)."),
            "selfharm": _("It sounds like things are hard right now. You don't have to deal with it alone: talk "
                          "to an adult you trust or call a help line. Your contact teacher will be told so they "
                          "can check on you."),
            "bullying": _("This could hurt someone. Do you want to change it?"),
            "sexual": _("This can be unpleasant or illegal to send. Do you want to change it?"),
            "exclusion": _("This can leave someone out. Do you want to change it?"),
            "about_absent": _("We talk with those in the conversation, not about others. Do you want to change it?"),
        }
    return {
        "threat": _("This message can read as a threat. If it is sent, the school will be told (not what it "
                    "says). Do you want to change it?"),
        "selfharm": _("This message sounds like someone may be at risk. Help lines are listed below; the school "
                      "will be told so they can follow up."),
        "bullying": _("This can read as hurtful. Do you want to change it?"),
        "sexual": _("This can read as sexual or offensive. Do you want to change it?"),
        "exclusion": _("This can leave someone out. Do you want to change it?"),
        "about_absent": _("Please talk with those in the conversation, not about others. Do you want to change "
                          "it?"),
    }


def nudge_message(category: str, band: str, language: str | None = None) -> str:
    """Return what the writer is told about one category, for their age band."""
    with translation.override(language or translation.get_language() or "nb"):
        return _messages(band).get(category, "")


def help_lines(country: str | None, language: str | None = None, band: str = "child") -> list[dict[str, str]]:
    """Return the help lines of a country (NO by default) for a child or young person (or, for
    ``band="adult"``, for adults), each with a short text in the language."""
    table = ADULT_HELP_LINES if band == "adult" else HELP_LINES
    lines = table.get((country or "NO").upper(), table["NO"])
    with translation.override(language or translation.get_language() or "nb"):
        call = _("Free to call. You don't have to say who you are.")
        return [{**line, "text": call} for line in lines]


def help_lines_intro(language: str | None = None) -> str:
    with translation.override(language or translation.get_language() or "nb"):
        return _("You can call:")


def category_label(category: str) -> str:
    """The name of a category as staff read it on the alerts page."""
    labels = {
        "threat": _("Threat"),
        "selfharm": _("Self-harm"),
        "bullying": _("Bullying"),
        "sexual": _("Sexual"),
        "exclusion": _("Leaving out"),
        "about_absent": _("Talk about someone absent"),
        "repeated": _("Repeated this week"),
        "groups": _("Groups"),
        "left_out": _("Classmates left out"),
    }
    return labels.get(category, category)
