"""Console image functions: pure, shape-keeping, and doing what their names promise."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.colour import INORGANIC, METAL, ORGANIC, false_colour, material_classes
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

W, H = 320, 240
S = W / 640  # the test piece is laid out in 640×480 units


def _region(x0: float, y0: float, x1: float, y1: float) -> tuple[slice, slice]:
    """Pixel slices of a rectangle given in the test piece's 640×480 layout units."""
    return slice(int(y0 * S), int(y1 * S)), slice(int(x0 * S), int(x1 * S))


# Interiors (away from blurred edges) of parts of the test piece.
POLY_STEP_1 = _region(60, 65, 90, 115)  # 0.5 cm polyethylene
POLY_STEP_2 = _region(110, 65, 140, 115)  # 1 cm polyethylene
POLY_STEP_3 = _region(160, 65, 190, 115)  # 2 cm polyethylene
POLY_STEP_5 = _region(260, 65, 290, 115)  # 8 cm polyethylene: clearly orange
STEEL_STEP_4 = _region(210, 285, 240, 335)  # 0.4 cm steel: clearly blue
STEEL_BLOCK = _region(565, 395, 595, 435)  # 3 cm steel: impenetrable


@pytest.fixture(scope="module")
def piece() -> Scan:
    return render_test_piece(W, H, seed=4)


def _colour_only(image: np.ndarray) -> Scan:
    h, w = image.shape[:2]
    return Scan(image, ScanMeta("<test>", "png", "uint8", (w, h)))


def _value(image: np.ndarray) -> np.ndarray:
    """HSV value (brightness, 0-255) of a uint8 RGB image as int."""
    return cv2.cvtColor(image, cv2.COLOR_RGB2HSV)[..., 2].astype(int)


def _hue_degrees(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2HSV)[..., 0].astype(float) * 2


def _is_grey(pixels: np.ndarray) -> bool:
    return bool(
        (pixels[..., 0] == pixels[..., 1]).all() and (pixels[..., 1] == pixels[..., 2]).all()
    )


# ----- every function --------------------------------------------------------------------------


def test_the_console_functions_are_all_there():
    assert set(IMAGE_FUNCTIONS) == {
        "greyscale",
        "negative",
        "organic",
        "inorganic",
        "metal",
        "high_penetration",
        "low_penetration",
        "edges",
        "contrast",
    }
    for name, function in IMAGE_FUNCTIONS.items():
        assert function.name == name and function.title and function.uses


@pytest.mark.parametrize("name", sorted(IMAGE_FUNCTIONS))
def test_function_returns_uint8_rgb_of_the_same_shape(piece, name):
    out = apply_function(name, piece)
    assert isinstance(out, np.ndarray)
    assert out.dtype == np.uint8 and out.shape == piece.image.shape == (H, W, 3)


@pytest.mark.parametrize("name", sorted(IMAGE_FUNCTIONS))
def test_function_does_not_modify_its_input(piece, name):
    before = {k: getattr(piece, k).copy() for k in ("image", "low", "high", "zeff")}
    out = apply_function(name, piece)
    for key, kept in before.items():
        assert np.array_equal(getattr(piece, key), kept), key
    assert not np.shares_memory(out, piece.image)


@pytest.mark.parametrize("name", sorted(IMAGE_FUNCTIONS))
def test_function_changes_the_test_piece(piece, name):
    out = apply_function(name, piece)
    assert np.abs(out.astype(int) - piece.image.astype(int)).mean() > 0.5


@pytest.mark.parametrize("name", sorted(IMAGE_FUNCTIONS))
def test_function_works_on_a_scan_without_raw_channels(piece, name):
    image = piece.image.copy()
    out = apply_function(name, _colour_only(image))
    assert out.dtype == np.uint8 and out.shape == piece.image.shape
    assert np.array_equal(image, piece.image)  # input left alone here too


def test_plain_is_the_display_image_itself(piece):
    assert apply_function("plain", piece) is piece.image


def test_unknown_function_name_raises_value_error_listing_the_names(piece):
    with pytest.raises(ValueError, match="sepia") as info:
        apply_function("sepia", piece)
    for name in IMAGE_FUNCTIONS:
        assert name in str(info.value)


# ----- negative and greyscale ------------------------------------------------------------------


def test_negative_twice_is_identity(piece):
    once = negative(piece.image)
    assert np.array_equal(once.astype(int), 255 - piece.image.astype(int))
    assert np.array_equal(negative(once), piece.image)


def test_greyscale_has_equal_channels(piece):
    grey = greyscale(piece.image)
    assert _is_grey(grey)
    assert grey.std() > 10  # still a picture


def test_greyscale_keeps_brightness_order():
    image = np.array([[[0, 0, 0], [255, 128, 0], [255, 255, 255]]], np.uint8)
    grey = greyscale(image)[0, :, 0].astype(int)
    assert grey[0] == 0 and grey[2] == 255 and 0 < grey[1] < 255


# ----- material only ---------------------------------------------------------------------------


@pytest.mark.parametrize("material", [ORGANIC, INORGANIC, METAL])
def test_material_only_with_zeff_keeps_exactly_its_class(piece, material):
    out = material_only(piece.image, material, piece.zeff)
    keep = material_classes(piece.zeff) == material
    assert keep.any() and (~keep).any()
    assert np.array_equal(out[keep], piece.image[keep])
    faded = out[~keep]
    assert _is_grey(faded)
    assert faded.min() >= 190  # light: at most a quarter of the way to black


