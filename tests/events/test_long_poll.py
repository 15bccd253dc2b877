"""The long poll answers a push that follows on from ``after`` with the pushed frame itself, and
reads the log for anything else (issue 15: a class message wakes 30 long polls at once).

Runs on whichever channel layer the environment configures (in process, or Redis)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import transaction
from django.test import AsyncClient

from trygg.directory.models import ApiToken, Person
from trygg.events import api as events_api
from trygg.events import log as event_log

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def token_for(username: str) -> tuple[int, str]:
    person = Person.objects.get(username=username)
    return person.pk, ApiToken.issue(person)[1]


@database_sync_to_async
def emit(person_id: int, n: int, *, lose_push: bool = False) -> int:
    original = event_log.push_event
    if lose_push:
        event_log.push_event = lambda *args, **kwargs: None
    try:
        with transaction.atomic():
            return event_log.emit_event("test.poll", [person_id], {"n": n, "text": "æøå \u2028"}).pk
    finally:
        event_log.push_event = original


@database_sync_to_async
def log_after(person_id: int, after: int) -> list[dict[str, Any]]:
    return event_log.events_after(person_id, after)


def counting_reads(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    reads: list[Any] = []
    real = events_api.events_after

    def events_after(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        reads.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(events_api, "events_after", events_after)
    return reads


async def poll(client: AsyncClient, raw: str, after: int, timeout: float) -> dict[str, Any]:
    response = await client.get("/api/v1/events", {"after": after, "timeout": timeout},
                                headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return response.json()


async def test_issue_15_a_following_push_is_the_answer_without_a_second_read(demo, monkeypatch) -> None:
    person_id, raw = await token_for("mor.emma")
    client = AsyncClient()
    last = (await poll(client, raw, 0, 0))["last"]
    reads = counting_reads(monkeypatch)

    async def later() -> int:
        await asyncio.sleep(0.3)
        return await emit(person_id, 1)

    sent = asyncio.ensure_future(later())
    got = await poll(client, raw, last, 5)
    event_id = await sent
    assert len(reads) == 1  # the read when the poll began; the push itself was the answer
    assert got["last"] == event_id and [e["id"] for e in got["events"]] == [event_id]
    # The same frame, field for field, as a client reading the log gets.
    assert got == {"events": await log_after(person_id, last), "last": event_id}
    assert got["events"][0]["prev"] == last and got["events"][0]["text"] == "æøå \u2028"


async def test_issue_15_a_push_after_a_gap_reads_the_log(demo, monkeypatch) -> None:
    """Design rule 3: a push whose ``prev`` is not the client's ``after`` (a push was lost before
    it) is only a hint; the answer comes from the log, with the lost event first."""
    person_id, raw = await token_for("mor.emma")
    client = AsyncClient()
    last = (await poll(client, raw, 0, 0))["last"]
    reads = counting_reads(monkeypatch)

    async def later() -> tuple[int, int]:
        await asyncio.sleep(0.3)
        return await emit(person_id, 1, lose_push=True), await emit(person_id, 2)

    sent = asyncio.ensure_future(later())
    got = await poll(client, raw, last, 5)
    lost, pushed = await sent
    assert [e["id"] for e in got["events"]][:1] == [lost]
    assert got["last"] in (lost, pushed) and len(reads) >= 2


async def test_issue_15_a_poll_behind_pushes_this_process_kept_is_answered_from_them(demo, monkeypatch) -> None:
    """A poll that comes back several events behind (a class channel with five senders) gets the
    pushes that followed its ``after``, linked by their ``prev``, without reading the log; the
    answer is the log's, event for event and field for field."""
    from trygg.events import hub

    person_id, raw = await token_for("mor.emma")
    client = AsyncClient()
    start = (await poll(client, raw, 0, 0))["last"]
    held = hub.listen(person_id, lambda *pushed: None)  # a socket of the process, as in a busy one
    await hub.joined()
    sent = [await emit(person_id, n) for n in (1, 2, 3)]
    for _ in range(50):
        if hub.pushed_head(person_id) == sent[-1]:
            break
        await asyncio.sleep(0.05)
    reads = counting_reads(monkeypatch)
    got = await poll(client, raw, start, 5)
    middle = await poll(client, raw, sent[0], 5)
    hub.unlisten(person_id, held)
    assert reads == []
    assert got == {"events": await log_after(person_id, start), "last": sent[-1]}
    assert [e["id"] for e in got["events"]] == sent and [e["n"] for e in got["events"]] == [1, 2, 3]
    assert middle == {"events": await log_after(person_id, sent[0]), "last": sent[-1]}


