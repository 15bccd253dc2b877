"""Uploaded evidence and ``trygg cases verify`` (R-CASE-13, R-CASE-01): tampering is detected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cases.conftest import JPEG, PDF, PNG, WEBP
from trygg.cases.evidence import verify_case
from trygg.cases.models import Case, EvidenceItem
from trygg.cli import main as trygg_main


@pytest.fixture
def off_platform_case(report: Any) -> int:
    response = report("kari.4a", category="nicknames_threats", description="Kallenavn i en Facebook-gruppe",
                      reported_username="far.jonas")
    assert response.status_code == 201
    return response.json()["case_id"]


def upload(client: Any, case_id: int, *files: tuple[str, bytes]) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(f"/api/v1/cases/{case_id}/evidence",
                       {"files": [SimpleUploadedFile(name, data) for name, data in files]})


def test_r_case_13_screenshots_of_each_type_are_stored_hashed_and_chained(off_platform_case, api_client, _media):
    """R-CASE-13: PNG, JPEG, WebP and PDF files are accepted by their bytes, stored under MEDIA_ROOT,
    and each becomes a chained evidence item with the file's SHA-256."""
    import hashlib
    import json

    response = upload(api_client("kari.4a"), off_platform_case, ("a.png", PNG), ("b.jpg", JPEG),
                      ("c.webp", WEBP), ("d.pdf", PDF))
    assert response.status_code == 201, response.content
    items = list(EvidenceItem.objects.filter(case_id=off_platform_case, kind="upload").order_by("seq"))
    assert [json.loads(i.canonical)["content_type"] for i in items] == [
        "image/png", "image/jpeg", "image/webp", "application/pdf"]
    for item, data in zip(items, (PNG, JPEG, WEBP, PDF), strict=True):
        stored = Path(_media) / item.file_path
        assert stored.read_bytes() == data
        assert json.loads(item.canonical)["file_sha256"] == hashlib.sha256(data).hexdigest()
    assert verify_case(Case.objects.get(pk=off_platform_case)) == []


def test_a_file_that_is_not_a_picture_or_pdf_is_refused_whatever_its_name(off_platform_case, api_client):
    """A text file named .png is 400: the type is read from the bytes."""
    response = upload(api_client("kari.4a"), off_platform_case, ("evil.png", b"<script>alert(1)</script>"))
    assert response.status_code == 400 and response.json()["error"] == "file_type"
    assert not EvidenceItem.objects.filter(case_id=off_platform_case, kind="upload").exists()


def test_a_file_over_the_limit_is_413(off_platform_case, api_client, settings):
    """A file over the size limit answers 413 and nothing is stored."""
    settings.TRYGG_CASE_UPLOAD_MAX_BYTES = 1024
    response = upload(api_client("kari.4a"), off_platform_case, ("big.png", PNG + b"\x00" * 2048))
    assert response.status_code == 413
    assert not EvidenceItem.objects.filter(case_id=off_platform_case, kind="upload").exists()


def test_outsiders_cannot_add_evidence(off_platform_case, api_client, strong_api_client):
    """R-PRIV-01, R-CASE-13: someone outside the case gets 404; the leader helps secure evidence."""
    assert upload(api_client("mor.sara"), off_platform_case, ("a.png", PNG)).status_code == 404
    assert upload(strong_api_client("rektor"), off_platform_case, ("a.png", PNG)).status_code == 201


def test_r_case_01_verify_detects_a_changed_byte_in_the_stored_json(emma_case_factory, capsys):
    """R-CASE-01: one changed byte in a snapshot's stored JSON makes ``trygg cases verify`` exit
    non-zero, naming the case and the item."""
    case_id = emma_case_factory()
    assert trygg_main(["cases", "verify", "--case", str(case_id)]) == 0
    item = EvidenceItem.objects.get(case_id=case_id, seq=1)
    tampered = item.canonical.replace("Ingen liker deg", "Ingen liker meg", 1)
    assert tampered != item.canonical
    EvidenceItem.objects.filter(pk=item.pk).update(canonical=tampered)
    capsys.readouterr()
    assert trygg_main(["cases", "verify"]) == 1
    out = capsys.readouterr().out
    assert f"case {case_id} item 1" in out and "SHA-256" in out


def test_r_case_13_verify_detects_a_changed_byte_in_an_uploaded_file(off_platform_case, api_client, _media, capsys):
    """R-CASE-13: one changed byte in an uploaded file on disk is found and named."""
    upload(api_client("kari.4a"), off_platform_case, ("a.png", PNG))
    item = EvidenceItem.objects.get(case_id=off_platform_case, kind="upload")
    path = Path(_media) / item.file_path
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))
    assert trygg_main(["cases", "verify", "--case", str(off_platform_case)]) == 1
    out = capsys.readouterr().out
    assert f"case {off_platform_case} item {item.seq}" in out and "uploaded file" in out


def test_verify_detects_a_removed_item_and_a_rewritten_chain(emma_case_factory):
    """Removing an item, or re-hashing one without its successors, breaks the chain."""
    from trygg.cases.evidence import canonical, sha256_hex

    case_id = emma_case_factory()
    case = Case.objects.get(pk=case_id)
    first = EvidenceItem.objects.get(case=case, seq=1)
    text = first.canonical.replace("Ingen", "Noen", 1)
    EvidenceItem.objects.filter(pk=first.pk).update(canonical=text, sha256=sha256_hex(text))
    reasons = [p.reason for p in verify_case(case)]
    assert "hash chain is broken" in reasons
    assert canonical({"b": 1, "a": "æ"}) == '{"a":"æ","b":1}'


def test_evidence_pictures_are_decode_checked_and_a_pixel_flood_is_refused(off_platform_case, api_client, _media):
    """Issue 12 §8: case evidence keeps its original, but only a picture that decodes within the limits
    is kept (a pixel flood is 413, a broken picture 400), and it is served only as a download."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer = zlib.compressobj(9)
    row = b"\x00" * 30001
    data = b"".join(packer.compress(row) for _ in range(30000)) + packer.flush()
    flood = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0)) \
        + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    kari = api_client("kari.4a")
    assert upload(kari, off_platform_case, ("flood.png", flood)).status_code == 413
    broken = upload(kari, off_platform_case, ("broken.jpg", JPEG[:40]))
    assert broken.status_code == 400 and broken.json()["error"] == "bad_file"
    assert not EvidenceItem.objects.filter(case_id=off_platform_case, kind="upload").exists()
