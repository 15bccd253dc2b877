"""Meeting pages: the three personas, the forms without script, and what the room contains."""

from __future__ import annotations

import re
from pathlib import Path

from django.test import Client

from trygg.meetings.models import JoinAttempt, Meeting

from .conftest import put

STATIC = Path(__file__).resolve().parents[2] / "src" / "trygg" / "meetings" / "static" / "meetings"
TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "trygg" / "meetings" / "templates" / "meetings"


def browser(person, username: str) -> Client:
    client = Client()
    client.force_login(person(username))
    return client


def test_pages_have_no_inline_script_or_style() -> None:
    """CSP: no inline <script> body and no style= attribute in any meetings template."""
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        assert "style=" not in text, template.name
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template.name


def test_r_meet_16_r_meet_02_there_is_no_recording_code_anywhere() -> None:
    """R-MEET-16, R-MEET-02: the meeting scripts hold no recorder and no screen capture. The one
    exception is the teacher's screen share on the SFU (issue 16), which sends the screen to the
    class and never to a file: only ``sfu.js`` asks for it, once, and only the organiser's page has
    the button (``test_issue16_only_the_organisers_room_page_offers_screen_share``)."""
    for script in STATIC.glob("*.js"):
        text = script.read_text()
        assert "MediaRecorder" not in text, script.name
        assert "captureStream" not in text, script.name
        assert text.count("getDisplayMedia") == (1 if script.name == "sfu.js" else 0), script.name


def test_r_meet_12_create_form_refuses_names_and_marks_them(person) -> None:
    """R-MEET-12: the form without script is refused with the finding listed and marked in the text."""
    kari = browser(person, "kari.4a")
    assert kari.get("/meetings/new").status_code == 200
    response = kari.post("/meetings/new", {
        "kind": "development_talk", "student_username": "emma.4a", "starts_at": "2026-12-01T10:00",
        "title": "Emmas samtale", "invitation_text": "Ring 91234567"})
    assert response.status_code == 403
    html = response.content.decode()
    assert 'data-testid="findings"' in html
    assert '<mark data-type="name">Emmas</mark>' in html
    assert '<mark data-type="phone">91234567</mark>' in html
    response = kari.post("/meetings/new", {
        "kind": "development_talk", "student_username": "emma.4a", "starts_at": "2026-12-01T10:00",
        "title": "Utviklingssamtale", "invitation_text": "Velkommen"})
    assert response.status_code == 302


def test_three_personas_on_the_detail_page(talk, person) -> None:
    """The organiser, a guardian of the pupil (without the organiser's agenda) and a guardian of another
    class: 200, 200, 404."""
    path = f"/meetings/{talk['id']}/"
    assert browser(person, "kari.4a").get(path).status_code == 200
    page = browser(person, "mor.emma").get(path)
    assert page.status_code == 200
    assert 'id="agenda"' not in page.content.decode()
    assert browser(person, "mor.sara").get(path).status_code == 404


def test_r_meet_10_room_refuses_the_uninvited_and_logs_it(talk, person) -> None:
    """R-MEET-10: mor.sara opening the link gets the refusal page, 404 and without the rule's text
    (R-PRIV-01: nothing tells her it is a development talk), and the attempt is logged."""
    response = browser(person, "mor.sara").get(talk["link"])
    assert response.status_code == 404
    html = response.content.decode()
    assert 'data-testid="join-refused"' in html and "bergen" not in html.lower()
    assert JoinAttempt.objects.filter(meeting_id=talk["id"], person__username="mor.sara").exists()


def test_r_meet_13_r_meet_02_r_meet_17_organisers_room_of_a_talk(talk, person) -> None:
    """R-MEET-13: kari.4a's room lists the Bergen guidelines to read out with a confirm button;
    R-MEET-02: the room states there is no recording and names the viewer on the video;
    R-MEET-17: a development talk's room has no chat."""
    html = browser(person, "kari.4a").get(talk["link"]).content.decode()
    assert 'data-testid="guidelines"' in html
    assert "Møtedeltakerne skal kun være eleven" in html
    assert 'id="guidelines-read"' in html
    assert 'data-testid="room-rules"' in html
    assert 'id="chat-form"' not in html
    assert 'id="halt"' in html and 'id="end"' in html


