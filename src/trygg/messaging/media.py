"""Files of chat attachments: what they are (by their first bytes), where they live, how they go.

The type a browser declares is ignored: a file is what its magic bytes say, or it is refused.
Files live under ``MEDIA_ROOT/attachments/`` with random names and no extension, outside every
static or public URL; only ``api.attachment_file`` serves them, after a scoped read.
"""

from __future__ import annotations

import logging
import os
import secrets
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

log = logging.getLogger(__name__)

SUBDIR = "attachments"
DEFAULT_MAX_BYTES = 8 * 1024 * 1024
HEAD_BYTES = 32


@dataclass(frozen=True)
class Sniffed:
    kind: str  # image / audio / video
    content_type: str
    extension: str


def max_bytes() -> int:
    """Return the largest attachment accepted (``TRYGG_ATTACHMENT_MAX_BYTES``)."""
    return int(getattr(settings, "TRYGG_ATTACHMENT_MAX_BYTES", None) or DEFAULT_MAX_BYTES)


def sniff(head: bytes) -> Sniffed | None:
    """Return what a file is from its first bytes, or None for anything Trygg does not accept.

    Images: PNG, JPEG, WebP. Sound and video: MP4/M4A (ISO base media), WebM (what browsers
    record), Ogg, MP3, WAV. Everything else (SVG, HTML, PDF, executables…) is refused.
    """
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("image", "image/png", "png")
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("image", "image/jpeg", "jpg")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed("image", "image/webp", "webp")
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return Sniffed("audio", "audio/wav", "wav")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B "):
            return Sniffed("audio", "audio/mp4", "m4a")
        if brand in (b"isom", b"iso2", b"mp41", b"mp42", b"avc1", b"M4V ", b"dash", b"qt  ", b"3gp4", b"3gp5"):
            return Sniffed("video", "video/mp4", "mp4")
        return None
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return Sniffed("video", "video/webm", "webm")
    if head.startswith(b"OggS"):
        return Sniffed("audio", "audio/ogg", "ogg")
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return Sniffed("audio", "audio/mpeg", "mp3")
    return None


def root() -> Path:
    base = getattr(settings, "MEDIA_ROOT", None) or Path(settings.DATA_DIR) / "media"
    return Path(base) / SUBDIR


def path_of(stored_name: str) -> Path:
    """Return the file of ``stored_name``; names are ours (random hex), never a client's."""
    if not stored_name or "/" in stored_name or "\\" in stored_name or stored_name.startswith("."):
        raise ValueError("not a stored attachment name")
    return root() / stored_name


def store(upload: Any) -> tuple[str, int]:
    """Write an uploaded file under a new random name; return (stored name, size in bytes)."""
    directory = root()
    directory.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(20)
    final = directory / name
    partial = directory / f"{name}.part"
    size = 0
    upload.seek(0)
    with open(partial, "wb") as out:
        for chunk in upload.chunks():
            size += len(chunk)
            out.write(chunk)
    os.replace(partial, final)
    return name, size


def store_bytes(content: bytes) -> tuple[str, int]:
    """Write ``content`` under a new random name; return (stored name, size in bytes)."""
    directory = root()
    directory.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(20)
    partial = directory / f"{name}.part"
    partial.write_bytes(content)
    os.replace(partial, directory / name)
    return name, len(content)


# ---------------------------------------------------------------------------------- metadata
#
# A phone photo carries where it was taken (GPS), when, and on what device. A photo of a pupil
# with the coordinates of their home must not travel further than the picture itself, so
# images are stored without their metadata. The one thing kept is the EXIF orientation,
# without which a portrait photo shows on its side. Sound and video keep theirs (a known gap).


def strip_metadata(content: bytes, content_type: str) -> bytes:
    """Return the image without EXIF, XMP, IPTC, comments and text chunks; raise ValueError if
    the image's structure cannot be read."""
    if content_type == "image/jpeg":
        return _strip_jpeg(content)
    if content_type == "image/png":
        return _strip_png(content)
    if content_type == "image/webp":
        return _strip_webp(content)
    return content


