"""load_scan: the one entry point that turns files on disk into a Scan."""

from __future__ import annotations

import math
import os
import re
import warnings
from pathlib import Path

import numpy as np

from engine.colour import dual_energy_display
from engine.io.files import FileCheckError, check_regular_file, read_regular_file
from engine.io.formats import FormatError, check_dimensions, header_size, sniff_format
from engine.io.readers import DEFAULT_MAX_PIXELS, decode
from engine.io.scan import Scan, ScanLoadError, ScanMeta

DEFAULT_MAX_SIDE = 20_000
MAX_PIXELS_ENV = "XRAY_MAX_PIXELS"  # overrides DEFAULT_MAX_PIXELS (decompression bombs)
BYTES_PER_PIXEL_LIMIT = 12  # a file may hold float32 RGB: 12 bytes a pixel, and no more
_FOLDER = "a folder, not an image file"
DUAL_CHANNEL_WIDTH = 640  # the paper's scanner exports [low | high], 640 px per channel
ZEFF_PNG_SCALE = 1000.0  # a 16-bit Zeff PNG stores Zeff × 1000

SCAN_EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".dcm", ".dcs", ".dicom"}
_COMPANION = re.compile(r"^(?P<base>.+)_(?P<role>low|high|zeff|mask)$", re.IGNORECASE)
_CHANNEL_EXTS = (".png", ".tif", ".tiff")

LAYOUTS = ("auto", "single", "side-by-side")


