"""Scanner physics: attenuation tables, detector layers, binning error, Zeff calibration, noise."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from engine.colour import INORGANIC, METAL, ORGANIC, material_classes
from engine.synth.materials import MATERIALS, material_mu
from engine.synth.scanner import Scanner, ScannerConfig

# μ (1/cm) at 40, 80, 120 keV from ../shared/physics.md section 5 (NIST-based).
REFERENCE_MU = {
    "water": (0.268, 0.184, 0.161),
    "polyethylene": (0.216, 0.173, 0.155),
    "pvc": (1.015, 0.319, 0.232),
    "pet": (0.318, 0.234, 0.208),
    "aluminium": (1.535, 0.545, 0.414),
    "steel": (28.49, 4.673, 2.114),
    "copper": (43.56, 6.837, 2.862),
    "li_ion": (4.285, 0.901, 0.516),
    "ndfeb": (31.86, 13.98, 5.167),
    "rubber": (0.489, 0.228, 0.186),
    "marzipan": (0.311, 0.221, 0.195),
}


@pytest.fixture(scope="module")
def scanner() -> Scanner:
    return Scanner()


@pytest.mark.parametrize("name", list(REFERENCE_MU))
def test_material_attenuation_matches_reference_table(name):
    mu = material_mu(name, np.array([40.0, 80.0, 120.0]))
    assert mu == pytest.approx(REFERENCE_MU[name], rel=0.015)


def test_every_material_has_positive_falling_attenuation():
    energies = np.array([30.0, 60.0, 100.0])
    for name in MATERIALS:
        mu = material_mu(name, energies)
        assert (mu > 0).all(), name
    with pytest.raises(KeyError, match="water"):
        material_mu("unobtainium", 50.0)


def test_sandwich_detector_mean_energies(scanner):
    # physics.md: at 140 kV with 2 mm Al, ~58 keV in the front layer and ~88 keV in the back.
    assert scanner.front.mean_energy == pytest.approx(58, abs=3)
    assert scanner.back.mean_energy == pytest.approx(88, abs=3)
    assert len(scanner.front.bin_weights) == 16
    for layer in (scanner.front, scanner.back):  # equal-signal bins, but a tungsten K line
        assert layer.bin_weights.sum() == pytest.approx(1.0)  # is one grid point: not split
        assert layer.bin_weights.max() < 2.5 / 16


def test_air_is_fully_transmitting(scanner):
    t_low, t_high = scanner.transmissions({"water": np.zeros((2, 2))})
    assert np.allclose(t_low, 1) and np.allclose(t_high, 1)


@pytest.mark.parametrize(("material", "cm"), [("water", 5), ("aluminium", 2), ("steel", 0.2)])
def test_sixteen_bins_stay_within_one_percent_of_the_fine_spectrum(scanner, material, cm):
    binned = scanner.transmissions({material: np.array([cm])})
    exact = scanner.transmissions({material: np.array([cm])}, exact=True)
    for b, e in zip(binned, exact, strict=True):
        assert abs(np.log(b[0]) - np.log(e[0])) < 0.01 * abs(np.log(e[0]))


def test_low_energy_layer_is_attenuated_more_and_more_so_for_metal(scanner):
    water = scanner.transmissions({"water": np.array([5.0])})
    steel = scanner.transmissions({"steel": np.array([0.2])})
    ratio = [np.log(t_lo[0]) / np.log(t_hi[0]) for t_lo, t_hi in (water, steel)]
    assert water[0][0] < water[1][0]
    assert ratio[1] > ratio[0] + 0.3


@pytest.mark.parametrize(
    ("material", "cm"),
    [
        ("water", 1),
        ("water", 20),
        ("aluminium", 2),
        ("steel", 0.2),
        ("steel", 2),
        ("copper", 0.1),
        ("pvc", 1),
        ("abs_pvc", 2),
        ("li_ion", 0.5),
    ],
)
def test_zeff_calibration_recovers_nominal_zeff(scanner, material, cm):
    t_low, t_high = scanner.transmissions({material: np.full((3, 3), float(cm))})
    z = scanner.zeff(t_low.astype(np.float32), t_high.astype(np.float32), smooth_px=0)
    assert float(z[1, 1]) == pytest.approx(MATERIALS[material].zeff, abs=0.6)


def test_material_classes_from_rendered_zeff(scanner):
    maps = {m: np.zeros((12, 36)) for m in ("water", "aluminium", "steel")}
    maps["water"][:, :12], maps["aluminium"][:, 12:24], maps["steel"][:, 24:] = 5.0, 1.0, 0.3
    t_low, t_high = scanner.render(maps)
    classes = material_classes(scanner.zeff(t_low, t_high, smooth_px=0))
    assert classes[6, [6, 18, 30]].tolist() == [ORGANIC, INORGANIC, METAL]


def test_photon_noise_matches_its_model_and_is_seeded():
    quiet = Scanner(
        replace(ScannerConfig(), blur_front_px=0, blur_back_px=0, electronic_noise=0, gain_error=0)
    )
    slab = {"water": np.full((128, 128), 5.0)}
    t_low, t_high = quiet.render(slab, np.random.default_rng(0))
    clean_low, _ = quiet.transmissions(slab)
    expected_sd = np.sqrt(
        (quiet.front.bin_noise_weights * np.exp(-quiet._bin_mu("water")[0] * 5.0)).sum()
        / quiet.config.photons_per_pixel
    )
    assert t_low.mean() == pytest.approx(clean_low.mean(), rel=0.01)
    assert t_low.std() == pytest.approx(expected_sd, rel=0.1)
    again, _ = quiet.render(slab, np.random.default_rng(0))
    assert np.array_equal(t_low, again)
    assert t_high.std() > 0


def test_gain_errors_make_streaks_along_the_belt():
    streaky = Scanner(
        replace(
            ScannerConfig(),
            gain_error=0.01,
            electronic_noise=0,
            photons_per_pixel=1e9,
            blur_front_px=0,
            blur_back_px=0,
        )
    )
    t_low, _ = streaky.render({"water": np.full((64, 64), 2.0)}, np.random.default_rng(1))
    assert t_low.std(axis=0).mean() < 0.2 * t_low.mean(axis=0).std()


def test_a_line_dip_is_one_band_across_every_channel_on_numbers_of_its_own():
    """`line_dips`: a scan that draws a dip holds one band of lines, as wide and as deep as
    `LINE_DIP_*` says, dimmed alike on every channel (air included) and at both energies, its
    middle 40-70 % of the way down; the rest of the scan is the same to the bit, and so are
    the random numbers left for what follows; about that share of scans draws one."""
    from engine.synth.scanner import LINE_DIP_DEPTH, LINE_DIP_SIGMA

    quiet = dict(electronic_noise=0, photons_per_pixel=1e9, blur_front_px=0, blur_back_px=0)
    plain = Scanner(replace(ScannerConfig(), **quiet))
    dipped = Scanner(replace(ScannerConfig(), line_dips=1.0, **quiet))
    height = 1000
    maps = {"water": np.pad(np.full((height, 6), 3.0), ((0, 0), (4, 4)))}  # air either side
    for seed in range(3):
        rng_a, rng_b = np.random.default_rng(seed), np.random.default_rng(seed)
        low, high = plain.render(maps, rng_a)
        low_d, high_d = dipped.render(maps, rng_b)
        assert rng_a.random() == rng_b.random()  # the dip drew on numbers of its own
        for clean, dim in ((low, low_d), (high, high_d)):
            ratio = dim[:, 4:10] / clean[:, 4:10]  # under the water: nothing clipped
            per_line = ratio.mean(axis=1)
            np.testing.assert_allclose(ratio, per_line[:, None] * np.ones_like(ratio), rtol=1e-5)
            loss = 1 - per_line
            middle = int(np.argmax(loss))
            assert 0.4 * height <= middle < 0.7 * height
            assert LINE_DIP_DEPTH[0] - 1e-4 <= loss.max() <= LINE_DIP_DEPTH[1] + 1e-4
            half = np.nonzero(loss > loss.max() / 2)[0]  # full width at half depth: 2.355 σ
            sigma = len(half) / 2.355
            assert LINE_DIP_SIGMA[0] * height - 1.5 <= sigma <= LINE_DIP_SIGMA[1] * height + 1.5
            band = loss > 0.01
            assert (dim[band][:, :4] < clean[band][:, :4]).all()  # air dims too
            assert np.array_equal(clean[loss == 0.0], dim[loss == 0.0])
    assert np.array_equal(dipped.render(maps)[0], plain.render(maps)[0])  # noiseless: no dip
    sometimes = Scanner(replace(ScannerConfig(), line_dips=0.25, **quiet))
    small = {"water": np.full((40, 4), 1.0)}
    clean = plain.render(small, np.random.default_rng(0))[0]
    dips = sum(
        not np.array_equal(
            sometimes.render(small, np.random.default_rng(k))[0],
            plain.render(small, np.random.default_rng(k))[0],
        )
        for k in range(200)
    )
    assert 30 <= dips <= 70 and clean.shape == (40, 4)  # about a quarter of 200 scans


def test_false_colour_of_rendered_materials(scanner):
    maps = {"water": np.pad(np.full((8, 8), 6.0), 8), "steel": np.zeros((24, 24))}
    maps["steel"][:4, :4] = 0.4
    rgb = scanner.false_colour(*scanner.render(maps))
    hue = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV_FULL)[..., 0].astype(float) * 360 / 256
    assert 15 < hue[12, 12] < 50  # water: orange
    assert 180 < hue[1, 1] < 260  # steel: blue
    assert rgb[20, 20].min() > 235  # air: white


# ----- basis-material rendering (physics.md §2) -----------------------------------------------
def _bag_with_every_material() -> dict[str, np.ndarray]:
    """A composed bag's maps, plus a band of each material rising to opaque over the bag."""
    from engine.synth.bag import BagConfig, compose_bag

    config = BagConfig(
        width=200,
        height=150,
        pitch_cm=0.3,
        lengthwise_share=0.0,
        frame_to_bag=None,
        pair_share=0,
        belt_across_image=False,
    )  # 200 wide (as drawn: turned for export it would be 150), one bag
    bag = compose_bag(np.random.default_rng(5), config)
    maps = {m: t.copy() for m, t in bag.canvas.maps.items()}
    rows = np.array_split(np.arange(150), len(MATERIALS))
    for band, name in zip(rows, MATERIALS, strict=True):
        ramp = np.geomspace(1e-3, 1.0, 200, dtype=np.float32)  # thin to thick across the band
        t_opaque = 12.0 / float(material_mu(name, np.array([100.0]))[0])  # ln(65535) ≈ 11
        band_map = maps.setdefault(name, np.zeros((150, 200), np.float32))
        band_map[band] += ramp * t_opaque
    return maps


