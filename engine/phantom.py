"""A dual-energy test piece in the spirit of ASTM F792: step wedges, wire gauges, a bottle.

Screening consoles are checked with such test pieces; we use one for loader, viewer and image
function tests and for benchmarks, where a known layout of materials is worth more than realism.
It is a two-energy Beer-Lambert model (effective energies of the low and high detector layers),
not the polychromatic simulator of `engine.synth`.
"""

from __future__ import annotations

import cv2
import numpy as np

from engine.colour import false_colour
from engine.io.scan import Scan, ScanMeta

# μ (1/cm) at 40, 80, 120 keV and Zeff, from ../shared/physics.md section 5.
MATERIALS: dict[str, tuple[float, float, float, float]] = {
    "polyethylene": (0.216, 0.173, 0.155, 5.4),
    "water": (0.268, 0.184, 0.161, 7.4),
    "nylon": (0.263, 0.202, 0.180, 6.1),
    "pvc": (1.015, 0.319, 0.232, 13.9),
    "aluminium": (1.535, 0.545, 0.414, 13.0),
    "steel": (28.49, 4.673, 2.114, 26.0),
    "copper": (43.56, 6.837, 2.862, 29.0),
}
LOW_KEV, HIGH_KEV = 58.0, 88.0  # mean absorbed energies of the front and back layers


def _mu_at(material: str, kev: float) -> float:
    mu = np.array(MATERIALS[material][:3])
    return float(np.exp(np.interp(np.log(kev), np.log([40.0, 80.0, 120.0]), np.log(mu))))


def _layout(width: int, height: int) -> dict[str, np.ndarray]:
    """Thickness maps (cm) per material for the test piece at the given size."""
    s = min(width / 640.0, height / 480.0)
    maps = {m: np.zeros((height, width), np.float32) for m in MATERIALS}

    def box(m: str, x0: float, y0: float, x1: float, y1: float, t: float) -> None:
        maps[m][int(y0 * s) : int(y1 * s), int(x0 * s) : int(x1 * s)] += t

    box("nylon", 20, 20, 620, 460, 0.3)  # the tray / bag shell
    for i, t in enumerate((0.5, 1, 2, 4, 8, 16)):  # organic step wedge
        box("polyethylene", 50 + 50 * i, 50, 100 + 50 * i, 130, t)
    for i, t in enumerate((0.1, 0.3, 0.6, 1.2, 2.4, 4.8)):  # light-metal step wedge
        box("aluminium", 50 + 50 * i, 160, 100 + 50 * i, 240, t)
    for i, t in enumerate((0.05, 0.1, 0.2, 0.4, 0.8, 1.6)):  # steel step wedge
        box("steel", 50 + 50 * i, 270, 100 + 50 * i, 350, t)
    for i, d in enumerate((0.04, 0.06, 0.08, 0.1, 0.13, 0.16, 0.2, 0.25)):  # copper wire gauge
        x = int((400 + 25 * i) * s)
        r = max(1, int(d * 10 * s / 2))
        maps["copper"][int(50 * s) : int(200 * s), max(0, x - r) : x + r + 1] += d
        maps["pvc"][int(50 * s) : int(200 * s), max(0, x - 3 * r) : x + 3 * r + 1] += 0.1
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy, ax, ay = 480 * s, 330 * s, 70 * s, 100 * s  # a water bottle seen from the side
    inside = np.clip(1.0 - ((xx - cx) / ax) ** 2, 0.0, None)
    in_y = np.abs(yy - cy) < ay
    maps["water"] += np.where(in_y, 2.0 * 7.0 * np.sqrt(inside), 0.0).astype(np.float32)
    maps["polyethylene"] += np.where(in_y & (inside > 0), 0.06, 0.0).astype(np.float32)
    box("steel", 560, 390, 600, 440, 3.0)  # an impenetrable block
    return maps


def render_test_piece(
    width: int = 640, height: int = 480, *, seed: int = 0, noise: float = 0.004
) -> Scan:
    """Render the test piece as a Scan with low, high, Zeff and a false-colour display image."""
    maps = _layout(width, height)
    att_low = np.zeros((height, width), np.float32)
    att_high = np.zeros((height, width), np.float32)
    z_weighted = np.zeros((height, width), np.float32)
    for m, t in maps.items():
        if not t.any():
            continue
        att_low += _mu_at(m, LOW_KEV) * t
        a_high = _mu_at(m, HIGH_KEV) * t
        att_high += a_high
        z_weighted += a_high * MATERIALS[m][3]
    rng = np.random.default_rng(seed)
    low = np.exp(-att_low) * (1 + noise * rng.standard_normal(att_low.shape, np.float32))
    high = np.exp(-att_high) * (1 + noise * rng.standard_normal(att_high.shape, np.float32))
    low = cv2.GaussianBlur(np.clip(low, 1e-5, 1.0).astype(np.float32), (0, 0), 0.6)
    high = cv2.GaussianBlur(np.clip(high, 1e-5, 1.0).astype(np.float32), (0, 0), 0.8)
    zeff = np.where(att_high > 1e-4, z_weighted / np.maximum(att_high, 1e-9), 7.0)
    zeff = cv2.GaussianBlur(zeff.astype(np.float32), (0, 0), 1.0)
    meta = ScanMeta(
        "<test-piece>", "test-piece", "float32", (width, height), (), {"seed": str(seed)}
    )
    return Scan(false_colour(high, zeff), meta, low=low, high=high, zeff=zeff)
