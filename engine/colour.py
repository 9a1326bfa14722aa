"""False colour and material classes of dual-energy X-ray images (industry convention).

Orange is organic (Zeff below ~10), green inorganic and light metals (~10-18), blue metal (above
~18); brightness falls with attenuation, near-air pixels are white and pixels with almost no
high-energy transmission are black (impenetrable).
"""

from __future__ import annotations

import cv2
import numpy as np

ORGANIC_MAX_ZEFF = 10.0
INORGANIC_MAX_ZEFF = 18.0
IMPENETRABLE_T_HIGH = 0.01

# Hue anchors in degrees (OpenCV HSV uses 0-180 for 8-bit, we work in float degrees).
_ZEFF_ANCHORS = np.array([5.0, 8.0, 10.0, 13.0, 18.0, 22.0, 30.0])
_HUE_ANCHORS = np.array([28.0, 32.0, 55.0, 110.0, 170.0, 215.0, 225.0])

ORGANIC, INORGANIC, METAL = 1, 2, 3
MATERIAL_NAMES = {ORGANIC: "organic", INORGANIC: "inorganic", METAL: "metal"}


def material_classes(zeff: np.ndarray) -> np.ndarray:
    """uint8 class map from Zeff: 1 organic, 2 inorganic, 3 metal."""
    classes = np.full(zeff.shape, INORGANIC, np.uint8)
    classes[zeff < ORGANIC_MAX_ZEFF] = ORGANIC
    classes[zeff >= INORGANIC_MAX_ZEFF] = METAL
    return classes


def material_classes_from_hue(image: np.ndarray, min_saturation: float = 0.18) -> np.ndarray:
    """Class map estimated from the hue of a false-colour RGB image; 0 where there is no colour.

    Used when a scan has no Zeff channel. Greyscale images give 0 everywhere, except pixels too
    dark to carry colour, which a console shows as impenetrable and which count as metal.
    """
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV_FULL).astype(np.float32)
    hue = hsv[..., 0] * (360.0 / 256.0)
    sat = hsv[..., 1] / 255.0
    val = hsv[..., 2] / 255.0
    coloured = (sat >= min_saturation) & (val >= 0.08)
    classes = np.zeros(image.shape[:2], np.uint8)
    classes[coloured & ((hue < 75) | (hue >= 330))] = ORGANIC
    classes[coloured & (hue >= 75) & (hue < 165)] = INORGANIC
    classes[coloured & (hue >= 165) & (hue < 330)] = METAL
    colour_pixels = coloured.mean() > 0.02
    if colour_pixels:
        classes[val < 0.08] = METAL
    return classes


def false_colour(high: np.ndarray, zeff: np.ndarray) -> np.ndarray:
    """uint8 RGB false-colour image from the high-energy transmission and Zeff."""
    t = np.clip(high.astype(np.float32), 0.0, 1.0)
    hue = np.interp(zeff.astype(np.float32), _ZEFF_ANCHORS, _HUE_ANCHORS).astype(np.float32)
    attenuation = -np.log(np.maximum(t, 1e-6))
    # Saturation rises from white (air) to full colour over the first ~0.3 of -ln T.
    sat = np.clip(attenuation / 0.3, 0.0, 1.0) * 0.85
    val = np.clip(np.power(t, 0.45) * 1.05, 0.0, 1.0)
    val[t < IMPENETRABLE_T_HIGH] = 0.0
    hsv = np.stack([hue, sat, val], axis=-1)
    rgb = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


def transmission_grey(t: np.ndarray) -> np.ndarray:
    """uint8 RGB greyscale rendering of a transmission image (white is air)."""
    v = np.clip(np.power(np.clip(t, 0.0, 1.0), 0.6) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return np.repeat(v[:, :, None], 3, axis=2)


def dual_energy_display(
    low: np.ndarray, high: np.ndarray, zeff: np.ndarray | None = None
) -> np.ndarray:
    """Display image for raw dual-energy channels: false colour with Zeff, else greyscale.

    Without a Zeff channel the greyscale mixes both layers; turning raw channels into Zeff needs
    the scanner's calibration, which the raw files do not carry.
    """
    if zeff is not None:
        return false_colour(high, zeff)
    return transmission_grey(np.sqrt(low * high))
