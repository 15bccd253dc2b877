"""Log lines never carry a meeting's link key or a sign-in code (DEVELOPERS.md's privacy standard,
R-MEET-18's link), whichever logger writes them; uvicorn writes no line per request unless asked."""

from __future__ import annotations

import logging

import httpx

from tests.conftest import LiveDatabase, LiveServer
from trygg.logsafe import RedactSecrets, clean

KEY = "Zq8sLinkKey41"
CODE = "c0de-from-the-provider"


def test_clean_masks_a_room_key_and_a_query_string_and_nothing_else() -> None:
    assert clean(f'127.0.0.1:5 - "GET /meetings/12/room/{KEY}/ HTTP/1.1" 302') == \
        '127.0.0.1:5 - "GET /meetings/12/room/…/ HTTP/1.1" 302'
    assert clean(f"GET /signin/oidc/1/callback/?code={CODE}&state=s7 HTTP/1.1") == \
        "GET /signin/oidc/1/callback/?… HTTP/1.1"
    assert clean(f"Forbidden: /meetings/3/room/{KEY}/") == "Forbidden: /meetings/3/room/…/"
    for plain in ("event hub lost the channel layer (TimeoutError); retrying in 1.0 s", "why? because",
                  "GET /api/v1/events HTTP/1.1", "/meetings/3/ is fine"):
        assert clean(plain) == plain


def test_the_filter_cleans_a_record_with_arguments_as_uvicorn_and_django_make_them() -> None:
    access = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "GET", f"/signin/oidc/1/callback/?code={CODE}", "1.1", 302), None)
    refused = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "%s: %s",
                                ("Forbidden", f"/meetings/3/room/{KEY}/"), None)
    for record in (access, refused):
        assert RedactSecrets().filter(record) is True
        assert KEY not in record.getMessage() and CODE not in record.getMessage()
    assert access.getMessage() == '127.0.0.1:5 - "GET /signin/oidc/1/callback/?… HTTP/1.1" 302'
    assert refused.getMessage() == "Forbidden: /meetings/3/room/…/"


def test_a_record_that_cannot_be_formatted_is_left_to_the_handler() -> None:
    """A filter's exception would reach the code that logged; the handler's own error report is
    where a bad record belongs."""
    broken = logging.LogRecord("trygg", logging.INFO, __file__, 1, "%s and %s", ("one",), None)
    assert RedactSecrets().filter(broken) is True


def test_a_server_writes_no_line_per_request_by_default(trygg_server: LiveServer) -> None:
    """``wait_until_serving`` asked ``/healthz`` until the server answered; no line says so."""
    assert httpx.get(f"{trygg_server.url}/healthz").status_code == 200
    assert "GET /healthz" not in trygg_server.log_text()


def test_an_access_log_asked_for_carries_no_room_key_and_no_sign_in_code() -> None:
    database = LiveDatabase("logsafe")
    server = None
    try:
        server = LiveServer({**database.env, "TRYGG_ACCESS_LOG": "on"})
        with httpx.Client(base_url=server.url) as client:
            client.get(f"/meetings/1/room/{KEY}/")
            client.get("/signin/oidc/1/callback/", params={"code": CODE, "state": "s7"})
            client.get("/healthz")
        text = server.log_text()
        assert '"GET /healthz HTTP/1.1" 200' in text  # the access log is on
        assert '"GET /meetings/1/room/…/ HTTP/1.1"' in text and '"GET /signin/oidc/1/callback/?… HTTP/1.1"' in text
        assert KEY not in text and CODE not in text
    finally:
        if server is not None:
            server.stop()
        database.drop()
