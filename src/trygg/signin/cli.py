"""``trygg demo-otp USERNAME``: print the current code of a demo staff account's authenticator app."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    otp = subparsers.add_parser(
        "demo-otp", help="print the current second-factor code of a demo staff account (demo databases only)")
    otp.add_argument("username")
    otp.set_defaults(func=cmd_demo_otp)


def cmd_demo_otp(args: argparse.Namespace) -> int:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from trygg.database import prepare_database
    from trygg.directory.demo import demo_exists
    from trygg.directory.models import Person
    from trygg.signin.demo import DEMO_DEVICE, demo_totp_key, is_demo_person, totp_code

    prepare_database()
    person = Person.objects.filter(username=args.username).first()
    device = TOTPDevice.objects.filter(user=person, name=DEMO_DEVICE, confirmed=True).first() if person else None
    # Only the seeded demo device of a demo account: a real account's second factor is never printable.
    if not demo_exists() or person is None or not is_demo_person(person) or device is None \
            or device.key != demo_totp_key(person.username):
        print(f"error: {args.username!r} is not a demo staff account in a demo database; "
              "codes are printed only for those.", file=sys.stderr)
        return 2
    print(totp_code(device.key))
    return 0
