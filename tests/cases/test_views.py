"""Case pages: the report dialog, my reports, the case list and page, and the export (issue 7)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from django.test import Client

from tests.cases.conftest import PNG
from tests.conftest import step_up
from trygg.cases.models import Case, ChecklistStep


@pytest.fixture
def browser_of(person: Any) -> Any:
    def make(username: str, language: str = "en") -> Client:
        from django.conf import settings

        client = Client()
        client.force_login(person(username))
        # The chosen language (the switcher's cookie) wins over the person's own.
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        return client

    return make


def test_r_pup_02_every_message_has_report_and_a_young_pupil_sees_show_an_adult(class_message, browser_of):
    """R-PUP-02, R-SAFE-02: the chat shows a report link on each message; for emma.4a it says "show an
    adult" and opens the simple dialog with the message; for kari.4a it is the full form."""
    message = class_message("noah.4a", "Du er dum")
    emma = browser_of("emma.4a")
    chat = emma.get(f"/messages/{class_message.channel.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert b'action="/cases/report/"' in chat.content
    assert f'name="message" value="{message.pk}"'.encode() in chat.content
    assert b"Show an adult" in chat.content
    dialog = emma.get(f"/cases/report/?message={message.pk}", HTTP_ACCEPT_LANGUAGE="en")
    assert dialog.status_code == 200
    assert b"Someone was mean to me" in dialog.content and b"Du er dum" in dialog.content
    assert b'name="files"' not in dialog.content
    full = browser_of("kari.4a").get(f"/cases/report/?message={message.pk}", HTTP_ACCEPT_LANGUAGE="en")
    assert b'name="files"' in full.content and b"Hate groups" in full.content
    assert browser_of("sara.9b").get(f"/cases/report/?message={message.pk}").status_code == 404


def test_a_report_with_screenshots_from_the_form_opens_a_case(browser_of):
    """R-CASE-13: an adult reports harassment elsewhere with a screenshot; the case holds it."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = browser_of("kari.4a").post("/cases/report/", {
        "category": "accusations_rumours", "description": "Rykter i en Facebook-gruppe",
        "files": [SimpleUploadedFile("skjerm.png", PNG)],
    })
    assert response.status_code == 302
    case = Case.objects.filter(reporter__username="kari.4a").latest("pk")
    assert case.evidence.filter(kind="upload").count() == 1
    refused = browser_of("kari.4a").post("/cases/report/", {
        "category": "bullying", "description": "x", "files": [SimpleUploadedFile("a.png", b"not a picture")]})
    assert refused.status_code == 400 and b"refusal" in refused.content


def test_r_case_12_the_leader_sees_the_case_list_and_page_with_snapshot_checklist_and_timeline(
        emma_case_factory, browser_of):
    """R-CASE-12, R-CASE-11: rektor's list shows the open case; its page shows the snapshot, the checklist
    with contacting both families, and the timeline."""
    case_id = emma_case_factory()
    rektor = step_up(browser_of("rektor"))
    listing = rektor.get("/cases/handling/", HTTP_ACCEPT_LANGUAGE="en")
    assert f'href="/cases/{case_id}/"'.encode() in listing.content
    page = rektor.get(f"/cases/{case_id}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="snapshot"' in page and "Ingen liker deg, Emma." in page
    assert "Contact the guardians of the harmed pupil" in page
    assert "Contact the guardians of the pupil who did it" in page
    assert 'data-testid="timeline"' in page
    # Nobody outside the case gets the page; the reported pupil neither.
    assert browser_of("noah.4a").get(f"/cases/{case_id}/").status_code == 404
    assert browser_of("mor.sara").get(f"/cases/{case_id}/").status_code == 404


def test_r_case_20_the_page_refuses_closing_until_the_guardian_agrees(emma_case_factory, browser_of):
    """R-CASE-20: the close button answers 409 with the rule on the page; after mor.emma agrees it closes.
    R-CASE-12: before that, it names the checklist steps still open; each is settled from the page."""
    case_id = emma_case_factory()
    rektor, mor = step_up(browser_of("rektor")), browser_of("mor.emma")
    open_steps = rektor.post(f"/cases/{case_id}/transition/", {"to": "closed"}, HTTP_ACCEPT_LANGUAGE="en")
    assert open_steps.status_code == 409 and b'data-testid="open-steps"' in open_steps.content
    for step in ChecklistStep.objects.filter(case_id=case_id):
        assert rektor.post(f"/cases/{case_id}/steps/{step.pk}/",
                           {"not_applicable": "1", "reason": "Ikke aktuelt her"}).status_code == 302
    refused = rektor.post(f"/cases/{case_id}/transition/", {"to": "closed"}, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 409 and b"R-CASE-20" in refused.content
    # The family is asked whether it is over once the case reaches follow-up (issue 13).
    for status in ("assessed", "actions", "follow_up"):
        assert rektor.post(f"/cases/{case_id}/transition/", {"to": status}).status_code == 302
    mine = mor.get("/cases/", HTTP_ACCEPT_LANGUAGE="en")
    assert f'href="/cases/{case_id}/"'.encode() in mine.content
    page = mor.get(f"/cases/{case_id}/", HTTP_ACCEPT_LANGUAGE="en").content
    assert b'data-testid="confirm"' in page and b'data-testid="checklist"' not in page
    assert mor.post(f"/cases/{case_id}/confirm/", {"confirmed": "1"}).status_code == 302
    assert rektor.post(f"/cases/{case_id}/transition/", {"to": "closed"}).status_code == 302
    assert Case.objects.get(pk=case_id).status == "closed"


def test_steps_contacts_and_follow_up_from_the_page(emma_case_factory, browser_of):
    """R-CASE-11, R-CASE-17: ticking a step, logging a contact and setting the interval work as forms."""
    case_id = emma_case_factory()
    rektor = step_up(browser_of("rektor"))
    step = ChecklistStep.objects.get(case_id=case_id, key="contact_harmed_family")
    assert rektor.post(f"/cases/{case_id}/steps/{step.pk}/", {"done": "1", "note": "Ringte mor"}).status_code == 302
    assert ChecklistStep.objects.get(pk=step.pk).done_by.username == "rektor"
    assert rektor.post(f"/cases/{case_id}/contact/", {"note": "Samtale med Emma"}).status_code == 302
    assert rektor.post(f"/cases/{case_id}/follow-up/", {"days": "3"}).status_code == 302
    assert Case.objects.get(pk=case_id).follow_up_days == 3
    assert rektor.post(f"/cases/{case_id}/follow-up/", {"days": "x"}).status_code == 400


def test_the_export_zip_holds_the_evidence_files_and_a_hash_manifest(emma_case_factory, browser_of, strong_api_client):
    """R-CASE-01, R-CASE-02: the ZIP has each item's canonical JSON, uploaded files and a manifest whose
    hashes match; the printable page shows the hashes; pupils and outsiders cannot export."""
    import hashlib

    from django.core.files.uploadedfile import SimpleUploadedFile

    case_id = emma_case_factory()
    strong_api_client("rektor").post(f"/api/v1/cases/{case_id}/evidence", {"files": [SimpleUploadedFile("a.png", PNG)]})
    rektor = step_up(browser_of("rektor"))
    response = rektor.get(f"/cases/{case_id}/export.zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    manifest = json.loads(archive.read("manifest.json"))
    assert [i["kind"] for i in manifest["items"]] == ["message_snapshot", "statement", "upload"]
    for entry in manifest["items"]:
        assert hashlib.sha256(archive.read(entry["file"])).hexdigest() == entry["sha256"]
    upload = manifest["items"][2]
    assert hashlib.sha256(archive.read(upload["upload"])).hexdigest() == upload["upload_sha256"]
    printed = rektor.get(f"/cases/{case_id}/print/").content.decode()
    assert manifest["items"][0]["sha256"] in printed
    for other in ("emma.4a", "mor.emma", "noah.4a", "mor.sara"):
        assert browser_of(other).get(f"/cases/{case_id}/export.zip").status_code == 404, other


@pytest.mark.parametrize(("language", "words"), [
    ("nb", ("Vis en voksen", "Noen var slemme mot meg")),
    ("da", ("Vis en voksen", "Nogen var onde mod mig")),
    ("en", ("Show an adult", "Someone was mean to me")),
])
def test_r_i18n_01_the_report_dialog_speaks_nb_da_and_en(class_message, browser_of, language, words):
    """R-I18N-01, R-PUP-02: the simple dialog is in the pupil's language."""
    message = class_message("noah.4a", "Hei")
    page = browser_of("emma.4a", language).get(f"/cases/report/?message={message.pk}")
    for word in words:
        assert word in page.content.decode()


def test_r_par_03_a_guardian_reports_for_her_child_by_ticking_her(browser_of):
    """R-PAR-03: mor.emma ticks Emma in the dialog; Emma is the harmed person and both parents are in the case."""
    mor = browser_of("mor.emma")
    assert b'value="emma.4a"' in mor.get("/cases/report/").content
    response = mor.post("/cases/report/", {"category": "exclusion", "description": "Holdt utenfor i bursdag",
                                           "harmed": ["emma.4a"], "reported_username": "noah.4a"})
    assert response.status_code == 302
    case = Case.objects.filter(reporter__username="mor.emma").latest("pk")
    roles = set(case.participants.values_list("person__username", "role"))
    assert {("emma.4a", "harmed"), ("far.emma", "harmed_guardian"), ("noah.4a", "reported")} <= roles
    assert "contact_offender_family" in set(case.steps.values_list("key", flat=True))
