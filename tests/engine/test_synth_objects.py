"""The six object classes and their concealed anomalies, drawn with exact masks."""

from __future__ import annotations

import numpy as np
import pytest

from engine.synth.objects import ANOMALY_TYPES, CATEGORIES, build, draw, insert_anomaly, place
from engine.synth.parts import shell
from engine.synth.shapes import Box, Canvas, FanBeam, Part, rotation

PITCH = 0.15


def _placed(category, seed, anomaly=None):
    rng = np.random.default_rng(seed)
    model = build(category, rng)
    if anomaly:
        model = insert_anomaly(model, anomaly, rng)
    return place(model, (30.0, 30.0, 12.0), rotation(0.2, -0.15, rng.uniform(0, np.pi)))


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_class_builds_and_draws_inside_its_mask(category):
    canvas = Canvas(400, 400, PITCH)
    drawn = draw(canvas, _placed(category, 1))
    instance = drawn.instance
    assert drawn.anomaly is None
    assert instance.sum() > 100
    total = sum(canvas.maps.values())
    assert not (total[~instance] > 0).any()  # nothing drawn outside the instance mask
    assert len(canvas.maps) >= 3  # internals of several materials


@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize("kind", ANOMALY_TYPES)
def test_anomalies_sit_inside_their_host(category, kind):
    model = _placed(category, 2, kind)
    assert model.anomalous and model.anomaly_type == kind
    host = Canvas(400, 400, PITCH)
    host.draw(model.parts)
    canvas = Canvas(400, 400, PITCH)
    anomaly = draw(canvas, model).anomaly
    assert anomaly is not None and anomaly.sum() > 0
    inside = (anomaly & host.footprint()).sum() / anomaly.sum()
    assert inside > 0.9, f"{kind} in {category}: {inside:.0%} inside"


def test_anomaly_displaces_internals_but_keeps_the_shell():
    rng = np.random.default_rng(5)
    laptop = build("laptop", rng)
    with_block = insert_anomaly(laptop, "marzipan", np.random.default_rng(6))
    roles = [p.role for p in with_block.parts]
    assert roles.count("case") == 2 and "screen" in roles  # the shell and the screen stay
    assert len(with_block.parts) <= len(laptop.parts)
    assert not laptop.anomalous  # the original is untouched


def test_same_seed_same_object_and_sizes_vary():
    a, b = build("laptop", np.random.default_rng(9)), build("laptop", np.random.default_rng(9))
    assert a.size == b.size and len(a.parts) == len(b.parts)
    sizes = {build("laptop", np.random.default_rng(s)).size[0] for s in range(12)}
    assert len(sizes) > 2  # 13" to 17"


def test_unknown_names_list_the_known_ones():
    with pytest.raises(KeyError, match="laptop"):
        build("kettle", np.random.default_rng(0))
    with pytest.raises(ValueError, match="marzipan"):
        insert_anomaly(build("iron", np.random.default_rng(0)), "cheese", np.random.default_rng(0))


def test_carving_a_cavity_spares_other_objects_of_the_same_material():
    # Two ABS items overlap: hollowing the second must not eat the first (drawn in windows).
    canvas = Canvas(200, 200, 0.1)
    canvas.draw([Part("slab", "abs", Box((10.0, 10.0, 2.0), size=(8.0, 8.0, 1.0)))])
    canvas.draw(shell("case", "abs", (6.0, 6.0, 3.0), 0.2, center=(10.0, 10.0, 6.0)))
    assert canvas.maps["abs"][100, 100] == pytest.approx(1.0 + 0.4, abs=1e-4)


def test_fan_beam_stretches_low_objects_more_than_high_ones():
    fan = FanBeam(source_cm=100.0, stretch=1.2, apex_cm=0.0)
    widths = []
    for z in (1.0, 25.0):
        canvas = Canvas(60, 600, 0.1, fan)
        canvas.add("steel", Box((20.0, 3.0, z), size=(10.0, 2.0, 0.2)))
        widths.append(canvas.footprint("steel")[30].sum() * 0.1)
    assert widths[0] == pytest.approx(10 * 1.2 * 100 / 101, rel=0.03)
    assert widths[1] == pytest.approx(10 * 1.2 * 100 / 125, rel=0.03)


# ----- product designs ------------------------------------------------------------------------
def _layout(model):
    """Every part as (role, material, sign, centre rounded to 0.1 mm): a design's fingerprint."""
    from engine.synth.objects import _centre_of

    return sorted(
        (p.role, p.material, p.sign, tuple(np.round(_centre_of(p), 2))) for p in model.parts
    )


@pytest.mark.parametrize("category", CATEGORIES)
def test_one_design_gives_the_same_layout_in_any_bag_and_any_seed(category):
    a = build(category, np.random.default_rng(1), design=3, tolerance_cm=0)
    b = build(category, np.random.default_rng(99), design=3, tolerance_cm=0)
    assert a.design == b.design == f"{category}/03" and a.size == b.size
    stateful = {"liquid", "tank", "carriage"}  # fill level, water, the lever: the unit's own
    assert [x for x in _layout(a) if x[0] not in stateful] == [
        x for x in _layout(b) if x[0] not in stateful
    ]
    other = build(category, np.random.default_rng(1), design=4, tolerance_cm=0)
    assert _layout(other) != _layout(a)  # designs differ


