"""What an uploaded or downloaded picture must be before anything reads it: size, type, pixel count.

`check_image` looks at the bytes themselves (the magic number, then Pillow's header parse), never at
a file name or a Content-Type a client chose. `ImageRejected.status` is the HTTP status to answer with.
"""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

MAX_IMAGE_BYTES = 10 * 1024 * 1024      # WeChat's own limit for a temporary image; Telegram's photos are smaller
MAX_PIXELS = 40_000_000                 # a decompression bomb is refused before it is decoded
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "BMP": "image/bmp", "GIF": "image/gif"}
_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF", b"BM", b"GIF87a", b"GIF89a")


class ImageRejected(ValueError):
    """A picture refused: `status` 413 (too large), 415 (not a picture we read) or 400 (broken)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def check_image(data: bytes, max_bytes: int = MAX_IMAGE_BYTES) -> str:
    """The picture's MIME type, or ImageRejected."""
    if not data:
        raise ImageRejected(400, "the image is empty")
    if len(data) > max_bytes:
        raise ImageRejected(413, f"image too large (limit {max_bytes // (1024 * 1024)} MB)")
    if not data.startswith(_MAGIC):
        raise ImageRejected(415, "not a JPEG, PNG, WebP, BMP or GIF image")
    try:
        with Image.open(io.BytesIO(data)) as img:
            kind, (width, height) = img.format or "", img.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageRejected(400, "the image cannot be read") from exc
    if kind not in FORMATS:
        raise ImageRejected(415, "not a JPEG, PNG, WebP, BMP or GIF image")
    if width * height > MAX_PIXELS:
        raise ImageRejected(413, f"image too large (limit {MAX_PIXELS // 1_000_000} million pixels)")
    return FORMATS[kind]
