"""Projected solids: exact thicknesses and volumes that survive any 3-D rotation."""

from __future__ import annotations

import numpy as np
import pytest

from engine.synth.shapes import Box, Canvas, Cylinder, Ellipsoid, Wire, rotation

PITCH = 0.05


def _volume(canvas: Canvas, material: str) -> float:
    return float(canvas.maps[material].sum()) * canvas.pitch**2


def _canvas() -> Canvas:
    return Canvas(240, 240, PITCH)  # 12 × 12 cm


def test_axis_aligned_box_has_its_height_inside_its_footprint():
    canvas = _canvas()
    canvas.add("steel", Box((6.0, 6.0, 2.0), size=(4.0, 2.0, 0.5)))
    m = canvas.maps["steel"]
    assert m[120, 120] == pytest.approx(0.5)
    assert m[120, 200] == 0
    assert canvas.footprint("steel").sum() == pytest.approx((4 / PITCH) * (2 / PITCH), rel=0.03)


@pytest.mark.parametrize("angles", [(0.3, 0.0, 0.0), (0.4, 0.7, 1.1), (1.2, -0.5, 2.0)])
def test_rotated_solids_keep_their_volume(angles):
    rot = rotation(*angles)
    cases = [
        ("box", Box((6, 6, 3), rot, size=(3.0, 2.0, 1.0)), 6.0),
        ("ell", Ellipsoid((6, 6, 3), rot, semi_axes=(2.0, 1.0, 0.8)), 4 / 3 * np.pi * 1.6),
        ("cyl", Cylinder((6, 6, 3), rot, radius_cm=0.8, length=3.0), np.pi * 0.64 * 3),
    ]
    for name, solid, volume in cases:
        canvas = _canvas()
        canvas.add(name, solid)
        assert _volume(canvas, name) == pytest.approx(volume, rel=0.03), name


def test_box_seen_along_a_diagonal_is_longest_through_its_centre():
    canvas = _canvas()
    canvas.add("al", Box((6, 6, 3), rotation(0.6, 0.6, 0.0), size=(2.0, 2.0, 2.0)))
    m = canvas.maps["al"]
    assert m.max() == pytest.approx(m[118:123, 118:123].max(), rel=1e-6)
    assert m.max() > 2.0  # a tilted cube is thicker than its edge along the centre ray


def test_hollow_box_is_outer_minus_inner():
    canvas = _canvas()
    canvas.add("abs", Box((6, 6, 2), size=(8.0, 6.0, 2.0)))
    canvas.add("abs", Box((6, 6, 2), size=(7.6, 5.6, 1.6)), sign=-1)
    assert _volume(canvas, "abs") == pytest.approx(8 * 6 * 2 - 7.6 * 5.6 * 1.6, rel=0.03)
    assert canvas.maps["abs"][120, 120] == pytest.approx(0.4, abs=1e-5)  # two walls of 2 mm


def test_wire_volume_and_chord():
    canvas = _canvas()
    wire = Wire(((1.0, 2.0), (10.0, 2.0), (10.0, 10.0)), radius_cm=0.1)
    canvas.add("cu", wire)
    length = 9.0 + 8.0
    assert _volume(canvas, "cu") == pytest.approx(np.pi * 0.01 * length, rel=0.06)
    column = canvas.maps["cu"][:, 100]
    assert column.max() == pytest.approx(0.2, rel=0.05)


def test_solids_off_the_canvas_are_clipped_not_errors():
    canvas = _canvas()
    assert canvas.add("steel", Box((50.0, 50.0, 1.0), size=(1.0, 1.0, 1.0))) is None
    canvas.add("steel", Box((0.0, 6.0, 1.0), size=(2.0, 2.0, 1.0)))  # half outside
    assert canvas.footprint("steel").sum() == pytest.approx((1 / PITCH) * (2 / PITCH), rel=0.06)


def test_canvas_renders_to_a_scan_that_survives_saving(tmp_path):
    from engine.io import load_scan
    from engine.io.write import save_scan
    from engine.synth.scanner import Scanner

    canvas = Canvas(60, 80, 0.08)
    canvas.add(
        "water", Cylinder((3.2, 2.4, 3.0), rotation(np.pi / 2, 0, 0), radius_cm=1.5, length=4.0)
    )
    canvas.add("steel", Box((5.0, 2.4, 1.0), size=(1.0, 3.0, 0.2)))
    scan = Scanner().scan(canvas.maps, np.random.default_rng(3))
    assert scan.has_dual_energy and scan.zeff is not None
    assert scan.zeff[30, 40] < 10 and scan.zeff[30, 62] > 18  # water organic, steel metal
    save_scan(scan, tmp_path / "bag")
    again = load_scan(tmp_path / "bag.png")
    assert np.array_equal(again.low, scan.low) and np.array_equal(again.high, scan.high)