def load_scan(
    path: str | Path,
    high: str | Path | None = None,
    *,
    layout: str = "auto",
    max_side: int = DEFAULT_MAX_SIDE,
    max_pixels: int | None = None,
    channel_width: int = DUAL_CHANNEL_WIDTH,
    companions: bool = True,
) -> Scan:
    """Load a bag scan from `path`, or a dual-energy pair from `path` (low) and `high`.

    The format comes from the content, not the extension. `layout="auto"` splits a 16-bit
    greyscale image exactly 2 × `channel_width` wide into [low | high]; "side-by-side" always
    splits, "single" never. With `companions`, files named `<stem>_low`, `<stem>_high` and
    `<stem>_zeff` beside `path` are loaded as its channels. An image with more than
    `max_pixels` pixels (default: $XRAY_MAX_PIXELS, else DEFAULT_MAX_PIXELS) is refused from
    its header. Only regular files are read. Every failure raises ScanLoadError.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, not {layout!r}")
    path = Path(path)
    try:
        limits = (max_side, default_max_pixels() if max_pixels is None else int(max_pixels))
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # NaN and overflow in odd files: no stderr lines
            if high is not None:
                return _load_pair(path, Path(high), limits, display=None, zeff=None)
            if companions:
                files = companion_files(path)
                if files.get("low") and files.get("high"):
                    return _load_pair(
                        files["low"],
                        files["high"],
                        limits,
                        display=files.get("display"),
                        zeff=files.get("zeff"),
                        opened=path,
                    )
            return _load_single(path, layout, limits, channel_width)
    except ScanLoadError:
        raise
    except FormatError as exc:
        raise ScanLoadError(path, str(exc)) from exc
    except MemoryError as exc:
        raise ScanLoadError(path, "not enough memory to decode the image") from exc
    except Exception as exc:  # the contract: no other exception type escapes
        raise ScanLoadError(path, f"{type(exc).__name__}: {exc}") from exc


def default_max_pixels() -> int:
    """The pixel-count limit: $XRAY_MAX_PIXELS when set, else DEFAULT_MAX_PIXELS."""
    text = os.environ.get(MAX_PIXELS_ENV, "").strip().replace("_", "")
    if not text:
        return DEFAULT_MAX_PIXELS
    try:
        value = int(float(text))
    except ValueError:
        value = 0
    if value <= 0:
        raise ValueError(f"{MAX_PIXELS_ENV}={text[:40]!r} is not a positive number of pixels")
    return value


def check_scan_file(path: str | Path, max_pixels: int | None = None) -> None:
    """Raise ScanLoadError when `path` cannot be a scan file at all (missing, dangling or looping
    link, folder, FIFO, device, empty, too big): a cheap check from `os.stat`, reading nothing."""
    limit = default_max_pixels() if max_pixels is None else max_pixels
    try:
        check_regular_file(path, max_bytes=_max_file_bytes(limit), folder=_FOLDER)
    except FileCheckError as exc:
        raise ScanLoadError(path, exc.problem) from None


def _max_file_bytes(max_pixels: int) -> int:
    return max_pixels * BYTES_PER_PIXEL_LIMIT + (64 << 20)


def _read_pixels(path: Path, limits: tuple[int, int]) -> tuple[np.ndarray, str, dict[str, str]]:
    """Read and decode one file: (pixels as stored, format name, extra metadata)."""
    max_side, max_pixels = limits
    try:
        data = read_regular_file(path, max_bytes=_max_file_bytes(max_pixels), folder=_FOLDER)
    except FileCheckError as exc:
        raise ScanLoadError(path, exc.problem) from None
    try:
        fmt = sniff_format(data[:132])
        size = header_size(data, fmt)
        if size is not None:
            check_dimensions(*size, max_side, max_pixels)
        pixels, extra = decode(data, fmt, max_side, max_pixels)
    except FormatError as exc:
        raise ScanLoadError(path, str(exc)) from exc
    except MemoryError as exc:
        raise ScanLoadError(path, "not enough memory to decode the image") from exc
    except Exception as exc:  # a decoder's own error: name this file, not the one opened
        raise ScanLoadError(path, f"{type(exc).__name__}: {exc}") from exc
    if max(pixels.shape[:2]) > max_side:
        raise ScanLoadError(path, f"image is over the limit of {max_side} px a side")
    if pixels.size == 0:
        raise ScanLoadError(path, "image has no pixels")
    return pixels, fmt, extra


def _load_single(path: Path, layout: str, limits: tuple[int, int], channel_width: int) -> Scan:
    pixels, fmt, extra = _read_pixels(path, limits)
    dtype = str(pixels.dtype)
    h, w = pixels.shape[:2]
    if pixels.ndim == 3 and pixels.shape[0] == 2 and pixels.shape[2] not in (3, 4):
        low, high = (to_transmission(p) for p in pixels)  # a 2-page TIFF stack [low, high]
        meta = ScanMeta(
            str(path), f"{fmt}-stack", dtype, (low.shape[1], low.shape[0]), (str(path),), extra
        )
        return Scan(dual_energy_display(low, high), meta, low=low, high=high)
    split = layout == "side-by-side" or (
        layout == "auto"
        and pixels.ndim == 2
        and pixels.dtype == np.uint16
        and w == 2 * channel_width
    )
    if split:
        if pixels.ndim != 2:
            raise ScanLoadError(path, "a side-by-side export must be a single-channel image")
        if w % 2:
            raise ScanLoadError(path, f"side-by-side export is {w} px wide, halves differ in size")
        low, high = to_transmission(pixels[:, : w // 2]), to_transmission(pixels[:, w // 2 :])
        meta = ScanMeta(str(path), "side-by-side", dtype, (w // 2, h), (str(path),), extra)
        return Scan(dual_energy_display(low, high), meta, low=low, high=high)
    meta = ScanMeta(str(path), fmt, dtype, (w, h), (str(path),), extra)
    return Scan(to_display(pixels), meta)


def _load_pair(
    low_path: Path,
    high_path: Path,
    limits: tuple[int, int],
    *,
    display: Path | None,
    zeff: Path | None,
    opened: Path | None = None,
) -> Scan:
    low_px, fmt, extra = _read_pixels(low_path, limits)
    high_px, _, _ = _read_pixels(high_path, limits)
    for p, px in ((low_path, low_px), (high_path, high_px)):
        if px.ndim != 2:
            raise ScanLoadError(p, f"a dual-energy channel must be single-channel, got {px.shape}")
    if low_px.shape != high_px.shape:
        raise ScanLoadError(
            high_path,
            f"high channel is {high_px.shape[1]}×{high_px.shape[0]} px but low channel "
            f"{low_path.name} is {low_px.shape[1]}×{low_px.shape[0]} px",
        )
    low, high = to_transmission(low_px), to_transmission(high_px)
    h, w = low.shape
    sources = [str(low_path), str(high_path)]
    zeff_map = None
    if zeff is not None:
        zeff_map = _read_zeff(zeff, limits, (h, w))
        sources.append(str(zeff))
    if display is not None:
        disp_px, _, _ = _read_pixels(display, limits)
        if disp_px.shape[:2] != (h, w):
            raise ScanLoadError(
                display,
                f"display image is {disp_px.shape[1]}×{disp_px.shape[0]}"
                f" px but its channels are {w}×{h} px",
            )
        image = to_display(disp_px)
        sources.insert(0, str(display))
    else:
        image = dual_energy_display(low, high, zeff_map)
    meta = ScanMeta(
        str(opened or low_path),
        "dual-pair",
        str(low_px.dtype),
        (w, h),
        tuple(sources),
        {"channel_format": fmt, **extra},
    )
    return Scan(image, meta, low=low, high=high, zeff=zeff_map)


def _read_zeff(path: Path, limits: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
    px, _, _ = _read_pixels(path, limits)
    if px.shape != shape:
        raise ScanLoadError(path, f"Zeff map is {px.shape}, its channels are {shape}")
    if px.dtype == np.uint16:
        return px.astype(np.float32) / ZEFF_PNG_SCALE
    return px.astype(np.float32)


def to_transmission(pixels: np.ndarray) -> np.ndarray:
    """float32 transmission in (0, 1] from stored detector values (full scale = air)."""
    if pixels.dtype.kind in "ui":
        top = float(np.iinfo(pixels.dtype).max)
        return np.clip(pixels.astype(np.float32), 1.0, top) / np.float32(top)
    t = pixels.astype(np.float32)
    if float(np.nanmax(t)) > 1.0:
        t = t / np.float32(np.nanmax(t))
    return np.clip(np.nan_to_num(t, nan=1.0), 1e-6, 1.0)


def to_display(pixels: np.ndarray) -> np.ndarray:
    """uint8 RGB H×W×3 for display from stored pixels of any depth and channel count."""
    if pixels.dtype == np.uint8:
        scaled = pixels
    elif pixels.dtype.kind in "ui":
        peak = int(pixels.max())
        top = (1 << max(8, math.ceil(math.log2(peak + 1)))) - 1 if peak > 0 else 1
        scaled = (pixels.astype(np.float32) * (255.0 / top) + 0.5).clip(0, 255).astype(np.uint8)
    else:
        f = np.nan_to_num(pixels.astype(np.float32))
        lo, hi = float(f.min()), float(f.max())
        if lo >= 0.0 and hi <= 1.0:
            lo, hi = 0.0, 1.0
        span = hi - lo if hi > lo else 1.0
        scaled = ((f - lo) * (255.0 / span) + 0.5).clip(0, 255).astype(np.uint8)
    if scaled.ndim == 2:
        scaled = np.repeat(scaled[:, :, None], 3, axis=2)
    elif scaled.shape[2] == 1:
        scaled = np.repeat(scaled, 3, axis=2)
    return np.ascontiguousarray(scaled[:, :, :3])


def companion_files(path: str | Path) -> dict[str, Path]:
    """The files of one scan found beside `path`: display, low, high and zeff where present."""
    path = Path(path)
    match = _COMPANION.match(path.stem)
    base = match.group("base") if match and match.group("role").lower() != "mask" else path.stem
    found: dict[str, Path] = {}
    if match and match.group("role").lower() in ("low", "high", "zeff"):
        for ext in (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"):
            candidate = path.with_name(base + ext)
            if candidate.is_file():
                found["display"] = candidate
                break
    elif path.is_file():
        found["display"] = path
    for role in ("low", "high", "zeff"):
        for ext in _CHANNEL_EXTS:
            candidate = path.with_name(f"{base}_{role}{ext}")
            if candidate.is_file():
                found[role] = candidate
                break
    return found


def list_scans(folder: str | Path) -> list[Path]:
    """Scan files in `folder` (not recursive), one per scan: channel and mask files beside a
    scan are left out, since loading the scan loads them."""
    folder = Path(folder)
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SCAN_EXTENSIONS]
    stems = {p.stem for p in files}
    scans = []
    for p in files:
        match = _COMPANION.match(p.stem)
        if match:
            role = match.group("role").lower()
            if match.group("base") in stems:
                continue  # a channel or mask of a scan listed under its own name
            if role == "high" and any(q.stem == f"{match.group('base')}_low" for q in files):
                continue  # a bare pair is listed once, under its low channel
            if role in ("zeff", "mask"):
                continue
        scans.append(p)
    return sorted(scans, key=lambda p: natural_key(p.name))


def natural_key(text: str) -> list:
    """A sort key that puts `bag_2` before `bag_10` (digit runs compare as numbers, case-free)."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", text)]
