"""False colour and material classes follow the screening-console convention."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.colour import (
    DEFAULT_STYLE,
    INORGANIC,
    INORGANIC_MAX_ZEFF,
    METAL,
    ORGANIC,
    ORGANIC_MAX_ZEFF,
    ColourStyle,
    dual_energy_display,
    false_colour,
    material_classes,
    material_classes_from_hue,
    transmission_grey,
)


def _colour(t: float, zeff: float) -> np.ndarray:
    """False colour of one pixel, as a 1×1×3 uint8 RGB image."""
    return false_colour(np.array([[t]], np.float32), np.array([[zeff]], np.float32))


def _hsv(rgb: np.ndarray) -> tuple[int, int, int]:
    """OpenCV 8-bit HSV of a 1×1 RGB image: hue 0-179 (degrees / 2), saturation and value 0-255."""
    h, s, v = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)[0, 0]
    return int(h), int(s), int(v)


def test_false_colour_returns_uint8_rgb_of_the_input_shape():
    t = np.full((5, 7), 0.5, np.float32)
    out = false_colour(t, np.full((5, 7), 7.0, np.float32))
    assert out.dtype == np.uint8 and out.shape == (5, 7, 3)


@pytest.mark.parametrize("zeff", [5.0, 7.0, 14.0, 26.0])
def test_air_is_near_white(zeff):
    assert _colour(1.0, zeff).min() >= 250


@pytest.mark.parametrize("zeff", [5.0, 7.0, 14.0, 26.0])
@pytest.mark.parametrize("t", [0.0, 1e-4, 0.001, 0.00199])
def test_impenetrable_is_black(t, zeff):
    assert _colour(t, zeff).max() == 0


def test_just_penetrable_is_not_black():
    assert _colour(0.00201, 26.0).max() > 0


@pytest.mark.parametrize(("t", "min_saturation"), [(0.2, 150), (0.5, 100), (0.8, 40)])
def test_zeff_7_is_orange(t, min_saturation):
    h, s, v = _hsv(_colour(t, 7.0))
    assert 8 <= h <= 22 and s > min_saturation and v > 50  # 16-44 degrees


@pytest.mark.parametrize(("t", "min_saturation"), [(0.2, 150), (0.5, 100), (0.8, 40)])
def test_zeff_14_is_green(t, min_saturation):
    h, s, v = _hsv(_colour(t, 14.0))
    assert 40 <= h <= 80 and s > min_saturation and v > 50  # 80-160 degrees


@pytest.mark.parametrize(("t", "min_saturation"), [(0.2, 150), (0.5, 100), (0.8, 40)])
def test_zeff_26_is_blue(t, min_saturation):
    h, s, v = _hsv(_colour(t, 26.0))
    assert 100 <= h <= 125 and s > min_saturation and v > 50  # 200-250 degrees


def test_brightness_falls_with_attenuation():
    values = [_hsv(_colour(t, 7.0))[2] for t in (0.9, 0.6, 0.3, 0.1, 0.02)]
    assert values == sorted(values, reverse=True) and values[0] > values[-1] + 100


def test_brightness_has_a_floor_above_the_impenetrable_cut():
    """Real consoles lift the darks: dense but penetrable material stays readable."""
    from engine.colour import DEFAULT_STYLE, IMPENETRABLE_T_HIGH, STYLE_V2_0

    t = np.geomspace(IMPENETRABLE_T_HIGH * 1.01, 1.0, 200, dtype=np.float32)[None, :]
    zeff = np.full_like(t, 7.0)
    value = cv2.cvtColor(false_colour(t, zeff), cv2.COLOR_RGB2HSV)[..., 2] / 255.0
    assert value.min() >= DEFAULT_STYLE.floor - 1 / 255 and np.all(np.diff(value) >= 0)
    # simulator v2.0's palette has none: brightness is gain · T^gamma down to the cut
    old = cv2.cvtColor(false_colour(t, zeff, STYLE_V2_0), cv2.COLOR_RGB2HSV)[..., 2] / 255.0
    expected = np.minimum(STYLE_V2_0.gain * t**STYLE_V2_0.gamma, 1.0)
    assert old.min() < 0.2 and np.abs(old - expected).max() <= 1 / 255


def test_saturation_rises_from_air_to_full_colour():
    # Thin organics stay pale, as on real consoles; thick ones reach full colour.
    sats = [_hsv(_colour(t, 7.0))[1] for t in (1.0, 0.97, 0.9, 0.5, 0.1)]
    assert sats[0] < 10 and sats == sorted(sats) and sats[2] < 100 and sats[-1] > 180


def test_metal_saturates_sooner_than_organic_material():
    assert _hsv(_colour(0.8, 26.0))[1] > _hsv(_colour(0.8, 7.0))[1] + 30


def test_a_jittered_style_stays_a_console_palette():
    from engine.colour import DEFAULT_STYLE

    style = DEFAULT_STYLE.jittered(np.random.default_rng(0))
    assert style != DEFAULT_STYLE
    zeff = np.array([[7.0, 14.0, 26.0]], np.float32)
    rgb = false_colour(np.full(zeff.shape, 0.3, np.float32), zeff, style)
    assert material_classes_from_hue(rgb).tolist() == [[ORGANIC, INORGANIC, METAL]]


@pytest.mark.parametrize(
    ("zeff", "expected"),
    [
        (0.0, ORGANIC),
        (5.4, ORGANIC),
        (9.99, ORGANIC),
        (10.0, INORGANIC),
        (13.0, INORGANIC),
        (17.99, INORGANIC),
        (18.0, METAL),
        (26.0, METAL),
        (80.0, METAL),
    ],
)
def test_material_class_thresholds(zeff, expected):
    assert material_classes(np.array([zeff], np.float32))[0] == expected


def test_material_class_thresholds_are_10_and_18():
    assert (ORGANIC_MAX_ZEFF, INORGANIC_MAX_ZEFF) == (10.0, 18.0)
    assert (ORGANIC, INORGANIC, METAL) == (1, 2, 3)


def test_material_classes_keep_shape_and_are_uint8():
    zeff = np.array([[7.0, 14.0], [26.0, 10.0]], np.float32)
    classes = material_classes(zeff)
    assert classes.dtype == np.uint8 and classes.shape == (2, 2)
    assert classes.tolist() == [[ORGANIC, INORGANIC], [METAL, INORGANIC]]


def test_hue_classes_of_false_colour_agree_with_zeff_classes():
    zeff = np.array([[6.0, 7.0, 8.0, 14.0, 15.0, 24.0, 26.0]], np.float32).repeat(3, axis=0)
    image = false_colour(np.full(zeff.shape, 0.4, np.float32), zeff)
    assert np.array_equal(material_classes_from_hue(image), material_classes(zeff))


def test_hue_classes_of_a_grey_image_are_zero():
    grey = np.repeat(np.linspace(40, 250, 20).astype(np.uint8).reshape(4, 5, 1), 3, axis=2)
    assert not material_classes_from_hue(grey).any()


def test_transmission_grey_is_white_for_air_and_darker_when_denser():
    grey = transmission_grey(np.array([[1.0, 0.5, 0.1, 0.0]], np.float32))
    assert grey.dtype == np.uint8 and grey.shape == (1, 4, 3)
    row = grey[0, :, 0].astype(int)
    assert row[0] == 255 and row[3] == 0 and row[0] > row[1] > row[2] > row[3]
    assert np.array_equal(grey[..., 0], grey[..., 2])


def test_dual_energy_display_is_grey_without_zeff_and_colour_with_it():
    low = np.full((3, 4), 0.3, np.float32)
    high = np.full((3, 4), 0.5, np.float32)
    grey = dual_energy_display(low, high)
    assert (grey[..., 0] == grey[..., 1]).all() and (grey[..., 1] == grey[..., 2]).all()
    coloured = dual_energy_display(low, high, np.full((3, 4), 7.0, np.float32))
    assert np.array_equal(coloured, false_colour(high, np.full((3, 4), 7.0, np.float32)))


def test_a_console_shows_dense_metal_without_speckle():
    """Photon noise around the black threshold speckles impenetrable metal with black and
    coloured dots unless the console averages its darkest pixels (`smooth_dark`)."""
    from dataclasses import replace

    from engine.colour import DEFAULT_STYLE, SIM_SMOOTH_DARK, false_colour

    rng = np.random.default_rng(0)
    t = np.full((64, 64), 0.3, np.float32)
    t[16:48, 16:48] = 0.0015  # just under the black threshold
    noisy = np.clip(t * rng.normal(1.0, 0.5, t.shape), 0, 1).astype(np.float32)
    z = np.full_like(t, 26.0)
    plain = false_colour(noisy, z, DEFAULT_STYLE)  # real scans are shown as trained on
    smooth = false_colour(noisy, z, replace(DEFAULT_STYLE, smooth_dark=SIM_SMOOTH_DARK))

    def flips(image: np.ndarray) -> int:  # black/not-black changes between neighbours
        black = image[20:44, 20:44].max(axis=2) == 0
        return int((black[1:] != black[:-1]).sum() + (black[:, 1:] != black[:, :-1]).sum())

    assert flips(plain) > 100 and flips(smooth) < flips(plain) / 10
    np.testing.assert_array_equal(plain[:8], smooth[:8])  # what gets through is left alone


def test_a_console_colours_each_material_evenly_and_keeps_the_edges_between_them():
    """`zeff_denoise`: Zeff from two noisy channels mottles metal with hues of its own; the
    console averages it among neighbours of a like Zeff, so the noise goes and an edge between
    an organic and a metal does not blur into a band of mixtures."""
    from engine.colour import _denoised_zeff

    rng = np.random.default_rng(0)
    z = np.full((40, 40), 8.0, np.float32)
    z[:, 20:] = 26.0
    noisy = (z + rng.normal(0, 1.5, z.shape)).astype(np.float32)
    clean = _denoised_zeff(noisy, 2.0)
    for side in (slice(2, 17), slice(23, 38)):
        assert clean[:, side].std() < noisy[:, side].std() / 2.5
    np.testing.assert_allclose(clean[:, 19].mean(), 8.0, atol=0.5)  # beside the edge
    np.testing.assert_allclose(clean[:, 20].mean(), 26.0, atol=0.5)


def test_the_console_applies_zeff_denoise_and_keeps_it_when_jittered():
    """A style's `zeff_denoise` reaches `false_colour` and survives `jittered`, which the
    simulator applies to every scan."""
    from dataclasses import replace

    from engine.colour import DEFAULT_STYLE, false_colour

    style = replace(DEFAULT_STYLE, zeff_denoise=2.0)
    assert style.jittered(np.random.default_rng(1)).zeff_denoise == 2.0
    rng = np.random.default_rng(0)
    z = (np.full((40, 40), 22.0) + rng.normal(0, 1.5, (40, 40))).astype(np.float32)
    t = np.full(z.shape, 0.3, np.float32)

    def hue_spread(image: np.ndarray) -> float:
        return float(cv2.cvtColor(image, cv2.COLOR_RGB2HSV)[4:36, 4:36, 0].astype(float).std())

    assert hue_spread(false_colour(t, z, style)) < hue_spread(false_colour(t, z, DEFAULT_STYLE)) / 2


def test_a_console_paints_a_dense_object_evenly_and_leaves_the_rest_as_it_was():
    """`dense_zeff_denoise` (simulator v2.16): under a dense object (T_high < 0.1) Zeff's
    noise, spatially correlated as the scanner's blur leaves it, survives the 1.5 px average
    as blotches; the wider average of like Zeff removes them, keeps an organic-metal edge, and
    leaves every pixel where T_high is 0.3 or more exactly as it was."""
    from dataclasses import replace

    from engine.colour import _denoised_dense_zeff, _denoised_zeff

    rng = np.random.default_rng(0)
    z = np.full((80, 80), 8.0, np.float32)
    z[:, 40:] = 26.0
    blotches = cv2.GaussianBlur(rng.normal(0, 1.0, z.shape).astype(np.float32), (0, 0), 2.0)
    noisy = z + blotches * (2.0 / blotches.std())  # σ 2 Zeff in blotches ~5 px across
    t = np.full(z.shape, 0.05, np.float32)
    t[:10] = 0.5  # a bright band across the top: left alone
    once = _denoised_zeff(noisy, 1.5)
    twice = _denoised_zeff(_denoised_dense_zeff(noisy, t, 5.0), 1.5)
    for side in (slice(4, 34), slice(46, 76)):
        assert twice[14:, side].std() < once[14:, side].std() / 1.5
    np.testing.assert_allclose(twice[14:, 38].mean(), 8.0, atol=1.0)  # beside the edge
    np.testing.assert_allclose(twice[14:, 41].mean(), 26.0, atol=1.0)
    assert np.array_equal(_denoised_dense_zeff(noisy, t, 5.0)[:10], noisy[:10])
    light = np.full(z.shape, 0.3, np.float32)
    assert _denoised_dense_zeff(noisy, light, 5.0) is noisy  # nothing dense: nothing done
    partly = _denoised_dense_zeff(noisy, np.full(z.shape, 0.2, np.float32), 5.0)
    full = _denoised_dense_zeff(noisy, np.full(z.shape, 0.05, np.float32), 5.0)
    middle = np.s_[14:, 4:34]  # at T 0.2 it acts about half as much as at 0.1 and below
    ratio = np.abs(partly - noisy)[middle].sum() / np.abs(full - noisy)[middle].sum()
    assert 0.35 < ratio < 0.65

    toaster = np.full((40, 40), 18.0, np.float32)
    toaster += rng.normal(0, 1.0, toaster.shape).astype(np.float32)
    toaster[:, 20] = 30.0  # a wire 1 px wide over it
    kept = _denoised_dense_zeff(toaster, np.full(toaster.shape, 0.05, np.float32), 5.0)
    assert kept[5:35, 20].min() > 28.0  # stays metal: blue, not smeared into the teal
    assert kept[5:35, 5:15].std() < toaster[5:35, 5:15].std()  # while the noise beside it goes
    spoilt = noisy.copy()
    spoilt[40, 40] = np.nan  # a NaN spreads only where the average acts
    assert np.array_equal(_denoised_dense_zeff(spoilt, t, 5.0)[:10], spoilt[:10])

    style = replace(DEFAULT_STYLE, dense_zeff_denoise=5.0)
    assert style.jittered(np.random.default_rng(1)).dense_zeff_denoise == 5.0
    assert np.array_equal(false_colour(t[:10], noisy[:10], style), false_colour(t[:10], noisy[:10]))
    assert not np.array_equal(false_colour(t, noisy, style), false_colour(t, noisy))


def test_a_console_lifts_the_local_contrast_of_thin_material_and_not_of_dense():
    """`local_contrast` (simulator v2.16): a fold a cm or two across in thin cloth (T_high 0.5)
    stands out more against its surroundings; under a dense object (T_high < 0.1), where the
    detail would be photon noise, brightness is as it was; the mean is kept."""
    from dataclasses import replace

    xx = np.mgrid[0:80, 0:80][1]
    fold = np.exp(-np.square((xx - 40) / 4.0)).astype(np.float32)  # a ridge 8 px across
    z = np.full((80, 80), 7.0, np.float32)
    style = ColourStyle()  # no sharpening: only the local contrast differs

    def value(t: np.ndarray, amount: float) -> np.ndarray:
        rgb = false_colour(t, z, replace(style, local_contrast=amount))
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)[..., 2].astype(float) / 255.0

    thin = 0.5 - 0.05 * fold  # a fold: a little more cloth
    plain, lifted = value(thin, 0.0), value(thin, 0.6)
    depth = {
        k: v[:, 10].mean() - v[:, 40].mean() for k, v in (("plain", plain), ("lifted", lifted))
    }
    assert depth["lifted"] > 1.3 * depth["plain"] > 0
    assert abs(lifted.mean() - plain.mean()) < 0.01
    dense = 0.05 - 0.005 * fold
    assert np.array_equal(value(dense, 0.0), value(dense, 0.6))
    assert (
        replace(style, local_contrast=0.6).jittered(np.random.default_rng(0)).local_contrast == 0.6
    )
    lower = 0.2 - 0.01 * fold  # at T 0.2 it acts, half as much
    half = value(lower, 0.6) - value(lower, 0.0)
    assert 0 < np.abs(half).max() < np.abs(lifted - plain).max()


def test_the_console_s_dense_average_and_local_contrast_are_checked_when_loaded():
    from engine.config import ConfigError, load_config
    from engine.synth.dataset import SynthConfig

    loaded = load_config(SynthConfig, None, ["colour.local_contrast=0.5"])
    assert loaded.colour.local_contrast == 0.5
    for bad in ("colour.local_contrast=-1", "colour.local_contrast=.nan"):
        with pytest.raises(ConfigError, match="local_contrast"):
            load_config(SynthConfig, None, [bad])
    with pytest.raises(ConfigError, match="dense_zeff_denoise"):
        load_config(SynthConfig, None, ["colour.dense_zeff_denoise=.inf"])


def test_halo_floor_keeps_sharpening_from_painting_an_edge_s_dark_side_black():
    """`halo_floor` (simulator v2.11): the unsharp mask still steepens an edge, but its dark
    side stops at the floor unless its neighbours were that dark already; dense metal stays
    black. Without it, a bright field beside a dark slab rings the slab with black."""
    from dataclasses import replace

    from engine.colour import ColourStyle

    t = np.full((40, 40), 0.6, np.float32)  # a bright field, not clipped when sharpened
    t[:, 20:] = 0.1  # a dense slab: dark, far from black
    t[30:, 30:] = 0.0  # and something nothing gets through
    z = np.full_like(t, 26.0)
    sharp = ColourStyle(sharpen=4.5, floor=0.0, gamma=0.45)
    value = {
        floor: cv2.cvtColor(
            false_colour(t, z, replace(sharp, halo_floor=floor)), cv2.COLOR_RGB2HSV
        )[..., 2]
        / 255.0
        for floor in (0.0, 0.21)
    }
    plain = false_colour(t, z, replace(sharp, sharpen=0.0))
    slab = cv2.cvtColor(plain, cv2.COLOR_RGB2HSV)[5:25, 25:35, 2] / 255.0
    assert slab.min() > 0.2  # unsharpened, the slab is not black ...
    assert value[0.0][5:25, 20:23].min() < 0.2  # ... but sharpened, its edge turns black
    ringed = value[0.21][5:25, 20:23]
    assert ringed.min() >= 0.2 and ringed.mean() < slab.mean()  # darker, never black
    assert value[0.21][5:25, 17:20].max() > value[0.21][5:25, 5:15].max()  # the bright side
    assert np.all(value[0.21][32:, 32:] == 0)  # impenetrable stays black


def test_halo_keep_dims_the_bright_rim_of_sharpening_and_leaves_the_dark_side():
    """`halo_keep` (simulator v2.42): the light side of an edge overshoots its unsharpened
    neighbourhood by that share of the unsharp mask's rim (0.5: half); the dark side, the
    field away from the edge and a style without it are as they were."""
    from dataclasses import replace

    from engine.colour import ColourStyle

    t = np.full((40, 40), 0.3, np.float32)  # a field, not clipped when sharpened, beside a slab
    t[:, 20:] = 0.05
    z = np.full_like(t, 7.0)
    sharp = ColourStyle(sharpen=3.0)
    plain = false_colour(t, z, replace(sharp, sharpen=0.0))

    def value(keep: float) -> np.ndarray:
        rgb = false_colour(t, z, replace(sharp, halo_keep=keep))
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)[..., 2].astype(float)

    level = cv2.cvtColor(plain, cv2.COLOR_RGB2HSV)[5:35, 5, 2].astype(float).mean()
    rim = {keep: value(keep)[5:35, 16:20].max() - level for keep in (1.0, 0.5, 0.0)}
    assert rim[1.0] > 10  # the full rim, grey levels above the field
    assert rim[1.0] * 0.4 < rim[0.5] < rim[1.0] * 0.6
    assert rim[0.0] <= 1
    assert np.array_equal(value(0.5)[:, 20:], value(1.0)[:, 20:])  # the dark side as it was
    assert np.array_equal(value(0.5)[:, :8], value(1.0)[:, :8])
    assert np.array_equal(
        false_colour(t, z, sharp), false_colour(t, z, replace(sharp, halo_keep=1.0))
    )


def test_opaque_value_paints_what_stops_the_beam_a_flat_charcoal_not_black():
    """`opaque_value` (simulator v2.44): where T_high is under `IMPENETRABLE_T_HIGH` a neutral
    grey of about that brightness, as the real scans' darkest pixels are; the metal round it
    keeps its colour to the edge; without it (real scans' own style) such pixels stay black."""
    from dataclasses import replace

    from engine.colour import IMPENETRABLE_T_HIGH, ColourStyle

    t = np.full((20, 20), 0.05, np.float32)
    t[5:15, 5:15] = 0.0
    t[8:12, 8:12] = IMPENETRABLE_T_HIGH * 0.99
    z = np.full_like(t, 26.0)
    style = ColourStyle(opaque_value=0.14)
    hsv = cv2.cvtColor(false_colour(t, z, style), cv2.COLOR_RGB2HSV).astype(float)
    core = hsv[5:15, 5:15]
    assert core[..., 1].max() == 0  # grey
    assert core[..., 2].min() / 255 >= 0.12 and core[..., 2].max() / 255 <= 0.145
    assert hsv[9, 9, 2] > hsv[6, 6, 2]  # a little lighter where a little gets through
    plain = false_colour(t, z, ColourStyle())
    assert np.array_equal(hsv[0:4], cv2.cvtColor(plain, cv2.COLOR_RGB2HSV).astype(float)[0:4])
    assert plain[5:15, 5:15].max() == 0
    assert replace(style, opaque_value=0.0) == ColourStyle()


def test_organic_hue_slope_turns_thick_organics_yellower_and_thin_ones_redder():
    """`organic_hue_slope` (simulator v2.45): organic hue moves with brightness, as the real
    scans' orange does (a yellow-brown 53° at V 0.5 to a peach 35° above 0.9); metal and a
    style without it keep the hue of Zeff alone."""
    from dataclasses import replace

    from engine.colour import ColourStyle

    t = np.tile(np.geomspace(0.01, 0.95, 40, dtype=np.float32), (4, 1))
    style = ColourStyle()
    turned = replace(style, organic_hue_slope=36.0)

    def hue(z: float, s: ColourStyle) -> np.ndarray:
        rgb = false_colour(t, np.full_like(t, z), s)
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV_FULL)[..., 0].astype(float)[0] * 360 / 256

    plain, moved = hue(7.0, style), hue(7.0, turned)
    assert moved[0] > plain[0] + 5  # thick: yellower
    assert moved[-1] < plain[-1] - 2  # thin: redder
    assert np.all(np.diff(moved[5:]) <= 1.5)  # yellow to red as it thins
    assert np.array_equal(hue(26.0, style), hue(26.0, turned))  # metal as it was
    assert np.array_equal(hue(13.0, style), hue(13.0, turned))  # and green mixtures
    assert np.abs(hue(9.25, turned) - hue(9.25, style)).max() > 1  # fading out by Zeff 10


