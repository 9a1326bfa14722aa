"""The fast false colour paints exactly what the plain NumPy recipe paints."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine import colour
from engine.colour import DEFAULT_STYLE, ColourStyle, false_colour


def _plain_false_colour(high, zeff, style: ColourStyle = DEFAULT_STYLE) -> np.ndarray:
    """The straightforward recipe: np.interp per curve, temporaries everywhere."""
    t = np.clip(high.astype(np.float32), 0.0, 1.0)
    z = zeff.astype(np.float32)
    hue = np.interp(z, style.zeff, style.hue).astype(np.float32)
    attenuation = -np.log(np.maximum(t, 1e-6))
    sat_max = np.interp(z, style.zeff, style.saturation_max).astype(np.float32)
    sat_scale = np.interp(z, style.zeff, style.saturation_scale).astype(np.float32)
    sat = sat_max * (1 - np.exp(-attenuation / sat_scale))
    val = np.power(t, style.gamma) * style.gain
    if style.floor:
        val = val * (1.0 - style.floor) + style.floor
    if style.sharpen > 0:
        val = val + style.sharpen * (val - cv2.GaussianBlur(val, (0, 0), 1.5))
    val = np.clip(val, 0.0, 1.0)
    val[t < colour.IMPENETRABLE_T_HIGH] = 0.0
    hsv = np.stack([np.mod(hue, 360.0), sat, val], axis=-1)
    rgb = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _images(rng: np.random.Generator):
    high = rng.uniform(-0.1, 1.1, (90, 120)).astype(np.float32)
    zeff = rng.uniform(2.0, 40.0, (90, 120)).astype(np.float32)
    zeff[:3] = np.array(DEFAULT_STYLE.zeff[:3], np.float32)[:, None]  # exactly on knots
    zeff[3, :11] = DEFAULT_STYLE.zeff  # every knot, the last one included
    high[4] = np.float32(colour.IMPENETRABLE_T_HIGH)
    return high, cv2.GaussianBlur(zeff, (0, 0), 3.0)  # smooth like a real Zeff map, and rough


@pytest.mark.parametrize("seed", range(4))
def test_false_colour_is_the_plain_recipe_to_the_bit(seed):
    rng = np.random.default_rng(seed)
    high, zeff = _images(rng)
    styles = (DEFAULT_STYLE, DEFAULT_STYLE.jittered(rng), colour.STYLE_V2_0.jittered(rng))
    for style in styles:
        for z in (zeff, rng.uniform(2.0, 40.0, zeff.shape).astype(np.float32)):
            assert np.array_equal(false_colour(high, z, style), _plain_false_colour(high, z, style))
            as_f64 = false_colour(high.astype(np.float64), z.astype(np.float64), style)
            assert np.array_equal(as_f64, _plain_false_colour(high, z, style))


def test_hues_beyond_a_turn_wrap_as_before():
    style = ColourStyle(hue=tuple(h - 60.0 for h in DEFAULT_STYLE.hue))  # some below 0°
    high, zeff = _images(np.random.default_rng(7))
    assert np.array_equal(false_colour(high, zeff, style), _plain_false_colour(high, zeff, style))


def test_shared_interpolation_equals_np_interp():
    rng = np.random.default_rng(3)
    xp = (1.0, 2.5, 2.6, 7.0, 30.0)
    x = np.concatenate([rng.uniform(-5, 40, 4988), xp, np.nextafter(xp, 0), [np.inf, -np.inf]])
    x = x.astype(np.float32).reshape(-1, 8)
    tables = [rng.normal(0, 100, len(xp)) for _ in range(3)]
    for ours, fp in zip(colour._interp(x, xp, tables), tables, strict=True):
        assert np.array_equal(ours, np.interp(x, xp, fp).astype(np.float32))
