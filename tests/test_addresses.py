"""Absolute links name the address Trygg is reached at, never a fixed port."""

from __future__ import annotations

from django.test import Client, RequestFactory

from trygg.addresses import public_url


def test_public_url_prefers_the_setting_then_the_request_then_the_listening_address(settings) -> None:
    settings.TRYGG_PUBLIC_URL = ""
    settings.TRYGG_LISTEN_URL = "http://127.0.0.1:8123"
    assert public_url() == "http://127.0.0.1:8123"
    request = RequestFactory().get("/", HTTP_HOST="localhost:9001")
    assert public_url(request) == "http://localhost:9001"
    settings.TRYGG_PUBLIC_URL = "https://trygg.kommune.no/"
    assert public_url(request) == public_url() == "https://trygg.kommune.no"


def test_the_calendar_address_on_the_meetings_page_is_the_one_the_browser_used(person, settings) -> None:
    settings.TRYGG_PUBLIC_URL = ""
    settings.ALLOWED_HOSTS = ["*"]
    client = Client(HTTP_HOST="127.0.0.1:8765")
    client.force_login(person("mor.emma"))
    page = client.get("/meetings/").content.decode()
    assert 'value="http://127.0.0.1:8765/api/v1/calendar/feed/' in page
    assert ":8000" not in page