def test_a_sheet_fills_its_polygon_with_its_thickness():
    from engine.synth.shapes import Sheet

    canvas = _canvas()
    square = ((2.0, 2.0), (8.0, 2.0), (8.0, 8.0), (2.0, 8.0))
    canvas.add("cotton", Sheet(square, thick=0.03, z=4.0))
    m = canvas.maps["cotton"]
    assert m[100, 100] == pytest.approx(0.03)
    assert _volume(canvas, "cotton") == pytest.approx(36 * 0.03, rel=0.02)


def test_half_an_ellipsoid_is_half_its_volume():
    canvas = _canvas()
    canvas.add("al", Ellipsoid((6, 6, 3), rotation(0.3, 0.2, 0.5), (3.0, 2.0, 1.0), cut=0.0))
    assert _volume(canvas, "al") == pytest.approx(2 / 3 * np.pi * 6.0, rel=0.03)


def test_oblique_fan_rays_see_a_slab_longer_at_the_edges():
    from engine.synth.shapes import FanBeam

    fan = FanBeam(source_cm=100.0, stretch=1.0, apex_cm=6.0)
    canvas = Canvas(20, 240, PITCH, fan)
    canvas.add("water", Box((6.0, 0.5, 5.0), size=(40.0, 4.0, 2.0)))
    row = canvas.maps["water"][10]
    assert row[120] == pytest.approx(2.0, rel=1e-3)  # straight up at the apex
    edge = np.hypot(6.0 - 0.5 * PITCH, 100.0) / 100.0  # 1/cos of the ray at column 0
    assert row[0] == pytest.approx(2.0 * edge, rel=1e-3)


def test_a_rod_of_zero_length_is_empty_not_nan():
    from engine.synth.parts import rod

    canvas = _canvas()
    part = rod("wire", "copper", (6.0, 6.0, 2.0), (6.0, 6.0, 2.0), 0.1)
    canvas.add(part.material, part.solid)
    assert np.isfinite(canvas.maps["copper"]).all() and canvas.maps["copper"].max() == 0


# ----- the fast paths agree with the plain ray-by-ray ones -----------------------------------
def test_placing_parts_builds_what_dataclasses_replace_and_np_cross_would():
    """`parts.move` and `parts.rod` skip `dataclasses.replace` and `np.cross` for speed; the
    parts they build are equal to the bit, and an equal part hashes the same."""
    from dataclasses import replace

    from engine.synth.parts import move, path, rod

    rng = np.random.default_rng(3)
    for _ in range(20):
        start, end = rng.uniform(-5, 5, 3), rng.uniform(-5, 5, 3)
        part = rod("r", "steel", start, end, 0.3)
        axis = (end - start) / np.linalg.norm(end - start)
        helper = np.array([1.0, 0, 0]) if abs(axis[0]) < 0.9 else np.array([0, 1.0, 0])
        x = np.cross(helper, axis)
        x /= np.linalg.norm(x)
        assert np.array_equal(part.solid.rot, np.stack([x, np.cross(axis, x), axis], axis=1))
        turn, position = rotation(*rng.uniform(-3, 3, 3)), rng.uniform(-9, 9, 3)
        moved = move(part, position, turn)
        center = tuple(turn @ np.asarray(part.solid.center) + position)
        expected = replace(
            part, solid=replace(part.solid, center=center, rot=turn @ part.solid.rot)
        )
        assert moved.solid.center == expected.solid.center
        assert np.array_equal(moved.solid.rot, expected.solid.rot)
        assert (moved.role, moved.material, moved.sign) == (part.role, part.material, part.sign)
        assert type(moved.solid) is type(part.solid) and moved.solid.length == part.solid.length
        flat = path("w", "copper", rng.uniform(-5, 5, (4, 2)), 0.1, z=2.0)
        assert move(flat, position, turn) == move(flat, position, turn)
        assert hash(move(flat, position, turn)) == hash(move(flat, position, turn))


def _random_solids(rng: np.random.Generator, n: int) -> list:
    from engine.synth.shapes import Box, Cylinder, Ellipsoid

    solids = []
    for k in range(n):
        rot = rotation(*rng.uniform(-3, 3, 3)) if k % 4 else np.eye(3)
        center = (rng.uniform(3, 9), rng.uniform(3, 9), rng.uniform(0, 15))
        cut = 0.0 if k % 5 == 0 else None
        solids += [
            Box(center, rot, size=tuple(rng.uniform(0.05, 5, 3)), cut=cut),
            Cylinder(center, rot, radius_cm=rng.uniform(0.05, 2), length=rng.uniform(0.05, 5)),
            Ellipsoid(center, rot, semi_axes=tuple(rng.uniform(0.05, 3, 3)), cut=cut),
        ]
    return solids


