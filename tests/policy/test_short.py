"""The guidelines in short for pupils and guardians (issue 13 item 7; R-ACK-01, R-PUP-02, R-I18N-01)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from trygg.policy.models import Acknowledgement

pytestmark = pytest.mark.django_db

CODES = re.compile(r"R-[A-Z0-9]+-\d+|\b(amot|bergen|oslo|kolding|dk_policy|core_[a-z]+)\.[a-z-]+")


def page_as(person: Callable[[str], Any], username: str, language: str = "nb") -> Client:
    client = Client()
    client.force_login(person(username))
    client.cookies["django_language"] = language
    return client


def visible(html: str) -> str:
    """Return the main content's text, without tags and attributes."""
    main = html.split('id="main"', 1)[1].split("</main>", 1)[0]
    return re.sub(r"<[^>]+>", " ", main)


@pytest.mark.parametrize(("language", "words"), [
    ("nb", ["Slik er vi i Trygg", "Vis en voksen", "Chatten er for skolen", "begynner på 8. trinn"]),
    ("da", ["Sådan er vi i Trygg", "Vis en voksen", "Chatten er til skolen", "begynder i 8. klasse"]),
    ("en", ["How we are in Trygg", "Show an adult", "The chat is for school", "starts in grade 8"]),
])
def test_r_ack_01_emma_reads_a_short_page_of_pupil_rules_in_her_language(person, language, words):
    """R-ACK-01, R-I18N-01: emma.4a (grade 4) reads a handful of cards with pictures in nb, da or en:
    no rule ids, no requirement IDs, no source quotes, and the full rulebook is one tap away."""
    html = page_as(person, "emma.4a", language).get("/guidelines/short/").content.decode()
    text = visible(html)
    for word in words:
        assert word in text, word
    cards = re.findall(r'class="card guideline-card"', html)
    assert 5 <= len(cards) <= 10
    assert not CODES.search(text), CODES.search(text)
    assert "<blockquote" not in html
    assert 'href="/guidelines/" data-testid="full-rulebook"' in html
    # Every card stands for a rule of a pack active for her (Demo kommune has all five).
    assert "amot.pupil-chat-grade" in html  # in data-rules, not in the text
    # Short: the rulebook page is many times longer.
    full = page_as(person, "emma.4a", language).get("/guidelines/").content.decode()
    assert len(visible(html)) * 3 < len(visible(full))


def test_r_ack_01_a_guardian_gets_cards_for_guardians_and_confirms_with_her_child_there(person):
    """R-ACK-01, R-PAR-01, R-LIST-02: mor.emma's short page speaks about her child, meetings and the class
    list (not the pupils' cards), and she confirms there that she read them with emma.4a."""
    mor = page_as(person, "mor.emma", "en")
    html = mor.get("/guidelines/short/").content.decode()
    text = visible(html)
    assert "The guidelines in short" in text and "The class list" in text and "A meeting, not a post" in text
    assert "Ask before a photo" not in text and not CODES.search(text)
    emma = person("emma.4a")
    assert f'value="child-{emma.pk}"' in html
    version = re.search(r'name="version" value="([0-9a-f]+)"', html).group(1)
    answer = mor.post("/guidelines/acknowledge/", {"with": f"child-{emma.pk}", "version": version, "next": "short"})
    assert answer.status_code == 302 and answer["Location"] == "/guidelines/short/#acknowledge"
    assert Acknowledgement.objects.filter(person__username="mor.emma", child=emma).exists()


def test_the_menu_leads_pupils_and_guardians_to_the_short_page_and_staff_to_the_rulebook(person):
    """Pupils and guardians find the short page under "Guidelines" in the menu; a teacher finds the
    rulebook, which links pupils and guardians back to the short page."""
    for username in ("emma.4a", "mor.emma"):
        home = page_as(person, username, "en").get("/").content.decode()
        assert 'href="/guidelines/short/"' in home and 'href="/guidelines/"' not in home.split("</nav>")[0]
        assert 'data-testid="short-link"' in page_as(person, username, "en").get("/guidelines/").content.decode()
    home = page_as(person, "kari.4a", "en").get("/").content.decode()
    assert 'href="/guidelines/"' in home and 'href="/guidelines/short/"' not in home


def test_a_card_whose_rules_are_not_active_is_not_shown(person):
    """A card stands for rules: without the Åmot pack, the card about chat and grades is gone; with a
    changed grade, the card says the grade in force."""
    from trygg.policy.models import PolicyConfig
    from trygg.policy.short import list_cards

    emma = person("emma.4a")
    before = [c["title"] for c in list_cards(emma)]
    config = PolicyConfig.objects.get(municipality_id=emma.facts.municipality_id)
    config.overrides = {"amot.pupil-chat-grade": {"min_grade": 7}}
    config.save()
    assert any("grade 7" in c["text"] for c in list_cards(emma))
    config.active_packs = [p for p in config.active_packs if p != "amot"]
    config.save()
    after = [c["title"] for c in list_cards(emma)]
    assert "The chat is for school" in before and "The chat is for school" not in after