def _exif_orientation(payload: bytes) -> int | None:
    """Return the Orientation (tag 0x0112) of an APP1 Exif payload, if it has one."""
    tiff = payload[6:]
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return None
    order = "<" if tiff[:2] == b"II" else ">"
    (ifd,) = struct.unpack(order + "I", tiff[4:8])
    if ifd + 2 > len(tiff):
        return None
    (count,) = struct.unpack(order + "H", tiff[ifd:ifd + 2])
    for i in range(count):
        at = ifd + 2 + 12 * i
        if at + 12 > len(tiff):
            return None
        tag, kind = struct.unpack(order + "HH", tiff[at:at + 4])
        if tag == 0x0112 and kind == 3:
            (value,) = struct.unpack(order + "H", tiff[at + 8:at + 10])
            return value if 1 <= value <= 8 else None
    return None


def _orientation_segment(orientation: int) -> bytes:
    """An APP1 Exif segment holding nothing but the orientation."""
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1)
    tiff += struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    payload = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


# Segments kept: JFIF/JFXX (APP0), the ICC colour profile (APP2) and Adobe's colour transform (APP14).
_KEEP_APP = {0xE0: (b"JFIF\x00", b"JFXX\x00"), 0xE2: (b"ICC_PROFILE\x00",), 0xEE: (b"Adobe",)}


def _strip_jpeg(data: bytes) -> bytes:
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG")
    out = [b"\xff\xd8"]
    orientation = None
    i = 2
    while i < len(data):
        if data[i] != 0xFF:
            raise ValueError("JPEG marker expected")
        while i < len(data) and data[i] == 0xFF:
            i += 1
        if i >= len(data):
            raise ValueError("JPEG ends in a marker")
        marker = data[i]
        i += 1
        if marker == 0xD9:
            out.append(b"\xff\xd9")
            break
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            out.append(bytes((0xFF, marker)))
            continue
        if i + 2 > len(data):
            raise ValueError("JPEG segment cut off")
        (length,) = struct.unpack(">H", data[i:i + 2])
        if length < 2 or i + length > len(data):
            raise ValueError("JPEG segment length")
        payload = data[i + 2:i + length]
        segment = bytes((0xFF, marker)) + data[i:i + length]
        i += length
        if marker == 0xDA:
            # Start of scan: the compressed picture follows, to the end.
            out.append(segment + data[i:])
            break
        if marker == 0xE1 and payload.startswith(b"Exif\x00\x00"):
            orientation = orientation or _exif_orientation(payload)
            continue
        if 0xE0 <= marker <= 0xEF:
            if any(payload.startswith(p) for p in _KEEP_APP.get(marker, ())):
                out.append(segment)
            continue
        if marker == 0xFE:
            continue
        out.append(segment)
    if orientation and orientation != 1:
        out.insert(1, _orientation_segment(orientation))
    return b"".join(out)


_PNG_DROP = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"}


def _strip_png(data: bytes) -> bytes:
    signature = b"\x89PNG\r\n\x1a\n"
    if not data.startswith(signature):
        raise ValueError("not a PNG")
    out = [signature]
    i = len(signature)
    while i < len(data):
        if i + 8 > len(data):
            raise ValueError("PNG chunk cut off")
        (length,) = struct.unpack(">I", data[i:i + 4])
        kind = data[i + 4:i + 8]
        end = i + 12 + length
        if end > len(data):
            raise ValueError("PNG chunk length")
        if kind not in _PNG_DROP:
            out.append(data[i:end])
        i = end
        if kind == b"IEND":
            break
    return b"".join(out)


def _strip_webp(data: bytes) -> bytes:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("not a WebP")
    chunks = []
    i = 12
    while i + 8 <= len(data):
        kind = data[i:i + 4]
        (length,) = struct.unpack("<I", data[i + 4:i + 8])
        end = i + 8 + length + (length & 1)
        if i + 8 + length > len(data):
            raise ValueError("WebP chunk length")
        chunk = bytearray(data[i:min(end, len(data))])
        i = end
        if kind in (b"EXIF", b"XMP "):
            continue
        if kind == b"VP8X" and len(chunk) > 8:
            chunk[8] &= ~0x0C & 0xFF  # the chunks are gone, so are their flags
        chunks.append(bytes(chunk))
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def remove(stored_name: str) -> None:
    """Delete a stored file; one already gone is not an error."""
    if not stored_name:
        return
    try:
        path_of(stored_name).unlink(missing_ok=True)
    except (OSError, ValueError):
        # A file that cannot be removed now is logged by id-free name only; the row says deleted.
        log.warning("could not remove an attachment file")