@pytest.mark.parametrize("kvp", [120.0, 140.0, 160.0])
def test_basis_materials_render_like_every_material_alone(kvp):
    maps = _bag_with_every_material()
    fast = Scanner(ScannerConfig(kvp=kvp)).transmissions(maps)
    exact = Scanner(ScannerConfig(kvp=kvp, basis_materials=False)).transmissions(maps)
    floor = 1 / 65535  # the 16-bit files hold nothing darker
    for t_fast, t_exact in zip(fast, exact, strict=True):
        difference = np.abs(np.log(np.clip(t_fast, floor, 1)) - np.log(np.clip(t_exact, floor, 1)))
        assert difference.max() < 0.002
        assert (t_exact > 0.01).sum() > 1000 and (t_exact < 1e-4).any()  # a range of depths


def test_materials_with_an_absorption_edge_keep_their_own_channel(scanner):
    from engine.synth.scanner import BASIS_MATERIALS

    for name in ("ndfeb", "csi", "fr4"):  # Nd K edge 43.6 keV, Cs/I 36/33 keV, Br 13.5 keV
        assert scanner.basis_mix(name) is None, name
    for name in ("water", "cotton", "pvc", "glass", "stainless", "brass", "li_ion"):
        assert scanner.basis_mix(name) is not None, name
    for k, name in enumerate(BASIS_MATERIALS):
        assert np.array_equal(scanner.basis_mix(name), np.eye(len(BASIS_MATERIALS))[k])
    names, mix = scanner.channels(["water", "ndfeb", "steel"])
    assert names == [*BASIS_MATERIALS, "ndfeb"] and mix.shape == (5, 3)
    assert mix[4].tolist() == [0, 1, 0] and mix[:4, 1].tolist() == [0, 0, 0, 0]


