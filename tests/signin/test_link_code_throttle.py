"""Wrong link codes slow an address down and lock no one out (issue 12 §4, OWASP ASVS 6.3.x).

Five wrong link codes from one address used to refuse every code from it for 15 minutes, the right
one too: a parent behind the school's NAT, where a pupil had typed codes at random, could not link
their identity with the code the school handed them. Now every answer to that address waits a
delay that grows with its failures, capped like the password sign-in's, and the right code gets in.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client, RequestFactory

from trygg.signin import actions
from trygg.signin.models import IdentityLink

pytestmark = pytest.mark.django_db

NAT = "10.20.0.1"


def from_address(address: str) -> Any:
    return RequestFactory().post("/signin/unknown/", REMOTE_ADDR=address)


def waiting_browser(provider: Any, digest: str) -> Client:
    """A browser at the school's NAT whose provider sign-in found an identity no one has yet."""
    browser = Client(REMOTE_ADDR=NAT)
    session = browser.session
    session[actions.UNLINKED_KEY] = {"provider": provider.pk, "digest": digest, "sub": digest, "at": time.time(),
                                     "strong": False, "strong_at": None, "sid": None, "id_token": None, "next": "/"}
    session.save()
    return browser


def test_r_priv_01_the_right_link_code_gets_in_from_the_nat_after_50_wrong_ones(test_provider, person,
                                                                               settings) -> None:
    """After 50 wrong codes from the school's address the parent's right code from that same
    address links and signs in, within the sign-in throttle's few seconds; before, 429 for 15 min."""
    settings.LOGIN_THROTTLE = {**settings.LOGIN_THROTTLE, "max_delay": 1.0}
    provider = test_provider()
    _code, raw = actions.check_create_link_code(person("rektor"), person("mor.emma"))
    attacker = waiting_browser(provider, "attacker-identity")
    answers = [attacker.post("/signin/unknown/", {"code": f"WRNG-CODE-{i:04d}"}).status_code for i in range(3)]
    assert answers == [400] * 3
    for _ in range(47):
        actions.count_failure(actions._link_failures_key(from_address(NAT)),
                              settings.LOGIN_THROTTLE["window_seconds"])
    parent = waiting_browser(provider, "mor-emma-identity")
    delay = actions.link_code_delay(from_address(NAT))
    assert delay == 1.0
    started = time.monotonic()
    answer = parent.post("/signin/unknown/", {"code": raw.lower()})
    took = time.monotonic() - started
    assert answer.status_code == 302, answer.content[:300]
    assert delay <= took < 10
    assert IdentityLink.objects.filter(provider=provider, person=person("mor.emma")).exists()
    assert "_auth_user_id" in parent.session


def test_wrong_link_codes_slow_the_address_down_growing_to_the_cap(test_provider, settings) -> None:
    """The first wrong codes are free (typos), then each answer to that address waits longer, up to
    the cap, whatever the code; another address is not slowed."""
    settings.LOGIN_THROTTLE = {**settings.LOGIN_THROTTLE, "max_delay": 0.5}
    provider = test_provider()
    browser = waiting_browser(provider, "guesser")
    request = from_address(NAT)
    delays = []
    for i in range(actions.LINK_FAILURES_FREE + 3):
        delays.append(actions.link_code_delay(request))
        assert browser.post("/signin/unknown/", {"code": f"GUES-SXXX-{i:04d}"}).status_code == 400
    assert delays[: actions.LINK_FAILURES_FREE] == [0.0] * actions.LINK_FAILURES_FREE
    assert delays[actions.LINK_FAILURES_FREE:] == [0.25, 0.5, 0.5]
    started = time.monotonic()
    assert browser.post("/signin/unknown/", {"code": "GUES-SXXX-9999"}).status_code == 400
    assert time.monotonic() - started >= 0.5
    assert actions.link_code_delay(from_address("10.20.9.9")) == 0.0
