"""Clutter items: how often each kind comes, cables packed as people pack them, pairs of shoes,
jars and packs of grain, strewn hardware."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from engine.synth.clutter import (
    CLUTTER,
    _cloth,
    cable,
    food,
    garment,
    grain_pack,
    jar,
    random_clutter,
    rolled_clothes,
    rolled_garment,
    shoes,
    trinkets,
)
from engine.synth.parts import ObjectModel, move
from engine.synth.shapes import Canvas, Cylinder


def _turned_deg(points: np.ndarray) -> float:
    """Net turning of a polyline, in degrees: each loop wound one way adds 360."""
    d = np.diff(points, axis=0)
    heading = np.unwrap(np.arctan2(d[:, 1], d[:, 0]))
    return float(np.degrees(abs(heading[-1] - heading[0])))


def _cable_path(model) -> np.ndarray:
    jacket = next(p for p in model.parts if p.role == "jacket")
    return np.asarray(jacket.solid.points)


def test_coiled_cables_mostly_loop_and_dropped_ones_wander():
    rng = np.random.default_rng(0)
    coiled = [_turned_deg(_cable_path(cable(rng, coiled=True))) for _ in range(200)]
    dropped = [_turned_deg(_cable_path(cable(rng))) for _ in range(200)]
    assert 0.6 < np.mean(np.array(coiled) > 2 * 360) < 0.9  # three in four wound 2-6 times
    assert np.mean(np.array(dropped) > 2 * 360) < 0.1
    for model in (cable(rng, coiled=True) for _ in range(20)):
        assert max(model.size[:2]) <= 26 + 10  # still packed into 26 cm, plug and brick aside


def test_clutter_frequencies_can_be_overridden():
    def kinds(**kw) -> Counter:
        rng = np.random.default_rng(1)
        return Counter(random_clutter(rng, exclude=("garment",), **kw).category for _ in range(600))

    default, fewer = kinds(), kinds(frequencies={"cable": 1.0})
    total = sum(w for name, (w, _) in CLUTTER.items() if name != "garment")
    assert abs(default["cable"] / 600 - CLUTTER["cable"][0] / total) < 0.05
    assert fewer["cable"] < default["cable"] / 2
    assert kinds(frequencies={"cable": 0.0})["cable"] == 0


def test_a_wound_transformer_lets_through_what_a_real_brick_does():
    """`wound`: an E-core with half-filled windows around its centre leg, not a solid cube in
    solid copper; the random numbers drawn are the same either way."""
    from engine.synth.clutter import _charger_parts
    from engine.synth.scanner import Scanner
    from engine.synth.shapes import Canvas

    scanner = Scanner()
    least = {}
    for wound in (False, True):
        rng = np.random.default_rng(5)
        canvas = Canvas(80, 100, 0.1)
        canvas.draw(_charger_parts(rng, (5.0, 4.0), wound))
        _, t_high = scanner.transmissions(canvas.maps)
        least[wound] = float(t_high.min())
        assert rng.random() == np.random.default_rng(5).uniform(size=4)[-1]  # 3 drawn, then this
    assert least[False] < 0.002  # the solid version: black
    assert least[True] > 5 * least[False]
    for solid in ("ferrite", "copper"):
        assert any(p.material == solid and p.sign < 0 for p in _charger_parts(rng, (0, 0), True))


def _drawn(model, pitch: float = 0.1, margin: int = 40) -> Canvas:
    """`model` drawn from above at `pitch`, centred on a canvas of its size plus `margin` px."""
    canvas = Canvas(int(model.size[1] / pitch) + margin, int(model.size[0] / pitch) + margin, pitch)
    at = (canvas.width * pitch / 2, canvas.height * pitch / 2, 0.0)
    canvas.draw([move(p, at, np.eye(3)) for p in model.parts])
    return canvas


def test_a_rolled_garment_holds_the_cloth_of_a_folded_one_graded_across_its_roll():
    """A roll is the folded garment's cloth (the same draws) wound loose: drawn from above,
    it holds that cloth to within the pixels' sampling, thickest along its axis and thinning
    to its sides as a chord does, and lies within its stated size."""
    for seed in range(4):
        roll = rolled_garment(np.random.default_rng(seed))
        folded = garment(np.random.default_rng(seed))  # same kind, cloth and footprint draws
        fabric = [p for p in roll.parts if p.role == "fabric"]
        assert {p.material for p in fabric} == {folded.parts[0].material}
        assert 0.2 <= fabric[0].sign <= 0.4  # cloth fills a fifth to two fifths of the roll
        length, _, height = roll.size
        pitch = 0.1
        canvas = _drawn(ObjectModel(roll.category, fabric, roll.size), pitch, margin=20)
        t = canvas.maps[fabric[0].material]
        drawn = float(t.sum()) * pitch**2
        rng = np.random.default_rng(seed)
        _, _, per_layer = _cloth(rng)
        cloth = rng.uniform(25, 42) * rng.uniform(20, 34) * int(rng.integers(8, 24)) * per_layer
        assert drawn == pytest.approx(cloth, rel=0.03)
        across = t[:, t.shape[1] // 2]  # a cut across the roll's middle
        top = int(np.argmax(across))
        assert np.all(np.diff(across[: top + 1]) >= -1e-4)  # rising to the axis ...
        assert np.all(np.diff(across[top:]) <= 1e-4)  # ... falling beyond it
        assert across.max() == pytest.approx(height * fabric[0].sign, rel=0.02)  # a diameter
        inked = np.flatnonzero(t.max(axis=0) > 0)
        assert (inked[-1] - inked[0] + 1) * pitch <= length + 2 * pitch


def test_rolled_clothes_lie_side_by_side_in_a_row():
    for seed, count in enumerate((2, 5, 5, 3)):
        row = rolled_clothes(np.random.default_rng(seed), count)
        bodies = [p for p in row.parts if p.role == "fabric" and isinstance(p.solid, Cylinder)]
        assert row.category == "garment" and len(bodies) == count
        y = np.array([p.solid.center[1] for p in bodies])
        radius = np.array([p.solid.radius_cm for p in bodies])
        assert np.all(np.diff(y) > 0)  # one beside the next across the row ...
        gaps = np.diff(y) - (radius[1:] + radius[:-1])
        assert np.allclose(gaps, 0.0, atol=1e-9)  # ... touching, not piled up
        pitch = 0.1  # drawn from above, the row lies within its stated size
        canvas = _drawn(row, pitch)
        at = (canvas.width * pitch / 2, canvas.height * pitch / 2)  # where its middle was put
        rows, cols = np.nonzero(canvas.footprint())
        assert (rows.max() - rows.min() + 1) * pitch <= row.size[1] + 2 * pitch
        assert (cols.max() - cols.min() + 1) * pitch <= row.size[0] + 2 * pitch
        assert abs((rows.max() + rows.min()) / 2 * pitch - at[1]) < 0.3  # and about its middle
        assert abs((cols.max() + cols.min()) / 2 * pitch - at[0]) < 2.5  # (ends drawn uneven)


def test_a_pair_of_shoes_lies_side_by_side_heel_to_toe_on_lighter_soles():
    """Two shoes, the second turned about, side by side within the pair's stated size; soles
    on foam (0.2-0.35 of solid rubber) or on hollow treads (seven to nine tenths)."""
    for seed in range(6):
        pair = shoes(np.random.default_rng(seed))
        soles = [p for p in pair.parts if p.role == "sole"]
        assert pair.category == "shoes" and len(soles) == 2
        fill = soles[0].sign
        assert soles[1].sign == fill and (0.2 <= fill <= 0.35 or 0.7 <= fill <= 0.9)
        (y0, y1), heading = (p.solid.center[1] for p in soles), [p.solid.rot for p in soles]
        assert y1 - y0 >= 8.0  # a shoe's width apart, not on top of each other
        assert np.dot(np.asarray(heading[0])[:, 0], np.asarray(heading[1])[:, 0]) < -0.9
        rows, cols = np.nonzero(_drawn(pair).footprint())
        assert (rows.max() - rows.min() + 1) * 0.1 <= pair.size[1] + 0.2
        assert (cols.max() - cols.min() + 1) * 0.1 <= pair.size[0] + 0.2


def test_eva_soles_turn_a_trainers_rubber_into_foam_and_tread_of_the_same_mass():
    """`eva`: a trainer's sole (0.2-0.35 of solid rubber) becomes foamed EVA and its rubber
    tread on the one solid, `TRAINER_EVA` of its mass foam; shoes on hollow rubber treads and
    every other part are as without, on the same numbers."""
    from engine.synth.clutter import TRAINER_EVA
    from engine.synth.materials import MATERIALS

    rubber, eva = MATERIALS["rubber"].density, MATERIALS["eva"].density
    kinds = set()
    for seed in range(12):
        plain = shoes(np.random.default_rng(seed))
        foamed = shoes(np.random.default_rng(seed), eva=True)
        plain_soles = [p for p in plain.parts if p.role == "sole"]
        trainers = plain_soles[0].sign <= 0.35
        kinds.add(trainers)
        assert plain.size == foamed.size
        if not trainers:
            assert len(foamed.parts) == len(plain.parts)
            assert all(
                a.material == b.material for a, b in zip(plain.parts, foamed.parts, strict=True)
            )
            continue
        assert len(foamed.parts) == len(plain.parts) + 2
        rest = [p for p in foamed.parts if p.role != "sole"]
        others = [p for p in plain.parts if p.role != "sole"]
        assert [(p.material, repr(p.solid)) for p in rest] == [
            (p.material, repr(p.solid)) for p in others
        ]
        for old in plain_soles:
            pair = [
                p for p in foamed.parts if p.role == "sole" and p.solid.center == old.solid.center
            ]
            assert sorted(p.material for p in pair) == ["eva", "rubber"]
            assert pair[0].solid is pair[1].solid  # one solid, its thickness computed once
            mass = sum(p.sign * MATERIALS[p.material].density for p in pair)
            assert mass == pytest.approx(old.sign * rubber)
            foam = next(p for p in pair if p.material == "eva")
            assert foam.sign * eva == pytest.approx(TRAINER_EVA * old.sign * rubber)
    assert kinds == {True, False}


def test_food_holds_jars_and_packs_only_when_packed_and_draws_as_before_otherwise():
    light = {food(np.random.default_rng(seed)).category for seed in range(60)}
    packed = {food(np.random.default_rng(seed), packed=True).category for seed in range(60)}
    assert light == {"chocolate", "cheese", "sausage", "fruit"}
    assert {"jar", "grain_pack"} <= packed
    assert random_clutter(np.random.default_rng(1), only="shoe").category == "shoe"
    assert random_clutter(np.random.default_rng(1), only="shoe", heavy=True).category == "shoes"


def test_a_standing_jar_shows_its_glass_wall_edge_on_round_the_jam():
    """Seen down its axis, a jar's glass wall is a ring far thicker than the glass over the
    middle (its base and shoulder), and the jam fills 70-95 % of the inside."""
    for seed in range(12):
        model = jar(np.random.default_rng(seed))
        if model.size[0] != model.size[1]:  # lying on its side
            continue
        canvas = _drawn(model)
        glass, jam = canvas.maps["glass"], canvas.maps["jam"]
        middle = glass[glass.shape[0] // 2, glass.shape[1] // 2]
        assert glass.max() > 5 * middle > 0  # the wall seen edge-on against the base
        inside = model.size[2] - 1 - middle  # the glass's height less its base and shoulder
        assert 0.7 * inside - 0.01 <= jam[jam.shape[0] // 2, jam.shape[1] // 2] <= inside + 0.01
        break
    else:
        pytest.fail("no standing jar in 12 draws")
    for seed in range(12):  # standing or lying, lid and all within the stated size
        model = jar(np.random.default_rng(seed))
        rows, cols = np.nonzero(_drawn(model).footprint())
        assert (rows.max() - rows.min() + 1) * 0.1 <= model.size[1] + 0.2
        assert (cols.max() - cols.min() + 1) * 0.1 <= model.size[0] + 0.2


def test_a_pack_of_grain_is_graded_thickest_in_its_middle():
    model = grain_pack(np.random.default_rng(2))
    grain = _drawn(model).maps["grain"]
    across = grain[:, grain.shape[1] // 2]
    top = int(np.argmax(across))
    assert np.all(np.diff(across[: top + 1]) >= -1e-4) and np.all(np.diff(across[top:]) <= 1e-4)
    assert 0.6 * model.size[2] <= across.max() <= 0.9 * model.size[2] + 0.01


def test_a_folded_umbrella_is_a_bundle_of_uneven_ribs_within_its_size():
    """`folded`: 6-10 ribs, each in 2-3 sections that slant and lie at their own distances
    from the shaft (v2.0-v2.13: eight ribs, all parallel to it at one distance, the same
    stripes in every bag), a telescoped shaft and a handle, all within the stated size."""
    from engine.synth.clutter import umbrella

    for seed in range(6):
        ladder = [p.solid for p in umbrella(np.random.default_rng(seed)).parts if p.role == "rib"]
        assert len(ladder) == 8
        assert all(abs(np.asarray(r.rot)[0, 2]) > 0.9999 for r in ladder)  # along x, all

        model = umbrella(np.random.default_rng(seed), folded=True)
        ribs = [p.solid for p in model.parts if p.role == "rib"]
        shafts = [p for p in model.parts if p.role == "shaft" and p.sign > 0]
        assert model.category == "umbrella" and 2 <= len(shafts) <= 3
        assert 12 <= len(ribs) <= 30  # 6-10 ribs of 2-3 sections
        axes = np.array([np.asarray(r.rot)[:, 2] for r in ribs])
        assert np.ptp(np.degrees(np.arcsin(np.abs(axes[:, 1])))) > 1.0  # slanted, not a ladder
        distances = [np.hypot(*r.center[1:]) for r in ribs]
        assert np.ptp(distances) > 0.3
        canvas = _drawn(model)  # centred on a canvas 2 cm wider than its size each way
        rows, cols = np.nonzero(canvas.footprint())
        assert rows.min() > 0 and cols.min() > 0  # nothing cut off: handle and all inside ...
        assert rows.max() < canvas.height - 1 and cols.max() < canvas.width - 1
        assert (rows.max() - rows.min() + 1) * 0.1 <= model.size[1] + 0.2
        assert (cols.max() - cols.min() + 1) * 0.1 <= model.size[0] + 0.2
        middle = (cols.max() + cols.min()) / 2 - (canvas.width - 1) / 2
        assert abs(middle) * 0.1 < 0.3  # ... and centred on it

    def layout(model):
        maps = _drawn(model).maps
        return {material: maps[material].tobytes() for material in maps}

    plain = random_clutter(np.random.default_rng(2), only="umbrella")
    assert layout(plain) == layout(umbrella(np.random.default_rng(2)))
    folded = random_clutter(np.random.default_rng(2), only="umbrella", folded_umbrellas=True)
    assert layout(folded) == layout(umbrella(np.random.default_rng(2), folded=True))


def test_trinket_hardware_replaces_most_gadgets_on_draws_of_its_own():
    """`trinkets(hardware=True)`: all but about a tenth of the lipsticks and USB sticks become
    snaps, screws and zip sliders, drawn apart from the bag's numbers; every other piece, and
    the generator's state after the item, are as without it."""
    gadgets = ("lipstick", "usb")
    counts: Counter = Counter()
    for seed in range(60):
        plain_rng, hard_rng = np.random.default_rng(seed), np.random.default_rng(seed)
        plain, hard = trinkets(plain_rng), trinkets(hard_rng, hardware=True)
        assert plain_rng.bit_generator.state == hard_rng.bit_generator.state
        assert plain.size == hard.size
        new = (*gadgets, "snap", "screw", "slider")
        rest = [repr(p) for p in plain.parts if p.role not in gadgets]
        assert [repr(p) for p in hard.parts if p.role not in new] == rest
        counts.update(p.role for p in plain.parts if p.role in gadgets)
        counts.update("hard " + p.role for p in hard.parts)
    before = counts["lipstick"] + counts["usb"]
    after = counts["hard lipstick"] + counts["hard usb"]
    assert before > 100 and 0.04 * before < after < 0.18 * before  # `KEPT_GADGETS`: a tenth
    assert min(counts["hard snap"], counts["hard screw"], counts["hard slider"]) > 20