def test_per_material_rendering_is_the_plain_matrix_product():
    exact = Scanner(ScannerConfig(basis_materials=False))
    maps = {"water": np.full((3, 4), 5.0), "steel": np.full((3, 4), 0.2)}
    t_low, t_high = exact.transmissions(maps)
    for t, layer, mu in ((t_low, exact.front, 0), (t_high, exact.back, 1)):
        attenuation = exact._bin_mu("water")[mu] * 5.0 + exact._bin_mu("steel")[mu] * 0.2
        assert t[0, 0] == pytest.approx((layer.bin_weights * np.exp(-attenuation)).sum(), rel=1e-5)


@pytest.mark.slow
def test_spectra_come_back_the_same_from_the_disk_cache(tmp_path, monkeypatch):
    from engine.synth import scanner as module

    monkeypatch.setenv("XRAY_SYNTH_CACHE", str(tmp_path))
    monkeypatch.setattr(module, "_tube_spectra", {})
    first = module._tube_spectrum(130.0, 12.0, 2.0)
    assert len(list(tmp_path.glob("spectrum-*.npy"))) == 1
    monkeypatch.setattr(module, "_tube_spectra", {})
    again = module._tube_spectrum(130.0, 12.0, 2.0)  # read back, not recomputed
    fresh = module._spekpy_spectrum(130.0, 12.0, 2.0)
    for a, b, c in zip(first, again, fresh, strict=True):
        assert np.array_equal(a, b) and np.array_equal(a, c)
    monkeypatch.setenv("XRAY_SYNTH_CACHE", "")  # "" turns the disk cache off
    monkeypatch.setattr(module, "_tube_spectra", {})
    module._tube_spectrum(131.0, 12.0, 2.0)
    assert len(list(tmp_path.glob("spectrum-*.npy"))) == 1


