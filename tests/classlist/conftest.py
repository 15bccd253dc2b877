"""Fixtures for class list tests: the demo classes and JSON helpers around the API client."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

FIELDS = ("student_name", "guardian_name", "email", "phone", "address")


def put_consent(client: Client, class_id: int, student: str, accept_notice: bool = True, **on: bool) -> Any:
    """PUT the consent of ``student`` with the named fields on and the rest off, accepting the
    public-records notice in the same request unless ``accept_notice`` is False (R-LIST-04)."""
    unknown = set(on) - set(FIELDS)
    assert not unknown, unknown
    body = {"student_username": student, "fields": {f: bool(on.get(f, False)) for f in FIELDS},
            "public_notice_accepted": accept_notice}
    return client.put(f"/api/v1/classes/{class_id}/contact-list/consent", data=json.dumps(body),
                      content_type="application/json")


@pytest.fixture
def classes(demo: object) -> dict[str, int]:
    """The demo classes' ids: ``classes["9B"]``."""
    from trygg.directory.models import SchoolClass

    return {c.name: c.pk for c in SchoolClass.objects.filter(source_id__in=["demo-4a", "demo-9b"])}


@pytest.fixture
def share(api_client: Callable[[str | None], Client], classes: dict[str, int]) -> Callable[..., Any]:
    """``share("mor.sara", "sara.9b", "9B", phone=True)``: a guardian sets consent through the API."""

    def make(guardian: str, student: str, class_name: str, **on: bool) -> Any:
        response = put_consent(api_client(guardian), classes[class_name], student, **on)
        assert response.status_code == 200, response.content
        return response.json()

    return make
