"""Fixtures for case tests: a message in the 4A class channel, reports through the API, uploads."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from PIL import Image


# The smallest files of each accepted type (PDF: its magic bytes and a little padding).
def _image(fmt: str) -> bytes:
    # Real, decodable pictures: evidence images are decode-checked before they are kept.
    out = io.BytesIO()
    Image.new("RGB", (4, 3), (120, 40, 40)).save(out, fmt)
    return out.getvalue()


PNG = _image("PNG")
JPEG = _image("JPEG")
WEBP = _image("WEBP")
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"\x00" * 16


def post(client: Client, path: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(path, data=json.dumps(body or {}), content_type="application/json")


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> Path:
    """Uploaded evidence goes to a directory of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def class_message(person: Callable[[str], Any]) -> Callable[..., Any]:
    """Return a factory: ``class_message("noah.4a", "text")`` posts a reply everyone in the 4A class
    channel sees (kari.4a's announcement, opened for discussion), as a classmate's message would be.

    emma.4a and noah.4a cannot chat one to one (R-CHAT-02, grade 4), so the class channel is where a
    classmate's message realistically reaches her.
    """
    from trygg.directory.models import SchoolClass
    from trygg.messaging import actions as chat

    channel, _guardians = chat.ensure_class_channels(SchoolClass.objects.get(name="4A"))
    kari = person("kari.4a")
    announcement = chat.check_send(kari, channel.pk, "Hva gjorde dere i helgen?", "ann-1").message
    chat.check_set_discussion(kari, announcement.pk, True)
    counter = iter(range(1, 10_000))

    def make(username: str, text: str) -> Any:
        sender = person(username)
        return chat.check_send(sender, channel.pk, text, f"cm-{next(counter)}", announcement.pk).message

    make.channel = channel  # type: ignore[attr-defined]
    return make


@pytest.fixture
def report(api_client: Callable[[str | None], Client]) -> Callable[..., Any]:
    """``report("emma.4a", category=..., message_id=...)`` → the API response."""

    def make(username: str, **body: Any) -> Any:
        return post(api_client(username), "/api/v1/reports", body)

    return make


@pytest.fixture
def emma_case_factory(class_message: Callable[..., Any], report: Callable[..., Any]) -> Callable[[], int]:
    """Return a factory of cases: emma.4a reports noah.4a's message in the class channel."""

    def make() -> int:
        message = class_message("noah.4a", "Ingen liker deg, Emma.")
        response = report("emma.4a", message_id=message.pk, category="bullying", description="Han var slem")
        assert response.status_code == 201, response.content
        return int(response.json()["case_id"])

    return make
