"""Console image functions and false colour: pure, shape-keeping, and doing what they claim."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.colour import (
    INORGANIC,
    METAL,
    ORGANIC,
    false_colour,
    material_classes,
    material_classes_from_hue,
)
from engine.enhance import (
    IMAGE_FUNCTIONS,
    apply_function,
    contrast_gamma,
    edge_enhance,
    greyscale,
    high_penetration,
    low_penetration,
    material_only,
    negative,
)
from engine.io import Scan, ScanMeta
from engine.phantom import render_test_piece


@pytest.fixture(scope="module")
def piece() -> Scan:
    return render_test_piece(320, 240, seed=4)


def _hue(rgb: tuple[int, int, int]) -> float:
    pixel = np.array([[rgb]], np.uint8)
    return float(cv2.cvtColor(pixel, cv2.COLOR_RGB2HSV_FULL)[0, 0, 0]) * 360 / 256


@pytest.mark.parametrize("name", list(IMAGE_FUNCTIONS))
def test_every_function_is_pure_and_keeps_shape(piece, name):
    before = [a.copy() for a in (piece.image, piece.low, piece.high, piece.zeff)]
    out = apply_function(name, piece)
    assert out.dtype == np.uint8 and out.shape == piece.image.shape
    assert not np.array_equal(out, piece.image)
    for kept, now in zip(before, (piece.image, piece.low, piece.high, piece.zeff), strict=True):
        assert np.array_equal(kept, now)


@pytest.mark.parametrize("name", list(IMAGE_FUNCTIONS))
def test_every_function_works_without_raw_channels(piece, name):
    colour_only = Scan(piece.image, ScanMeta("x", "png", "uint8", (320, 240)))
    assert apply_function(name, colour_only).shape == piece.image.shape


def test_plain_and_unknown(piece):
    assert apply_function("plain", piece) is piece.image
    with pytest.raises(ValueError, match="greyscale"):
        apply_function("sepia", piece)


def test_negative_and_greyscale(piece):
    assert np.array_equal(negative(negative(piece.image)), piece.image)
    grey = greyscale(piece.image)
    assert np.array_equal(grey[..., 0], grey[..., 1]) and np.array_equal(grey[..., 1], grey[..., 2])


@pytest.mark.parametrize("material", [ORGANIC, INORGANIC, METAL])
def test_material_only_keeps_exactly_its_class_from_zeff(piece, material):
    out = material_only(piece.image, material, piece.zeff)
    keep = material_classes(piece.zeff) == material
    assert keep.any() and (~keep).any()
    assert np.array_equal(out[keep], piece.image[keep])
    faded = out[~keep]
    assert (faded[:, 0] == faded[:, 1]).all() and faded.min() >= 0.75 * 255 - 1


def test_material_only_from_hue_without_zeff():
    zeff = np.array([[7.0, 14.0, 26.0]], np.float32).repeat(4, axis=0)
    image = false_colour(np.full(zeff.shape, 0.3, np.float32), zeff)
    assert (material_classes_from_hue(image) == [[ORGANIC, INORGANIC, METAL]]).all()
    organic = material_only(image, ORGANIC)
    assert np.array_equal(organic[:, 0], image[:, 0]) and not np.array_equal(
        organic[:, 2], image[:, 2]
    )
    grey = np.repeat(np.linspace(30, 250, 12, dtype=np.uint8).reshape(3, 4, 1), 3, axis=2)
    out = material_only(grey, METAL)
    assert (out >= grey).all()  # nothing has colour: everything fades


def test_high_penetration_brightens_behind_dense_metal(piece):
    plain_v = cv2.cvtColor(piece.image, cv2.COLOR_RGB2HSV)[..., 2].astype(int)
    out_v = cv2.cvtColor(high_penetration(piece.image, piece.high), cv2.COLOR_RGB2HSV)[..., 2]
    steel = piece.high < 0.05
    assert steel.any()
    # The console palette already lifts dense pixels (a brightness floor of 0.4, gamma 0.45),
    # so the gain is smaller than it was without the floor, but it must still be plain to see.
    assert out_v[steel].mean() > plain_v[steel].mean() + 10


def test_low_penetration_spreads_thin_organic_steps(piece):
    # The first two steps of the polyethylene wedge (0.5 and 1 cm) sit at x 50-100 and 100-150.
    s = 320 / 640
    a = (slice(int(70 * s), int(110 * s)), slice(int(60 * s), int(90 * s)))
    b = (slice(int(70 * s), int(110 * s)), slice(int(110 * s), int(140 * s)))
    before = greyscale(piece.image)[..., 0].astype(float)
    after = greyscale(low_penetration(piece.image, piece.low))[..., 0].astype(float)
    assert abs(after[a].mean() - after[b].mean()) > abs(before[a].mean() - before[b].mean())


def test_edge_enhance_steepens_a_step():
    image = np.zeros((20, 40, 3), np.uint8)
    image[:, 20:] = 160
    out = edge_enhance(image).astype(int)
    assert np.abs(np.diff(out[10, :, 0])).max() > 160


def test_contrast_gamma_lifts_shadows_and_rejects_bad_gamma(piece):
    dark = (piece.image // 4).astype(np.uint8)
    assert contrast_gamma(dark).mean() > dark.mean()
    with pytest.raises(ValueError):
        contrast_gamma(dark, gamma=0)


def test_false_colour_convention():
    t = np.array([[1.0, 0.4, 0.4, 0.4, 0.001]], np.float32)
    z = np.array([[7.0, 7.0, 14.0, 26.0, 26.0]], np.float32)
    rgb = false_colour(t, z)[0]
    assert rgb[0].min() > 240  # air is white
    assert 15 < _hue(tuple(rgb[1])) < 50  # organic: orange
    assert 80 < _hue(tuple(rgb[2])) < 160  # inorganic: green
    assert 180 < _hue(tuple(rgb[3])) < 260  # metal: blue
    assert rgb[4].max() == 0  # impenetrable: black


def test_material_class_thresholds():
    z = np.array([9.9, 10.0, 17.9, 18.0])
    assert material_classes(z).tolist() == [ORGANIC, INORGANIC, INORGANIC, METAL]
