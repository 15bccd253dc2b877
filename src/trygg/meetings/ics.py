"""iCalendar (RFC 5545) of a person's meetings: the Trygg calendar as a feed (R-MEET-11).

One VEVENT per meeting with a stable UID; a halt raises SEQUENCE and changes the URL, so a
calendar app replaces the old invitation with the new link. An ended meeting is CANCELLED.
Written by hand: the format is small, and escaping and line folding are the only traps.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from trygg.meetings.models import CalendarEntry

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


def public_url(request: Any = None) -> str:
    """Return the address links in the feed start with (``trygg.addresses.public_url``)."""
    from trygg.addresses import public_url as trygg_url

    return trygg_url(request)


def render_calendar(entries: Iterable[CalendarEntry], name: str = "Trygg") -> str:
    """Return the VCALENDAR text of ``entries`` (with their meetings loaded)."""
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
            'ORGANIZER;CN="{}":urn:trygg:person:{}'.format(meeting.organiser.name.replace('"', ""),
                                                          meeting.organiser_id),
            "STATUS:" + ("CANCELLED" if meeting.ended else "CONFIRMED"),
        ]
        if link:
            lines.append(f"URL:{link}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "\r\n".join(fold(line) for line in lines) + "\r\n"
