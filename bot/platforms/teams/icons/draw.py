"""Draws the Teams app icons next to this file: `python bot/platforms/teams/icons/draw.py`.

color.png (192x192): a coral heart on the accent colour. outline.png (32x32): the same heart in
white on transparent, as Teams asks of outline icons. Pure Python (zlib and struct), so the
icons can be redrawn anywhere; the PNGs are committed and read by the manifest builder.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
RGBA = tuple[int, int, int, int]
ACCENT: RGBA = (0x2F, 0x48, 0x58, 255)  # as accent_color in content/teams.yaml
CORAL: RGBA = (0xFF, 0x8A, 0x7A, 255)
WHITE: RGBA = (255, 255, 255, 255)
CLEAR: RGBA = (0, 0, 0, 0)
SAMPLES = 4  # per side, per pixel: smooth edges


def png(width: int, height: int, pixels: list[list[RGBA]]) -> bytes:
    """An 8-bit RGBA PNG (colour type 6) from rows of pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    raw = b"".join(b"\x00" + bytes(v for px in row for v in px) for row in pixels)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def in_heart(x: float, y: float) -> bool:
    """The heart curve (x² + y² - 1)³ = x²y³, y up, about 2.3 wide and 2.2 tall."""
    return (x * x + y * y - 1) ** 3 - x * x * y**3 <= 0


def heart(size: int, scale: float, ink: RGBA, ground: RGBA) -> list[list[RGBA]]:
    """`size` square pixels; the heart spans `scale` of the width, centred."""
    half = size / 2
    unit = size * scale / 2.3
    rows = []
    for py in range(size):
        row = []
        for px in range(size):
            hits = 0
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    x = (px + (sx + 0.5) / SAMPLES - half) / unit
                    y = -(py + (sy + 0.5) / SAMPLES - half) / unit + 0.1
                    hits += in_heart(x, y)
            share = hits / SAMPLES**2
            row.append(_mix(ink, ground, share))
        rows.append(row)
    return rows


def _mix(ink: RGBA, ground: RGBA, share: float) -> RGBA:
    if ground[3] == 0:  # transparent ground: keep the ink's colour, fade its alpha
        return (ink[0], ink[1], ink[2], round(ink[3] * share))
    r, g, b, a = (round(i * share + j * (1 - share)) for i, j in zip(ink, ground, strict=True))
    return (r, g, b, a)


def main() -> None:
    (HERE / "color.png").write_bytes(png(192, 192, heart(192, 0.62, CORAL, ACCENT)))
    (HERE / "outline.png").write_bytes(png(32, 32, heart(32, 0.8, WHITE, CLEAR)))


if __name__ == "__main__":
    main()