def test_units_of_a_design_differ_only_by_tolerance():
    a = build("laptop", np.random.default_rng(1), design=7)
    b = build("laptop", np.random.default_rng(2), design=7)
    assert len(a.parts) == len(b.parts)
    from engine.synth.objects import TOLERANCE_CM, _centre_of

    pairs = zip(a.parts, b.parts, strict=True)
    shifts = [np.abs(_centre_of(p) - _centre_of(q)).max() for p, q in pairs]
    assert 0 < max(shifts) < 6 * TOLERANCE_CM  # each part group moved, but by under a mm


def test_the_catalogue_size_comes_from_the_config():
    from engine.synth.objects import DesignCounts

    few = DesignCounts(laptop=3)
    seen = {build("laptop", np.random.default_rng(s), designs=few).design for s in range(60)}
    assert seen == {"laptop/00", "laptop/01", "laptop/02"}
    many = {build("laptop", np.random.default_rng(s)).design for s in range(200)}
    assert len(many) == 20  # the default catalogue: 20 laptops
    with pytest.raises(ValueError, match=r"0\.\.2"):
        build("laptop", np.random.default_rng(0), design=3, designs=few)


@pytest.mark.parametrize("category", CATEGORIES)
def test_a_swapped_part_departs_from_the_design_exactly_where_its_mask_says(category):
    rng = np.random.default_rng(4)
    unit = build(category, np.random.default_rng(5), design=2, tolerance_cm=0)
    swapped = insert_anomaly(unit, "swapped", rng)
    assert swapped.anomaly_type == "swapped" and swapped.replaced
    assert {p.material for p in swapped.anomaly} <= {"marzipan", "rdx", "petn", "tnt"}
    pose = rotation(0.1, -0.1, 0.7)
    benign, changed = Canvas(400, 400, PITCH), Canvas(400, 400, PITCH)
    draw(benign, place(unit, (30.0, 30.0, 12.0), pose))
    mask = draw(changed, place(swapped, (30.0, 30.0, 12.0), pose)).anomaly
    differs = np.zeros(mask.shape, bool)
    for material in set(benign.maps) | set(changed.maps):
        a = benign.maps.get(material, np.zeros(mask.shape, np.float32))
        b = changed.maps.get(material, np.zeros(mask.shape, np.float32))
        differs |= np.abs(a - b) > 1e-5
    assert differs.any()
    assert not (differs & ~mask).any()  # nothing changed outside the anomaly's mask
    assert (differs & mask).sum() / mask.sum() > 0.5


def test_a_toasters_guards_as_built_are_wire_cages_seen_as_dots_not_black_lines():
    """`wire_guards` (simulator v2.19): each slot guard a cage of steel wire, seen end-on from
    above as a row of dots, where the solid plate of v2.0-v2.18 is a line of 11-13 cm of steel;
    the same design and the same random numbers otherwise, and only toasters change."""
    from engine.synth.objects import GUARD_PITCH_CM
    from engine.synth.parts import ObjectModel, move

    pitch = 0.02  # fine enough for a 0.5 mm plate

    def guards(model) -> np.ndarray:
        """cm of steel along the beam through the guards alone, drawn from above."""
        parts = [p for p in model.parts if p.role == "guard"]
        canvas = Canvas(1100, 1800, pitch)
        canvas.draw([move(p, (18.0, 11.0, 0.0), np.eye(3)) for p in parts])
        return canvas.maps["steel"]

    for seed in range(3):
        plate = build("toaster", np.random.default_rng(seed), design=2)
        rng = np.random.default_rng(seed)
        cage = build("toaster", rng, design=2, wire_guards=True)
        assert rng.random() == _after(lambda r: build("toaster", r, design=2), seed)
        rest = [(p.role, p.material) for p in plate.parts if p.role != "guard"]
        assert rest == [(p.role, p.material) for p in cage.parts if p.role != "guard"]
        assert cage.size == plate.size and cage.design == plate.design
        solid, wires = guards(plate), guards(cage)
        assert solid.max() > 10.0  # the plate edge-on: 11-13 cm of steel
        assert (wires > 5.0).sum() < (solid > 5.0).sum() / 4  # only the uprights, end-on
        upright = wires > 5.0
        cols = np.flatnonzero(upright.any(axis=0))
        gaps = np.diff(cols)[np.diff(cols) > 1] * pitch
        assert gaps.size and abs(np.median(gaps) - GUARD_PITCH_CM) < 0.6  # dots a pitch apart
        assert (wires > 0).sum() > 0.5 * (solid > 0).sum()  # top and bottom wires: the line stays
    for category in ("laptop", "iron", "bottle"):
        plain = build(category, np.random.default_rng(0), design=1)
        assert [repr(p.solid) for p in plain.parts] == [
            repr(p.solid)
            for p in build(category, np.random.default_rng(0), design=1, wire_guards=True).parts
        ]
    assert isinstance(plate, ObjectModel)


def _after(builder, seed: int) -> float:
    rng = np.random.default_rng(seed)
    builder(rng)
    return float(rng.random())
