"""Threat image projection: per-channel multiplication, Zeff and colour, colour-only estimate."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from engine.colour import METAL, ORGANIC, false_colour, material_classes, material_classes_from_hue
from engine.io import Scan, ScanMeta, load_scan
from engine.synth.objects import build, insert_anomaly
from engine.synth.scanner import Scanner
from engine.synth.tip import ThreatObject, extract_object, project, render_object

H, W = 40, 56  # scan size of the synthetic tests


@pytest.fixture(scope="module")
def scanner() -> Scanner:
    return Scanner()


def _dual_scan(scanner: Scanner, material: str | None = None, cm: float = 0.0) -> Scan:
    """A uniform slab of `material` (or air) as a noiseless dual-energy scan."""
    maps = {material or "water": np.full((H, W), cm if material else 0.0, np.float32)}
    low, high = scanner.transmissions(maps)
    zeff = scanner.zeff(low, high)
    meta = ScanMeta("<test>", "simulated", "float32", (W, H))
    return Scan(false_colour(high, zeff), meta, low=low, high=high, zeff=zeff)


def _slab_object(scanner: Scanner, material: str, cm: float, h: int = 12, w: int = 16):
    """A flat box of `material` with 2 px of air around it."""
    thickness = np.zeros((h, w), np.float32)
    thickness[2:-2, 2:-2] = cm
    low, high = scanner.transmissions({material: thickness})
    mask = thickness > 0
    low, high = (np.where(mask, t, 1.0).astype(np.float32) for t in (low, high))
    return ThreatObject(low, high, mask, zeff=scanner.zeff(low, high), name=material)


def _interior(mask: np.ndarray, px: int = 3) -> np.ndarray:
    """The mask shrunk by `px` pixels, away from the smoothed Zeff at its edges."""
    return cv2.erode(mask.astype(np.uint8), np.ones((2 * px + 1, 2 * px + 1), np.uint8)) > 0


def _assert_outside_unchanged(old: Scan, new: Scan, mask: np.ndarray) -> None:
    assert np.array_equal(new.image[~mask], old.image[~mask])
    for name in ("low", "high", "zeff"):
        if getattr(old, name) is not None:
            assert np.array_equal(getattr(new, name)[~mask], getattr(old, name)[~mask]), name


def test_projection_into_air_reproduces_the_object(scanner):
    scan = _dual_scan(scanner)
    obj = _slab_object(scanner, "aluminium", 0.5)
    new, mask = project(scan, obj, (5, 7), scanner=scanner)
    window = (slice(7, 7 + 12), slice(5, 5 + 16))
    assert np.array_equal(mask[window], obj.mask) and mask.sum() == obj.mask.sum()
    assert np.array_equal(new.low[window], obj.low)
    assert np.array_equal(new.high[window], obj.high)


def test_projection_multiplies_per_channel(scanner):
    scan = _dual_scan(scanner, "water", 3.0)
    obj = _slab_object(scanner, "abs", 2.0)
    new, mask = project(scan, obj, (20, 10), scanner=scanner)
    region = (slice(10, 22), slice(20, 36))
    for channel in ("low", "high"):
        bag, t_obj = getattr(scan, channel)[region], getattr(obj, channel)
        expected = np.where(obj.mask, bag * t_obj, bag)
        assert np.array_equal(getattr(new, channel)[region], expected)  # exactly the product
        ln_sum = np.log(bag) + np.log(t_obj)
        assert np.allclose(np.log(getattr(new, channel)[region]), ln_sum, atol=1e-6)
    _assert_outside_unchanged(scan, new, mask)


def test_alpha_scales_the_attenuation(scanner):
    scan = _dual_scan(scanner)
    obj = _slab_object(scanner, "water", 2.0)
    new, mask = project(scan, obj, (0, 0), alpha=2.0, scanner=scanner)
    for channel in ("low", "high"):
        got = -np.log(getattr(new, channel)[mask])
        want = -2.0 * np.log(getattr(obj, channel)[obj.mask])
        assert got == pytest.approx(want, rel=1e-5)


def test_inputs_are_untouched_and_outside_is_bit_identical(scanner):
    scan = _dual_scan(scanner, "water", 4.0)
    before = {n: getattr(scan, n).copy() for n in ("image", "low", "high", "zeff")}
    obj = _slab_object(scanner, "steel", 0.3)
    obj_low = obj.low.copy()
    new, mask = project(scan, obj, (30, 20), alpha=1.5, scanner=scanner)
    for name, arr in before.items():
        assert np.array_equal(getattr(scan, name), arr), name
    assert np.array_equal(obj.low, obj_low)
    _assert_outside_unchanged(scan, new, mask)
    assert (new.high[mask] < scan.high[mask]).all()


def test_steel_in_water_shows_as_metal(scanner):
    scan = _dual_scan(scanner, "water", 2.0)
    obj = _slab_object(scanner, "steel", 0.4, h=20, w=24)
    new, mask = project(scan, obj, (16, 10), scanner=scanner)
    inner = _interior(mask)
    assert inner.sum() > 50
    assert (material_classes(scan.zeff) == ORGANIC).all()
    assert (material_classes(new.zeff)[inner] == METAL).all()
    assert (material_classes_from_hue(new.image)[inner] == METAL).all()  # blue
    assert (material_classes_from_hue(new.image)[~mask] == ORGANIC).all()


def test_extract_recovers_a_projected_object(scanner):
    scan = _dual_scan(scanner, "water", 5.0)
    obj = _slab_object(scanner, "copper", 0.1)
    new, mask = project(scan, obj, (12, 9), scanner=scanner)
    for given in (mask, None):  # the landing mask, then the threshold's own
        back = extract_object(new.low, new.high, scan.low, scan.high, mask=given)
        assert np.array_equal(back.mask, obj.mask[2:-2, 2:-2])
        for channel in ("low", "high"):
            got = np.log(getattr(back, channel)[back.mask])
            want = np.log(getattr(obj, channel)[obj.mask])
            assert np.abs(got - want).max() < 1e-4


def test_colour_only_scan_gets_the_estimate(scanner):
    dual = _dual_scan(scanner, "water", 2.0)
    scan = Scan(dual.image.copy(), dual.meta)
    image = scan.image.copy()
    obj = _slab_object(scanner, "steel", 0.4, h=20, w=24)
    new, mask = project(scan, obj, (16, 10), scanner=scanner)
    assert np.array_equal(scan.image, image)
    assert not new.has_dual_energy
    grey_before = scan.image[mask].astype(float).sum(-1)
    grey_after = new.image[mask].astype(float).sum(-1)
    assert (grey_after < grey_before).all()  # darker where the object lies
    assert (material_classes_from_hue(new.image)[_interior(mask, 1)] == METAL).all()
    _assert_outside_unchanged(scan, new, mask)
    assert json.loads(new.meta.extra["tip"])[0]["method"] == "colour-estimate"


def test_colour_only_with_an_object_without_zeff(scanner):
    dual = _dual_scan(scanner, "water", 1.0)
    scan = Scan(dual.image, dual.meta)
    obj = _slab_object(scanner, "water", 3.0)
    plain = ThreatObject(obj.low, obj.high, obj.mask, name="no-zeff")
    new, mask = project(scan, plain, (3, 3), scanner=scanner)
    assert (material_classes_from_hue(new.image)[mask] == ORGANIC).all()
    assert (new.image[mask].sum(-1) < scan.image[mask].sum(-1)).all()


def test_dual_energy_scan_without_zeff_keeps_it_absent(scanner):
    dual = _dual_scan(scanner, "water", 2.0)
    scan = Scan(dual.image, dual.meta, low=dual.low, high=dual.high)
    new, mask = project(scan, _slab_object(scanner, "steel", 0.4, h=20, w=24), (0, 0))
    assert new.zeff is None and new.has_dual_energy
    assert (material_classes_from_hue(new.image)[_interior(mask)] == METAL).all()
    _assert_outside_unchanged(scan, new, mask)


@pytest.mark.parametrize("at", [(-5, -3), (50, 35), (-4, 30)])
def test_object_over_the_border_is_cropped(scanner, at):
    scan = _dual_scan(scanner, "water", 1.0)
    obj = _slab_object(scanner, "aluminium", 1.0)
    new, mask = project(scan, obj, at, scanner=scanner)
    assert 0 < mask.sum() < obj.mask.sum()
    _assert_outside_unchanged(scan, new, mask)
    assert (new.high[mask] < scan.high[mask]).all()


def test_meta_records_every_insertion(scanner):
    scan = _dual_scan(scanner, "water", 1.0)
    obj = _slab_object(scanner, "steel", 0.2)
    once, _ = project(scan, obj, (1, 2), scanner=scanner)
    twice, _ = project(once, obj, (30, 20), alpha=0.5, scanner=scanner)
    records = json.loads(twice.meta.extra["tip"])
    assert [(r["x"], r["y"], r["alpha"]) for r in records] == [(1, 2, 1.0), (30, 20, 0.5)]
    assert records[0]["name"] == "steel" and records[0]["method"] == "dual-energy"
    assert "tip" not in scan.meta.extra and twice.meta.path == scan.meta.path


def test_bad_inputs_raise_clear_errors(scanner):
    ones = np.ones((4, 5), np.float32)
    half = np.full((4, 5), 0.5, np.float32)
    mask = np.ones((4, 5), bool)
    with pytest.raises(ValueError, match="same shape"):
        ThreatObject(half, np.full((4, 6), 0.5, np.float32), mask)
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        ThreatObject(half * 3, half, mask)
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        ThreatObject(half, half * 0, mask)
    with pytest.raises(ValueError, match="NaN"):
        ThreatObject(np.full((4, 5), np.nan, np.float32), half, mask)
    with pytest.raises(ValueError, match="empty"):
        ThreatObject(half, half, np.zeros((4, 5), bool))
    with pytest.raises(ValueError, match="shape"):
        extract_object(half, half, ones, np.ones((5, 5), np.float32))
    with pytest.raises(ValueError, match="no object found"):
        extract_object(half, half, half, half)
    with pytest.raises(ValueError, match="mask has shape"):
        extract_object(half, half, ones, ones, mask=np.ones((2, 2), bool))
    scan = _dual_scan(scanner)
    obj = ThreatObject(half, half, mask)
    with pytest.raises(ValueError, match="does not overlap"):
        project(scan, obj, (W + 3, 0), scanner=scanner)
    with pytest.raises(ValueError, match="alpha"):
        project(scan, obj, (0, 0), alpha=0.0, scanner=scanner)


def test_render_object_of_a_mobile(scanner):
    obj = render_object(build("mobile", np.random.default_rng(3)), scanner)
    assert obj.mask.any() and obj.name == "mobile"
    for t in (obj.low, obj.high):
        assert (t[obj.mask] < 1).all() and (t[~obj.mask] == 1).all()
    # margin of 2 px of air all round, and no pixel outside the footprint lost
    assert not obj.mask[:2].any() and not obj.mask[-2:].any()
    assert not obj.mask[:, :2].any() and not obj.mask[:, -2:].any()
    assert obj.zeff is not None and obj.zeff.shape == obj.shape


def test_render_object_rotation_turns_the_footprint(scanner):
    model = build("mobile", np.random.default_rng(3))
    flat = render_object(model, scanner)
    turned = render_object(model, scanner, rotation=np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1.0]]))
    assert turned.shape == pytest.approx(flat.shape[::-1], abs=2)


def test_knife_projected_into_a_real_colour_scan(scanner, shared_data):
    scan = load_scan(shared_data / "sixray" / "P02104.png")
    image = scan.image.copy()
    rng = np.random.default_rng(7)
    knife = render_object(insert_anomaly(build("laptop", rng), "knife", rng), scanner)
    new, mask = project(scan, knife, (100, 80), scanner=scanner)
    assert np.array_equal(scan.image, image)
    assert mask.any()
    changed = (new.image != scan.image).any(-1)
    assert not changed[~mask].any()
    assert changed[mask].mean() > 0.5
    assert json.loads(new.meta.extra["tip"])[0]["name"] == "laptop+knife"
