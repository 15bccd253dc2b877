"""Tamper-evident evidence (R-CASE-01, R-CASE-13, R-SAFE-02): canonical JSON, SHA-256, a hash chain.

Each item is canonical JSON (sorted keys, no spaces, UTF-8) hashed with SHA-256; the case's items
form a chain, ``chain_hash = sha256(prev_chain_hash + sha256)``, starting from 64 zeros. Changing
one byte of an item (or of an uploaded file, whose SHA-256 is inside its item) breaks its own hash,
and removing or reordering items breaks the chain. ``verify_case`` recomputes all of it.

Not an action module: nothing here decides or audits. ``append_item`` writes an item only from
inside an action of ``cases/actions.py``, which has asked the policy and holds the transaction.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from trygg.cases.models import Case, EvidenceItem
from trygg.directory.models import Person

GENESIS = "0" * 64

# Magic bytes of the screenshot and document types a report accepts: (prefix, content type, suffix).
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"%PDF-", "application/pdf", "pdf"),
)


def canonical(obj: Any) -> str:
    """Return ``obj`` as canonical JSON: sorted keys, no insignificant spaces, non-ASCII kept."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def sha256_hex(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def chain(prev_hash: str, item_hash: str) -> str:
    return sha256_hex(prev_hash + item_hash)


def sniff(head: bytes) -> tuple[str, str] | None:
    """Return (content type, suffix) of a PNG, JPEG, WebP or PDF by its first bytes, else None.

    The name and the type the browser claims are not trusted: a file is what its bytes say.
    """
    for prefix, content_type, suffix in SIGNATURES:
        if head.startswith(prefix):
            return content_type, suffix
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


def media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def append_item(case: Case, kind: str, content: dict[str, Any], actor: Person, file_path: str = "") -> EvidenceItem:
    """Freeze ``content`` as the case's next evidence item; call inside the action's transaction.

    The case row is locked first so two items added at once cannot take the same place in the chain.
    """
    Case.objects.select_for_update().filter(pk=case.pk).first()
    last = EvidenceItem.objects.filter(case=case).order_by("-seq").first()
    prev = last.chain_hash if last else GENESIS
    text = canonical({**content, "kind": kind, "case_id": case.pk, "seq": (last.seq + 1) if last else 1})
    digest = sha256_hex(text)
    return EvidenceItem.objects.create(
        case=case,
        seq=(last.seq + 1) if last else 1,
        kind=kind,
        canonical=text,
        sha256=digest,
        prev_hash=prev,
        chain_hash=chain(prev, digest),
        file_path=file_path,
        added_by=actor,
        created_at=timezone.now(),
    )


def store_upload(case: Case, seq_hint: int, data: bytes, suffix: str) -> str:
    """Write an uploaded file under MEDIA_ROOT/cases/<case id>/ and return its relative path."""
    digest = sha256_hex(data)
    relative = f"cases/{case.pk}/{seq_hint:04d}-{digest[:16]}.{suffix}"
    path = media_root() / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return relative


@dataclass(frozen=True)
class Problem:
    case_id: int
    seq: int | None
    reason: str

    def __str__(self) -> str:
        where = f"case {self.case_id}" + (f" item {self.seq}" if self.seq is not None else "")
        return f"{where}: {self.reason}"


def verify_case(case: Case) -> list[Problem]:
    """Recompute every item's hash, the uploaded files' hashes and the chain; return what is broken."""
    problems: list[Problem] = []
    prev = GENESIS
    expected_seq = 1
    for item in EvidenceItem.objects.filter(case=case).order_by("seq"):
        if item.seq != expected_seq:
            problems.append(Problem(case.pk, item.seq, f"item {expected_seq} is missing"))
        expected_seq = item.seq + 1
        if sha256_hex(item.canonical) != item.sha256:
            problems.append(Problem(case.pk, item.seq, "content does not match its SHA-256"))
        try:
            content = json.loads(item.canonical)
        except ValueError:
            problems.append(Problem(case.pk, item.seq, "content is not JSON"))
            content = {}
        else:
            if canonical(content) != item.canonical:
                problems.append(Problem(case.pk, item.seq, "content is not in canonical form"))
            if content.get("case_id") != case.pk or content.get("seq") != item.seq:
                problems.append(Problem(case.pk, item.seq, "content names another case or place"))
        if item.prev_hash != prev or chain(prev, item.sha256) != item.chain_hash:
            problems.append(Problem(case.pk, item.seq, "hash chain is broken"))
        if item.kind == EvidenceItem.Kind.UPLOAD:
            path = media_root() / item.file_path
            if not item.file_path or not path.is_file():
                problems.append(Problem(case.pk, item.seq, "uploaded file is missing"))
            elif sha256_hex(path.read_bytes()) != content.get("file_sha256"):
                problems.append(Problem(case.pk, item.seq, "uploaded file does not match its SHA-256"))
        prev = item.chain_hash
    return problems


def verify_all(case_id: int | None = None) -> tuple[int, list[Problem]]:
    """Verify one case or every case with evidence; return (cases checked, problems)."""
    cases = Case.objects.filter(pk=case_id) if case_id is not None else Case.objects.filter(evidence__isnull=False)
    checked = 0
    problems: list[Problem] = []
    for case in cases.distinct().order_by("pk"):
        checked += 1
        problems.extend(verify_case(case))
    return checked, problems
