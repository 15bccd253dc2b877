"""Counting what waits for a person: unread messages, photos waiting for their permission, cases
they handle that wait for them, and today's meetings. Each count uses the apps' scoped reads, so
it counts only what the person may see."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone

from trygg.cases.models import Status
from trygg.cases.queries import list_handled_cases
from trygg.directory.models import Person
from trygg.meetings.models import Meeting, MeetingStatus
from trygg.messaging.queries import list_attachment_requests, list_conversations


def count_waiting(person: Person, now: datetime | None = None) -> dict[str, int]:
    """Return ``{messages, photos, cases, meetings_today}`` for the person."""
    now = timezone.localtime(now or timezone.now())
    start = timezone.make_aware(datetime.combine(now.date(), time.min), now.tzinfo)
    messages = sum(c.unread for c in list_conversations(person))
    # A case waits for its handlers while nobody has answered it yet, and again when a
    # follow-up is due (R-CASE-12, R-CASE-17).
    cases = list_handled_cases(person).filter(
        Q(status=Status.REPORTED) | Q(next_follow_up_at__lte=now)
    ).count()
    meetings = (
        Meeting.objects.filter(invitations__person=person, invitations__removed_at__isnull=True,
                               starts_at__gte=start, starts_at__lt=start + timedelta(days=1))
        .exclude(status=MeetingStatus.ENDED).distinct().count()
    )
    return {
        "messages": messages,
        "photos": len(list_attachment_requests(person)),
        "cases": cases,
        "meetings_today": meetings,
    }
