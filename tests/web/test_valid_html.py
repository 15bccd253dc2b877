"""Valid pages (issue 18): the W3C Nu HTML checker finds no error on the main pages of each role,
and ``<time datetime>`` values carry no six-digit fractions. R-I18N-01 (pages in every language).

The checker is ``vnu.jar`` from the npm registry (``make vnu``, into ``tools/vnu``); it needs a
Java runtime (``.ci/run`` installs Debian's ``default-jre-headless`` where ``java`` is missing).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.conftest import step_up
from trygg.web.templatetags.html_time import html_datetime

REPO = Path(__file__).resolve().parents[2]
VNU = REPO / "tools/vnu/node_modules/vnu-jar/build/dist/vnu.jar"
SIX_DIGIT_FRACTION = re.compile(r'datetime="[^"]*\.\d{4,}')


def test_html_datetime_drops_the_fractions_html_does_not_allow() -> None:
    moment = datetime(2026, 11, 29, 8, 30, 15, 123456, tzinfo=UTC)
    assert html_datetime(moment) == "2026-11-29T08:30:15+00:00"
    assert html_datetime(moment.isoformat()) == "2026-11-29T08:30:15+00:00"  # as stored in JSON snapshots
    assert html_datetime(date(2026, 12, 1)) == "2026-12-01"
    assert html_datetime("not a time") == html_datetime(None) == ""


@pytest.fixture
def pages(person: Any) -> dict[str, str]:
    """Return {name: HTML} of the main pages of each role, with a message, a meeting and a case to show."""
    from trygg.cases.actions import check_report
    from trygg.directory.models import SchoolClass
    from trygg.meetings.actions import check_create_meeting
    from trygg.messaging import actions as chat

    school_class = SchoolClass.objects.get(name="4A")
    channel, _guardians = chat.ensure_class_channels(school_class)
    kari = person("kari.4a")
    announcement = chat.check_send(kari, channel.pk, "Husk gymtøy i morgen", "vnu-1").message
    chat.check_set_discussion(kari, announcement.pk, True)
    reply = chat.check_send(person("noah.4a"), channel.pk, "Ingen liker deg", "vnu-2", announcement.pk).message
    direct = chat.check_create_conversation(kari, "direct", "", ["mor.emma"], school_owned=True).conversation
    chat.check_send(kari, direct.pk, "Hei! Emma var flink i dag.", "vnu-3")
    meeting = check_create_meeting(kari, "development_talk", "2026-12-01T10:00:00+01:00", "Utviklingssamtale",
                                   "Velkommen.", student_username="emma.4a")
    case = check_report(person("emma.4a"), category="bullying", description="Han var slem", message_id=reply.pk)

    def client(username: str | None) -> Client:
        browser = Client()
        if username:
            browser.force_login(person(username))
        return browser

    visits = {
        None: ["/login/"],
        "emma.4a": ["/", "/messages/", f"/messages/{channel.pk}/", "/cases/", "/meetings/", "/guidelines/",
                    "/guidelines/short/", f"/cases/{case.pk}/", "/me/"],
        "mor.emma": ["/", "/messages/", f"/messages/{direct.pk}/", "/messages/notices/", "/messages/?q=flink",
                     f"/messages/children/{person('emma.4a').pk}/", "/guidelines/short/", f"/cases/{case.pk}/",
                     "/me/",
                     f"/classes/{school_class.pk}/", f"/meetings/{meeting.pk}/"],
        "kari.4a": ["/", f"/messages/{channel.pk}/", "/messages/notices/", "/meetings/", f"/meetings/{meeting.pk}/",
                    f"/classes/{school_class.pk}/"],
        "rektor": ["/", "/cases/handling/", f"/cases/{case.pk}/"],
    }
    found: dict[str, str] = {}
    for username, paths in visits.items():
        browser = client(username)
        if username == "rektor":
            step_up(browser)
        for language in ("nb", "da", "en") if username == "mor.emma" else ("nb",):
            for path in paths:
                answer = browser.get(path, HTTP_ACCEPT_LANGUAGE=language)
                assert answer.status_code == 200, (username, path, answer.status_code)
                found[f"{username or 'anonymous'} {language} {path}"] = answer.content.decode()
    return found


def test_no_time_element_carries_six_digit_fractions(pages: dict[str, str]) -> None:
    """Every ``<time datetime>`` of the pages is a valid HTML date and time (at most three digits)."""
    assert sum(page.count("<time") for page in pages.values()) >= 8
    bad = {name: SIX_DIGIT_FRACTION.findall(page) for name, page in pages.items() if SIX_DIGIT_FRACTION.search(page)}
    assert bad == {}


@pytest.mark.once_in_ci
def test_r_i18n_01_the_w3c_checker_finds_no_error_on_the_main_pages_of_each_role(
    pages: dict[str, str], tmp_path: Path
) -> None:
    """vnu.jar checks every page at once; each error is reported with the page it is on."""
    assert VNU.is_file(), "the W3C checker is missing: run `make vnu` (npm) first"
    java = shutil.which("java")
    assert java, "a Java runtime is missing (Debian: apt-get install default-jre-headless)"
    names: dict[str, str] = {}
    for index, (name, html) in enumerate(sorted(pages.items())):
        path = tmp_path / f"page{index:02d}.html"
        path.write_text(html, encoding="utf-8")
        names[path.name] = name
    done = subprocess.run([java, "-jar", str(VNU), "--errors-only", "--format", "json",
                           *(str(tmp_path / file) for file in sorted(names))], capture_output=True, text=True,
                          timeout=600)
    report = json.loads(done.stderr or done.stdout or '{"messages": []}')
    errors = [f"{names.get(m.get('url', '').rpartition('/')[2], m.get('url'))} line {m.get('lastLine')}: "
              f"{m.get('message')} [{m.get('extract', '').strip()[:80]}]"
              for m in report["messages"] if m.get("type") in ("error", "non-document-error")]
    assert errors == [], "\n".join(errors)
    assert done.returncode == 0
    assert len(names) >= 20
