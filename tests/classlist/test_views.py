"""The class list pages: the consent form with its notice and locked fields, the list, completeness
and the leader's export. Signed in with a session, as a browser is."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client

from tests.conftest import step_up
from trygg.audit.models import AuditRecord
from trygg.classlist.models import AccessRequestExport, Consent, ConsentChange
from trygg.directory.models import Person
from trygg.policy.engine import registry

pytestmark = pytest.mark.django_db

Pages = Callable[..., Client]


@pytest.fixture
def browser_as(person: Callable[[str], Person]) -> Pages:
    """Return a test client with a signed-in session as ``username`` (and an optional language cookie)."""

    def make(username: str, language: str | None = None) -> Client:
        client = Client()
        client.force_login(person(username))
        if language:
            client.cookies["django_language"] = language
        return client

    return make


def assert_no_inline_script_or_style(html: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert " style=" not in html, "inline style"


def test_r_list_04_the_consent_page_shows_the_notice_and_wants_it_confirmed_before_the_first_opt_in(
    browser_as: Pages, classes: dict[str, int], person: Callable[[str], Person]
) -> None:
    """The public-list notice is on the page; a first opt-in without confirming it is refused (in words,
    without ids) and writes nothing; with the confirmation the field goes on and the notice shown is recorded."""
    client = browser_as("mor.sara")
    url = f"/classes/{classes['9B']}/consent/"
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert registry().rules["oslo.list-is-public"].reason["nb"] in html
    assert 'name="notice_read"' in html
    assert_no_inline_script_or_style(html)

    refused = client.post(url, {"student_username": "sara.9b", "phone": "on"})
    assert refused.status_code == 409 and 'data-testid="refusal"' in refused.content.decode()
    # A guardian gets the words, never the rule or requirement ids (the style of every refusal page).
    assert "R-LIST-04" not in refused.content.decode()
    assert not Consent.objects.exists()

    saved = client.post(url, {"student_username": "sara.9b", "phone": "on", "notice_read": "on"})
    assert saved.status_code == 302
    assert list(Consent.objects.values_list("field", flat=True)) == ["phone"]
    change = ConsentChange.objects.get()
    assert change.via == "page" and change.notice_language == "nb"
    # Once seen, the notice stays on the page but no longer needs confirming.
    assert 'name="notice_read"' not in client.get(url).content.decode()


def test_r_list_05_mor_ali_sees_locked_fields_with_the_reason_and_a_forged_form_is_refused(
    browser_as: Pages, classes: dict[str, int], person: Callable[[str], Person]
) -> None:
    """Every toggle about ali.9b is disabled and explained to mor.ali; a POST that turns the name and
    address on anyway is refused by R-LIST-05 (the words, no ids, for a guardian) and writes nothing."""
    client = browser_as("mor.ali")
    url = f"/classes/{classes['9B']}/consent/"
    html = client.get(url).content.decode()
    for field in ("student_name", "guardian_name", "email", "phone", "address"):
        assert re.search(rf'id="ali\.9b-{field}" name="{field}"[^>]* disabled', html), field
    assert 'data-testid="locked-reason"' in html and "strengt fortrolig" in html
    forged = client.post(url, {"student_username": "ali.9b", "student_name": "on", "address": "on",
                               "notice_read": "on"})
    assert forged.status_code == 403
    assert 'data-testid="refusal"' in forged.content.decode() and "R-LIST-05" not in forged.content.decode()
    assert not Consent.objects.filter(pupil=person("ali.9b")).exists()


def test_r_list_05_the_reason_for_a_lock_is_shown_to_nobody_but_that_guardian(
    browser_as: Pages, classes: dict[str, int]
) -> None:
    """The class list pages of other guardians and the contact teacher carry no lock, reason or name
    of the protected pupil; a locked field looks like any field nobody shared."""
    for username in ("far.jonas", "ola.9b"):
        html = browser_as(username).get(f"/classes/{classes['9B']}/").content.decode()
        assert "Ali" not in html and "fortrolig" not in html and "locked" not in html
    four_a = browser_as("mor.emma").get(f"/classes/{classes['4A']}/").content.decode()
    assert "institusjon" not in four_a and "personlige forhold" not in four_a


def test_r_list_01_r_priv_01_the_list_page_of_another_class_is_404(browser_as: Pages,
                                                                   classes: dict[str, int]) -> None:
    """mor.emma (4A) gets 404 for every 9B page; the consent page of a class without a child is 404 too."""
    client = browser_as("mor.emma")
    for path in ("", "consent/", "completeness/", "export/"):
        assert client.get(f"/classes/{classes['9B']}/{path}").status_code == 404, path
    assert browser_as("ola.9b").get(f"/classes/{classes['9B']}/consent/").status_code == 404
    # mor.sara posting for a classmate is 404 as well, and nothing is written (R-LIST-06).
    other = browser_as("mor.sara").post(f"/classes/{classes['9B']}/consent/",
                                        {"student_username": "jonas.9b", "phone": "on", "notice_read": "on"})
    assert other.status_code == 404 and not Consent.objects.exists()


def test_r_list_02_far_jonas_sees_mor_saras_phone_on_the_list_page(
    browser_as: Pages, classes: dict[str, int], person: Callable[[str], Person]
) -> None:
    """What mor.sara shares appears on the sortable, printable list page, and the view is audited
    (R-PRIV-02)."""
    Consent.objects.create(guardian=person("mor.sara"), pupil=person("sara.9b"), field="phone")
    page = browser_as("far.jonas").get(f"/classes/{classes['9B']}/")
    html = page.content.decode()
    assert person("mor.sara").phone in html
    assert "data-sortable" in html and "data-print" in html and "classlist/list.js" in html
    assert_no_inline_script_or_style(html)
    assert AuditRecord.objects.filter(action="classlist.viewed", actor=person("far.jonas"),
                                      detail__via="page").exists()


def test_r_list_03_the_completeness_page_counts_without_naming_anyone(
    browser_as: Pages, classes: dict[str, int], person: Callable[[str], Person]
) -> None:
    """ola.9b sees "1 of 24" and can remind; no guardian's or pupil's name is on the page. After a
    reminder the button is replaced by when the next may go."""
    Consent.objects.create(guardian=person("mor.sara"), pupil=person("sara.9b"), field="phone")
    client = browser_as("ola.9b", "en")
    html = client.get(f"/classes/{classes['9B']}/completeness/").content.decode()
    assert "1 of 24 pupils are on the class list." in html
    for name in ("Finn Vik", "Maryam Karimi", "Mona Dahle", "Sara Dahle", "Jonas Vik"):
        assert name not in html
    assert 'data-testid="send-reminder"' in html
    client.post(f"/classes/{classes['9B']}/remind")
    after = client.get(f"/classes/{classes['9B']}/completeness/").content.decode()
    assert 'data-testid="next-reminder"' in after and 'data-testid="send-reminder"' not in after
    assert browser_as("far.jonas").get(f"/classes/{classes['9B']}/completeness/").status_code == 403


def test_r_list_04_the_leader_exports_a_printable_page_and_csv(
    browser_as: Pages, classes: dict[str, int], person: Callable[[str], Person]
) -> None:
    """rektor exports 9B as a printable page naming who exported it and for whom, and as CSV; both
    are recorded. The CSV never holds a confidential field even with a consent row for it (R-LIST-05)."""
    Consent.objects.create(guardian=person("mor.sara"), pupil=person("sara.9b"), field="phone")
    Consent.objects.create(guardian=person("mor.ali"), pupil=person("ali.9b"), field="student_name")
    client = step_up(browser_as("rektor", "en"))
    form = client.get(f"/classes/{classes['9B']}/export/").content.decode()
    assert 'name="requester"' in form
    printed = client.get(f"/classes/{classes['9B']}/export/", {"requester": "Aftenposten", "format": "print"})
    html = printed.content.decode()
    assert printed.status_code == 200
    assert "Randi Rektor" in html and "Aftenposten" in html and person("mor.sara").phone in html
    assert "Ali Karimi" not in html
    assert_no_inline_script_or_style(html)
    as_csv = client.get(f"/classes/{classes['9B']}/export/", {"requester": "Aftenposten", "format": "csv"})
    assert as_csv["Content-Type"].startswith("text/csv") and "Ali Karimi" not in as_csv.content.decode()
    assert AccessRequestExport.objects.filter(exported_by=person("rektor")).count() == 2
    missing = client.get(f"/classes/{classes['9B']}/export/", {"requester": "", "format": "csv"})
    assert missing.status_code == 400 and "R-LIST-04" in missing.content.decode()


@pytest.mark.parametrize(("language", "text"), [
    ("nb", "Klasselisten er offentlig"),
    ("da", "Klasselisten er offentlig"),
    ("en", "The class list is public"),
])
def test_r_list_04_the_consent_page_speaks_the_guardians_language(
    browser_as: Pages, classes: dict[str, int], language: str, text: str
) -> None:
    """The consent page and its notice are in nb, da and en."""
    html = browser_as("mor.sara", language).get(f"/classes/{classes['9B']}/consent/").content.decode()
    assert text in html
    assert f'lang="{language}"' in html


def test_the_overview_shows_each_role_its_pages(browser_as: Pages, classes: dict[str, int]) -> None:
    """Guardians get the list and the consent page, the contact teacher completeness, leaders the export
    (R-LIST-01, R-LIST-03, R-LIST-04)."""
    guardian = browser_as("mor.sara").get("/classes/").content.decode()
    assert f"/classes/{classes['9B']}/consent/" in guardian and f"/classes/{classes['4A']}/" not in guardian
    teacher = browser_as("ola.9b").get("/classes/").content.decode()
    assert f"/classes/{classes['9B']}/completeness/" in teacher and "/consent/" not in teacher
    leader = browser_as("rektor").get("/classes/").content.decode()
    assert f"/classes/{classes['9B']}/export/" in leader and f"/classes/{classes['4A']}/export/" in leader


def test_r_list_02_saving_without_a_change_says_so(browser_as: Pages, classes: dict[str, int]) -> None:
    """"Saved" only when a choice changed; saving the same choices again says nothing changed."""
    client = browser_as("mor.sara")
    url = f"/classes/{classes['9B']}/consent/"
    client.post(url, {"student_username": "sara.9b", "phone": "on", "notice_read": "on"})
    first = client.get(url).content.decode()
    assert "Valgene dine er lagret" in first or "Your choices are saved" in first
    client.post(url, {"student_username": "sara.9b", "phone": "on"})
    again = client.get(url).content.decode()
    assert "Ingenting ble endret" in again or "Nothing was changed" in again
    assert "er lagret" not in again
