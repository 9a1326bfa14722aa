"""The status-bar read-out of the pixel under the cursor (Qt-free, tested on its own)."""

from __future__ import annotations

import numpy as np

from engine.io import Scan


def pixel_readout(scan: Scan, shown: np.ndarray, x: int, y: int) -> str:
    """'x, y · RGB r g b' plus T_low, T_high and Zeff when the scan has them."""
    if not (0 <= y < scan.height and 0 <= x < scan.width):
        return ""
    r, g, b = (int(v) for v in shown[y, x, :3])
    parts = [f"x {x}  y {y}", f"RGB {r} {g} {b}"]
    if scan.low is not None:
        parts.append(f"T_low {scan.low[y, x]:.3f}")
    if scan.high is not None:
        parts.append(f"T_high {scan.high[y, x]:.3f}")
    if scan.zeff is not None:
        parts.append(f"Zeff {scan.zeff[y, x]:.1f}")
    return " · ".join(parts)
