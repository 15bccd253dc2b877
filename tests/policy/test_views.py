"""The rulebook page and the leaders' explain page."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def page_as(person: Callable[[str], Any], username: str, language: str | None = None) -> Client:
    client = Client()
    client.force_login(person(username))
    if language:
        client.cookies["django_language"] = language
    return client


def test_r_i18n_01_the_rulebook_shows_rules_for_a_pupil_beside_their_source_quote(
    person: Callable[[str], Any],
) -> None:
    """A pupil reads the rules that concern pupils, in Bokmål, with the quote in its original language."""
    response = page_as(person, "emma.4a").get("/guidelines/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-rule="amot.pupil-chat-grade"' in html
    assert "Elev–elev-chat om fag og oppgaver fra ungdomsskolen" in html
    assert "For ungdomsskolen kan det og være samhandling elev/elev om fag og arbeidsoppgaver." in html
    assert '<blockquote lang="da">' in html  # Danish documents are quoted in Danish
    assert "Håndhevet" in html and "Veiledende" in html
    # The reason says the value in force, and no one but leaders sees the raw settings.
    assert "Elever under 8. trinn chatter bare med voksne, ikke med hverandre" in html
    assert "{min_grade}" not in html and "<dt>min_grade</dt>" not in html
    # Rules that concern only leaders are not on a pupil's page.
    assert 'data-rule="dk_policy.ask-offender-to-stop"' not in html


def test_the_rulebook_shows_a_leader_every_rule_and_the_explain_link(person: Callable[[str], Any]) -> None:
    html = page_as(person, "rektor").get("/guidelines/").content.decode()
    assert 'data-rule="dk_policy.ask-offender-to-stop"' in html
    assert 'href="/guidelines/explain/"' in html
    assert "<dt>school_hours</dt><dd>mon 08:15–14:30, tue 08:15–14:30" in html


def test_r_i18n_01_the_rulebook_follows_the_chosen_language(person: Callable[[str], Any]) -> None:
    html = page_as(person, "mor.emma", "da").get("/guidelines/").content.decode()
    assert "Forældre og klasselæreren ser klasselisten for deres egen klasse" in html
    html = page_as(person, "mor.emma", "en").get("/guidelines/?all=1").content.decode()
    assert "Guardians and the contact teacher see the class list of their own class" in html
    assert 'data-rule="dk_policy.ask-offender-to-stop"' in html


def test_a_signed_out_visitor_is_sent_to_sign_in() -> None:
    response = Client().get("/guidelines/")
    assert response.status_code == 302 and "/login/" in response["Location"]


EXPLAIN = {
    "action": "conversation.create",
    "actor": "emma.4a",
    "context": json.dumps({"kind": "direct", "members": ["emma.4a", "noah.4a"]}),
}


def test_a_leader_sees_why_a_pupil_was_refused(person: Callable[[str], Any]) -> None:
    """The explain page shows the decision and every rule that fired, with the clause it serves."""
    response = page_as(person, "rektor", "en").get("/guidelines/explain/", EXPLAIN)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Refused" in html
    assert 'data-rule="amot.pupil-chat-grade"' in html
    assert "R-CHAT-02" in html
    assert "Pupils below grade 8 chat only with adults, not with each other" in html


@pytest.mark.parametrize("username", ["kari.4a", "mor.emma", "emma.4a", "tr"])
def test_r_priv_01_the_explain_page_is_hidden_from_everyone_but_leaders(
    person: Callable[[str], Any], username: str
) -> None:
    assert page_as(person, username).get("/guidelines/explain/", EXPLAIN).status_code == 404


def test_explaining_an_unknown_person_says_so_without_detail(person: Callable[[str], Any]) -> None:
    response = page_as(person, "rektor", "en").get("/guidelines/explain/", {**EXPLAIN, "actor": "nobody"})
    assert response.status_code == 400
    assert "No such person or target at your school." in response.content.decode()


def test_r_i18n_01_pupils_and_guardians_never_see_requirement_ids_on_the_rulebook(
    person: Callable[[str], Any],
) -> None:
    """The rule's words are for everyone; requirement IDs are for staff, who answer for the rules."""
    import re

    visible_ids = re.compile(r">[^<]*\bR-[A-Z0-9]+-\d\d")
    for who in ("emma.4a", "mor.emma"):
        html = page_as(person, who).get("/guidelines/").content.decode()
        assert not visible_ids.search(html), who
    staff = page_as(person, "kari.4a").get("/guidelines/").content.decode()
    assert visible_ids.search(staff)