def test_organic_hue_pivot_sets_the_brightness_the_hue_turns_about():
    """`organic_hue_pivot` (simulator v2.73): organic hue turns by `organic_hue_slope` a unit
    of V about this brightness; the default, 0.8, keeps v2.45-v2.72's console as it was, and
    v2.73's console paints thick organics yellower than v2.63's and thin ones about alike."""
    from engine.colour import SIM_STYLE_V2_63, SIM_STYLE_V2_73, ColourStyle, _organic_hue

    val = np.array([0.5, 0.8, 0.85, 0.95], np.float32)
    z = np.full(4, 7.0, np.float32)
    for pivot, want in ((0.8, [15.0, 0.0, -2.5, -7.5]), (0.85, [17.5, 2.5, 0.0, -5.0])):
        hue = np.zeros(4, np.float32)
        _organic_hue(hue, val, z, 50.0, pivot)
        np.testing.assert_allclose(hue, want, atol=1e-4)
    assert ColourStyle().organic_hue_pivot == SIM_STYLE_V2_63.organic_hue_pivot == 0.8
    assert (SIM_STYLE_V2_73.organic_hue_slope, SIM_STYLE_V2_73.organic_hue_pivot) == (50.0, 0.85)

    t = np.tile(np.geomspace(0.02, 0.95, 40, dtype=np.float32), (4, 1))

    def hue_of(style: ColourStyle) -> np.ndarray:
        rgb = false_colour(t, np.full_like(t, 7.0), style)
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV_FULL)[..., 0].astype(float)[0] * 360 / 256

    old, new = hue_of(SIM_STYLE_V2_63), hue_of(SIM_STYLE_V2_73)
    assert new[0] > old[0] + 5  # thick: yellower
    assert abs(new[-1] - old[-1]) < 3  # thin: about as it was