@pytest.mark.parametrize("fan", [None, (100.0, 1.2, 4.0), (100.0, 1.2, 4.0, 0.3)])
def test_fast_thickness_matches_the_ray_by_ray_reference(fan):
    from engine.synth.shapes import FanBeam

    canvas = Canvas(240, 240, PITCH, None if fan is None else FanBeam(*fan))
    errors = []
    for solid in _random_solids(np.random.default_rng(4), 30):
        span = canvas.span_of(solid)
        if span is None:  # shifted off the canvas by a leaning fan
            continue
        rays = canvas.rays(*span)
        fast, reference = solid.thickness(*rays), solid.reference_thickness(*rays)
        errors.append(np.abs(fast - reference).max())
    # both are float32: they differ by rounding, at most where a ray grazes a curved surface
    assert max(errors) < 2e-3 and np.mean(errors) < 1e-4


def test_drawing_in_batches_equals_adding_one_by_one():
    from engine.synth.shapes import FanBeam, Part, Sheet, Wire

    rng = np.random.default_rng(8)
    parts = [Part("p", "steel", s) for s in _random_solids(rng, 20)]
    parts += [
        Part("w", "copper", Wire(tuple(map(tuple, rng.uniform(1, 11, (12, 2)))), 0.05, 2.0)),
        Part("w", "copper", Wire(((1.0, 1.0), (11.0, 1.5)), 0.1, 1.0)),
        Part("s", "cotton", Sheet(((2.0, 2.0), (9.0, 3.0), (8.0, 9.0)), 0.04, 3.0)),
        Part("c", "steel", parts[4].solid, -1.0),  # a cavity carves what came before
    ]
    rng.shuffle(parts)
    for fan in (None, FanBeam(100.0, 1.25, 5.0), FanBeam(100.0, 1.25, 5.0, shear=-0.35)):
        one, batched = Canvas(240, 240, PITCH, fan), Canvas(240, 240, PITCH, fan)
        for part in parts:
            one.add(part.material, part.solid, part.sign)
        batched.add_parts(parts)
        assert sorted(one.maps) == sorted(batched.maps)
        for m in one.maps:
            assert np.array_equal(one.maps[m], batched.maps[m]), m


def test_drawing_objects_all_at_once_equals_drawing_each_in_turn():
    """`Canvas.draw_all`: the same windows and the same bits as `draw` object by object, a
    cavity still carving only its own object; `draw_unseen` the same bits without windows."""
    from engine.synth.shapes import FanBeam, Part, Sheet, Wire

    rng = np.random.default_rng(11)
    solids = _random_solids(rng, 12)
    objects = []
    for k in range(0, len(solids), 4):
        group = [Part("p", str(rng.choice(["steel", "abs"])), s) for s in solids[k : k + 4]]
        points = tuple(map(tuple, rng.uniform(1, 11, (6, 2))))
        group.append(Part("w", "copper", Wire(points, 0.08, float(rng.uniform(0, 5)))))
        group.append(Part("s", "cotton", Sheet(((2.0, 2.0), (9.0, 3.0), (8.0, 9.0)), 0.04, 1.0)))
        group.append(Part("c", group[0].material, group[0].solid, -1.0))
        objects.append(group)
    objects.append([Part("far", "steel", Sheet(((500.0, 1.0), (501.0, 1.0), (501.0, 2.0)), 1.0))])
    for fan in (None, FanBeam(100.0, 1.25, 5.0), FanBeam(100.0, 1.25, -20.0, shear=0.3)):
        one, together, unseen = (Canvas(240, 240, PITCH, fan) for _ in range(3))
        for canvas in (one, together, unseen):
            canvas.add("cotton", Sheet(((0.0, 0.0), (12.0, 0.0), (12.0, 12.0)), 0.5, 0.0))
        windows = []  # drawn one by one, each part in its window's own coordinates
        for group in objects:
            window = one.window(p.solid for p in group)
            if window is not None:
                window.add_parts(group)
                one.merge(window)
            windows.append(window)
        drawn = together.draw_all(objects)
        assert windows[-1] is None and drawn[-1] is None  # off the canvas
        for a, b in zip(windows[:-1], drawn[:-1], strict=True):
            assert (a.row0, a.col0, a.height, a.width) == (b.row0, b.col0, b.height, b.width)
            assert all(np.array_equal(a.maps[m], b.maps[m]) for m in a.maps)
        unseen.draw_unseen(objects)
        for canvas in (together, unseen):
            assert sorted(one.maps) == sorted(canvas.maps)
            assert all(np.array_equal(one.maps[m], canvas.maps[m]) for m in one.maps)


