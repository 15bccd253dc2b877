"""iCalendar (RFC 5545) of a person's meetings: the Trygg calendar as a feed (R-MEET-11).

One VEVENT per meeting with a stable UID; a halt raises SEQUENCE and changes the URL, so a
calendar app replaces the old invitation with the new link. An ended meeting is CANCELLED.
Written by hand: the format is small, and escaping and line folding are the only traps.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from trygg.directory.models import Person
from trygg.directory.queries import anonymous_word, hidden_from
from trygg.links import public_url
from trygg.meetings.models import CalendarEntry, Meeting

PRODID = "-//Trygg//Meetings//NB"


def escape(text: str) -> str:
    """Escape a TEXT value: backslash, semicolon, comma and newlines."""
    return (
        text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line at 75 octets, never inside a UTF-8 character."""
    out: list[str] = []
    current = b""
    limit = 75
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > limit:
            out.append(current.decode("utf-8"))
            current = b""
            limit = 74  # the continuation line's leading space counts
        current += encoded
    out.append(current.decode("utf-8"))
    return "\r\n ".join(out)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _organiser(meeting: Meeting, viewer: Person | None) -> str:
    if viewer is not None and hidden_from(viewer, [meeting.organiser_id]):
        # Neither the name nor the person's id: "a guardian" (R-LIST-05).
        return f'ORGANIZER;CN="{anonymous_word(meeting.organiser_id)}":urn:trygg:person:hidden'
    return 'ORGANIZER;CN="{}":urn:trygg:person:{}'.format(meeting.organiser.name.replace('"', ""), meeting.organiser_id)


def render_calendar(entries: Iterable[CalendarEntry], name: str = "Trygg", base: str | None = None,
                    viewer: Person | None = None) -> str:
    """Return the VCALENDAR text of ``entries`` (with their meetings loaded); links start with ``base``
    (``trygg.links.public_url`` of the request), or the public address when it is not given; the
    organiser is named as ``viewer`` (the calendar's owner) may see them (R-LIST-05)."""
    if base is None:
        base = public_url()
    now = _stamp(datetime.now(UTC))
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
             f"X-WR-CALNAME:{escape(name)}"]
    for entry in entries:
        meeting = entry.meeting
        end = meeting.starts_at + timedelta(minutes=meeting.duration_minutes)
        link = "" if meeting.ended else base + meeting.link
        description = meeting.invitation_text + (f"\n\n{link}" if link else "")
        lines += [
            "BEGIN:VEVENT",
            f"UID:meeting-{meeting.pk}@trygg",
            f"DTSTAMP:{now}",
            f"SEQUENCE:{meeting.generation - 1}",
            f"DTSTART:{_stamp(meeting.starts_at)}",
            f"DTEND:{_stamp(end)}",
            f"SUMMARY:{escape(meeting.title)}",
            f"DESCRIPTION:{escape(description)}",
            _organiser(meeting, viewer),
            "STATUS:" + ("CANCELLED" if meeting.ended else "CONFIRMED"),
        ]
        if link:
            lines.append(f"URL:{link}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "\r\n".join(fold(line) for line in lines) + "\r\n"