def test_v2_74_s_console_darkens_thin_organics_and_leaves_air_white():
    """Simulator v2.74's console (`gamma` 0.5, was 0.45): cloth that lets most of the beam
    through is painted darker, less of it pale peach; air stays pure white."""
    from engine.colour import SIM_STYLE_V2_73, SIM_STYLE_V2_74

    t = np.tile(np.array([0.2, 0.3, 0.5, 0.7, 1.0], np.float32), (8, 8))
    z = np.full_like(t, 7.0)

    def value(style) -> np.ndarray:
        rgb = false_colour(t, z, style)
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)[..., 2].astype(int)[4, 20:25]

    old, new = value(SIM_STYLE_V2_73), value(SIM_STYLE_V2_74)
    assert np.all(new[:4] < old[:4]) and np.all(old[:4] - new[:4] <= 12), (old, new)
    assert new[4] == old[4] == 255


def test_dark_metal_turns_teal_and_dull_where_organics_and_light_metal_stay():
    """`metal_hue_slope`, `metal_dull` (simulator v2.61): dark metal is painted teal and dull,
    as the real scans' is (hue 180° and saturation 0.6 at V 0.25, 204° and 0.73 at V 0.85);
    organics, green mixtures, light metal and a style without them keep their colour."""
    from dataclasses import replace

    from engine.colour import ColourStyle

    t = np.tile(np.geomspace(0.002, 0.95, 60, dtype=np.float32), (4, 1))
    style = ColourStyle(metal_slope=0.16, metal_white=0.6, metal_floor=0.2)
    dark = replace(style, metal_hue_slope=80.0, metal_dull=1.7)

    def hsv(z: float, s: ColourStyle) -> np.ndarray:
        rgb = false_colour(t, np.full_like(t, z), s)
        out = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV_FULL).astype(float)[0]
        return out * [360 / 256, 1 / 255, 1 / 255]

    plain, teal = hsv(26.0, style), hsv(26.0, dark)
    assert np.array_equal(plain[:, 2], teal[:, 2])  # brightness as it was
    deep = plain[:, 2] < 0.3
    assert deep.any() and np.all(teal[deep, 0] < plain[deep, 0] - 10)  # dark: towards cyan
    assert np.all(teal[deep, 1] < plain[deep, 1] - 0.05)  # and duller
    light = plain[:, 2] > 0.62
    assert light.any() and np.allclose(teal[light], plain[light], atol=[1.5, 0.01, 0.01])
    assert np.all(np.diff(teal[plain[:, 2] < 0.6, 0]) >= -1.5)  # cyan to blue as it thins
    for z in (7.0, 13.0):  # organics and green mixtures as they were
        assert np.array_equal(hsv(z, style), hsv(z, dark))
    assert ColourStyle().metal_hue_slope == 0 and ColourStyle().metal_dull == 0

    # on the brightness shown: a sharpened edge's darkened side turns as its own V says
    edge = np.where(np.arange(60) < 30, 0.5, 0.08).astype(np.float32)
    t = np.tile(edge, (6, 1))
    sharp, sharp_teal = (replace(x, sharpen=3.0) for x in (style, dark))
    shown, turned = hsv(26.0, sharp), hsv(26.0, sharp_teal)
    hue_want = shown[:, 0] - 80.0 * np.maximum(0.6 - turned[:, 2], 0)
    sat_want = shown[:, 1] * (1 - np.minimum(1.7 * np.maximum(0.4 - turned[:, 2], 0), 1))
    assert np.abs(turned[:, 0] - hue_want).max() < 2.5
    assert np.abs(turned[:, 1] - sat_want).max() < 0.02
    assert np.ptp(turned[25:35, 2]) > 0.1  # there is an edge, sharpened


