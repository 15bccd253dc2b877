"""The case page as the reporter's side reads it: a pupil of nine and a guardian (issue 13, item 7)."""

from __future__ import annotations

import re

import pytest

from tests.cases.test_views import browser_of  # noqa: F401 - the fixture, shared with the page tests
from tests.conftest import step_up
from trygg.cases.actions import check_transition
from trygg.cases.models import Case

CODES = re.compile(r"R-[A-Z0-9]+-\d+|amot\.|core_[a-z]+\.|\b(assessed|follow_up|reported|actions)\b")


def _visible_text(html: str) -> str:
    """Return the page's text without tags and attribute values (which may hold codes for scripts)."""
    body = html.split('id="main"', 1)[1]
    return re.sub(r"<[^>]+>", " ", body)


def _move(case_id: int, *statuses: str) -> None:
    from trygg.directory.models import Person

    rektor = Person.objects.get(username="rektor")
    for status in statuses:
        check_transition(rektor, case_id, status)


@pytest.mark.parametrize(("language", "chosen", "step", "next_words"), [
    ("en", "Someone was mean to me", "Told the school", "They will talk with you"),
    ("nb", "Noen var slemme mot meg", "Fortalt til skolen", "De kommer til å snakke med deg"),
    ("da", "Nogen var onde mod mig", "Fortalt til skolen", "De vil tale med dig"),
])
def test_r_pup_02_emma_reads_what_she_chose_what_happens_next_and_who_talks_to_her(
        emma_case_factory, browser_of, language, chosen, step, next_words):  # noqa: F811
    """R-PUP-02, R-I18N-01: emma.4a's own case page says what she chose in her words (not "Bullying"),
    where the case is and what comes next in plain words, and names the school leader who will talk
    with her; never noah.4a, whom she reported, and never a rule id or a raw status."""
    case_id = emma_case_factory()
    page = browser_of("emma.4a", language).get(f"/cases/{case_id}/").content.decode()
    assert 'data-testid="chosen"' in page and chosen in page
    assert re.search(rf'aria-current="step" data-testid="case-status">{step}<', page)
    assert next_words in page
    who = page.split('data-testid="who-talks"', 1)[1].split("</section>", 1)[0]
    assert "Rektor" in who or "rektor" in who.lower()
    assert "Noah" not in page
    assert not CODES.search(_visible_text(page)), CODES.search(_visible_text(page))
    # R-CASE-20: one minute after reporting nobody asks her whether it is over.
    assert 'data-testid="confirm"' not in page and 'data-testid="confirmation"' not in page


def test_r_case_20_is_it_over_is_asked_only_once_the_case_reaches_follow_up(emma_case_factory, browser_of):  # noqa: F811
    """R-CASE-20: the "is it over?" button is absent while the school finds out and acts, and appears
    at follow-up; every status change in the timeline reads as a step's name ("Now: Finding out")."""
    case_id = emma_case_factory()
    emma, mor = browser_of("emma.4a"), browser_of("mor.emma")
    _move(case_id, "assessed", "actions")
    for who in (emma, mor):
        page = who.get(f"/cases/{case_id}/").content.decode()
        assert 'data-testid="confirm"' not in page
        assert "Now: Finding out" in page and "Now: Making it stop" in page
        assert "Status changed" not in page and ": assessed" not in page
    guardian_page = mor.get(f"/cases/{case_id}/").content.decode()
    assert "Your child&#x27;s case" in guardian_page or "Your child's case" in guardian_page
    assert "Emma chose: “Someone was mean to me”" in guardian_page
    _move(case_id, "follow_up")
    for who in (emma, mor):
        page = who.get(f"/cases/{case_id}/").content.decode()
        assert 'data-testid="confirm"' in page and "Is it over for you?" in page
        assert "The adults are checking with you that it has stopped." in page
    assert mor.post(f"/cases/{case_id}/confirm/", {"confirmed": "1"}).status_code == 302
    page = emma.get(f"/cases/{case_id}/").content.decode()
    assert "Said that it is over" in page


