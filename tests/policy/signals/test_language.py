"""The language of a message is told from its own words (issue 14: "no language is given")."""

from __future__ import annotations

import pytest

from trygg.policy.signals import SignalContext, classify


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("hei, har du gjort leksene i norsk?", "nb"),
        ("jeg vet ikke hva vi skal gjøre etter skolen", "nb"),
        ("eg veit ikkje kva me skal gjere etter skulen", "nn"),
        ("kva tid kjem du heim?", "nn"),
        ("hej, har du lavet lektierne i dansk?", "da"),
        ("jeg ved ikke hvad vi skal lave efter skole", "da"),
        ("hey did you do the homework for tomorrow?", "en"),
        ("i don't know what we're doing after school", "en"),
        ("du er så ulækker", "da"),  # a word only Danish children write settles it
        ("alle hatar deg", "nn"),
    ],
)
def test_language_is_detected_from_the_text(text: str, lang: str) -> None:
    assert classify(text).language == lang


def test_a_message_without_words_falls_back_to_the_hint_then_to_bokmaal() -> None:
    assert classify("🔪🔪").language == "nb"
    assert classify("🔪🔪", context=SignalContext(language_hint="da")).language == "da"


def test_the_hint_only_breaks_near_ties() -> None:
    """A Danish writer writing English is still read as English."""
    assert classify("i don't want to go to school today", context=SignalContext(language_hint="da")).language == "en"


def test_r_safe_01_a_false_friend_is_read_in_the_message_language() -> None:
    """Danish "kys" is a kiss; "kys" alone in Norwegian or English chat is "kill yourself"."""
    assert classify("kys og kram fra mor").is_none
    assert classify("kys", context=SignalContext(language_hint="da")).is_none
    assert {"threat", "bullying"} <= classify("kys").categories
    assert classify("så er det slut med at spille").is_none  # Danish "slut" is "the end"
    assert "bullying" in classify("you're such a slut").categories
