"""A small PNG reader for screenshot checks (no imaging package is installed).

Handles what browsers write: 8-bit greyscale, RGB and RGBA, non-interlaced. Scanline filters
are undone along anti-diagonals of the (row, pixel) grid: a pixel depends only on its left,
upper and upper-left neighbours, so all pixels with the same ``row + column`` can be
reconstructed at once, which keeps a 1400 x 2400 screenshot well under a second in numpy.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 6: 4}  # colour type -> samples per pixel


def read_png(path: Path) -> NDArray[np.uint8]:
    """Pixels of an 8-bit non-interlaced PNG, shape (height, width, channels)."""
    data = Path(path).read_bytes()
    if not data.startswith(SIGNATURE):
        raise ValueError(f"{path} is not a PNG file")
    offset, idat, header = len(SIGNATURE), [], None
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind = data[offset + 4:offset + 8]
        body = data[offset + 8:offset + 8 + length]
        offset += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError(f"{path} has no IHDR chunk")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in CHANNELS or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, "
                         f"interlace {interlace}")
    channels = CHANNELS[colour]
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8)
    raw = raw.reshape(height, 1 + width * channels)
    return unfilter(raw[:, 0], raw[:, 1:].reshape(height, width, channels))


def unfilter(kinds: NDArray[np.uint8], filtered: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Undo the per-row filters (0 none, 1 sub, 2 up, 3 average, 4 Paeth)."""
    height, width, channels = filtered.shape
    # One row and one column of zeros in front: the neighbours outside the image.
    out = np.zeros((height + 1, width + 1, channels), dtype=np.int32)
    x = filtered.astype(np.int32)
    for diagonal in range(height + width - 1):
        rows = np.arange(max(0, diagonal - width + 1), min(height, diagonal + 1))
        cols = diagonal - rows
        left, up, corner = out[rows + 1, cols], out[rows, cols + 1], out[rows, cols]
        p = left + up - corner
        pa, pb, pc = np.abs(p - left), np.abs(p - up), np.abs(p - corner)
        paeth = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, corner))
        kind = kinds[rows].astype(np.int32)[:, None]
        predictor = np.select(
            [kind == 1, kind == 2, kind == 3, kind == 4],
            [left, up, (left + up) // 2, paeth],
            default=0,
        )
        out[rows + 1, cols + 1] = (x[rows, cols] + predictor) % 256
    return out[1:, 1:].astype(np.uint8)


def write_png(path: Path, pixels: NDArray[np.uint8], kinds: NDArray[np.uint8]) -> None:
    """Encode RGB/RGBA ``pixels`` with the given filter per row (to test the reader)."""
    height, width, channels = pixels.shape
    colour = {1: 0, 3: 2, 4: 6}[channels]
    img = pixels.astype(np.int32)
    padded = np.zeros((height + 1, width + 1, channels), dtype=np.int32)
    padded[1:, 1:] = img
    left, up, corner = padded[1:, :-1], padded[:-1, 1:], padded[:-1, :-1]
    p = left + up - corner
    pa, pb, pc = np.abs(p - left), np.abs(p - up), np.abs(p - corner)
    paeth = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, corner))
    predictors = [np.zeros_like(img), left, up, (left + up) // 2, paeth]
    rows = [bytes([k]) + ((img[r] - predictors[k][r]) % 256).astype(np.uint8).tobytes()
            for r, k in enumerate(kinds)]

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    Path(path).write_bytes(SIGNATURE + chunk(b"IHDR", header)
                           + chunk(b"IDAT", zlib.compress(b"".join(rows)))
                           + chunk(b"IEND", b""))