def test_halo_floor_is_a_brightness_between_0_and_1():
    from engine.config import ConfigError, load_config
    from engine.synth.dataset import SynthConfig

    assert load_config(SynthConfig, None, ["colour.halo_floor=0.3"]).colour.halo_floor == 0.3
    with pytest.raises(ConfigError, match="halo_floor"):
        load_config(SynthConfig, None, ["colour.halo_floor=2"])
    assert load_config(SynthConfig, None, ["colour.halo_keep=0.25"]).colour.halo_keep == 0.25
    for bad in ("colour.halo_keep=-0.1", "colour.halo_keep=1.5", "colour.halo_keep=.nan"):
        with pytest.raises(ConfigError, match="halo_keep"):
            load_config(SynthConfig, None, [bad])
    assert load_config(SynthConfig, None, ["colour.opaque_value=0.2"]).colour.opaque_value == 0.2
    with pytest.raises(ConfigError, match="organic_hue_slope"):
        load_config(SynthConfig, None, ["colour.organic_hue_slope=.nan"])
    for bad in ("colour.metal_hue_slope=.nan", "colour.metal_dull=-1"):
        with pytest.raises(ConfigError, match="metal_"):
            load_config(SynthConfig, None, [bad])
    with pytest.raises(ConfigError, match="opaque_value"):
        load_config(SynthConfig, None, ["colour.opaque_value=0.8"])
    for bad in ("hue_shift_sd=-1", "hue_anchor_sd=.nan", "saturation_shift=-0.1"):
        with pytest.raises(ConfigError, match=bad.split("=")[0]):
            load_config(SynthConfig, None, [f"colour.{bad}"])