def test_issue_15_the_kept_pushes_are_bounded(monkeypatch) -> None:
    """The links kept for long polls stay within ``KEPT_LINKS``, the oldest going first; a chain
    whose first link was let go is empty, and the poll reads the log."""
    from trygg.events import hub

    monkeypatch.setattr(hub, "KEPT_LINKS", 10)
    for event_id in range(101, 121):
        hub.deliver(event_id, f'{{"id": {event_id}}}', [(7, event_id - 1), (8, event_id - 1)])
    assert len(hub._links) == 10
    assert hub.kept_after(7, 100, 500) == []
    assert hub.kept_after(7, 115, 500) == [(116, '{"id": 116, "prev": 115}'), (117, '{"id": 117, "prev": 116}'),
                                           (118, '{"id": 118, "prev": 117}'), (119, '{"id": 119, "prev": 118}'),
                                           (120, '{"id": 120, "prev": 119}')]
    assert [i for i, _text in hub.kept_after(8, 117, 2)] == [118, 119]
    monkeypatch.setattr(hub, "KEPT_SECONDS", 0.0)  # links past their age are not used
    assert hub.kept_after(7, 115, 500) == []


async def test_r_priv_03_a_deleted_message_s_text_is_not_given_again_from_kept_pushes(demo) -> None:
    """A deleted message's text is erased from the log so that no resume replays it; the frames the
    process kept of its push (with the text) are dropped too, and a poll from before it gets the
    erased frame."""
    from trygg.events import hub
    from trygg.messaging import actions as chat

    person_id, raw = await token_for("mor.emma")
    client = AsyncClient()
    start = (await poll(client, raw, 0, 0))["last"]
    held = hub.listen(person_id, lambda *pushed: None)
    await hub.joined()

    @database_sync_to_async
    def send() -> tuple[int, int]:
        kari = Person.objects.get(username="kari.4a")
        conversation = chat.check_create_conversation(kari, "direct", "", ["mor.emma"], school_owned=True)
        message = chat.check_send(kari, conversation.conversation.pk, "Hemmelig beskjed om Emma", "kept-1")
        return kari.pk, message.message.pk

    kari_id, message_id = await send()
    for _ in range(50):
        if any("Hemmelig" in text for _id, text in hub.kept_after(person_id, start, 500)):
            break
        await asyncio.sleep(0.05)
    assert any("Hemmelig" in text for _id, text in hub.kept_after(person_id, start, 500))

    @database_sync_to_async
    def delete() -> None:
        chat.check_delete(Person.objects.get(pk=kari_id), message_id)

    await delete()
    for _ in range(50):  # with Redis the forget reaches this process's hub through the group
        if not any("Hemmelig" in text for _id, text in hub.kept_after(person_id, start, 500)):
            break
        await asyncio.sleep(0.05)
    answers, after = [], start
    for _ in range(5):  # an answer may stop where the kept links do; the client asks again from there
        answers.append(await poll(client, raw, after, 0))
        after = answers[-1]["last"]
    hub.unlisten(person_id, held)
    assert "Hemmelig" not in json.dumps(answers)
    erased = [e for a in answers for e in a["events"] if e.get("message", {}).get("id") == message_id]
    assert erased and all(e["message"]["deleted"] and e["message"]["body"] == "" for e in erased)


