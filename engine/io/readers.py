"""Decoders for each format: bytes in, a numpy array of the stored pixels out.

Each returns the pixels as stored (uint8, uint16 or float; H×W, H×W×3 or a small stack) and raises
ordinary exceptions; `load.py` turns every failure into a one-line ScanLoadError. The decoders'
own chatter (libpng and OpenCV on stderr, tifffile's log, numpy's warnings) is kept out of the
terminal: what matters of it goes into the error message.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import struct
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator

import cv2
import numpy as np

from engine.io.formats import (
    BMP,
    DICOM,
    JPEG,
    PNG,
    TIFF,
    FormatError,
    check_dimensions,
    check_jpeg_complete,
    check_png_chunks,
)

DEFAULT_MAX_PIXELS = 100_000_000
TIFF_LAYOUTS = "1 page (an image), 2 pages (low, high) or 3 pages (R, G, B planes)"
_STDERR_LOCK = threading.Lock()


def decode(
    data: bytes, fmt: str, max_side: int, max_pixels: int = DEFAULT_MAX_PIXELS
) -> tuple[np.ndarray, dict[str, str]]:
    """Decode `data` of format `fmt`; returns (pixels, extra metadata)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if fmt in (PNG, JPEG, BMP):
            return _decode_opencv(data, fmt), {}
        if fmt == TIFF:
            return _decode_tiff(data, max_side, max_pixels), {}
        if fmt == DICOM:
            return _decode_dicom(data, max_side, max_pixels)
    raise FormatError(f"no decoder for format {fmt!r}")


@contextlib.contextmanager
def quiet_stderr() -> Iterator[list[str]]:
    """Send what C libraries write to file descriptor 2 to a temporary file for the duration;
    the list yielded receives it (stripped lines) when the block ends.

    libpng and OpenCV print warnings and errors there themselves ("libpng error: IHDR: CRC
    error"), which would put lines before our one-line message. One thread at a time.
    """
    captured: list[str] = []
    with _STDERR_LOCK:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError, AttributeError):  # no usable fd 2: nothing to silence
            yield captured
            return
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield captured
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                sink.seek(0)
                text = sink.read(4096).decode("utf-8", "replace")
                captured += [line.strip() for line in text.splitlines() if line.strip()]


def _library_says(lines: list[str]) -> str:
    """The decoder's own complaint, shortened ('libpng: IHDR: CRC error'), or 'decoder failed'."""
    for line in lines:
        if line.startswith("libpng error:"):
            return f"libpng: {line.split(':', 1)[1].strip()[:120]}"
    return "decoder failed"


def _decode_opencv(data: bytes, fmt: str) -> np.ndarray:
    if fmt == JPEG:
        check_jpeg_complete(data)
    if fmt == PNG:
        check_png_chunks(data)
    with quiet_stderr() as chatter:
        pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if pixels is None:
        raise FormatError(f"{fmt.upper()} data is damaged or truncated ({_library_says(chatter)})")
    if pixels.ndim == 3:
        if pixels.shape[2] == 4:
            pixels = cv2.cvtColor(pixels, cv2.COLOR_BGRA2RGB)
        elif pixels.shape[2] == 3:
            pixels = cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)
        elif pixels.shape[2] == 1:
            pixels = pixels[:, :, 0]
    return pixels


@contextlib.contextmanager
def _quiet_tifffile() -> Iterator[None]:
    """tifffile logs what it repairs as warnings; with no handler they reach stderr."""
    logger = logging.getLogger("tifffile")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _decode_tiff(data: bytes, max_side: int, max_pixels: int) -> np.ndarray:
    import tifffile

    try:
        with _quiet_tifffile(), tifffile.TiffFile(io.BytesIO(data)) as tif:
            pages = len(tif.pages)
            if not pages or not tif.series:
                raise FormatError("TIFF has no images")
            if pages > 3:
                raise FormatError(f"TIFF has {pages} pages; expected {TIFF_LAYOUTS}")
            series = tif.series[0]
            axes, shape = series.axes, tuple(int(s) for s in series.shape)
            _check_tiff_layout(axes, shape, np.dtype(series.dtype), pages)
            check_dimensions(shape[axes.index("X")], shape[axes.index("Y")], max_side, max_pixels)
            pixels = series.asarray()
    except (FormatError, MemoryError):
        raise
    except tifffile.TiffFileError as exc:
        raise FormatError(f"truncated or corrupt TIFF ({exc})") from None
    except (struct.error, ValueError, EOFError, IndexError, KeyError, OSError) as exc:
        detail = f" ({exc})" if isinstance(exc, ValueError) and str(exc) else ""
        raise FormatError(f"truncated or corrupt TIFF{detail}") from None
    return _tiff_pixels(pixels.reshape(shape), axes)


