"""Writing scans in the layout load_scan reads back: `<stem>.png` plus 16-bit channel files."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

from engine.io.load import ZEFF_PNG_SCALE
from engine.io.scan import Scan


def atomic_write_bytes(path: str | Path, data: bytes, *, durable: bool = True) -> None:
    """Write `data` to `path` through a temporary file and a rename: never a half-written file.

    `durable` also syncs the data to disk before the rename, so a power cut cannot leave an
    empty file behind; bulk data that can be made again (simulated scans) may skip it.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600: give the file the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def encode_png(pixels: np.ndarray) -> bytes:
    """PNG bytes of a uint8/uint16 grey or RGB array (RGB order)."""
    if pixels.ndim == 3:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".png", pixels)
    if not ok:
        raise ValueError(f"cannot encode array of shape {pixels.shape} as PNG")
    return buf.tobytes()


def transmission_to_uint16(t: np.ndarray) -> np.ndarray:
    """16-bit detector values for transmissions in (0, 1] (65535 = air)."""
    return np.clip(np.rint(t * 65535.0), 1, 65535).astype(np.uint16)


def save_scan(scan: Scan, stem: str | Path, *, durable: bool = True) -> list[Path]:
    """Write `<stem>.png` (display) and, when present, `<stem>_low/_high/_zeff.png` (16-bit).

    Returns the paths written. Zeff is stored as Zeff × 1000. `durable`: see
    `atomic_write_bytes`.
    """
    stem = Path(stem)
    written = []
    out = stem.with_name(stem.name + ".png")
    atomic_write_bytes(out, encode_png(scan.image), durable=durable)
    written.append(out)
    for role in ("low", "high"):
        channel = getattr(scan, role)
        if channel is not None:
            out = stem.with_name(f"{stem.name}_{role}.png")
            atomic_write_bytes(out, encode_png(transmission_to_uint16(channel)), durable=durable)
            written.append(out)
    if scan.zeff is not None:
        out = stem.with_name(f"{stem.name}_zeff.png")
        z = np.clip(np.rint(scan.zeff * ZEFF_PNG_SCALE), 0, 65535).astype(np.uint16)
        atomic_write_bytes(out, encode_png(z), durable=durable)
        written.append(out)
    return written