def test_jittered_varies_hue_and_saturation_by_the_styles_spreads():
    """`hue_shift_sd`, `hue_anchor_sd`, `saturation_shift` (simulator v2.63): the hue moves by
    the draws of v2.0-v2.62 scaled to the spreads set, so `rng` goes on as it did; the factor
    on organic and mixed saturation comes from `side` alone, and leaves metal's as it was."""
    from dataclasses import replace

    from engine.colour import INORGANIC_MAX_ZEFF, SIM_STYLE_V2_61, SIM_STYLE_V2_63

    assert (SIM_STYLE_V2_61.hue_shift_sd, SIM_STYLE_V2_61.hue_anchor_sd) == (3.0, 2.0)
    assert SIM_STYLE_V2_61.saturation_shift == 0.0

    def jitter(style, seed=5, side=None):
        rng = np.random.default_rng(seed)
        return style.jittered(rng, side), rng.random()  # and `rng`'s next number

    old, after_old = jitter(SIM_STYLE_V2_61)
    rng = np.random.default_rng(5)  # v2.0-v2.62's draws, written out
    shift = rng.normal(0, 3.0)
    own = [rng.normal(0, 2.0) for _ in SIM_STYLE_V2_61.hue]
    assert np.allclose(old.hue, np.add(SIM_STYLE_V2_61.hue, shift) + own, atol=1e-9)

    calm = replace(SIM_STYLE_V2_61, hue_shift_sd=0.5, hue_anchor_sd=0.5)
    new, after_new = jitter(calm)
    assert after_new == after_old  # the same draws from `rng`, scaled
    want = np.add(SIM_STYLE_V2_61.hue, shift / 6) + np.divide(own, 4)
    assert np.allclose(new.hue, want, atol=1e-9)
    assert new.saturation_max == old.saturation_max and new.gamma == old.gamma

    shifted = replace(calm, saturation_shift=0.1)
    assert shifted == replace(SIM_STYLE_V2_63)
    ratios = []
    for seed in range(3):
        sides = np.random.default_rng([9, seed]), np.random.default_rng([9, seed])
        plain, _ = jitter(calm, seed, sides[0])
        varied, after = jitter(shifted, seed, sides[1])
        assert after == jitter(calm, seed)[1] and varied.hue == plain.hue
        factor = np.exp(np.random.default_rng([9, seed]).normal(0, 0.1))
        for v, p, z in zip(varied.saturation_max, plain.saturation_max, shifted.zeff, strict=True):
            want = min(p * factor, 1.0) if z < INORGANIC_MAX_ZEFF else p
            assert v == pytest.approx(want, abs=1e-12)
        ratios.append(varied.saturation_max[0] / plain.saturation_max[0])
    assert np.ptp(ratios) > 0.01  # a factor of each scan's own

    # with no `side`, the factor is drawn from `rng` after everything else: the same palette
    # up to it, and `rng` one number further on
    alone = shifted.jittered(np.random.default_rng(8))
    rng = np.random.default_rng(8)
    plain = calm.jittered(rng)
    factor = np.exp(rng.normal(0, 0.1))
    assert alone.hue == plain.hue and alone.gamma == plain.gamma
    for v, p, z in zip(alone.saturation_max, plain.saturation_max, shifted.zeff, strict=True):
        assert v == pytest.approx(min(p * factor, 1.0) if z < INORGANIC_MAX_ZEFF else p, abs=1e-12)


