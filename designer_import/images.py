"""Image references in a drawing -> ``ImageRef`` with the bytes, or the reason there are none.

draw.io writes embedded images as data URIs, in styles usually without ``;base64`` (the ``;``
would end the style value) although the payload is base64. Files next to the drawing are read;
web images and draw.io's own ``img/lib/`` pictures are not available to an offline kiosk.
"""

from __future__ import annotations

import base64
import binascii
import logging
import struct
from pathlib import Path
from urllib.parse import unquote

from designer_import.model import ImageRef

log = logging.getLogger(__name__)

#: Files next to a drawing larger than this are not read (they are reported instead).
MAX_IMAGE_FILE_BYTES = 64 * 1024 * 1024

_EXTENSION_MIME = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
    ".bmp": "image/bmp",
}
MIME_EXTENSION = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/svg+xml": ".svg",
    "image/webp": ".webp",
    "image/bmp": ".bmp",
}


class ImageResolver:
    """Resolves image references of one drawing, caching each distinct reference."""

    def __init__(self, base_dir: Path | None) -> None:
        self._folder = base_dir
        self._resolved_folder: Path | None = None
        self._cache: dict[str, ImageRef] = {}

    @property
    def _base_dir(self) -> Path | None:
        """The drawing's folder, resolved at the first image file it names (most drawings
        name none, and resolving cost every load a walk up the folder's path)."""
        if self._resolved_folder is None and self._folder is not None:
            self._resolved_folder = self._folder.resolve()
        return self._resolved_folder

    def resolve(self, reference: str) -> ImageRef:
        """The ``ImageRef`` for a reference as written in a style or page setting."""
        cached = self._cache.get(reference)
        if cached is None:
            cached = self._resolve(reference.strip())
            self._cache[reference] = cached
        return cached

    def _resolve(self, ref: str) -> ImageRef:
        lowered = ref[:16].lower()
        if lowered.startswith("data:"):
            return _from_data_uri(ref)
        if lowered.startswith(("http://", "https://", "//")):
            return ImageRef(source=ref, unavailable="web image (not available offline)")
        if lowered.startswith(("img/lib/", "/img/lib/", "stencil/", "img/clipart/")):
            return ImageRef(source=ref, unavailable="draw.io library image (not available offline)")
        ref_path = unquote(ref[7:]) if lowered.startswith("file://") else ref
        return self._from_file(ref, ref_path)

    def _from_file(self, source: str, ref_path: str) -> ImageRef:
        if self._base_dir is None:
            return ImageRef(source=source, unavailable="image file (no folder to look in)")
        candidates = [ref_path]
        decoded = unquote(ref_path)
        if decoded != ref_path:
            candidates.append(decoded)
        for candidate in candidates:
            try:
                path = (self._base_dir / candidate).resolve()
            except (OSError, ValueError, RuntimeError):
                continue
            if not path.is_relative_to(self._base_dir):
                return ImageRef(
                    source=source, unavailable="image file outside the drawing's folder"
                )
            try:
                if not path.is_file():
                    continue
                size = path.stat().st_size
                if size > MAX_IMAGE_FILE_BYTES:
                    return ImageRef(
                        source=source,
                        path=path,
                        unavailable=f"image file too large ({size // (1024 * 1024)} MB)",
                    )
                data = path.read_bytes()
            except OSError as exc:
                return ImageRef(source=source, unavailable=f"cannot read image file ({exc})")
            mime = sniff_mime(data) or _EXTENSION_MIME.get(path.suffix.lower())
            return _with_size(ImageRef(source=source, data=data, mime=mime, path=path))
        if ref_path.lstrip("/").startswith("img/"):
            return ImageRef(source=source, unavailable="draw.io built-in image (not available)")
        return ImageRef(source=source, unavailable="image file not found next to the drawing")


def _from_data_uri(ref: str) -> ImageRef:
    comma = ref.find(",")
    if comma < 0:
        return ImageRef(source=ref[:64], unavailable="embedded image is damaged (no data)")
    header = ref[5:comma]
    payload = ref[comma + 1 :]
    parts = header.split(";")
    mime = parts[0].strip().lower() or "text/plain"
    source = f"data:{header},... ({len(payload)} characters)"
    is_base64 = any(p.strip().lower() == "base64" for p in parts[1:])
    data: bytes | None
    if is_base64:
        data = _b64(payload)
    elif payload[:1] == "<" or payload[:3].lower() == "%3c":
        data = unquote(payload).encode("utf-8")
    else:
        # draw.io drops ";base64" in styles but the payload still is base64.
        data = _b64(payload)
        if data is None:
            data = unquote(payload).encode("utf-8")
    if data is None:
        return ImageRef(
            source=source, mime=mime, unavailable="embedded image is damaged (bad base64)"
        )
    if not data:
        return ImageRef(source=source, mime=mime, unavailable="embedded image is empty")
    sniffed = sniff_mime(data)
    return _with_size(ImageRef(source=source, data=data, mime=sniffed or mime))


def _b64(payload: str) -> bytes | None:
    text = payload.strip().replace(" ", "+").replace("\n", "").replace("\r", "")
    if "%" in text:
        text = unquote(text)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def sniff_mime(data: bytes) -> str | None:
    """The MIME type from an image's first bytes, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"BM"):
        return "image/bmp"
    head = data[:512].lstrip()
    if head.startswith(b"<") and (b"<svg" in data[:4096] or head.startswith(b"<?xml")):
        return "image/svg+xml"
    return None


def _with_size(image: ImageRef) -> ImageRef:
    if image.data is not None:
        size = pixel_size(image.data)
        if size is not None:
            image.pixel_width, image.pixel_height = size
    return image


def pixel_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG, GIF or JPEG header; None when unknown."""
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
            width, height = struct.unpack(">II", data[16:24])
            return int(width), int(height)
        if data.startswith((b"GIF87a", b"GIF89a")) and len(data) >= 10:
            width, height = struct.unpack("<HH", data[6:10])
            return int(width), int(height)
        if data.startswith(b"\xff\xd8"):
            return _jpeg_size(data)
    except struct.error:
        return None
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    pos = 2
    size = len(data)
    while pos + 4 <= size:
        if data[pos] != 0xFF:
            pos += 1
            continue
        marker = data[pos + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            pos += 1 if marker == 0xFF else 2
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE):
            if pos + 9 > size:
                return None
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return int(width), int(height)
        if length < 2:
            return None
        pos += 2 + length
    return None
