"""``trygg messaging``: maintenance of conversations."""

from __future__ import annotations

import argparse
from typing import Any


def cmd_sync_channels(args: argparse.Namespace) -> int:
    from trygg.messaging.actions import sync_all_class_channels

    print(f"Class channels brought up to date for {sync_all_class_channels()} classes.")
    return 0


def register(subparsers: Any) -> None:
    messaging = subparsers.add_parser("messaging", help="conversations: maintenance")
    sub = messaging.add_subparsers(dest="messaging_command", required=True)
    sync = sub.add_parser("sync-channels", help="create class channels and make their members follow the roster")
    sync.set_defaults(func=cmd_sync_channels)
