"""The hand-written reads and inserts of the send path (``trygg.database``) give what the ORM gives."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from trygg.database import RowReader, insert_row
from trygg.directory.models import ApiToken, Person
from trygg.errors import NotFoundOrHidden


def _fields(instance: object) -> dict[str, object]:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_a_token_read_by_hand_equals_the_orm_s(demo) -> None:
    """Issue 15: ``ApiToken.find`` reads the token and its person in one hand-written statement;
    every field (aware datetimes, booleans) equals what the ORM loads."""
    ola = Person.objects.get(username="ola.9b")
    token, raw = ApiToken.issue(ola, strong=True, label="phone")
    found = ApiToken.find(raw)
    assert found is not None and found.pk == token.pk
    assert _fields(found) == _fields(ApiToken.objects.get(pk=token.pk))
    assert _fields(found.person) == _fields(Person.objects.get(pk=ola.pk))
    assert timezone.is_aware(found.expires_at) and found.person.is_active is True


@pytest.mark.parametrize("why", ["expired", "inactive", "password_changed", "unknown"])
def test_a_dead_token_finds_nobody(demo, why: str) -> None:
    """R-PRIV-01: the hand-written lookup keeps every condition of the ORM's."""
    ola = Person.objects.get(username="ola.9b")
    token, raw = ApiToken.issue(ola)
    if why == "expired":
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    elif why == "inactive":
        Person.objects.filter(pk=ola.pk).update(is_active=False)
    elif why == "password_changed":
        Person.objects.filter(pk=ola.pk).update(credential_stamp="changed")
    else:
        raw = raw[:-2] + "xx"
    assert ApiToken.find(raw) is None


def test_an_inserted_row_equals_the_orm_s(demo) -> None:
    """Issue 15: ``insert_row`` writes what ``save()`` writes, JSON included, and sets the key."""
    from trygg.audit.models import AuditRecord

    record = AuditRecord(actor=Person.objects.get(username="ola.9b"), action="test.insert",
                         detail={"ids": [1, 2], "å": "ø"})
    insert_row(record)
    assert record.pk is not None and not record._state.adding
    assert _fields(AuditRecord.objects.get(pk=record.pk)) == _fields(record)


def test_a_left_join_without_a_row_reads_as_none(demo) -> None:
    """A conversation without a class reads its class as None, not as an empty instance."""
    from trygg.messaging.actions import check_create_conversation
    from trygg.messaging.queries import access_for_sending

    kari = Person.objects.get(username="kari.4a")
    created = check_create_conversation(kari, "direct", "", ["mor.emma"])
    conversation, ids, _generation = access_for_sending(kari, created.conversation.pk)
    assert conversation.school_class is None and conversation.created_by == kari
    assert sorted(ids) == sorted(created.conversation.memberships.values_list("person_id", flat=True))
    with pytest.raises(NotFoundOrHidden):
        access_for_sending(Person.objects.get(username="emma.4a"), created.conversation.pk)
    width = len(Person._meta.concrete_fields)
    assert RowReader(Person).read([None] * width) == (None, width)
