"""The profile page: language, push devices, sign-ins, notices and one's data on one page."""

from __future__ import annotations

import json

from django.conf import settings
from django.test import Client

from trygg.directory.models import Person

# A browser's public key (an uncompressed P-256 point), as a real subscription carries.
P256DH = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"


def signed_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def test_r_i18n_01_the_profile_sets_the_language_for_good(person) -> None:
    """Choosing Danish on the profile keeps it on the person (notices use it) and in the browser."""
    client = signed_in(person("far.jonas"))
    page = client.get("/me/").content.decode()
    assert 'data-testid="profile-language"' in page and 'data-testid="push-devices"' in page
    assert 'data-testid="profile-sessions"' in page and "/me/data/" in page
    response = client.post("/me/", {"form": "language", "language": "da"})
    assert response.status_code == 302
    assert Person.objects.get(username="far.jonas").language == "da"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "da"
    assert "Din profil" in client.get("/me/").content.decode()
    assert client.post("/me/", {"form": "language", "language": "xx"}).status_code == 400
    assert Person.objects.get(username="far.jonas").language == "da"


def test_the_profile_lists_only_ones_own_push_devices(api_client, person) -> None:
    body = {"endpoint": "https://push.example.org/profile", "device": "Firefox · Android",
            "keys": {"p256dh": P256DH, "auth": "tBHItJI5svbpez7KI4CCXg"}}
    created = api_client("mor.sara").post("/api/v1/push/subscriptions", data=json.dumps(body),
                                          content_type="application/json")
    assert created.status_code == 201, created.content
    assert "Firefox · Android" in signed_in(person("mor.sara")).get("/me/").content.decode()
    assert "Firefox · Android" not in signed_in(person("mor.ali")).get("/me/").content.decode()


def test_every_page_links_to_the_profile(person) -> None:
    page = signed_in(person("emma.4a")).get("/").content.decode()
    assert 'data-testid="profile-link"' in page and 'href="/me/"' in page


def test_r_priv_01_each_signed_in_browser_is_signed_out_from_the_profile(demo) -> None:
    """mor.sara signed in on two browsers sees both on /me/ (this one marked) and signs the other out
    there; that browser is then signed out, and hers still works. Another person's session is 404."""
    phone, laptop = Client(), Client()
    for browser in (phone, laptop):
        assert browser.post("/login/", {"username": "mor.sara", "password": "demo"}).status_code == 302
    page = laptop.get("/me/").content.decode()  # in mor.sara's own language, nb
    assert page.count('data-testid="profile-session"') == 2 and page.count("<strong>denne enheten</strong>") == 1
    from trygg.signin.models import SignInSession

    rows = list(SignInSession.objects.filter(person__username="mor.sara").order_by("created_at"))
    phone_row = rows[0]
    outsider = Client()
    assert outsider.post("/login/", {"username": "mor.ali", "password": "demo"}).status_code == 302
    assert outsider.post("/me/", {"form": "session_off", "session_id": str(phone_row.pk)}).status_code == 404
    answer = laptop.post("/me/", {"form": "session_off", "session_id": str(phone_row.pk)})
    assert answer.status_code == 302 and answer["Location"] == "/me/"
    assert phone.get("/me/").status_code == 302  # to the sign-in page
    assert laptop.get("/me/").status_code == 200
    assert SignInSession.objects.filter(person__username="mor.sara").count() == 1
