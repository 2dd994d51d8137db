"""Pictures of text for the OCR tests: a message rendered with a CJK font, as a phone screenshot would show it."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")


def cjk_font(size: int) -> ImageFont.FreeTypeFont:
    for path in FONTS:
        if Path(path).exists():
            # index 2 of the Noto collection is Simplified Chinese (SC); wqy has one face
            return ImageFont.truetype(path, size, index=2 if "Noto" in path else 0)
    raise FileNotFoundError("no CJK font: apt-get install fonts-noto-cjk")


def render(lines: list[str], *, size: int = 30, width: int = 720, fmt: str = "PNG") -> bytes:
    """Black text on a chat bubble's pale green, one line per item, as PNG (or JPEG) bytes."""
    font = cjk_font(size)
    img = Image.new("RGB", (width, 60 + len(lines) * int(size * 1.8)), (237, 237, 237))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((20, 20, width - 20, img.height - 20), radius=12, fill=(149, 236, 105))
    for i, line in enumerate(lines):
        draw.text((40, 36 + i * int(size * 1.8)), line, font=font, fill=(20, 20, 20))
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()