def _check_tiff_layout(axes: str, shape: tuple[int, ...], dtype: np.dtype, pages: int) -> None:
    """Raise FormatError unless the series is one of the documented layouts: one 2-D image
    (grey, or RGB/RGBA samples), 2 pages (low, high), or 3 pages (R, G, B planes)."""
    if "X" not in axes or "Y" not in axes:
        raise FormatError(f"TIFF holds data of shape {shape} (axes {axes}), not a 2-D image")
    extra = {a: n for a, n in zip(axes, shape, strict=True) if a not in "YX" and n != 1}
    samples = extra.pop("S", 1)
    stack = extra.popitem()[1] if len(extra) == 1 else 1
    size = "×".join(str(shape[axes.index(a)]) for a in "XY")
    if extra or samples not in (1, 3, 4) or stack not in (1, 2, 3) or (samples > 1 and stack > 1):
        what = f"{pages} page(s) of shape {shape} (axes {axes})"
        raise FormatError(f"TIFF holds {what}; expected {TIFF_LAYOUTS} of {size} px")
    if stack != pages:
        raise FormatError(f"TIFF has {pages} pages that do not stack; expected {TIFF_LAYOUTS}")
    if dtype.kind not in "uifb":
        raise FormatError(
            f"TIFF holds {dtype.name} pixels; expected integers or floating-point values"
        )


def _tiff_pixels(pixels: np.ndarray, axes: str) -> np.ndarray:
    """H×W, H×W×3 (RGB, samples or planes) or 2×H×W (low, high) from a checked series."""
    keep = [
        i for i, (a, n) in enumerate(zip(axes, pixels.shape, strict=True)) if a in "YX" or n != 1
    ]
    pixels = pixels.reshape([pixels.shape[i] for i in keep])
    axes = "".join(axes[i] for i in keep)
    if pixels.dtype.kind == "b":
        pixels = pixels.astype(np.uint8) * np.uint8(255)
    if len(axes) == 3:
        extra = next(i for i, a in enumerate(axes) if a not in "YX")
        y, x = axes.index("Y"), axes.index("X")
        if pixels.shape[extra] == 2:  # low, high pages stay first
            return np.ascontiguousarray(pixels.transpose(extra, y, x))
        pixels = pixels.transpose(y, x, extra)[..., :3]  # RGB samples or planes, alpha dropped
    elif axes == "XY":
        pixels = pixels.T
    return np.ascontiguousarray(pixels)


def _decode_dicom(data: bytes, max_side: int, max_pixels: int) -> tuple[np.ndarray, dict[str, str]]:
    import pydicom

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(io.BytesIO(data))
    if "PixelData" not in ds:
        raise FormatError("DICOM file holds no image (no Pixel Data element)")
    rows, cols = int(ds.get("Rows", 0)), int(ds.get("Columns", 0))
    if rows <= 0 or cols <= 0:
        raise FormatError("DICOM image has no Rows/Columns")
    check_dimensions(cols, rows, max_side, max_pixels)
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    if frames > 1:
        raise FormatError(f"DICOM holds {frames} frames; only 2-D projection images are supported")
    try:
        pixels = ds.pixel_array
    except Exception as exc:  # pydicom raises many types for missing codecs and short data
        syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
        name = getattr(syntax, "name", str(syntax))
        raise FormatError(f"DICOM pixel data cannot be decoded ({name}): {exc}") from exc
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    if photometric.startswith("YBR") and pixels.ndim == 3:
        from pydicom.pixels import convert_color_space

        pixels = convert_color_space(pixels, photometric, "RGB")
    if photometric == "MONOCHROME1":  # 0 is white: flip so that bright means transparent
        top = (1 << int(ds.get("BitsStored", pixels.dtype.itemsize * 8))) - 1
        pixels = (top - pixels.astype(np.int64)).clip(0, top).astype(pixels.dtype)
    if pixels.dtype.kind == "i":
        pixels = (pixels.astype(np.int64) - pixels.min()).astype(np.uint16)
    extra = {
        "modality": str(ds.get("Modality", "")),
        "sop_class": str(ds.get("SOPClassUID", "")),
        "photometric": photometric,
        "bits_stored": str(ds.get("BitsStored", "")),
    }
    return pixels, extra