def test_r_par_03_mor_emma_reporting_for_emma_reads_plain_words_and_the_class_teacher(browser_of):  # noqa: F811
    """R-PAR-03, R-I18N-01: a guardian who reports for her child reads the category as a sentence, the
    step in plain words and the adults handling it with their part (the 4A contact teacher)."""
    from trygg.directory.models import Person

    mor = browser_of("mor.emma")
    emma = Person.objects.get(username="emma.4a")
    assert mor.post("/cases/report/", {"category": "exclusion", "description": "Holdt utenfor i friminuttet",
                                       "harmed": [emma.username]}).status_code == 302
    case = Case.objects.filter(reporter__username="mor.emma").latest("pk")
    page = mor.get(f"/cases/{case.pk}/").content.decode()
    assert "Your report" in page and "Someone was left out" in page
    who = page.split('data-testid="who-talks"', 1)[1].split("</section>", 1)[0]
    assert "contact teacher" in who and "Kari" in who
    assert not CODES.search(_visible_text(page))
    mine = mor.get("/cases/").content.decode()
    assert "Someone was left out" in mine and "Told the school" in mine and "Exclusion" not in mine


def test_the_handler_still_reads_the_workflow_words_and_status_names(emma_case_factory, browser_of):  # noqa: F811
    """The leader's page keeps the workflow's own terms, and a status change names the status in
    words ("Status changed · Randi Rektor: Assessed"), not its code."""
    case_id = emma_case_factory()
    _move(case_id, "assessed")
    page = step_up(browser_of("rektor")).get(f"/cases/{case_id}/").content.decode()
    assert 'data-testid="checklist"' in page and 'data-testid="chosen"' not in page
    timeline = page.split('data-testid="timeline"', 1)[1]
    assert re.search(r"Status changed · [^<]+: Assessed</li>", timeline)
    assert ": assessed<" not in page


def test_a_refusal_on_the_report_form_names_no_rule_to_a_pupil(browser_of):  # noqa: F811
    """Pupils and guardians read why in words; the rule id stays out of what they read (issue 13)."""
    page = browser_of("emma.4a").post("/cases/report/", {"category": "teacher_concern", "description": "x"})
    html = page.content.decode()
    assert page.status_code in (400, 403) and 'data-testid="refusal"' in html
    assert not CODES.search(_visible_text(html)), CODES.search(_visible_text(html))


def test_the_evidence_block_shows_local_times_and_the_conversation_kind_in_words(browser_of):  # noqa: F811
    """The leader's snapshot of a reported direct message: times as "29.11.2026 09:14:05" in local time,
    never the stored ISO string, and "Direct conversation" rather than the code "direct" (issue 13)."""
    from trygg.directory.models import Person
    from trygg.messaging import actions as chat

    kari = Person.objects.get(username="kari.4a")
    direct = chat.check_create_conversation(kari, "direct", "", ["mor.emma"], school_owned=True).conversation
    message = chat.check_send(kari, direct.pk, "Du må slutte å skrive her", "snap-1").message
    assert browser_of("mor.emma").post("/cases/report/", {
        "message_id": message.pk, "category": "nicknames_threats", "description": "Ubehagelig"}).status_code == 302
    case = Case.objects.filter(reporter__username="mor.emma").latest("pk")
    page = step_up(browser_of("rektor")).get(f"/cases/{case.pk}/").content.decode()
    snapshot = page.split('data-testid="snapshot"', 1)[1].split("</section>", 1)[0]
    assert "Direct conversation" in snapshot and "<dd>direct</dd>" not in snapshot
    assert not re.search(r">\d{4}-\d\d-\d\dT", snapshot) and "Captured 20" not in snapshot
    assert re.search(r">\d{1,2}\.\d{1,2}\.\d{4} \d\d:\d\d:\d\d</time>", snapshot)