def test_a_console_shows_air_white_and_thin_cloth_as_it_was():
    """`air_white` (simulator v2.21): noisy air (T_high 0.996, σ 0.008, some pixels below 0.975)
    comes out flat white, every pixel 255, where without it the sharpening leaves pale tinted
    dots; a strip of thin cloth (T_high 0.9) keeps its colour away from its edges."""
    from dataclasses import replace

    rng = np.random.default_rng(0)
    t = np.clip(0.996 + 0.008 * rng.standard_normal((60, 90)), 0, 1).astype(np.float32)
    t[20:40, 30:60] *= 0.9 / 0.996  # the strip
    z = (7.0 + 3.0 * rng.standard_normal(t.shape)).astype(np.float32)  # air's Zeff is noise
    style = replace(ColourStyle(), sharpen=3.0)
    speckled = false_colour(t, z, style)
    clean = false_colour(t, z, replace(style, air_white=0.975))
    air = np.ones(t.shape, bool)
    air[15:45, 25:65] = False  # away from the strip
    assert speckled[air].min() < 250
    assert (clean[air] == 255).all()
    inner = (slice(24, 36), slice(34, 56))
    np.testing.assert_array_equal(clean[inner], speckled[inner])
    assert replace(style, air_white=0.97).jittered(rng).air_white == 0.97

    from engine.config import ConfigError, load_config
    from engine.synth.dataset import SynthConfig

    bad_values = ("-0.1", "1.5", ".nan", "0.05")  # 0.05: everything but metal would turn white
    for bad in (f"colour.air_white={v}" for v in bad_values):
        with pytest.raises(ConfigError, match="air_white"):
            load_config(SynthConfig, None, [bad])
    assert load_config(SynthConfig, None, ["colour.air_white=0"]).colour.air_white == 0