def test_trinket_rings_keep_that_share_of_the_rings_on_draws_of_their_own():
    """`trinkets(rings=0.3)`: about three rings in ten are kept, the rest hardware; the other
    pieces, the generator's state and, with `hardware`, the gadgets' hardware are as before."""
    counts: Counter = Counter()
    made = ("ring", "snap", "screw", "slider")

    def rest(model: ObjectModel) -> list[str]:
        return [repr(p) for p in model.parts if p.role not in made]

    def hardware(model: ObjectModel) -> set[str]:
        return {repr(p) for p in model.parts if p.role in made[1:]}

    for seed in range(120):
        base_rng, fewer_rng = np.random.default_rng(seed), np.random.default_rng(seed)
        base = trinkets(base_rng, hardware=True)
        fewer = trinkets(fewer_rng, hardware=True, rings=0.3)
        assert base_rng.bit_generator.state == fewer_rng.bit_generator.state
        assert rest(fewer) == rest(base)
        assert hardware(base) <= hardware(fewer)
        counts["before"] += sum(p.role == "ring" for p in base.parts)
        counts["after"] += sum(p.role == "ring" for p in fewer.parts)
    assert counts["before"] > 100
    assert 0.15 * counts["before"] < counts["after"] < 0.45 * counts["before"]


