"""The event log's tables: events, who receives each, and the head of each person's stream.

The tables keep the names they had when the log lived in the messaging app (``messaging_event``
and so on): the models were handed over by a state-only migration, so no row moved.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Event(models.Model):
    """One event a client must not miss; ids increase, so a client resumes after the last it saw."""

    type = models.CharField(max_length=60)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "messaging_event"

    def __str__(self) -> str:
        return f"event {self.pk} {self.type}"


class EventRecipient(models.Model):
    """Who may receive an event; a client's stream is its rows in event-id order."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="recipients")
    # Indexed by the unique constraint, which also serves a stream read (person, event id > after).
    # Every message writes one row per recipient, each into a different leaf page of every
    # person-first index: a second and third such index tripled what a commit wrote.
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                               db_index=False)

    class Meta:
        db_table = "messaging_eventrecipient"
        constraints = [models.UniqueConstraint(fields=["person", "event"], name="unique_event_recipient")]

    def __str__(self) -> str:
        return f"event {self.event_id} → {self.person_id}"


class StreamHead(models.Model):
    """The newest event id in a person's stream: ``prev`` of their next event, read in O(recipients).

    Kept by ``emit_event`` under the log lock, so it is exact; without it every emit would scan the
    recipients' whole history for their latest event.
    """

    person = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    last_event_id = models.BigIntegerField(default=0)
    # The head before its last move: the statement that moves the heads gives it back as each
    # recipient's ``prev`` (``emit_event``). PostgreSQL before 18 cannot return a row's old values,
    # and a read of the heads in that statement would see them as they were before it waited for
    # the log's lock.
    previous_event_id = models.BigIntegerField(default=0, db_default=0)

    class Meta:
        db_table = "messaging_streamhead"

    def __str__(self) -> str:
        return f"stream of {self.person_id} at {self.last_event_id}"