@pytest.mark.parametrize("material", [ORGANIC, INORGANIC, METAL])
def test_material_only_fades_darker_pixels_darker(piece, material):
    out = material_only(piece.image, material, piece.zeff)
    other = material_classes(piece.zeff) != material
    lum = piece.image.astype(float) @ [0.299, 0.587, 0.114]
    dark, light = np.argmin(np.where(other, lum, 999)), np.argmax(np.where(other, lum, -1))
    flat = out.reshape(-1, 3)
    assert flat[dark, 0] < flat[light, 0]  # the bag outline stays readable


def _saturation(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2HSV)[..., 1].astype(int)


def test_material_only_without_zeff_keeps_orange_for_organic(piece):
    image = false_colour(piece.high, piece.zeff)
    out = material_only(image, ORGANIC)
    assert np.array_equal(out[POLY_STEP_5], image[POLY_STEP_5])
    assert _is_grey(out[STEEL_STEP_4]) and not np.array_equal(
        out[STEEL_STEP_4], image[STEEL_STEP_4]
    )
    kept = (out == image).all(axis=-1) & ~_grey_mask(image)
    hues = _hue_degrees(image)[kept]
    assert kept.sum() > 1000 and ((hues >= 15) & (hues <= 80)).all()  # orange to yellow only
    orange = (piece.zeff < 9) & (_saturation(image) > 80) & (_value(image) > 30)
    assert orange.sum() > 1000 and kept[orange].all()


def test_material_only_without_zeff_keeps_blue_for_metal(piece):
    image = false_colour(piece.high, piece.zeff)
    out = material_only(image, METAL)
    assert np.array_equal(out[STEEL_STEP_4], image[STEEL_STEP_4])
    assert _is_grey(out[POLY_STEP_5]) and not np.array_equal(out[POLY_STEP_5], image[POLY_STEP_5])
    kept = (out == image).all(axis=-1) & ~_grey_mask(image) & (_value(image) > 30)
    hues = _hue_degrees(image)[kept]
    assert kept.sum() > 500 and ((hues >= 160) & (hues <= 260)).all()  # blue, no orange/green
    blue = (piece.zeff > 20) & (_saturation(image) > 80) & (_value(image) > 30)
    assert blue.sum() > 500 and kept[blue].all()


def _grey_mask(image: np.ndarray) -> np.ndarray:
    return (image[..., 0] == image[..., 1]) & (image[..., 1] == image[..., 2])


@pytest.mark.parametrize("material", [ORGANIC, INORGANIC, METAL])
def test_material_only_fades_every_pixel_of_a_greyscale_image(material):
    ramp = np.linspace(30, 250, 16 * 20).reshape(16, 20).astype(np.uint8)
    grey = np.repeat(ramp[:, :, None], 3, axis=2)
    out = material_only(grey, material)
    assert _is_grey(out)
    assert (out >= grey).all() and (out > grey).any()  # washed out, nothing kept as it was
    assert out.min() >= 190


# ----- penetration -----------------------------------------------------------------------------


def test_high_penetration_brightens_the_steel_block(piece):
    assert piece.high[STEEL_BLOCK].max() < 0.01  # impenetrable: black in the plain image
    plain = _value(piece.image)[STEEL_BLOCK].mean()
    out = _value(high_penetration(piece.image, piece.high))[STEEL_BLOCK].mean()
    assert out > plain + 20


def test_high_penetration_without_a_channel_lifts_shadows(piece):
    dark = piece.image // 3
    assert _value(high_penetration(dark)).mean() > _value(dark).mean()


def test_low_penetration_spreads_two_thin_organic_steps(piece):
    def contrast(image: np.ndarray) -> float:
        v = _value(image)
        return abs(v[POLY_STEP_1].mean() - v[POLY_STEP_2].mean())

    before = contrast(piece.image)
    after = contrast(low_penetration(piece.image, piece.low))
    assert after > before * 1.5


def test_low_penetration_without_a_channel_spreads_thin_steps(piece):
    def contrast(image: np.ndarray) -> float:
        v = _value(image)
        return abs(v[POLY_STEP_1].mean() - v[POLY_STEP_2].mean())

    assert contrast(low_penetration(piece.image)) > contrast(piece.image)


def test_penetration_functions_keep_hue(piece):
    # Each where its output is bright enough to carry a hue: low penetration blacks out 8 cm.
    for out, region in (
        (high_penetration(piece.image, piece.high), POLY_STEP_5),
        (low_penetration(piece.image, piece.low), POLY_STEP_3),
    ):
        before = np.median(_hue_degrees(piece.image)[region])
        assert abs(np.median(_hue_degrees(out)[region]) - before) < 10


# ----- contrast and edges ----------------------------------------------------------------------


@pytest.mark.parametrize("gamma", [0, -0.5])
def test_contrast_gamma_rejects_non_positive_gamma(piece, gamma):
    with pytest.raises(ValueError, match="gamma"):
        contrast_gamma(piece.image, gamma=gamma)


def test_contrast_gamma_below_one_lifts_and_above_one_deepens(piece):
    lifted = contrast_gamma(piece.image, gamma=0.5)
    deepened = contrast_gamma(piece.image, gamma=2.0)
    assert lifted.mean() > deepened.mean() + 20


def test_edge_enhance_increases_the_gradient_at_a_step():
    image = np.full((24, 48, 3), 60, np.uint8)
    image[:, 24:] = 160
    before = np.abs(np.diff(image[12, :, 0].astype(int))).max()
    out = edge_enhance(image)
    after = np.abs(np.diff(out[12, :, 0].astype(int))).max()
    assert before == 100 and after > before + 20
    assert np.array_equal(out[:, :10], image[:, :10])  # flat areas stay flat
