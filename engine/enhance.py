"""Screening-console image functions: pure numpy/OpenCV transforms of a scan's display image.

Each function returns a new uint8 RGB image and never changes its input. Functions that a
console computes from the raw detector channels use them when the scan has them, and fall back
to the false-colour image otherwise, so every function works on every scan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from engine.colour import (
    INORGANIC,
    METAL,
    ORGANIC,
    material_classes,
    material_classes_from_hue,
)
from engine.io.scan import Scan

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def luminance(image: np.ndarray) -> np.ndarray:
    """float32 H×W luminance in [0, 1] of a uint8 RGB image."""
    return (image.astype(np.float32) @ _LUMA) / 255.0


def _grey_rgb(v: np.ndarray) -> np.ndarray:
    g = np.clip(v * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return np.repeat(g[:, :, None], 3, axis=2)


def greyscale(image: np.ndarray) -> np.ndarray:
    """Black-and-white view: shape without the distraction of colour."""
    return cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)


def negative(image: np.ndarray) -> np.ndarray:
    """Inverted image: thin, faint structures stand out dark on light."""
    return 255 - image


def material_only(image: np.ndarray, material: int, zeff: np.ndarray | None = None) -> np.ndarray:
    """Keep one material class (organic, inorganic or metal) in colour and wash out the rest.

    The class comes from Zeff when the scan has it, from the false-colour hue otherwise. Pixels
    of other classes fade to a light grey so that the bag outline stays readable.
    """
    classes = material_classes(zeff) if zeff is not None else material_classes_from_hue(image)
    keep = classes == material
    faded = 1.0 - 0.25 * (1.0 - luminance(image))
    out = _grey_rgb(faded)
    out[keep] = image[keep]
    return out


def _with_brightness(image: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Replace the HSV value of `image` by `value` in [0, 1], keeping hue and saturation."""
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV_FULL)
    hsv[..., 2] = np.clip(value * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB_FULL)


HIGH_PEN_FLOOR = 0.45  # above the console palette's brightness floor (engine.colour, 0.4)


def high_penetration(image: np.ndarray, high: np.ndarray | None = None) -> np.ndarray:
    """Brighten dense regions so that what lies behind metal and thick items becomes visible.

    From the high-energy channel when present (a square-root stretch of its attenuation range
    over brightness 1 to `HIGH_PEN_FLOOR`, so the densest pixels stay brighter than a console's
    lifted darks), from a shadow-lifting brightness curve of the display image otherwise.
    """
    if high is not None:
        att = -np.log(np.clip(high, 1e-6, 1.0))
        top = max(float(np.percentile(att, 99.5)), 1e-3)
        value = 1.0 - (1.0 - HIGH_PEN_FLOOR) * np.sqrt(np.clip(att / top, 0.0, 1.0))
    else:
        value = np.power(luminance(image), 0.4)
    return _with_brightness(image, value)


def low_penetration(image: np.ndarray, low: np.ndarray | None = None) -> np.ndarray:
    """Stretch the bright, thin end so that light organic items and edges show more contrast.

    From the low-energy channel when present (its thinnest 0-1.0 range of -ln T spread over the
    whole grey scale), from a highlight-compressing curve of the display image otherwise.
    """
    if low is not None:
        att = -np.log(np.clip(low, 1e-6, 1.0))
        value = np.exp(-3.0 * att)
    else:
        value = np.power(luminance(image), 2.5)
    return _with_brightness(image, value)


def edge_enhance(image: np.ndarray, amount: float = 1.5, sigma: float = 2.0) -> np.ndarray:
    """Unsharp mask: sharpen edges of wires, blades and outlines."""
    blurred = cv2.GaussianBlur(image, (0, 0), sigma)
    return cv2.addWeighted(image, 1.0 + amount, blurred, -amount, 0)


def contrast_gamma(image: np.ndarray, gamma: float = 0.7, clip_limit: float = 2.5) -> np.ndarray:
    """Local contrast equalisation (CLAHE on lightness) followed by a gamma curve.

    gamma < 1 lifts dark regions, gamma > 1 deepens them; hue is preserved.
    """
    if gamma <= 0:
        raise ValueError(f"gamma must be positive, got {gamma}")
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)
    clahe = cv2.createCLAHE(clipLimit=clip_limit, tileGridSize=(8, 8))
    lab[..., 0] = clahe.apply(np.ascontiguousarray(lab[..., 0]))
    out = cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)
    table = np.clip(np.power(np.arange(256) / 255.0, gamma) * 255.0 + 0.5, 0, 255)
    return cv2.LUT(out, table.astype(np.uint8))


@dataclass(frozen=True)
class ImageFunction:
    """One named console function applicable to any scan."""

    name: str
    title: str
    apply: Callable[[Scan], np.ndarray]
    uses: str  # what it reads from the scan, for the tooltip


IMAGE_FUNCTIONS: dict[str, ImageFunction] = {
    f.name: f
    for f in (
        ImageFunction("greyscale", "Greyscale", lambda s: greyscale(s.image), "display image"),
        ImageFunction("negative", "Negative", lambda s: negative(s.image), "display image"),
        ImageFunction(
            "organic",
            "Organic only",
            lambda s: material_only(s.image, ORGANIC, s.zeff),
            "Zeff where present, else hue",
        ),
        ImageFunction(
            "inorganic",
            "Inorganic only",
            lambda s: material_only(s.image, INORGANIC, s.zeff),
            "Zeff where present, else hue",
        ),
        ImageFunction(
            "metal",
            "Metal only",
            lambda s: material_only(s.image, METAL, s.zeff),
            "Zeff where present, else hue",
        ),
        ImageFunction(
            "high_penetration",
            "High penetration",
            lambda s: high_penetration(s.image, s.high),
            "high-energy channel where present, else brightness",
        ),
        ImageFunction(
            "low_penetration",
            "Low penetration",
            lambda s: low_penetration(s.image, s.low),
            "low-energy channel where present, else brightness",
        ),
        ImageFunction(
            "edges", "Edge enhancement", lambda s: edge_enhance(s.image), "display image"
        ),
        ImageFunction(
            "contrast", "Contrast / gamma", lambda s: contrast_gamma(s.image), "display image"
        ),
    )
}


def apply_function(name: str, scan: Scan) -> np.ndarray:
    """Apply the image function called `name` to `scan`; "plain" returns the display image."""
    if name == "plain":
        return scan.image
    try:
        return IMAGE_FUNCTIONS[name].apply(scan)
    except KeyError:
        raise ValueError(
            f"unknown image function {name!r}; known: {sorted(IMAGE_FUNCTIONS)}"
        ) from None
