"""Keyed hashes of what must not be stored readable: provider identities and link codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings

# No 0/O, 1/I/L: a code is read aloud or copied from paper.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12


def _mac(purpose: str, value: str) -> str:
    key = hashlib.sha256(f"{purpose}:{settings.TRYGG_IDENTITY_KEY}".encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def subject_digest(provider_id: int, claim_value: str) -> str:
    """Return the stored form of a person's identity at a provider (a national identity number too)."""
    return _mac("subject", f"{provider_id}\x00{claim_value}")


def new_link_code() -> str:
    """Return a fresh one-time link code, grouped in fours for reading: ``ABCD-EFGH-JKMN``."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def normalise_code(typed: str) -> str:
    return "".join(c for c in typed.upper() if c in CODE_ALPHABET)


def link_code_digest(typed: str) -> str:
    """Return the stored form of a link code, whatever spacing or case it was typed in."""
    return _mac("link-code", normalise_code(typed))
