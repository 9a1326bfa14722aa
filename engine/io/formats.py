"""Recognise an image format from its first bytes and read its size before decoding it.

The extension is never trusted (real exports name JPEGs `.png`), and the size is read from the
header so that an oversized image is refused before it is decompressed.
"""

from __future__ import annotations

import struct
import zlib

from engine.errors import EngineError

PNG = "png"
JPEG = "jpeg"
BMP = "bmp"
TIFF = "tiff"
DICOM = "dicom"

_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


class FormatError(EngineError, ValueError):
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


def check_png_chunks(data: bytes) -> None:
    """Raise FormatError unless the PNG's chunks are whole up to IEND, with good CRCs on the
    critical ones (IHDR, PLTE, IDAT, IEND).

    Checked before decoding: a chunk that claims more bytes than the file holds made the
    decoder allocate them (2 GB for a 1 kB file), and libpng's own complaints go to stderr.
    """
    pos, n, view = 8, len(data), memoryview(data)
    while True:
        if pos + 8 > n:
            raise FormatError("PNG is truncated (no IEND chunk)")
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        name = kind.decode("latin-1")
        if not kind.isalpha():
            raise FormatError(f"PNG is damaged (no chunk at byte {pos})")
        end = pos + 12 + length
        if length > 0x7FFFFFFF or end > n:
            raise FormatError(
                f"PNG is truncated ({name} chunk of {length} bytes, the file ends "
                f"{max(0, n - pos - 8)} bytes into it)"
            )
        if name[0].isupper():  # critical: libpng refuses a bad CRC here, so do we, in words
            (crc,) = struct.unpack(">I", data[end - 4 : end])
            if zlib.crc32(view[pos + 4 : end - 4]) != crc:
                raise FormatError(f"PNG is corrupt (checksum of its {name} chunk is wrong)")
        if name == "IEND":
            return
        pos = end


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


def check_dimensions(width: int, height: int, max_side: int, max_pixels: int) -> None:
    """Raise FormatError for an image with no pixels, a side over `max_side`, or more than
    `max_pixels` pixels: read from the header, before any decoding (decompression bombs)."""
    if width <= 0 or height <= 0:
        raise FormatError(f"header says the image is {width}×{height} px")
    if max(width, height) > max_side:
        raise FormatError(f"image is {width}×{height} px, over the limit of {max_side} px a side")
    if width * height > max_pixels:
        raise FormatError(
            f"image is {width}×{height} px ({width * height / 1e6:.0f} megapixels), over the "
            f"limit of {max_pixels / 1e6:g} megapixels"
        )