async def test_issue_15_a_poll_that_comes_back_after_its_answer_reads_no_log(demo, monkeypatch) -> None:
    """The process was handed the push that answered a poll; the next poll from there finds nothing
    new in the log, so it does not read it (on PostgreSQL a round trip for each of 30 polls)."""
    from trygg.events import hub

    person_id, raw = await token_for("mor.emma")
    client = AsyncClient()
    last = (await poll(client, raw, 0, 0))["last"]
    # A busy process: another listener (a socket) keeps it hearing pushes between the polls; with
    # Redis a hub that left the group knows nothing, and the poll reads the log.
    held = hub.listen(person_id + 1, lambda *pushed: None)
    await hub.joined()
    reads = counting_reads(monkeypatch)
    answers = []
    for n in (1, 2):
        async def later(n: int = n) -> int:
            await asyncio.sleep(0.3)
            return await emit(person_id, n)

        sent = asyncio.ensure_future(later())
        answers.append(await poll(client, raw, last, 5))
        assert answers[-1]["last"] == await sent
        last = answers[-1]["last"]
    hub.unlisten(person_id + 1, held)
    assert len(reads) == 1  # the first poll's, when the process knew nothing of the person yet
    assert [a["events"][0]["n"] for a in answers] == [1, 2]


async def test_issue_15_an_event_whose_push_this_process_missed_reaches_the_poll_within_a_second(
    demo, monkeypatch
) -> None:
    """Design rule 3: the pushes are hints. An event written where this process was not told (its
    push lost) is read from the log by the waiting poll within about a second, and a poll that
    does not wait (timeout 0) reads the log at once."""
    person_id, raw = await token_for("mor.emma")
    client = AsyncClient()
    (await poll(client, raw, 0, 0))
    known = await emit(person_id, 1)
    await asyncio.sleep(0.1)  # the push reaches the hub
    lost = await emit(person_id, 2, lose_push=True)
    started = asyncio.get_running_loop().time()
    got = await poll(client, raw, known, 5)
    assert [e["id"] for e in got["events"]] == [lost]
    assert asyncio.get_running_loop().time() - started < 2.5
    assert [e["id"] for e in (await poll(client, raw, known, 0))["events"]] == [lost]


async def test_issue_15_a_poll_behind_a_push_it_missed_reads_only_the_events(demo, monkeypatch) -> None:
    """When the process knows of a newer event than the poll's ``after`` (a push came while no poll
    waited), the poll reads the events at once, without asking the stream head first; the frames
    are the log's, with their ``prev`` chain."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from trygg.events import hub

    person_id, raw = await token_for("mor.emma")
    client = AsyncClient()
    start = (await poll(client, raw, 0, 0))["last"]
    # The first push's link is forgotten (as the oldest are, past the bound), so the kept pushes do
    # not reach back to ``start``.
    monkeypatch.setattr(hub, "KEPT_LINKS", 1)
    # Another listener of the process (a socket) keeps it hearing pushes (with Redis: in the group).
    held = hub.listen(person_id, lambda *pushed: None)
    await hub.joined()
    first, second = await emit(person_id, 1), await emit(person_id, 2)
    for _ in range(50):  # both pushes reach the hub while no poll waits
        if hub.pushed_head(person_id) == second:
            break
        await asyncio.sleep(0.05)

    @database_sync_to_async
    def statements() -> list[str]:
        with CaptureQueriesContext(connection) as seen:
            frames = event_log.events_after(person_id, start, 500, newer_known=True)
        assert [f["id"] for f in frames] == [first, second] and frames[1]["prev"] == first
        return [q["sql"] for q in seen]

    assert len(await statements()) == 1
    asked: list[dict[str, Any]] = []
    real = events_api.events_after

    def events_after(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        asked.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(events_api, "events_after", events_after)
    got = await poll(client, raw, start, 5)
    hub.unlisten(person_id, held)
    assert asked == [{"newer_known": True}]
    assert [e["id"] for e in got["events"]] == [first, second] and got["events"][0]["prev"] == start