def test_parts_sharing_a_solid_draw_as_copies_of_it_would():
    """A solid shared by several parts (a coating: the same fold again in PVC, at a share) is
    ray-cast once; the bits are those of drawing an equal copy for each part, and placing the
    model keeps the parts sharing it."""
    from dataclasses import replace

    from engine.synth.parts import ObjectModel, place
    from engine.synth.shapes import FanBeam, Part, Sheet

    rng = np.random.default_rng(5)
    wire = Wire(tuple(map(tuple, rng.uniform(1, 11, (6, 2)))), 0.2, 1.0)
    solids = [*_random_solids(rng, 2), wire, Sheet(((2.0, 2.0), (9.0, 3.0), (8.0, 9.0)), 0.3, 1.0)]
    parts = [Part("p", "nylon", s) for s in solids]
    shared = parts + [Part("c", "pvc", p.solid, 0.3) for p in parts]
    model = place(
        ObjectModel("bag", shared, (12.0, 12.0, 6.0)), (0.5, 0.2, 0.0), rotation(0, 0, 0.4)
    )
    placed = model.parts
    assert all(a.solid is b.solid for a, b in zip(placed[:8], placed[8:], strict=True))
    copies = placed[:8] + [replace(p, solid=replace(p.solid)) for p in placed[8:]]
    assert not any(a.solid is b.solid for a, b in zip(copies[:8], copies[8:], strict=True))
    for fan in (None, FanBeam(100.0, 1.25, -20.0, shear=0.3)):
        for draw in ("draw_all", "draw_unseen"):
            a, b = Canvas(240, 240, PITCH, fan), Canvas(240, 240, PITCH, fan)
            getattr(a, draw)([placed])
            getattr(b, draw)([copies])
            assert sorted(a.maps) == sorted(b.maps) == ["nylon", "pvc"]
            assert all(np.array_equal(a.maps[m], b.maps[m]) for m in a.maps)
            assert a.maps["pvc"].max() > 0


@pytest.mark.parametrize("radius", [0.03, 0.2])
def test_wires_in_pieces_match_the_segment_by_segment_chords(radius):
    from engine.synth.shapes import FanBeam

    rng = np.random.default_rng(9)
    wire = Wire(tuple(map(tuple, rng.uniform(1, 11, (20, 2)))), radius, 4.0)
    for fan in (None, FanBeam(100.0, 1.2, 6.0), FanBeam(100.0, 1.2, 6.0, shear=0.4)):
        canvas = Canvas(240, 240, PITCH, fan)
        canvas.add("cu", wire)
        span = canvas.span_of(wire)
        reference = np.zeros_like(canvas.maps["cu"])
        reference[span] = wire.thickness(*canvas.rays(*span))
        assert np.abs(canvas.maps["cu"] - reference).max() < 1e-5
        assert (canvas.maps["cu"] > 0).sum() == (reference > 0).sum()


def test_a_leaning_fan_shows_higher_things_shifted_and_keeps_the_mass():
    """With the fan's plane leaning along the belt (`FanBeam.shear`), a layer at height z shows
    shear·z further up the image, and an upright wall becomes a band: what a real scan shows of a
    bag's two faces and its side walls. Every ray still crosses the whole solid."""
    from engine.synth.shapes import Box, FanBeam, Sheet

    shear = 0.5
    parallel = FanBeam(source_cm=1e7, stretch=1.0, apex_cm=6.0, shear=shear)  # no magnification
    square = ((4.0, 4.0), (8.0, 4.0), (8.0, 8.0), (4.0, 8.0))
    rows = {}
    for z in (0.0, 4.0):
        canvas = Canvas(240, 240, PITCH, parallel)
        canvas.add("cotton", Sheet(square, 0.05, z))
        rows[z] = np.nonzero(canvas.maps["cotton"].any(axis=1))[0]
    assert rows[4.0].min() == pytest.approx(rows[0.0].min() - shear * 4.0 / PITCH, abs=1)
    assert len(rows[4.0]) == len(rows[0.0])

    wall = Box((6.0, 6.0, 3.0), rotation(0, 0, 0), size=(4.0, 0.2, 6.0))  # 6 cm high, 2 mm thin
    upright, leaning = Canvas(240, 240, PITCH), Canvas(240, 240, PITCH, parallel)
    for canvas in (upright, leaning):
        canvas.add("pvc", wall)
    band = np.nonzero(leaning.maps["pvc"].any(axis=1))[0]
    assert len(band) == pytest.approx((0.2 + shear * 6.0) / PITCH, abs=2)  # a band, not a line
    volume = 4.0 * 0.2 * 6.0  # rays of slope shear: the image of the volume, over dz
    for canvas, stretch in ((upright, 1.0), (leaning, np.hypot(1.0, shear))):
        assert canvas.maps["pvc"].sum() * PITCH**2 == pytest.approx(volume * stretch, rel=0.02)
