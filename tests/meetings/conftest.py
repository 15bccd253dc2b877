"""Fixtures for meeting tests: JSON helpers and a development talk kari.4a calls for emma.4a."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone


def post(client: Client, path: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(path, data=json.dumps(body or {}), content_type="application/json")


def put(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.put(path, data=json.dumps(body), content_type="application/json")


def soon() -> str:
    return (timezone.now() + timedelta(days=2)).isoformat()


GENERIC = {"title": "Utviklingssamtale", "invitation_text": "Velkommen til utviklingssamtale på video."}


@pytest.fixture
def create_meeting(api_client: Callable[[str | None], Client]) -> Callable[..., Any]:
    """``create_meeting("kari.4a", kind=..., ...)`` → the response of POST /api/v1/meetings."""

    def make(organiser: str, **body: Any) -> Any:
        payload = {"kind": "development_talk", "starts_at": soon(), **GENERIC, **body}
        return post(api_client(organiser), "/api/v1/meetings", payload)

    return make


@pytest.fixture
def talk(create_meeting: Callable[..., Any]) -> dict[str, Any]:
    """A development talk for emma.4a called by her contact teacher kari.4a."""
    response = create_meeting("kari.4a", student_username="emma.4a")
    assert response.status_code == 201, response.content
    return response.json()
