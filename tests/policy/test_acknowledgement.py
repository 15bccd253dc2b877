"""R-ACK-01 (Åmot, workflow): pupils and guardians see the guidelines and acknowledge them.

A guardian can record that they went through them with a child of theirs with parental
responsibility; a change of the active rules asks everyone again; links to nettvett resources are
shown with the guidelines. Through the API (``GET|POST /api/v1/policy/acknowledgement``), the
rulebook page and the home-page reminder tag.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.template import Context, Template
from django.test import Client, RequestFactory

from trygg.audit.models import AuditRecord
from trygg.events.models import Event
from trygg.policy.models import Acknowledgement

pytestmark = pytest.mark.django_db

PATH = "/api/v1/policy/acknowledgement"
NETTVETT = {"barnevakten.no", "reddbarna.no", "nettvett.no"}


def post(client: Client, body: dict[str, Any]) -> Any:
    return client.post(PATH, data=json.dumps(body), content_type="application/json")


def page_as(person: Callable[[str], Any], username: str, language: str = "nb") -> Client:
    client = Client()
    client.force_login(person(username))
    client.cookies["django_language"] = language
    return client


def change_a_rule(person: Callable[[str], Any], min_grade: int = 7) -> None:
    """Change a parameter a pupil's rule text names (R-CHAT-02's grade), as the administrator does."""
    from trygg.policy.actions import check_update_policy_config

    admin = person("admin")
    check_update_policy_config(admin, admin.municipality,
                               overrides={"amot.pupil-chat-grade": {"min_grade": min_grade}})


def test_r_ack_01_a_pupil_is_asked_acknowledges_once_and_a_repeat_returns_the_same_record(
    api_client: Callable[[str | None], Client], person: Callable[[str], Any],
) -> None:
    """emma.4a is asked (required, not current) with the three nettvett links; POST answers 201, then
    GET says current; the same confirmation again answers 200 with the first record."""
    client = api_client("emma.4a")
    status = client.get(PATH).json()
    assert status["required"] is True and status["current"] is False
    assert {link["label"] for link in status["links"]} == NETTVETT
    assert all(link["url"].startswith("https://") for link in status["links"])
    assert status["rule_count"] > 0 and "amot" in status["packs"] and len(status["version"]) == 64
    first = post(client, {"version": status["version"]})
    assert first.status_code == 201
    body = first.json()
    assert body["current"] is True and body["child"] is None and body["version"] == status["version"]
    assert client.get(PATH).json()["current"] is True
    again = post(client, {})
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert Acknowledgement.objects.filter(person=person("emma.4a")).count() == 1


def test_r_ack_01_the_acknowledgement_is_audited_and_its_event_goes_to_the_person_only(
    api_client: Callable[[str | None], Client], person: Callable[[str], Any],
) -> None:
    """One audit row (version, language, no text) and one ``guidelines.acknowledged`` event for emma.4a alone."""
    emma = person("emma.4a")
    ack_id = post(api_client("emma.4a"), {}).json()["id"]
    record = AuditRecord.objects.get(action="policy.guidelines_acknowledged", target_id=str(ack_id))
    assert record.actor_id == emma.pk and record.detail["child_id"] is None
    assert set(record.detail) == {"version", "child_id", "language"}
    event = Event.objects.filter(type="guidelines.acknowledged").latest("id")
    assert list(event.recipients.values_list("person_id", flat=True)) == [emma.pk]
    assert set(event.payload) == {"version", "child_id", "acknowledged_at"}


def test_r_ack_01_a_guardian_records_going_through_the_guidelines_with_their_child(
    api_client: Callable[[str | None], Client], person: Callable[[str], Any],
) -> None:
    """mor.emma names Emma (parental responsibility): the record holds the child, and the status marks
    Emma as done for the rules in force."""
    emma = person("emma.4a")
    client = api_client("mor.emma")
    status = client.get(PATH).json()
    assert status["required"] is True
    assert [c["id"] for c in status["children"]] == [emma.pk] and status["children"][0]["current"] is False
    response = post(client, {"child_id": emma.pk})
    assert response.status_code == 201
    assert response.json()["child"] == {"id": emma.pk, "name": emma.name}
    status = client.get(PATH).json()
    assert status["current"] is True and status["children"][0]["current"] is True
    # Alone is a separate record from "with Emma".
    assert post(client, {}).status_code == 201


@pytest.mark.parametrize(
    ("username", "child"),
    [pytest.param("mor.emma", "sara.9b", id="R-ACK-01 another family's child"),
     pytest.param("far.ali", "ali.9b", id="R-ACK-01 a parent without parental responsibility"),
     pytest.param("mor.emma", None, id="R-ACK-01 no such person")],
)
def test_r_ack_01_a_child_that_is_not_theirs_is_hidden(
    api_client: Callable[[str | None], Client], person: Callable[[str], Any], username: str, child: str | None,
) -> None:
    """Naming a child without parental responsibility answers 404, like a child that does not exist."""
    child_id = person(child).pk if child else 987654
    response = post(api_client(username), {"child_id": child_id})
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert not Acknowledgement.objects.filter(person=person(username)).exists()


def test_r_ack_01_staff_are_not_asked_and_cannot_acknowledge(api_client: Callable[[str | None], Client]) -> None:
    """The guideline asks pupils and guardians: a teacher's status says not required, and POST is 403."""
    client = api_client("kari.4a")
    status = client.get(PATH).json()
    assert status["required"] is False and status["children"] == [] and status["links"] == []
    response = post(client, {})
    assert response.status_code == 403
    assert response.json()["error"] == "denied_by_policy"