def test_a_carton_s_goods_are_food_within_their_size_and_tins_have_steel_seams():
    """`carton_goods`: heaps of sweets (at most 250 pieces, all inside the heap's box), rolls,
    tins, jars and packs; a tin's tinplate and its two seams are steel round its filling."""
    from engine.synth.clutter import CARTON_GOODS, carton_goods, sweets, tin

    rng = np.random.default_rng(0)
    names = Counter(carton_goods(rng).category for _ in range(200))
    assert set(names) <= set(CARTON_GOODS) | {"chocolate", "cheese", "sausage", "fruit"}
    assert names["sweets"] > names["tin"] > 0
    counts = []
    for seed in range(40):
        heap = sweets(np.random.default_rng(seed))
        counts.append(len(heap.parts))
        centres = np.array([p.solid.center for p in heap.parts])
        reach = np.abs(centres) + np.array([p.solid.semi_axes for p in heap.parts])
        assert np.all(reach.max(axis=0) <= np.asarray(heap.size) / 2 * 1.1)  # jostled pieces
        assert len({tuple(np.round(c, 3)) for c in centres}) == len(centres)
    assert max(counts) <= 250 and min(counts) >= 20
    for seed in range(5):
        can = tin(np.random.default_rng(seed))
        assert [p.role for p in can.parts].count("seam") == 4  # two bands, each with its hole
        assert {p.material for p in can.parts if p.role in ("tin", "seam")} == {"steel"}


def test_packing_film_is_thin_film_cut_to_the_carton_as_a_garment_is():
    """`wrapping`: crumpled film, sheets 0.4-1 mm thick, a "garment" so that `_place_clutter`
    leaves it to be cut to the carton's walls (`bag._draw_wad` crumples it)."""
    from engine.synth.clutter import wrapping

    wad = wrapping(np.random.default_rng(3))
    assert wad.category == "garment" and 2 <= len(wad.parts) <= 5
    assert all(p.material == "polyethylene" and 0.04 <= p.solid.thick <= 0.1 for p in wad.parts)
