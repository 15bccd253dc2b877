"""Files of chat attachments: what they are (by their first bytes), where they live, how they go.

The type a browser declares is ignored: a file is what its magic bytes say, or it is refused.
Files live under ``MEDIA_ROOT/attachments/`` with random names and no extension, outside every
static or public URL; only ``api.attachment_file`` serves them, after a scoped read.
"""

from __future__ import annotations

import io
import logging
import os
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from PIL import Image, ImageOps

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
# with the coordinates of their home must not travel further than the picture itself. And a file
# is not a photo because it starts like one: a 30000 x 30000 "pixel flood" PNG of 854 KB decodes
# to 900 MB on every phone it reaches. So every image is decoded here, with limits checked from
# its header before a pixel is decoded, then re-encoded by Pillow into a fresh file of the same
# format: metadata does not survive (only the pixels are written), the EXIF orientation is
# applied to the pixels (a portrait photo stays upright), and a malformed or hostile file never
# reaches a family's phone as it was sent. The original is never stored. Sound and video keep
# their metadata (a known gap).


class ImageRefused(ValueError):
    """The image cannot be read, or is larger than the limits allow (``too_large``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def open_checked(content: bytes) -> Image.Image:
    """Return the decoded image; raise ``ImageRefused`` for a file that does not decode or whose
    dimensions exceed ``TRYGG_IMAGE_MAX_SIDE`` or ``TRYGG_IMAGE_MAX_PIXELS`` (checked from the
    header, before decoding)."""
    try:
        image = Image.open(io.BytesIO(content))
    except Image.DecompressionBombError as exc:
        raise ImageRefused("too_large") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageRefused("unreadable") from exc
    width, height = image.size
    if width < 1 or height < 1 or max(width, height) > settings.TRYGG_IMAGE_MAX_SIDE \
            or width * height > settings.TRYGG_IMAGE_MAX_PIXELS:
        raise ImageRefused("too_large")
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb warning becomes an error; the limits above are stricter anyway.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
    except (OSError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning, SyntaxError,
            EOFError) as exc:
        raise ImageRefused("unreadable") from exc
    return image


FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


def reencode_image(content: bytes, content_type: str) -> bytes:
    """Return the image decoded and encoded again in its own format, upright and without metadata;
    raise ``ImageRefused`` for anything that does not decode within the limits."""
    image = ImageOps.exif_transpose(open_checked(content))
    # Pillow writes some of ``info`` back on save (a JPEG comment, EXIF into PNG and WebP, the ICC
    # profile): a fresh image with the pixels only.
    image.info = {}
    fmt = FORMATS[content_type]
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    elif image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        image = image.convert("RGBA")
    out = io.BytesIO()
    options: dict[str, Any] = {"quality": 88, "optimize": True} if fmt in ("JPEG", "WEBP") else {"optimize": True}
    # Nothing but the pixels is passed on: no exif, no ICC profile, no text chunks, no comments.
    image.save(out, fmt, **options)
    return out.getvalue()


def remove(stored_name: str) -> None:
    """Delete a stored file; one already gone is not an error."""
    if not stored_name:
        return
    try:
        path_of(stored_name).unlink(missing_ok=True)
    except (OSError, ValueError):
        # A file that cannot be removed now is logged by id-free name only; the row says deleted.
        log.warning("could not remove an attachment file")
