"""How a message is split and spelled before any word list is asked (issue 14: "as children write").

R-SAFE-01 and R-CASE-10 depend on reading "dr3p", "stygggg", "d r e p" and "f*ck" for what they
are; these tests pin the mechanics, independent of any word list.
"""

from __future__ import annotations

import pytest

from trygg.policy.signals.normalise import EMOJI, STOP, WORD, join_spaced, spellings, tokenise


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Stygg", "stygg"),  # lower case first
        ("don't", "dont"),  # apostrophes dropped, so "don't" and "dont" meet
        ("you’re", "youre"),  # typographic apostrophe too
        ("dr3p", "drep"),  # leetspeak 3 → e
        ("1d10t", "idiot"),  # 1 → i, 0 → o
        ("$lut", "slut"),  # $ → s
        ("h0r3", "hore"),
        ("dö", "dø"),  # Swedish/German keyboard ö → ø
        ("kött", "køtt"),
    ],
)
def test_r_safe_01_spellings_read_leetspeak_case_and_foreign_keys(raw: str, expected: str) -> None:
    assert expected in spellings(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("stygggg", {"stygg", "styg"}),  # three or more of a letter → two and one
        ("dreeeeep", {"dreep", "drep"}),
        ("uggggly", {"uggly", "ugly"}),
    ],
)
def test_r_safe_01_repeated_letters_give_both_short_spellings(raw: str, expected: set[str]) -> None:
    assert expected <= set(spellings(raw))


def test_plain_words_keep_one_spelling_and_numbers_stay_numbers() -> None:
    """No leet reading of a word without letters: "2. verdenskrig" keeps its 2."""
    assert spellings("hei") == ("hei",)
    assert spellings("2") == ("2",)
    assert spellings("1945") == ("1945",)


def test_a_mention_is_not_read_as_leet() -> None:
    assert spellings("@jonas")[0] == "jonas"


def test_tokens_keep_offsets_into_the_original_text() -> None:
    text = "Du er DUM!! 🔪 ok"
    tokens = tokenise(text)
    words = [t for t in tokens if t.kind == WORD]
    assert [text[t.start:t.end] for t in words] == ["Du", "er", "DUM", "ok"]
    assert words[0].capitalised and not words[1].capitalised
    assert [t.kind for t in tokens if t.kind != WORD] == [STOP, EMOJI]
    emoji = next(t for t in tokens if t.kind == EMOJI)
    assert text[emoji.start:emoji.end] == "🔪"


def test_emoji_with_variation_selector_is_one_token() -> None:
    tokens = tokenise("☠️☠️ deg")
    assert [t.kind for t in tokens] == [EMOJI, EMOJI, WORD]
    assert tokens[0].forms == ("☠",)


def test_an_exclamation_mark_inside_a_word_is_a_letter_but_not_at_the_end() -> None:
    assert [t.raw for t in tokenise("h!te deg!")][:2] == ["h!te", "deg"]


KNOWN = {"drep", "dum", "idiot", "stygg"}


@pytest.mark.parametrize(
    ("text", "joined"),
    [
        ("d r e p deg", "drep"),
        ("d r 3 p deg", "drep"),
        ("du er så d u m", "dum"),
        ("d.u.m", "dum"),
        ("i-d-i-o-t", "idiot"),
        ("s t y g g", "stygg"),
    ],
)
def test_r_safe_01_spaced_out_letters_are_joined_when_they_make_a_known_word(text: str, joined: str) -> None:
    tokens = join_spaced(tokenise(text), text, KNOWN.__contains__)
    merged = [t for t in tokens if t.kind == WORD and joined in t.forms]
    assert len(merged) == 1
    assert text[merged[0].start:merged[0].end].replace(" ", "").replace(".", "").replace("-", "") in (
        joined, "dr3p")


@pytest.mark.parametrize("text", ["i a b", "f u", "ok ok", "jeg er i og på"])
def test_short_words_are_not_glued_into_unknown_words(text: str) -> None:
    tokens = join_spaced(tokenise(text), text, KNOWN.__contains__)
    assert [t.raw for t in tokens] == [t.raw for t in tokenise(text)]
