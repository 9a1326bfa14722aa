"""Decoders for each format: bytes in, a numpy array of the stored pixels out.

Each returns the pixels as stored (uint8, uint16 or float; H×W, H×W×3 or a small stack) and raises
ordinary exceptions; `load.py` turns every failure into a one-line ScanLoadError.
"""

from __future__ import annotations

import io
import warnings

import cv2
import numpy as np

from engine.io.formats import BMP, DICOM, JPEG, PNG, TIFF, FormatError, check_jpeg_complete


def decode(data: bytes, fmt: str, max_side: int) -> tuple[np.ndarray, dict[str, str]]:
    """Decode `data` of format `fmt`; returns (pixels, extra metadata)."""
    if fmt in (PNG, JPEG, BMP):
        return _decode_opencv(data, fmt), {}
    if fmt == TIFF:
        return _decode_tiff(data, max_side), {}
    if fmt == DICOM:
        return _decode_dicom(data, max_side)
    raise FormatError(f"no decoder for format {fmt!r}")


def _decode_opencv(data: bytes, fmt: str) -> np.ndarray:
    if fmt == JPEG:
        check_jpeg_complete(data)
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if pixels is None:
        raise FormatError(f"{fmt.upper()} data is damaged or truncated (decoder failed)")
    if pixels.ndim == 3:
        if pixels.shape[2] == 4:
            pixels = cv2.cvtColor(pixels, cv2.COLOR_BGRA2RGB)
        elif pixels.shape[2] == 3:
            pixels = cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)
        elif pixels.shape[2] == 1:
            pixels = pixels[:, :, 0]
    return pixels


def _decode_tiff(data: bytes, max_side: int) -> np.ndarray:
    import tifffile

    with tifffile.TiffFile(io.BytesIO(data)) as tif:
        if not tif.series:
            raise FormatError("TIFF has no images")
        series = tif.series[0]
        shape = tuple(int(s) for s in series.shape)
        if len(shape) < 2:
            raise FormatError(f"TIFF image has shape {shape}, not 2-D")
        _check_side(shape, max_side)
        pixels = series.asarray()
    pixels = np.squeeze(pixels)
    if pixels.ndim == 3 and pixels.shape[0] in (3, 4) and pixels.shape[2] not in (3, 4):
        pixels = np.moveaxis(pixels, 0, -1)  # planar RGB(A) -> interleaved; (2, H, W) stays
    if pixels.ndim == 3 and pixels.shape[-1] == 4:
        pixels = pixels[..., :3]
    if pixels.ndim not in (2, 3):
        raise FormatError(
            f"TIFF holds {pixels.ndim}-D data of shape {pixels.shape}, not a 2-D image"
        )
    return pixels


def _check_side(shape: tuple[int, ...], max_side: int) -> None:
    big = [s for s in shape if s > max_side]
    if big:
        raise FormatError(f"image is {max(big)} px a side, over the limit of {max_side} px")


def _decode_dicom(data: bytes, max_side: int) -> tuple[np.ndarray, dict[str, str]]:
    import pydicom

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(io.BytesIO(data))
    if "PixelData" not in ds:
        raise FormatError("DICOM file holds no image (no Pixel Data element)")
    rows, cols = int(ds.get("Rows", 0)), int(ds.get("Columns", 0))
    if rows <= 0 or cols <= 0:
        raise FormatError("DICOM image has no Rows/Columns")
    _check_side((rows, cols), max_side)
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
