"""Per-person limits on sending and previewing (issue 12 §4, R-CHAT-05): a pupil posted 300 messages
in 3.2 s into a group; now sends beyond the pack's limits answer 429 with Retry-After."""

from __future__ import annotations

import time

import pytest

from tests.messaging.conftest import new_txn, post

pytestmark = pytest.mark.django_db


def flood(client, conversation_id: int, n: int) -> list:
    return [post(client, f"/api/v1/conversations/{conversation_id}/messages", {"body": f"hei {i}",
                                                                              "client_txn_id": new_txn()})
            for i in range(n)]


def test_r_chat_05_a_pupil_flooding_a_conversation_gets_429_with_retry_after(chat) -> None:
    """sara.9b sends 300 messages as fast as she can: the burst allowance (10 within 10 s) passes,
    then 429 with Retry-After and the rule's reason; at most her 20 a minute get through (a slow
    machine may open a second burst window), and nothing refused is stored."""
    conversation_id, sara = chat("sara.9b", "jonas.9b")
    started = time.monotonic()
    answers = flood(sara, conversation_id, 300)
    assert time.monotonic() - started < 60
    statuses = [a.status_code for a in answers]
    assert statuses[:11] == [201] * 10 + [429]
    assert set(statuses) == {201, 429} and statuses.count(201) <= 20
    refused = answers[-1]
    assert 1 <= int(refused["Retry-After"]) <= 60
    body = refused.json()
    assert body["error"] == "too_many_requests" and body["rule"] == "core_platform.rate-limits"
    assert body["requirement"] == "R-CHAT-05"
    listed = sara.get(f"/api/v1/conversations/{conversation_id}/messages").json()
    assert len(listed) == statuses.count(201)


def test_r_chat_05_a_repeated_client_txn_id_uses_up_nothing(chat) -> None:
    conversation_id, sara = chat("sara.9b", "jonas.9b")
    path = f"/api/v1/conversations/{conversation_id}/messages"
    for _ in range(30):
        assert post(sara, path, {"body": "en gang", "client_txn_id": "same"}).status_code in (200, 201)
    assert flood(sara, conversation_id, 9)[-1].status_code == 201


def test_r_chat_05_pupils_have_20_a_minute_and_adults_120(chat, settings) -> None:
    """With the burst allowance out of the way (a municipality's override), a pupil's 21st message in a
    minute is refused and a teacher's is not."""
    from trygg.policy.engine import invalidate
    from trygg.policy.models import PolicyConfig

    config = PolicyConfig.objects.get()
    config.overrides = {**config.overrides, "core_platform.rate-limits": {"burst_per_10_seconds": 1000}}
    config.save()
    invalidate()
    conversation_id, sara = chat("sara.9b", "ola.9b")
    assert [a.status_code for a in flood(sara, conversation_id, 21)] == [201] * 20 + [429]
    _same, ola = chat("ola.9b", "mor.sara")
    assert [a.status_code for a in flood(ola, _same, 121)] == [201] * 120 + [429]


def test_the_preview_allows_at_least_120_a_minute(chat) -> None:
    """The preview runs while one types: 200 previews in a minute all answer; the 241st is refused."""
    conversation_id, sara = chat("sara.9b", "jonas.9b")
    path = f"/api/v1/conversations/{conversation_id}/messages/preview"
    assert {post(sara, path, {"body": "hei"}).status_code for _ in range(240)} == {200}
    assert post(sara, path, {"body": "hei"}).status_code == 429


def test_rate_limits_off_lifts_the_send_limit(chat, settings) -> None:
    """TRYGG_RATE_LIMITS=off, for benchmarks only."""
    settings.TRYGG_RATE_LIMITS = False
    conversation_id, sara = chat("sara.9b", "jonas.9b")
    started = time.monotonic()
    assert {a.status_code for a in flood(sara, conversation_id, 40)} == {201}
    assert time.monotonic() - started < 60