def test_r_ack_01_a_change_of_the_rules_in_force_asks_again_and_a_stale_confirmation_is_refused(
    api_client: Callable[[str | None], Client], person: Callable[[str], Any],
) -> None:
    """After the administrator changes a rule pupils are shown, emma.4a is no longer current; confirming
    the version she read before answers 409, the new one 201."""
    client = api_client("emma.4a")
    old = client.get(PATH).json()["version"]
    assert post(client, {"version": old}).status_code == 201
    change_a_rule(person)
    status = client.get(PATH).json()
    assert status["current"] is False and status["version"] != old
    assert [a["current"] for a in status["acknowledgements"]] == [False]
    stale = post(client, {"version": old})
    assert stale.status_code == 409
    assert stale.json()["error"] == "guidelines_changed" and stale.json()["requirement"] == "R-ACK-01"
    assert post(client, {"version": status["version"]}).status_code == 201
    assert client.get(PATH).json()["current"] is True


def test_r_ack_01_a_change_to_a_rule_shown_only_to_others_does_not_ask_again(
    api_client: Callable[[str | None], Client], person: Callable[[str], Any],
) -> None:
    """The version covers the rules shown to the person: a change to a teachers-only setting keeps
    emma.4a current, while kari.4a's version changes."""
    from trygg.policy.actions import check_update_policy_config
    from trygg.policy.queries import guidelines_version

    client = api_client("emma.4a")
    post(client, {})
    teacher_before = guidelines_version(person("kari.4a"))[0]
    admin = person("admin")
    check_update_policy_config(admin, admin.municipality,
                               overrides={"kolding.second-adult": {"min_adults": 3}})
    assert client.get(PATH).json()["current"] is True
    assert guidelines_version(person("kari.4a"))[0] != teacher_before


def test_r_ack_01_the_version_does_not_depend_on_the_language_but_the_record_keeps_it(
    api_client: Callable[[str | None], Client],
) -> None:
    """Reading in Danish or English gives the same version; the record says which language was used."""
    client = api_client("mor.emma")
    versions = {client.get(PATH, HTTP_ACCEPT_LANGUAGE=lang).json()["version"] for lang in ("nb", "da", "en")}
    assert len(versions) == 1
    response = client.post(PATH, data="{}", content_type="application/json", HTTP_ACCEPT_LANGUAGE="da")
    assert response.status_code == 201 and response.json()["language"] == "da"


def test_r_ack_01_no_acknowledgement_where_the_amot_guidelines_are_not_in_force(
    api_client: Callable[[str | None], Client], person: Callable[[str], Any],
) -> None:
    """A municipality without the Åmot pack asks nobody to acknowledge: not required, and POST is 403."""
    from trygg.policy.actions import check_update_policy_config

    admin = person("admin")
    check_update_policy_config(admin, admin.municipality, active_packs=["oslo", "bergen", "kolding", "dk_policy"])
    client = api_client("emma.4a")
    assert client.get(PATH).json()["required"] is False
    assert post(client, {}).status_code == 403


@pytest.mark.parametrize(
    "body",
    [pytest.param({"child_id": "abc"}, id="R-ACK-01 child id not a number"),
     pytest.param({"version": "x" * 65}, id="R-ACK-01 version too long"),
     pytest.param({"who": "me"}, id="R-ACK-01 unknown field")],
)
def test_r_ack_01_bad_input_is_400(api_client: Callable[[str | None], Client], body: dict[str, Any]) -> None:
    response = post(api_client("mor.emma"), body)
    assert response.status_code == 400
    assert response.json()["error"] == "bad_input"


def test_r_ack_01_signed_out_is_401(api_client: Callable[[str | None], Client]) -> None:
    assert api_client(None).get(PATH).status_code == 401


# ------------------------------------------------------------------ the pages


