"""The demo's sign-in: a TOTP device with a fixed seed for every staff account, and the demo
provider "Feide (demo provider)" that ``trygg demo`` serves itself.

The seed is derived from the username, so ``trygg demo-otp USERNAME`` (and the tests) can print the
current code. That is only acceptable because demo accounts exist only in a demo database.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from django.db import transaction
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from trygg.directory.demo import DEMO_SOURCE_ID, FIXED_ACCOUNTS
from trygg.directory.models import Municipality, Person
from trygg.signin.models import LinkBy, OidcProvider

DEMO_DEVICE = "Demo app"
DEMO_PROVIDER_NAME = "Feide (demo provider)"
DEMO_CLIENT_ID = "trygg-demo"


def demo_totp_key(username: str) -> str:
    """Return the fixed TOTP key (hex) of a demo staff account."""
    return hmac.new(b"trygg-demo-totp", username.encode(), hashlib.sha1).hexdigest()


def totp_code(key_hex: str, at: float | None = None, step_offset: int = 0) -> str:
    """Return the six-digit code of a TOTP key at a time (now), optionally a step later."""
    totp = TOTP(bytes.fromhex(key_hex), step=30, t0=0, digits=6)
    totp.time = (at if at is not None else time.time()) + 30 * step_offset
    return f"{totp.token():06d}"


def seed_demo_sign_in() -> None:
    """Give every demo staff account its fixed TOTP device (idempotent)."""
    with transaction.atomic():
        for account in FIXED_ACCOUNTS:
            person = Person.objects.filter(username=account.username).first()
            if person is None or not person.facts.is_staff_member:
                continue
            TOTPDevice.objects.get_or_create(
                user=person, name=DEMO_DEVICE,
                defaults={"key": demo_totp_key(account.username), "confirmed": True},
            )


def is_demo_person(person: Person) -> bool:
    return bool(person.municipality_id) and Municipality.objects.filter(
        pk=person.municipality_id, source_id=DEMO_SOURCE_ID).exists()


def ensure_demo_provider(issuer: str, client_secret: str) -> OidcProvider:
    """Create or update the demo's Feide-like provider for an issuer started just now."""
    from trygg.signin.demo_idp import DEMO_ACR, FEIDE_EPPN

    municipality = Municipality.objects.get(source_id=DEMO_SOURCE_ID)
    provider, _created = OidcProvider.objects.update_or_create(
        municipality=municipality, demo=True,
        defaults={
            "name": DEMO_PROVIDER_NAME, "issuer": issuer, "client_id": DEMO_CLIENT_ID, "client_secret": client_secret,
            "scopes": "openid profile userid-feide", "link_claim": FEIDE_EPPN, "link_by": LinkBy.USERNAME,
            "allow_link_codes": True, "acr_normal": DEMO_ACR[0], "acr_strong": DEMO_ACR[1], "roles": [],
            "enabled": True,
        },
    )
    return provider


def disable_demo_providers() -> None:
    """Hide the demo provider while it is not running (no Node.js, or not installed)."""
    OidcProvider.objects.filter(demo=True).update(enabled=False)


def start_demo_provider(trygg_url: str) -> tuple[object | None, str]:
    """Start the demo's Feide-like provider for a Trygg served at ``trygg_url``.

    Return the running provider (to stop at exit) and a line to print; without Node.js or the
    installed provider the demo goes on with passwords only, and says why.
    """
    import secrets

    from trygg.signin.demo_idp import FEIDE_EPPN, DemoIdp, IdpIssuer, IdpNotAvailable, demo_accounts

    secret = secrets.token_urlsafe(24)
    provider = ensure_demo_provider("http://127.0.0.1", secret)
    issuer = IdpIssuer(name="feide", title=DEMO_PROVIDER_NAME, client_id=DEMO_CLIENT_ID, client_secret=secret,
                       trygg_url=trygg_url, provider_id=provider.pk, accounts=demo_accounts(),
                       scopes={"userid-feide": [FEIDE_EPPN]})
    try:
        idp = DemoIdp([issuer]).start()
    except IdpNotAvailable as exc:
        disable_demo_providers()
        return None, f"Sign-in with Feide (demo provider) is off: {exc}"
    provider.issuer = issuer.issuer
    provider.save(update_fields=["issuer"])
    return idp, f"Feide (demo provider) on {issuer.issuer}/ (any demo username, password: demo)"
