"""The Home page's QR code of the room's address."""

from __future__ import annotations

import io

import segno


def qr_png(text: str, scale: int = 12) -> bytes:
    """A QR code of `text` as PNG bytes (segno), dark on white with the standard quiet zone, large
    enough to read from the back of a room when shown on a projector."""
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=scale, border=4)
    return out.getvalue()
