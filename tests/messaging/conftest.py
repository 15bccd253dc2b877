"""Fixtures for messaging tests: JSON helpers around the API client."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

_txn = itertools.count(1)


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


def new_txn() -> str:
    return f"t-{next(_txn)}-{id(_txn)}"


@pytest.fixture
def chat(api_client: Callable[[str | None], Client]) -> Callable[..., Any]:
    """``chat("kari.4a", "mor.emma")`` → (conversation id, client of the first person)."""

    def make(creator: str, *others: str, kind: str | None = None, title: str = "", school_owned: bool = False) -> Any:
        client = api_client(creator)
        response = post(client, "/api/v1/conversations", {
            "kind": kind or ("direct" if len(others) == 1 else "group"),
            "title": title,
            "member_usernames": list(others),
            "school_owned": school_owned,
        })
        assert response.status_code in (200, 201), response.content
        return response.json()["id"], client

    return make


@pytest.fixture
def send() -> Callable[..., Any]:
    def do(client: Client, conversation_id: int, body: str, txn: str | None = None, **extra: Any) -> Any:
        return post(client, f"/api/v1/conversations/{conversation_id}/messages",
                    {"body": body, "client_txn_id": txn or new_txn(), **extra})

    return do


@pytest.fixture
def classmate(demo: object) -> str:
    """The username of a 9B pupil of no named family (the demo's invented classmates): others can
    add them to a group, as they cannot add ali.9b, whose identity is confidential (R-LIST-05)."""
    from trygg.directory.models import Person

    named = ["sara.9b", "jonas.9b", "ali.9b"]
    return (Person.objects.filter(enrollments__school_class__name="9B").exclude(username__in=named)
            .order_by("username").values_list("username", flat=True).first())
