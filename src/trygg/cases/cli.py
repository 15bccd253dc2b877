"""``trygg cases``: verify the evidence chain of every case (or one)."""

from __future__ import annotations

import argparse
from typing import Any


def cmd_verify(args: argparse.Namespace) -> int:
    from trygg.cases.evidence import verify_all

    checked, problems = verify_all(args.case)
    for problem in problems:
        print(f"BROKEN {problem}")
    if problems:
        print(f"{len(problems)} problem(s) in {checked} case(s).")
        return 1
    print(f"Evidence of {checked} case(s) verified: every hash and the chain match.")
    return 0


def cmd_retention(args: argparse.Namespace) -> int:
    """List what retention would delete or release now; without --dry-run, do it (one batch each)."""
    from trygg.cases.actions import holds_to_release, release_legal_holds
    from trygg.messaging.actions import purge_expired_messages
    from trygg.messaging.attachments import expired_media, purge_expired_media

    holds = holds_to_release()
    media = expired_media()
    print(f"legal holds to release (closed cases past their period): {len(holds)}")
    for municipality_id, ids in media:
        print(f"files past media_retention_days in municipality {municipality_id}: {len(ids)}")
    from trygg.meetings.retention import expired_meeting_data, purge_expired_meeting_data

    for kind, count in expired_meeting_data().items():
        print(f"{kind.replace('_', ' ')} past their period: {count}")
    expired = expired_message_counts()
    for municipality_id, count in expired:
        print(f"messages past message_retention_days in municipality {municipality_id}: {count}")
    if args.dry_run:
        print("Dry run: nothing was deleted.")
        return 0
    released = release_legal_holds()
    files = purge_expired_media()
    messages = purge_expired_messages()
    meeting_rows = purge_expired_meeting_data()
    print(f"Released {released} hold(s), deleted {files} file(s), {messages} message(s) "
          f"and {meeting_rows} meeting record(s).")
    return 0


def expired_message_counts() -> list[tuple[int | None, int]]:
    """Return, per municipality, how many messages are past ``message_retention_days`` and not held."""
    from datetime import timedelta

    from django.utils import timezone

    from trygg.directory.models import Municipality
    from trygg.messaging.models import Message
    from trygg.policy.engine import params_for

    now = timezone.now()
    counts = []
    for municipality_id in Municipality.objects.values_list("id", flat=True):
        days = int(params_for("core_platform.retention", municipality_id).get("message_retention_days") or 0)
        if days <= 0:
            continue
        count = (Message.objects.filter(created_at__lt=now - timedelta(days=days), legal_hold=False,
                                        conversation__school__municipality_id=municipality_id)
                 .exclude(body="", deleted_at__isnull=False).count())
        counts.append((municipality_id, count))
    return counts


def register(subparsers: Any) -> None:
    retention = subparsers.add_parser("retention", help="delete what the retention periods say (R-PRIV-03)")
    retention.add_argument("--dry-run", action="store_true", help="only list what would go")
    retention.set_defaults(func=cmd_retention)

    cases = subparsers.add_parser("cases", help="cases: verify evidence")
    sub = cases.add_subparsers(dest="cases_command", required=True)
    verify = sub.add_parser("verify", help="recompute evidence hashes and hash chains; non-zero exit if broken")
    verify.add_argument("--case", type=int, default=None, help="verify only this case id")
    verify.set_defaults(func=cmd_verify)