def test_element_by_element_attenuation_is_xraydb_to_the_bit():
    import xraydb

    from engine.synth.materials import formula_mass_mu

    energies = np.arange(10.0, 160.0, 0.5)
    formulas = {f for m in MATERIALS.values() for f, _ in m.composition} | {"C2H4", "Fe", "B"}
    for formula in sorted(formulas):
        ours = formula_mass_mu(formula, energies)
        theirs = xraydb.material_mu(formula, energies * 1000, density=1.0)
        assert np.array_equal(ours, theirs), formula


def test_display_zeff_keeps_a_thin_wire_s_zeff_where_much_gets_through_and_averages_dense():
    """`zeff_fine`: on a scan of coarse pixels, a thin steel wire over thin cloth keeps more of
    its Zeff than one image pixel's smoothing leaves it, while under a dense slab (T_high
    under 0.15) Zeff is smoothed as before, to the bit; without it, `zeff` as it was."""
    coarse = Scanner(ScannerConfig())
    fine = Scanner(replace(ScannerConfig(), zeff_fine=True))
    cloth = np.full((40, 60), 1.0, np.float32)
    wire = np.zeros((40, 60), np.float32)
    wire[:, 20] = 0.15  # one pixel wide, 1.5 mm of steel
    slab = np.zeros((40, 60), np.float32)
    slab[:, 40:] = 12.0  # water: T_high well under 0.15
    maps = {"cotton": cloth, "steel": wire, "water": slab}
    low, high = coarse.render(maps)
    z_old = coarse.zeff(low, high)
    assert np.array_equal(coarse.display_zeff(low, high, 0.16), z_old)
    assert np.array_equal(fine.display_zeff(low, high), z_old)  # no pitch: as before
    z_new = fine.display_zeff(low, high, 0.16)
    assert z_new[:, 20].mean() > z_old[:, 20].mean() + 1.0
    dense = high < 0.1
    assert dense[:, 45:].all() and np.array_equal(z_new[:, 45:], z_old[:, 45:])


def test_a_turned_export_has_its_detector_channels_down_the_image():
    """`belt_across`: the maps are an export turned a quarter, so each row is a detector
    channel: a channel's gain error streaks along a row, and the fan's weak edges are the top
    and bottom rows. Unturned, the streaks run down the columns."""
    from dataclasses import replace

    scanner = Scanner(replace(ScannerConfig(), gain_error=0.05, line_dips=0.0))
    maps = {"water": np.full((120, 160), 5.0, np.float32)}
    for turned in (False, True):
        t_low, _ = scanner.render(maps, np.random.default_rng(3), belt_across=turned)
        rows, cols = t_low.mean(axis=1).std(), t_low.mean(axis=0).std()
        streaks, even = (rows, cols) if turned else (cols, rows)
        assert streaks > 4 * even, (turned, rows, cols)
    quiet = Scanner(replace(ScannerConfig(), gain_error=0.0, electronic_noise=0.0))
    t_low, _ = quiet.render(maps, np.random.default_rng(4), belt_across=True)
    noise = np.abs(np.diff(t_low, axis=1))  # along the belt: photon noise only
    assert noise[:10].mean() > 1.1 * noise[55:65].mean()  # fewer photons at the fan's edge
