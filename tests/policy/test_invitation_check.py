"""The invitation check (R-MEET-12) and the health-word list (R-MEET-19), table-driven."""

from __future__ import annotations

import pytest

from trygg.policy.invitation_check import (
    find_health_words,
    find_personal_data,
    health_words,
    is_cpr,
    is_fodselsnummer,
    starts_with_birth_date,
)

NAMES = ("Emma Solheim", "Kari Nordmann", "Live Berg", "Ali Karimi", "Marte Solheim", "Jens-Petter Åsen")


def make_fnr(ddmmyy: str, individual: str = "123") -> str:
    """Return a fødselsnummer with both check digits computed (the first individual number that fits)."""
    w1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
    w2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
    for n in range(int(individual), 1000):
        base = ddmmyy + f"{n:03d}"
        k1 = (11 - sum(int(d) * w for d, w in zip(base, w1, strict=True)) % 11) % 11
        if k1 == 10:
            continue
        k2 = (11 - sum(int(d) * w for d, w in zip(base + str(k1), w2, strict=True)) % 11) % 11
        if k2 == 10:
            continue
        return base + str(k1) + str(k2)
    raise AssertionError("no valid number")


FNR = make_fnr("010190")
D_NUMBER = make_fnr("410190")  # day + 40
BAD_FNR = FNR[:-1] + str((int(FNR[-1]) + 1) % 10)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # R-MEET-12: names from the directory, in any inflection, case-insensitive, whole words only
        ("Emmas utviklingssamtale", [("name", "Emmas")]),
        ("Samtale om emma", [("name", "emma")]),
        ("Samtale om Emma's læring", [("name", "Emma's")]),
        ("EMMA SOLHEIM kommer", [("name", "EMMA SOLHEIM")]),
        ("Hilsen Nordmann, Kari", [("name", "Nordmann, Kari")]),
        ("Solheimene kommer", [("name", "Solheimene")]),
        ("Karimis foreldre", [("name", "Karimis")]),
        ("Jens-Petter og Åsen", [("name", "Jens-Petter"), ("name", "Åsen")]),
        ("Emmaline og Karianne", []),
        ("Live Berg sin samtale", [("name", "Live Berg")]),
        ("Møtet er live på video", []),
        # R-MEET-12: identity numbers: fødselsnummer with both check digits, D-number, Danish CPR
        (f"Fnr {FNR}", [("national_id", FNR)]),
        (f"Fnr {FNR[:6]} {FNR[6:]}", [("national_id", f"{FNR[:6]} {FNR[6:]}")]),
        (f"D-nummer {D_NUMBER}", [("national_id", D_NUMBER)]),
        # Wrong check digits do not make a birth-date number harmless (issue 11).
        (f"Nummer {BAD_FNR}", [("national_id", BAD_FNR)]),
        ("Gjelder elev 01017012345", [("national_id", "01017012345")]),
        ("Ordre 32137012345", []),
        ("CPR 010190-1234", [("national_id", "010190-1234")]),
        ("CPR 3102901234", []),
        # R-MEET-12: phone numbers, e-mail addresses
        ("Ring 912 34 567", [("phone", "912 34 567")]),
        ("Ring 91234567", [("phone", "91234567")]),
        ("Ring +47 912 34 567", [("phone", "+47 912 34 567")]),
        ("Ring 0045 12345678", [("phone", "0045 12345678")]),
        ("Skriv til kari.nordmann@skole.no", [("email", "kari.nordmann@skole.no")]),
        # R-MEET-12: dates, times, years and room numbers are not personal data
        ("Møte 12.03.2026 kl. 14:30 i rom 204", []),
        ("Skoleåret 2026-2027", []),
        # R-MEET-12: health words in nb, nn, da and en
        ("Vi snakker om ADHD og sykdommen", [("health", "ADHD"), ("health", "sykdommen")]),
        ("Sjukdom i familien", [("health", "Sjukdom")]),
        ("Vi taler om sygdom og medicin", [("health", "sygdom"), ("health", "medicin")]),
        ("About her diagnosis", [("health", "diagnosis")]),
        ("Sykkeltur og helg", []),
        ("Utviklingssamtale", []),
    ],
)
def test_r_meet_12_invitation_findings_table(text: str, expected: list[tuple[str, str]]) -> None:
    """R-MEET-12: each row's text gives exactly these findings (type, matched text), in order."""
    found = find_personal_data({"title": text}, NAMES)
    assert [(f.type, f.text) for f in found] == expected
    for f in found:
        assert text[f.start:f.end] == f.text
        assert f.field == "title"