def test_guardians_room_has_no_organiser_controls(talk, person) -> None:
    """mor.emma's room has no guidelines box, no halt and no end."""
    html = browser(person, "mor.emma").get(talk["link"]).content.decode()
    assert 'id="halt"' not in html and 'data-testid="guidelines"' not in html


def test_lesson_room_has_a_chat(person, create_meeting, talk) -> None:
    """A lesson (not a development talk) has its chat in the room."""
    class_id = Meeting.objects.get(pk=talk["id"]).school_class_id
    lesson = create_meeting("kari.4a", kind="lesson", class_id=class_id, title="Norsk",
                            invitation_text="Vi leser.").json()
    html = browser(person, "emma.4a").get(lesson["link"]).content.decode()
    assert 'id="chat-form"' in html


def test_r_meet_15_pupil_form_and_teacher_reads_reflection_on_the_page(talk, person) -> None:
    """R-MEET-15: emma.4a saves her reflections with the form; kari.4a sees them on the page and in the room."""
    emma = browser(person, "emma.4a")
    assert 'id="reflection"' in emma.get(f"/meetings/{talk['id']}/").content.decode()
    emma.post(f"/meetings/{talk['id']}/reflection", {"text": "Jeg er god i lesing."})
    kari = browser(person, "kari.4a")
    assert "Jeg er god i lesing." in kari.get(f"/meetings/{talk['id']}/").content.decode()
    assert "Jeg er god i lesing." in kari.get(talk["link"]).content.decode()
    assert "Jeg er god i lesing." not in browser(person, "mor.emma").get(f"/meetings/{talk['id']}/").content.decode()


def test_r_meet_19_agenda_form_warns_about_health(talk, person, api_client) -> None:
    """R-MEET-19: saving an agenda about health shows the reminder, and the agenda is saved."""
    kari = browser(person, "kari.4a")
    response = kari.post(f"/meetings/{talk['id']}/agenda", {"agenda": "Helse og søvn"}, follow=True)
    assert "helsen" in response.content.decode() or "health" in response.content.decode()
    assert Meeting.objects.get(pk=talk["id"]).agenda == "Helse og søvn"
    preview = api_client("kari.4a").post(f"/api/v1/meetings/{talk['id']}/agenda/preview",
                                         data='{"text": "Diagnosen"}', content_type="application/json").json()
    assert preview["nudges"][0]["requirement"] == "R-MEET-19"
    assert put(api_client("kari.4a"), f"/api/v1/meetings/{talk['id']}/agenda", {"text": "Lesing"}).status_code == 200


def test_my_meetings_page_opens_the_calendar(person, talk) -> None:
    """R-MEET-11: the pupil's meetings page is her calendar; opening it is recorded."""
    from trygg.meetings.models import CalendarFeed

    response = browser(person, "emma.4a").get("/meetings/")
    assert response.status_code == 200
    assert "Utviklingssamtale" in response.content.decode()
    assert CalendarFeed.objects.get(person__username="emma.4a").opened_at is not None


def test_issue16_only_the_organisers_room_page_offers_screen_share(person, create_meeting, talk, settings) -> None:
    """Screen share is the teacher's alone: a pupil's lesson room has no such button; the room may
    connect to the configured Janus and nowhere else (CSP connect-src)."""
    settings.TRYGG_JANUS_URL = ["http://127.0.0.1:18088/janus"]
    settings.TRYGG_JANUS_PUBLIC_URL = ["https://video.example.kommune.no/janus"]
    class_id = Meeting.objects.get(pk=talk["id"]).school_class_id
    lesson = create_meeting("kari.4a", kind="lesson", class_id=class_id, title="Norsk",
                            invitation_text="Vi leser.").json()
    pupil = browser(person, "emma.4a").get(lesson["link"])
    assert 'id="share-screen"' not in pupil.content.decode() and 'id="raise-hand"' in pupil.content.decode()
    teacher = browser(person, "kari.4a").get(lesson["link"])
    assert 'id="share-screen"' in teacher.content.decode()
    policy = teacher["Content-Security-Policy"]
    connect = next(d for d in policy.split(";") if d.strip().startswith("connect-src"))
    assert "https://video.example.kommune.no" in connect and "127.0.0.1:18088" not in connect