def test_r_ack_01_a_pupil_confirms_on_the_rulebook_page(person: Callable[[str], Any]) -> None:
    """emma.4a's rulebook asks her to confirm, offers "I have read these" and the nettvett links as plain
    links; after confirming, the page says when she did."""
    client = page_as(person, "emma.4a")
    html = client.get("/guidelines/").content.decode()
    assert 'data-testid="ack-needed"' in html and 'id="acknowledge"' in html
    assert "Jeg har lest disse" in html
    for host in NETTVETT:
        assert f'href="https://www.{host}"' in html
    assert 'name="version" value="' in html
    response = client.post("/guidelines/acknowledge/", {"with": "alone", "version": _version_in(html)}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="ack-current"' in html and 'data-testid="ack-needed"' not in html
    assert "Takk" in html


def test_r_ack_01_a_guardian_chooses_their_child_on_the_page(person: Callable[[str], Any]) -> None:
    """mor.emma's form offers "with my child Emma …" and "myself"; choosing Emma records the child."""
    emma = person("emma.4a")
    client = page_as(person, "mor.emma", "en")
    html = client.get("/guidelines/").content.decode()
    assert f'value="child-{emma.pk}"' in html
    assert f"I have read these with my child {emma.name}" in html
    client.post("/guidelines/acknowledge/", {"with": f"child-{emma.pk}", "version": _version_in(html)})
    ack = Acknowledgement.objects.get(person=person("mor.emma"))
    assert ack.child_id == emma.pk and ack.language == "en"


def test_r_ack_01_a_stale_page_asks_to_read_again(person: Callable[[str], Any]) -> None:
    """Rules changed between reading and confirming: nothing is recorded and the page says so."""
    client = page_as(person, "emma.4a", "en")
    html = client.get("/guidelines/").content.decode()
    change_a_rule(person)
    response = client.post("/guidelines/acknowledge/", {"with": "alone", "version": _version_in(html)}, follow=True)
    assert "The guidelines have changed since you opened them" in response.content.decode()
    assert not Acknowledgement.objects.filter(person=person("emma.4a")).exists()


def test_r_ack_01_the_page_hides_other_childrens_ids(person: Callable[[str], Any]) -> None:
    """Posting another family's child from the form answers 404 and records nothing."""
    client = page_as(person, "mor.emma")
    response = client.post("/guidelines/acknowledge/", {"with": f"child-{person('sara.9b').pk}"})
    assert response.status_code == 404
    assert not Acknowledgement.objects.exists()


def test_r_ack_01_teachers_see_no_confirmation_form(person: Callable[[str], Any]) -> None:
    html = page_as(person, "kari.4a").get("/guidelines/").content.decode()
    assert 'id="acknowledge"' not in html and 'data-testid="ack-needed"' not in html


def _version_in(html: str) -> str:
    marker = 'name="version" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


# ------------------------------------------------------------------ the home-page reminder tag


def render_reminder(user: Any) -> str:
    request = RequestFactory().get("/")
    request.user = user
    return Template("{% load policy_tags %}{% guidelines_reminder %}").render(Context({"request": request}))


def test_r_ack_01_the_reminder_shows_until_the_guidelines_are_acknowledged(
    person: Callable[[str], Any], api_client: Callable[[str | None], Client],
) -> None:
    """``{% guidelines_reminder %}`` links a guardian who has not confirmed to the guidelines in short, which
    end with the confirmation (issue 13), renders nothing once they have, and shows again when the rules
    change."""
    html = render_reminder(person("mor.emma"))
    assert 'data-testid="ack-reminder"' in html and 'href="/guidelines/short/"' in html
    post(api_client("mor.emma"), {})
    assert "ack-reminder" not in render_reminder(person("mor.emma"))
    change_a_rule(person)
    assert 'data-testid="ack-reminder"' in render_reminder(person("mor.emma"))


def test_r_ack_01_the_reminder_is_empty_for_staff(person: Callable[[str], Any]) -> None:
    assert render_reminder(person("kari.4a")).strip() == ""


def test_r_ack_01_the_event_schema_refuses_fields_nobody_designed() -> None:
    """``guidelines.acknowledged`` carries the version, the child's id and the time, and nothing else."""
    from pydantic import ValidationError

    from trygg.events.payloads import validate_payload
    from trygg.policy.events import GUIDELINES_ACKNOWLEDGED

    good = {"version": "a" * 64, "child_id": None, "acknowledged_at": "2026-11-24T08:00:00+00:00"}
    assert validate_payload(GUIDELINES_ACKNOWLEDGED, good) == good
    with pytest.raises(ValidationError):
        validate_payload(GUIDELINES_ACKNOWLEDGED, {**good, "name": "Emma"})


def test_r_i18n_01_the_confirmation_speaks_danish(person: Callable[[str], Any]) -> None:
    """R-ACK-01 with R-I18N-01: a guardian reading in Danish gets the confirmation in Danish."""
    emma = person("emma.4a")
    html = page_as(person, "mor.emma", "da").get("/guidelines/").content.decode()
    assert "Bekræft at du har læst retningslinjerne" in html
    assert f"Jeg har læst dem sammen med mit barn {emma.name}" in html
