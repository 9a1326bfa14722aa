"""Recognise an image format from its first bytes and read its size before decoding it.

The extension is never trusted (real exports name JPEGs `.png`), and the size is read from the
header so that an oversized image is refused before it is decompressed.
"""

from __future__ import annotations

import struct

PNG = "png"
JPEG = "jpeg"
BMP = "bmp"
TIFF = "tiff"
DICOM = "dicom"

_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


class FormatError(ValueError):
    """The bytes are not a complete image of a known format (message: what is wrong)."""


def sniff_format(head: bytes) -> str:
    """Name the format of a file from its first 132 bytes, or raise FormatError."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"BM") and len(head) >= 26:
        return BMP
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return TIFF
    if len(head) >= 132 and head[128:132] == b"DICM":
        return DICOM
    if not head:
        raise FormatError("file is empty (0 bytes)")
    if _looks_like_text(head):
        raise FormatError("file is text, not an image")
    raise FormatError(f"unknown image format (starts with {head[:8].hex(' ')})")


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(c.isprintable() or c in "\r\n\t" for c in text)


def header_size(data: bytes, fmt: str) -> tuple[int, int] | None:
    """(width, height) read from a PNG, JPEG or BMP header; None for other formats."""
    if fmt == PNG:
        if len(data) < 24 or data[12:16] != b"IHDR":
            raise FormatError("PNG header is damaged (no IHDR chunk)")
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    if fmt == BMP:
        w, h = struct.unpack("<ii", data[18:26])
        return abs(int(w)), abs(int(h))
    if fmt == JPEG:
        return _jpeg_size(data)
    return None


def _jpeg_segments(data: bytes):
    """Yield (marker, payload_start, payload_end) for JPEG segments up to and including SOS."""
    pos = 2
    n = len(data)
    while pos + 4 <= n:
        if data[pos] != 0xFF:
            raise FormatError(f"JPEG is damaged (no marker at byte {pos})")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        yield marker, pos + 4, pos + 2 + length
        if marker == 0xDA:
            return
        pos += 2 + length
    raise FormatError("JPEG is truncated (ends inside its header)")


def _jpeg_size(data: bytes) -> tuple[int, int]:
    for marker, start, end in _jpeg_segments(data):
        if marker in _SOF_MARKERS:
            if end > len(data) or end - start < 5:
                raise FormatError("JPEG is truncated (ends inside its frame header)")
            h, w = struct.unpack(">HH", data[start + 1 : start + 5])
            return int(w), int(h)
        if marker == 0xDA:
            break
    raise FormatError("JPEG has no frame header")


def check_jpeg_complete(data: bytes) -> None:
    """Raise FormatError when a JPEG stops before its end-of-image marker.

    Some libjpeg builds decode a truncated file with a grey bottom and only a warning, so the
    check is ours: the entropy-coded data after the first scan header must reach an EOI marker.
    """
    sos_end = None
    for marker, _start, end in _jpeg_segments(data):
        if marker == 0xDA:
            sos_end = end
    if sos_end is None or data.find(b"\xff\xd9", sos_end) < 0:
        raise FormatError("JPEG is truncated (no end-of-image marker)")
