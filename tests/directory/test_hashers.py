"""Passwords are hashed with Argon2id at OWASP's parameters; older hashes are rehashed at sign-in
(issue 15 §4) without counting as a password change (nothing is revoked)."""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher, identify_hasher, make_password
from django.test import Client

from trygg.directory.models import ApiToken, Person


def params(encoded: str) -> str:
    return encoded.split("$")[3]


def test_new_passwords_use_argon2id_with_19_mib_2_passes_1_lane(person) -> None:
    kari = person("kari.4a")
    kari.set_password("a new password 123")
    assert kari.password.startswith("argon2$argon2id$")
    assert params(kari.password) == "m=19456,t=2,p=1"
    assert identify_hasher(kari.password).algorithm == "argon2"


def test_an_old_hash_is_rehashed_at_the_next_sign_in_and_revokes_nothing(person) -> None:
    """A hash made with Django's defaults (100 MiB, 8 lanes) still signs in, is replaced by one at the
    new parameters, and the person's tokens and sessions stay valid."""
    mor = person("mor.emma")
    old = Argon2PasswordHasher()
    Person.objects.filter(pk=mor.pk).update(password=old.encode("demo", old.salt()))
    _token, raw = ApiToken.issue(Person.objects.get(pk=mor.pk))
    assert params(Person.objects.get(pk=mor.pk).password) == "m=102400,t=2,p=8"
    assert Client().post("/api/v1/auth/token", {"username": "mor.emma", "password": "demo"},
                         content_type="application/json").status_code == 200
    assert params(Person.objects.get(pk=mor.pk).password) == "m=19456,t=2,p=1"
    assert ApiToken.find(raw) is not None
    assert make_password("x").startswith("argon2$")