def test_a_console_paints_thin_mixtures_towards_organic_and_leaves_the_rest():
    """`thin_organic` (simulator v2.22): thin content (T_high 0.8) of Zeff 9.5, which Zeff alone
    paints pale yellow-green, comes out orange; clear green (Zeff 14), metal (Zeff 26) and dense
    mixtures (T_high 0.2) keep their colour; halfway through the fade (T 0.475) it acts half."""
    from dataclasses import replace

    style = ColourStyle()
    pulled = replace(style, thin_organic=1.0)

    def hue(t: float, z: float, s: ColourStyle) -> float:
        rgb = false_colour(np.array([[t]], np.float32), np.array([[z]], np.float32), s)
        return float(cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2HSV)[0, 0, 0])

    assert hue(0.8, 9.5, style) > 55 and hue(0.8, 9.5, pulled) < 45
    for t, z in ((0.8, 14.0), (0.8, 26.0), (0.2, 9.5), (0.2, 11.5)):
        assert hue(t, z, pulled) == hue(t, z, style), (t, z)
    half = hue(0.475, 9.5, pulled)
    assert hue(0.475, 8.75, style) - 1 < half < hue(0.475, 9.5, style)
    # less and less above Zeff 9.5: 10.5 painted as about 9.7, 11 as it was
    assert abs(hue(0.8, 10.5, pulled) - hue(0.8, 9.67, style)) < 2
    assert hue(0.8, 11.0, pulled) == hue(0.8, 11.0, style)
    assert pulled.jittered(np.random.default_rng(0)).thin_organic == 1.0

    from engine.config import ConfigError, load_config
    from engine.synth.dataset import SynthConfig

    with pytest.raises(ConfigError, match="thin_organic"):
        load_config(SynthConfig, None, ["colour.thin_organic=2"])


def test_a_console_paints_metal_lighter_and_leaves_the_rest():
    """`metal_gamma` (simulator v2.24): steel (Zeff 26) at T_high 0.1 comes out lighter than
    organics of the same transmission, which keep their brightness; Zeff 18, halfway up the
    ramp, is lightened less than full metal."""
    from dataclasses import replace

    style = ColourStyle()
    light = replace(style, metal_gamma=0.65)

    def value(z: float, s: ColourStyle) -> int:
        rgb = false_colour(np.array([[0.1]], np.float32), np.array([[z]], np.float32), s)
        return int(rgb.max())

    assert value(26.0, light) > value(26.0, style) + 15
    assert value(7.0, light) == value(7.0, style)
    assert value(26.0, style) < value(18.0, light) < value(26.0, light)
    assert light.jittered(np.random.default_rng(0)).metal_gamma == 0.65

    from engine.config import ConfigError, load_config
    from engine.synth.dataset import SynthConfig

    with pytest.raises(ConfigError, match="metal_gamma"):
        load_config(SynthConfig, None, ["colour.metal_gamma=0"])