def test_r_meet_12_findings_carry_field_and_span_across_fields() -> None:
    """R-MEET-12: findings name their field and span; the same offsets index that field's text."""
    fields = {"title": "Samtale for Emma", "invitation_text": "Ring 91234567 eller skriv til a@b.no"}
    found = find_personal_data(fields, NAMES)
    assert [(f.field, f.type) for f in found] == [("title", "name"), ("invitation_text", "phone"),
                                                   ("invitation_text", "email")]
    for f in found:
        assert fields[f.field][f.start:f.end] == f.text


@pytest.mark.parametrize(("number", "valid"), [(FNR, True), (D_NUMBER, True), (BAD_FNR, False),
                                                ("01019012345"[:10], False), ("32019012345", False)])
def test_r_meet_12_fodselsnummer_needs_both_check_digits(number: str, valid: bool) -> None:
    """R-MEET-12: a fødselsnummer counts only with a valid date and both mod-11 check digits."""
    assert is_fodselsnummer(number) is valid


@pytest.mark.parametrize(("number", "valid"), [("0101901234", True), ("2902001234", True),
                                                ("3002001234", False), ("1313901234", False)])
def test_r_meet_12_cpr_is_ten_digits_starting_with_a_valid_date(number: str, valid: bool) -> None:
    """R-MEET-12: a Danish CPR number is ten digits whose first six are a valid date."""
    assert is_cpr(number) is valid


@pytest.mark.parametrize(("number", "found"), [
    ("01017012345", True), (BAD_FNR, True), (D_NUMBER, True), ("41017012345", True), ("01517012345", True),
    ("32017012345", False), ("01137012345", False), ("1234567890", False),
])
def test_r_meet_12_eleven_digits_starting_with_a_date_count_whatever_the_check_digits(
    number: str, found: bool
) -> None:
    """R-MEET-12: "Gjelder elev 01017012345" is refused though its check digits are wrong; eleven
    digits that do not start with a date are not."""
    assert starts_with_birth_date(number) is found
    kinds = [f.type for f in find_personal_data({"invitation_text": f"Gjelder elev {number}"}, ())]
    assert ("national_id" in kinds) is (found or len(number) == 10 and is_cpr(number))


def test_r_meet_12_the_meeting_api_refuses_such_an_invitation(api_client, person) -> None:
    """R-MEET-12: kari.4a's invitation "Gjelder elev 01017012345" is refused by the API with the rule."""
    import json

    response = api_client("kari.4a").post("/api/v1/meetings", data=json.dumps({
        "kind": "development_talk", "student_username": "emma.4a", "starts_at": "2026-12-05T10:00:00+01:00",
        "title": "Utviklingssamtale", "invitation_text": "Gjelder elev 01017012345"}),
        content_type="application/json")
    assert response.status_code in (400, 403, 422), response.content
    assert response.json()["requirement"] == "R-MEET-12"


def test_r_meet_19_health_word_list_covers_four_languages() -> None:
    """R-MEET-19: the maintained list has words in nb, nn, da and en, and extra words can be added."""
    words = set(health_words())
    assert {"helse*", "sjukdom*", "sygdom*", "illness*"} <= words
    assert [f.text for f in find_health_words("Snakk om astmaen", "agenda")] == ["astmaen"]
    assert [f.text for f in find_health_words("Om fravær", "agenda", ["fravær"])] == ["fravær"]