def test_a_console_spreads_metal_s_brightness_linearly_with_attenuation():
    """`metal_slope` (simulator v2.37): steel's brightness falls by `metal_slope` a unit of
    attenuation, so thin steel is lighter and thick steel darker than under the power curve
    and each step of attenuation darkens it alike; organics keep their brightness; Zeff 18,
    halfway up the ramp, lies between the two curves."""
    from dataclasses import replace

    style = replace(ColourStyle(), metal_gamma=0.65, gain=1.0)
    linear = replace(style, metal_slope=0.16, metal_white=0.6)

    def value(t: float, z: float, s: ColourStyle) -> float:
        rgb = false_colour(np.array([[t]], np.float32), np.array([[z]], np.float32), s)
        return rgb.max() / 255.0

    ts = np.exp(-np.array([1.6, 2.8, 4.4]))
    steel = [value(t, 26.0, linear) for t in ts]
    assert steel == pytest.approx([1 - 0.16 * (a - 0.6) for a in (1.6, 2.8, 4.4)], abs=0.01)
    assert steel[0] > value(ts[0], 26.0, style) and steel[2] < value(ts[2], 26.0, style)
    assert value(0.9, 26.0, linear) == 1.0  # thinner than `metal_white`: white, not above
    assert value(ts[1], 7.0, linear) == value(ts[1], 7.0, style)
    low, high = sorted((value(ts[2], 18.0, style), steel[2]))
    assert low + 0.01 < value(ts[2], 18.0, linear) < high - 0.01
    assert linear.jittered(np.random.default_rng(0)).metal_slope == 0.16

    from engine.config import ConfigError, load_config
    from engine.synth.dataset import SynthConfig

    with pytest.raises(ConfigError, match="metal_slope"):
        load_config(SynthConfig, None, ["colour.metal_slope=-0.1"])


def test_metal_s_linear_curve_has_a_floor_and_may_vary_with_the_jitter():
    """`metal_floor` (v2.40): dense steel is painted no darker than the floor, thin steel as
    before; `metal_jitter`: a jittered style varies `metal_slope` by the factor it varies
    `gamma` by, drawing nothing more, so every other jittered field is as without it."""
    from dataclasses import replace

    linear = replace(ColourStyle(), metal_slope=0.16, metal_white=0.6, gain=1.0)
    floored = replace(linear, metal_floor=0.2)

    def value(t: float, s: ColourStyle) -> float:
        rgb = false_colour(np.array([[t]], np.float32), np.array([[26.0]], np.float32), s)
        return rgb.max() / 255.0

    dense = np.exp(-6.0)  # just penetrable (T_high 0.0025)
    assert value(dense, linear) == pytest.approx(1 - 0.16 * 5.4, abs=0.005)  # 0.14: near black
    assert value(dense, floored) == pytest.approx(0.2, abs=0.005)
    assert value(np.exp(-2.0), floored) == value(np.exp(-2.0), linear)
    rng_plain, rng_varied = np.random.default_rng(4), np.random.default_rng(4)
    plain = linear.jittered(rng_plain)
    varied = replace(linear, metal_jitter=True).jittered(rng_varied)
    assert rng_plain.bit_generator.state == rng_varied.bit_generator.state  # nothing more drawn
    assert plain.metal_slope == 0.16
    assert varied.metal_slope == pytest.approx(0.16 * plain.gamma / linear.gamma)
    assert replace(varied, metal_slope=0.16, metal_jitter=False) == plain


def test_jittered_gain_follows_the_styles_gain():
    """`gain` moves a simulated console's brightness: the jitter's 1.0-1.08 is scaled by
    `gain` / 1.05, so the default (every version's) draws the same numbers as before, and a
    brighter style's scans come out brighter (until stop 62 the style's gain was dropped)."""
    from dataclasses import replace

    from engine.colour import DEFAULT_GAIN, SIM_STYLE

    def gains(style):
        return np.array([style.jittered(np.random.default_rng(seed)).gain for seed in range(50)])

    assert SIM_STYLE.gain == DEFAULT_GAIN
    plain = gains(SIM_STYLE)
    draws = []
    for seed in range(50):  # the draws written out: `gain` is drawn after the hue,
        rng = np.random.default_rng(seed)  # saturation and gamma draws
        rng.normal(size=1 + len(SIM_STYLE.hue))
        rng.uniform(size=len(SIM_STYLE.saturation_max) + len(SIM_STYLE.saturation_scale) + 1)
        draws.append(rng.uniform(1.0, 1.08))
    assert np.array_equal(plain, draws)
    brighter = gains(replace(SIM_STYLE, gain=1.10))
    assert np.allclose(brighter, plain * 1.10 / 1.05)
    t, zeff = np.full((8, 8), 0.3, np.float32), np.full((8, 8), 7.0, np.float32)
    dull, bright = (
        false_colour(t, zeff, style=style.jittered(np.random.default_rng(3)))
        for style in (SIM_STYLE, replace(SIM_STYLE, gain=1.10))
    )
    assert bright.max(axis=-1).mean() > dull.max(axis=-1).mean()  # HSV's V
