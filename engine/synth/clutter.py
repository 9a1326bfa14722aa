"""Everyday contents of a bag: clothes, shoes, cables, toiletries, books, keys, coins, food.

Real scans are dense with thin structure: fold edges of clothes, cables, zips, keys, coins,
springs, eyelets (physics.md §6). Each builder returns an `ObjectModel` in item coordinates,
lying flat; the bag places them. Benign confusers (chocolate, cheese, spare batteries) live here
too: they look like the concealed anomalies but sit loose in the bag.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from engine.synth.materials import MATERIALS
from engine.synth.parts import (
    ObjectModel,
    box,
    disc,
    frame,
    move,
    path,
    ring,
    rod,
    rounded_rect,
    sheet,
    shell,
    side_rng,
    tube,
    wander,
)
from engine.synth.shapes import Cylinder, Ellipsoid, Part, rotation

ALONG_X = rotation(0, np.pi / 2, 0)
COTTON_DENSITY = MATERIALS["cotton"].density  # g/cm³: thickness maps hold cm of solid cellulose


def as_cotton(material: str) -> float:
    """cm of solid `material` holding the mass of 1 cm of solid cotton: cloth of another fibre
    drawn with the same mass (1 for cotton)."""
    return COTTON_DENSITY / MATERIALS[material].density


def _fabric_cm(areal_g_cm2: float) -> float:
    """Equivalent solid-cotton thickness of fabric with the given areal density."""
    return areal_g_cm2 / COTTON_DENSITY


def _cloth(rng: np.random.Generator) -> tuple[str, str, float]:
    """A garment's kind, its fibre and the solid thickness (cm) of one layer of its cloth."""
    kind = str(rng.choice(["tshirt", "shirt", "jeans", "sweater", "towel", "trousers"]))
    gsm = {"tshirt": 0.016, "shirt": 0.012, "jeans": 0.04, "sweater": 0.035, "towel": 0.05}
    per_layer = _fabric_cm(gsm.get(kind, 0.025) * rng.uniform(0.8, 1.2))
    material = "pet" if kind in ("shirt", "trousers") and rng.random() < 0.4 else "cotton"
    if material == "pet":
        per_layer *= as_cotton(material)
    return kind, material, per_layer


def _folded(rng: np.random.Generator) -> tuple[float, float, int]:
    """A folded garment's footprint (cm) and how many layers of cloth it stacks."""
    w, d = rng.uniform(25, 42), rng.uniform(20, 34)
    return w, d, int(rng.integers(8, 24))  # folded two to four times: 8-24 layers of cloth


def garment(rng: np.random.Generator) -> ObjectModel:
    """A folded garment: stacked layers with fold steps, seams and its metal bits."""
    kind, material, per_layer = _cloth(rng)
    w, d, layers = _folded(rng)
    parts = [sheet("fabric", material, (0, 0, 0), (w, d), layers * per_layer)]
    for _ in range(int(rng.integers(3, 9))):  # folds: flaps a few layers thick, offset
        fw, fd = w * rng.uniform(0.3, 1.0), d * rng.uniform(0.2, 0.7)
        x, y = rng.uniform(-1, 1) * (w - fw) / 2, rng.uniform(-1, 1) * (d - fd) / 2
        n = int(rng.integers(1, 4))
        parts.append(
            sheet("fabric", material, (x, y, 0.2), (fw, fd), n * per_layer, rng.normal(0, 0.05))
        )
    for sx in (-1, 1):  # seams: doubled fabric along the folded edges
        parts.append(sheet("seam", material, (sx * (w / 2 - 0.4), 0, 0), (0.8, d), 2 * per_layer))
    if kind in ("jeans", "trousers"):
        x, y = rng.uniform(-0.3, 0.3) * w, rng.uniform(-0.3, 0.3) * d
        parts += [
            disc("button", "brass" if kind == "jeans" else "steel", (x, y, 0.3), 0.8, 0.25),
            path("zip", "brass", [(x, y - 1.5), (x, y - 9)], 0.12, 0.3),
        ]
        if kind == "jeans":
            for _ in range(int(rng.integers(2, 6))):  # rivets
                rx, ry = rng.uniform(-0.45, 0.45) * w, rng.uniform(-0.45, 0.45) * d
                parts.append(disc("rivet", "copper", (rx, ry, 0.3), 0.3, 0.15))
    elif kind == "shirt":
        for k in range(int(rng.integers(4, 8))):  # plastic buttons down the placket
            parts.append(disc("button", "polycarbonate", (k * 2.5 - 8, 0, 0.3), 0.55, 0.2))
    return ObjectModel("garment", parts, (w, d, (layers + 3) * per_layer + 0.5))


def rolled_garment(rng: np.random.Generator) -> ObjectModel:
    """A garment rolled up, as many travellers pack: a soft cylinder lying along x.

    The same cloth as a folded `garment` (its 25-42 × 20-34 cm footprint of 8-24 layers),
    rolled 22-46 cm long and loose, cloth filling 20-40 % of the roll. Seen from above its
    thickness is a chord's, highest along the middle and fading to its sides and rounded
    ends: a graded sausage, not a flat sheet.
    """
    kind, material, per_layer = _cloth(rng)
    cloth = np.prod(_folded(rng)) * per_layer
    length, packing = rng.uniform(22, 40), rng.uniform(0.2, 0.4)
    r = float(np.sqrt(cloth / (np.pi * packing * length)))
    body = length - 4 * r / 3  # so that body and ends hold all the cloth: π r² body + 4/3 π r³
    parts = [
        Part("fabric", material, Cylinder((0.0, 0, 0), ALONG_X, radius_cm=r, length=body), packing)
    ]
    for end in (-1, 1):  # rounded ends: half balls, their flat faces on the body's ends
        cap = Ellipsoid(
            (end * body / 2, 0, 0), rotation(0, end * np.pi / 2, 0), semi_axes=(r, r, r), cut=0
        )
        parts.append(Part("fabric", material, cap, packing))
    if kind in ("jeans", "trousers"):  # the waistband's button and zip, rolled inside
        x = rng.uniform(-0.4, 0.4) * body
        metal = "brass" if kind == "jeans" else "steel"
        parts.append(disc("button", metal, (x, rng.uniform(-0.5, 0.5) * r, 0), 0.8, 0.25))
        parts.append(path("zip", "brass", [(x, -0.8 * r), (x, 0.8 * r)], 0.12, 0.3))
        if kind == "jeans":
            for _ in range(int(rng.integers(2, 6))):  # rivets
                rx, ry = rng.uniform(-0.5, 0.5) * body, rng.uniform(-0.8, 0.8) * r
                parts.append(disc("rivet", "copper", (rx, ry, 0), 0.3, 0.15))
    return ObjectModel("garment", parts, (body + 2 * r, 2 * r, 2 * r))


def rolled_clothes(rng: np.random.Generator, count: int) -> ObjectModel:
    """`count` rolled garments (`rolled_garment`) packed side by side across y, touching, their
    ends uneven and each turned a little: the rows of rolls real bags show."""
    rolls = [rolled_garment(rng) for _ in range(count)]
    width = sum(roll.size[1] for roll in rolls)
    y, parts, half = -width / 2, [], np.zeros(2)  # the row's half extents, turned rolls and all
    for roll in rolls:
        y += roll.size[1] / 2
        x, angle = rng.uniform(-2.0, 2.0), rng.normal(0, 0.05)
        parts += [move(part, (x, y, 0.0), rotation(0, 0, angle)) for part in roll.parts]
        cos_a, sin_a = abs(np.cos(angle)), abs(np.sin(angle))
        length, across = roll.size[:2]
        reach = (cos_a * length + sin_a * across) / 2, (sin_a * length + cos_a * across) / 2
        half = np.maximum(half, np.abs((x, y)) + reach)
        y += roll.size[1] / 2
    height = max(roll.size[2] for roll in rolls)
    return ObjectModel("garment", parts, (2 * half[0], 2 * half[1], height))


def shoe(rng: np.random.Generator) -> ObjectModel:
    """A shoe: rubber sole with a steel shank and heel nails, leather upper, eyelets."""
    length, width = rng.uniform(24, 31), rng.uniform(8.5, 11)
    sole = rng.uniform(1.5, 3.0)
    parts = [
        Part(
            "sole", "rubber", Ellipsoid((0.0, 0, 0), semi_axes=(length / 2, width / 2, sole), cut=0)
        ),
        Part(
            "upper",
            "leather",
            Ellipsoid((0.0, 0, 0.5), semi_axes=(length / 2, width / 2, 6), cut=0),
        ),
        Part(
            "upper",
            "leather",
            Ellipsoid((0.0, 0, 0.5), semi_axes=(length / 2 - 0.3, width / 2 - 0.3, 5.7), cut=0),
            -1,
        ),
    ]
    if rng.random() < 0.7:
        parts.append(box("shank", "steel", (-length * 0.1, 0, 0.4), (9.0, 1.2, 0.15)))
    if rng.random() < 0.5:
        for k in range(int(rng.integers(4, 10))):  # heel nails
            a = 2 * np.pi * k / 10
            x, y = -length * 0.38 + 2 * np.cos(a), 2.5 * np.sin(a)
            parts.append(rod("nail", "steel", (x, y, 0.2), (x, y, 1.4), 0.05))
    for k in range(int(rng.integers(0, 7))):  # eyelets on both sides of the laces
        for side in (-1, 1):
            parts.append(
                ring("eyelet", "brass", (length * 0.05 + k * 1.2, side * 2.0, 5.5), 0.3, 0.04, 8)
            )
    return ObjectModel("shoe", parts, (length, width, 7.0))


def shoes(rng: np.random.Generator, eva: bool = False) -> ObjectModel:
    """A pair of shoes as packed: two of `shoe`, side by side, the second turned heel to toe.

    A pair is the heaviest organic thing in most bags: two rubber soles and leather uppers, a
    dark orange-green mass that real scans show in almost every suitcase (sixray_benign).
    `eva`: a trainer's sole is `TRAINER_EVA` of its mass foamed EVA and the rest its rubber
    tread, on the same numbers; False: all of it filled rubber (Zeff 10.3), green where a pair
    lies over the clothes.
    """
    # trainers (three in five) stand on foamed EVA over a thin rubber tread, about a quarter of
    # solid rubber's mass; shoes and boots on rubber soles with hollow treads, four fifths
    trainers = rng.random() < 0.6
    sole = rng.uniform(0.2, 0.35) if trainers else rng.uniform(0.7, 0.9)
    pair = [shoe(rng), shoe(rng)]
    soled = [_soled(s.parts, sole, eva and trainers) for s in pair]
    gap = rng.uniform(0.0, 1.5)
    slide = rng.uniform(-0.2, 0.2) * pair[0].size[0]  # the second shoe's heel beside the toe
    widths = pair[0].size[1], pair[1].size[1]
    y = (-(widths[1] + gap) / 2, (widths[0] + gap) / 2)
    turns = rotation(0, 0, rng.normal(0, 0.06)), rotation(0, 0, np.pi + rng.normal(0, 0.06))
    moved: tuple[dict, dict] = ({}, {})  # an EVA sole and its tread keep sharing one solid
    parts = [move(p, (0.0, y[0], 0.0), turns[0], moved[0]) for p in soled[0]]
    parts += [move(p, (slide, y[1], 0.0), turns[1], moved[1]) for p in soled[1]]
    length = max(pair[0].size[0], pair[1].size[0] + 2 * abs(slide)) + 1.0
    return ObjectModel("shoes", parts, (length, sum(widths) + gap + 1.0, 7.0))


# the share of a trainer's sole's mass that is its foamed EVA midsole, the rest its rubber tread
# (`shoes(eva=True)`; est.: 2-3 cm of foam at 0.2-0.3 g/cm³ over 3-4 mm of rubber at 1.15)
TRAINER_EVA = 0.65


def _soled(parts: list[Part], sole: float, eva: bool) -> list[Part]:
    """A shoe's parts with its sole at `sole` of solid rubber's mass; `eva`: that mass split
    between foamed EVA (`TRAINER_EVA`) and the rubber tread, both drawn on the sole's solid."""
    out = []
    for p in parts:
        if p.role != "sole":
            out.append(p)
        elif not eva:
            out.append(replace(p, sign=p.sign * sole))
        else:
            foam = sole * TRAINER_EVA * MATERIALS["rubber"].density / MATERIALS["eva"].density
            out.append(replace(p, material="eva", sign=p.sign * foam))
            out.append(replace(p, sign=p.sign * sole * (1 - TRAINER_EVA)))
    return out


def cable(rng: np.random.Generator, coiled: bool = False, wound: bool = False) -> ObjectModel:
    """A power or USB cable dropped in loops: PVC jacket, copper cores, a plug, maybe a brick.

    `coiled`: most cables are wound into a loose coil, as people pack them, and the rest
    dropped in (the only way before simulator v2.3, when every cable was a random walk).
    `wound`: the brick's transformer as built (`_charger_parts`)."""
    if coiled and rng.random() < 0.75:
        pts = _coil(rng)
    else:
        pts = wander(rng, (0.0, 0.0), int(rng.integers(12, 40)), rng.uniform(1.2, 2.5), 0.5)
        pts = _coiled(pts)
    thick = rng.random() < 0.5
    jacket, core = (0.3, 0.06) if thick else (0.18, 0.03)
    parts = [path("jacket", "pvc", pts, jacket)]
    offset = np.array([[0, core * 1.5]])
    parts += [
        path("core", "copper", pts + offset, core),
        path("core", "copper", pts - offset, core),
    ]
    end = pts[-1]
    parts += [
        box("plug", "abs", (*end, 0.0), (3.0, 1.6, 1.0)),
        box("plug", "brass" if thick else "steel", (end[0] + 1.8, end[1], 0), (1.2, 1.0, 0.4)),
    ]
    if rng.random() < 0.5:  # a charger brick at the other end
        parts += _charger_parts(rng, pts[0], wound)
    span = np.ptp(pts, 0) + 10  # the plug and a charger hang off the ends
    return ObjectModel("cable", parts, (float(span[0]), float(span[1]), 3.0))


def _coil(rng: np.random.Generator) -> np.ndarray:
    """A cable wound into 2-6 loose loops of 3-7 cm radius, flattened in the bag, with a tail."""
    loops, radius = rng.uniform(2, 6), rng.uniform(3.0, 7.0)
    t = np.linspace(0, 2 * np.pi * loops, int(loops * 14))
    r = radius * (1 + 0.12 * rng.standard_normal(len(t)).cumsum() / np.sqrt(len(t)))
    squash = rng.uniform(0.55, 1.0)  # pressed flat into an oval
    ring_pts = np.stack([r * np.cos(t), squash * r * np.sin(t)], axis=1)
    ring_pts += rng.normal(0, 0.25, (len(t), 2)).cumsum(0) * 0.3  # loops drift apart
    tail = wander(rng, ring_pts[-1], int(rng.integers(3, 10)), rng.uniform(1.2, 2.5), 0.4)
    return _coiled(np.concatenate([ring_pts, tail[1:]]))


def _coiled(points: np.ndarray, max_span: float = 26.0) -> np.ndarray:
    """`points` centred on their extent and squeezed into `max_span` cm, as packed in a bag."""
    points = points - (points.min(0) + points.max(0)) / 2
    span = float(np.ptp(points, 0).max())
    return points * min(1.0, max_span / max(span, 1e-6))


def _charger_parts(rng, at, wound: bool = False) -> list[Part]:
    """A charger brick at `at`: ABS case, transformer, board, capacitor and pins.

    `wound`: the transformer as built, a ferrite E-core whose windows hold the winding, wound
    wire filling about half of them, around its centre leg; otherwise (v2.0-v2.4) a solid
    ferrite cube inside a solid copper cylinder, 3.6 cm of metal along the beam that no real
    brick has and that turned black wherever anything lay over it."""
    x, y = at
    w, d, h = rng.uniform(4, 7), rng.uniform(3, 5), rng.uniform(2.5, 3.5)
    parts = shell("charger", "abs", (w, d, h), 0.15, (x, y, 0))
    core = (x - w * 0.15, y, 0)
    if wound:
        parts += [
            box("transformer", "ferrite", core, (1.6, 1.6, 1.6)),
            Part("transformer", "ferrite", Cylinder(core, ALONG_X, 0.75, 1.2), -1.0),
            Part("transformer", "ferrite", Cylinder(core, ALONG_X, 0.35, 1.2)),
            Part("winding", "copper", Cylinder(core, ALONG_X, 0.65, 1.1)),
            Part("winding", "copper", Cylinder(core, ALONG_X, 0.48, 1.1), -1.0),
        ]
    else:
        parts += [
            box("transformer", "ferrite", core, (1.6, 1.6, 1.6)),
            Part("winding", "copper", Cylinder(core, ALONG_X, 1.0, 1.2)),
        ]
    parts += [
        box("board", "fr4", (x, y, -h / 2 + 0.4), (w * 0.85, d * 0.85, 0.12)),
        disc("capacitor", "aluminium", (x + w * 0.25, y, 0), 0.45, 1.5),
        box("pins", "brass", (x + w / 2 + 0.7, y, 0), (1.4, 0.2, 0.6)),
        box("pins", "brass", (x + w / 2 + 0.7, y + 1.0, 0), (1.4, 0.2, 0.6)),
    ]
    return parts


def power_bank(rng: np.random.Generator) -> ObjectModel:
    """A power bank: 18650 cells in steel cans on a board, in an aluminium or ABS case."""
    cells = int(rng.integers(1, 5))
    w, d, h = 7.2, cells * 1.9 + 0.6, 2.4
    case = "aluminium" if rng.random() < 0.5 else "abs"
    parts = shell("case", case, (w, d, h), 0.12)
    for i in range(cells):
        y = -d / 2 + 0.3 + 0.95 + i * 1.9
        parts += [
            Part("cell", "steel", Cylinder((-0.4, y, 0), ALONG_X, 0.9, 6.5)),
            Part("cell", "steel", Cylinder((-0.4, y, 0), ALONG_X, 0.88, 6.4), -1),
            Part("cell", "li_ion", Cylinder((-0.4, y, 0), ALONG_X, 0.88, 6.4)),
        ]
    parts.append(box("board", "fr4", (w / 2 - 0.5, 0, 0), (0.8, d * 0.9, 0.1)))
    return ObjectModel("power_bank", parts, (w, d, h))


def toiletry_bag(rng: np.random.Generator) -> ObjectModel:
    """A wash bag: bottles, a spray can, toothpaste, a razor and clippers in a zipped pouch."""
    w, d = rng.uniform(20, 28), rng.uniform(11, 16)
    parts = shell("pouch", "nylon", (w, d, 8), 0.08)
    parts.append(
        path("zip", "steel", [(-w / 2 + 1, d / 2 - 0.5), (w / 2 - 1, d / 2 - 0.5)], 0.1, 4)
    )
    x = -w / 2 + 2
    while x < w / 2 - 3:
        kind = str(rng.choice(["bottle", "spray", "paste", "razor", "clippers", "glass"]))
        y = rng.uniform(-0.25, 0.25) * d
        if kind in ("bottle", "glass"):
            r, length = rng.uniform(1.2, 2.2), rng.uniform(6, min(14, d - 1))
            wall_mat, wall = ("glass", 0.25) if kind == "glass" else ("polyethylene", 0.08)
            start, end = (x + r, y - length / 2, 0), (x + r, y + length / 2, 0)
            parts += tube("bottle", wall_mat, start, end, r, wall)
            liquid = str(rng.choice(["water", "ethanol", "water"]))
            parts.append(rod("liquid", liquid, start, (x + r, y + length * 0.3, 0), r - wall))
            x += 2 * r + 0.5
        elif kind == "spray":
            r, length = rng.uniform(2.2, 2.7), min(14.0, d - 1)
            start, end = (x + r, y - length / 2, 0), (x + r, y + length / 2, 0)
            parts += tube("can", "aluminium", start, end, r, 0.03)
            parts.append(rod("liquid", "ethanol", start, (x + r, y, 0), r - 0.05))
            parts.append(rod("valve", "steel", end, (end[0], end[1] + 1, 0), 0.3))
            x += 2 * r + 0.5
        elif kind == "paste":
            start, end = (x + 1.5, y - 7, 0), (x + 1.5, y + 7, 0)
            parts += tube("tube", "aluminium", start, end, 1.5, 0.02)
            parts.append(rod("paste", "toothpaste", start, end, 1.1))
            x += 3.5
        elif kind == "razor":
            parts.append(box("razor", "polypropylene", (x + 0.8, y, 0), (1.2, 12, 0.8)))
            parts.append(box("blade", "stainless", (x + 0.8, y + 6.5, 0), (3.8, 1.0, 0.02)))
            x += 4.5
        else:
            parts.append(box("clippers", "stainless", (x + 0.8, y, 0), (1.4, 6.0, 0.5)))
            parts.append(
                rod("clippers", "steel", (x + 0.8, y - 2, -0.3), (x + 0.8, y - 2, 0.4), 0.1)
            )
            x += 2.0
    return ObjectModel("toiletry_bag", parts, (w, d, 8.0))


def book(rng: np.random.Generator) -> ObjectModel:
    """A book or notebook: a paper block, a board cover, sometimes a steel spiral binding."""
    w, d, h = rng.uniform(14, 25), rng.uniform(10, 18), rng.uniform(0.6, 3.5)
    parts = [box("pages", "paper", (0, 0, 0), (w, d, h))]
    if rng.random() < 0.5:
        for z in (-h / 2 - 0.1, h / 2 + 0.1):
            parts.append(box("cover", "paper", (0, 0, z), (w + 0.4, d + 0.4, 0.25)))
    if rng.random() < 0.35:  # spiral binding: a row of small steel loops along the spine
        for k in range(int(d / 0.85)):
            y = -d / 2 + 0.4 + k * 0.85
            parts.append(ring("spiral", "steel", (-w / 2 - 0.2, y, 0), 0.4, 0.05, 10))
    return ObjectModel("book", parts, (w + 1, d + 0.4, h + 0.5))


def keys(rng: np.random.Generator, fanned: bool = False) -> ObjectModel:
    """A bunch of keys on a steel ring, with a plastic fob.

    `fanned`: the keys hang together to one side of the ring, fanned over ±34°, as a bunch
    lies in a bag; otherwise (v2.0-v2.10) at any angle round it, a pinwheel no pocket holds."""
    parts = [ring("ring", "steel", (0, 0, 0), 1.4, 0.1)]
    for _ in range(int(rng.integers(2, 6))):
        a = rng.uniform(0, 2 * np.pi)
        if fanned:  # the same draw, squeezed into the fan
            a = (a / (2 * np.pi) - 0.5) * 1.2
        turn = rotation(0, 0, a)
        c = turn @ np.array([4.2, 0, 0])
        metal = str(rng.choice(["brass", "cupronickel", "steel"]))
        parts.append(box("key", metal, c, (5.0, 1.6, 0.2), rot=turn))
        parts.append(disc("key", metal, turn @ np.array([1.9, 0, 0]), 1.2, 0.2))
        for t in range(4):  # bitting
            tooth = turn @ np.array([3.5 + t * 0.8, -0.9, 0])
            parts.append(box("key", metal, tooth, (0.4, 0.4, 0.2), rot=turn))
    if rng.random() < 0.6:
        parts.append(box("fob", "abs", (0, -3.5, 0), (3.0, 4.0, 1.0)))
    return ObjectModel("keys", parts, (18.0, 18.0, 2.0))


def coins(rng: np.random.Generator) -> ObjectModel:
    """A handful of coins, some overlapping."""
    parts = []
    for _ in range(int(rng.integers(2, 9))):
        metal = str(rng.choice(["brass", "cupronickel", "steel", "copper"]))
        c = (*rng.uniform(-3, 3, 2), rng.uniform(-0.3, 0.3))
        turn = rotation(rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3), 0)
        parts.append(disc("coin", metal, c, rng.uniform(0.8, 1.3), rng.uniform(0.15, 0.25), turn))
    return ObjectModel("coins", parts, (9.0, 9.0, 1.0))


# `trinkets(hardware=True)`: the share of lipsticks and USB sticks kept; the rest are
# hardware (`_hardware`)
KEPT_GADGETS = 0.1


def trinkets(rng: np.random.Generator, hardware: bool = False, rings: float = 1.0) -> ObjectModel:
    """Small metal strewn through a bag: clips, pins, buttons, rivets, a lipstick, a USB stick.

    Real scans show tens of such dense specks in every bag (sixray_benign); spread over a
    garment-sized area, they are what makes a packed bag look busy. `hardware`: all but
    `KEPT_GADGETS` of the lipsticks and USB sticks are snaps, screws and zip sliders instead
    (`_hardware`, on random numbers of their own), where a third of all pieces were gadgets
    (v2.0-v2.41: some 16 USB sticks and 16 lipsticks a bag, which blind readers named first
    among made-up shapes, "rectangles filled with one flat colour"). `rings`: the share of
    the rings (zip pulls, key rings; a sixth of all pieces) kept, the rest hardware too, on
    numbers of their own again (1: all, v2.0-v2.42).
    """
    w, d = rng.uniform(15, 35), rng.uniform(10, 25)
    parts = []
    own = side_rng(rng, b"trinket hardware") if hardware else None
    fewer = side_rng(rng, b"trinket rings") if rings < 1 else None
    for _ in range(int(rng.integers(4, 14))):
        x, y, z = rng.uniform(-w / 2, w / 2), rng.uniform(-d / 2, d / 2), rng.uniform(-0.5, 0.5)
        turn = rotation(0, 0, rng.uniform(0, np.pi))
        kind = int(rng.integers(6))
        metal = str(rng.choice(["steel", "brass", "stainless", "aluminium"]))
        if own is not None and kind in (3, 4) and own.random() >= KEPT_GADGETS:
            parts += _hardware(own, (x, y, z), turn)
        elif fewer is not None and kind == 5 and fewer.random() >= rings:
            rng.uniform(0.6, 1.2)  # the ring's radius, drawn as before: the rest stays the same
            parts += _hardware(fewer, (x, y, z), turn)
        elif kind == 0:  # a paper clip or a hair pin: a bent wire
            length = rng.uniform(2.5, 6.0)
            pts = [(0, 0), (length, 0), (length, 0.6), (0.4, 0.6)]
            pts = np.asarray(pts) @ turn[:2, :2].T + [x, y]
            parts.append(path("clip", "steel", pts, 0.04, z))
        elif kind == 1:  # a button or a stud
            parts.append(disc("button", metal, (x, y, z), rng.uniform(0.4, 0.9), 0.15))
        elif kind == 2:  # a safety pin or a grip
            parts.append(box("pin", metal, (x, y, z), (rng.uniform(2, 4), 0.25, 0.1), rot=turn))
        elif kind == 3:  # a lipstick or a lip balm: aluminium tube
            parts += tube("lipstick", "aluminium", (x - 3.5, y, z), (x + 3.5, y, z), 0.9, 0.05)
        elif kind == 4:  # a USB stick: board and steel plug
            parts.append(box("usb", "fr4", (x, y, z), (3.5, 1.5, 0.15), rot=turn))
            plug = turn @ np.array([2.4, 0, 0]) + [x, y, z]
            parts += shell("usb", "steel", (1.2, 1.2, 0.45), 0.03, plug, turn)
        else:  # a ring of a zip pull or a key ring
            parts.append(ring("ring", metal, (x, y, z), rng.uniform(0.6, 1.2), 0.07, 10))
    return ObjectModel("trinkets", parts, (w + 4, d + 4, 1.5))


def _hardware(rng: np.random.Generator, at, turn: np.ndarray) -> list[Part]:
    """One piece of loose hardware at `at`, turned by `turn`: a press stud (a disc with a dense
    boss), a screw lying on its side (a head and a shank, the T real scans show) or a zip
    slider with its pull tab."""
    at = np.asarray(at, float)
    kind = rng.choice(3, p=[0.35, 0.35, 0.3])
    metal = str(rng.choice(["steel", "brass", "stainless"]))
    if kind == 0:
        r = rng.uniform(0.45, 0.65)
        return [disc("snap", metal, at, r, 0.1), disc("snap", metal, at, r * 0.45, 0.3)]
    if kind == 1:
        head, shank = rng.uniform(0.25, 0.4), rng.uniform(1.0, 2.5)
        a, b = at, at + turn @ np.array([0.15, 0.0, 0.0])
        tip = b + turn @ np.array([shank, 0.0, 0.0])
        return [rod("screw", metal, a, b, head), rod("screw", metal, b, tip, head * 0.45)]
    body = box("slider", metal, at, (1.2, 0.8, 0.35), rot=turn)
    tab = at + turn @ np.array([1.4, 0.0, 0.0])
    return [body, box("slider", metal, tab, (1.8, 0.6, 0.08), rot=turn)]


def umbrella(rng: np.random.Generator, folded: bool = False) -> ObjectModel:
    """A folded umbrella: aluminium shaft, steel ribs and springs, nylon canopy, ABS handle.

    `folded`: a compact umbrella as built (`_compact_umbrella`); otherwise (v2.0-v2.13) eight
    ribs evenly round a plain shaft, the same ladder of stripes in every bag."""
    if folded:
        return _compact_umbrella(rng)
    length = rng.uniform(22, 32)
    parts = tube("shaft", "aluminium", (-length / 2, 0, 0), (length / 2, 0, 0), 0.5, 0.06)
    for k in range(8):
        a = 2 * np.pi * k / 8
        y, z = 1.0 * np.cos(a), 1.0 * np.sin(a)
        parts.append(rod("rib", "steel", (-length * 0.45, y, z), (length * 0.45, y, z), 0.07))
    parts += [
        Part("canopy", "nylon", Cylinder((0.0, 0, 0), ALONG_X, 2.2, length * 0.9)),
        Part("canopy", "nylon", Cylinder((0.0, 0, 0), ALONG_X, 2.1, length * 0.9), -1),
        box("handle", "abs", (-length / 2 - 3, 0, 0), (6.0, 2.8, 2.8)),
        path(
            "spring", "steel", [(length * 0.1 + k * 0.25, (-1) ** k * 0.5) for k in range(12)], 0.05
        ),
    ]
    return ObjectModel("umbrella", parts, (length + 6, 5.0, 5.0))


def _compact_umbrella(rng: np.random.Generator) -> ObjectModel:
    """A folded compact umbrella: a 22-32 cm shaft of 2-3 telescoped tubes, 6-10 ribs each
    folded into 2-3 steel sections lying unevenly round it (each at its own distance, slanted,
    a hinge at each fold and a cap at its tip), a top notch and a runner of plastic, a sprung
    latch, the canopy wrapped round loosely and a round handle of 6-10 cm, the whole centred on
    its stated size. Seen from above: a bundle of thin lines that cross and converge, thickest
    along the shaft, as real folded umbrellas show."""
    length = rng.uniform(22, 32)
    top, bottom = length / 2, -length / 2 + 2.0
    metal = "steel" if rng.random() < 0.5 else "aluminium"
    segments = int(rng.integers(2, 4))
    radius, parts = 0.55, []
    span = (top - bottom) / segments
    for k in range(segments):  # telescoped: each thinner tube reaching out of the one before
        a = bottom + k * span * 0.9
        parts += tube("shaft", metal, (a, 0, 0), (a + span * 1.1, 0, 0), radius, 0.05)
        radius -= 0.1
    folds = int(rng.integers(2, 4))
    for _ in range(int(rng.integers(6, 11))):  # ribs, each folded into `folds` sections
        angle = rng.uniform(0, 2 * np.pi)
        x0, r0 = top - 1.0, rng.uniform(0.6, 0.9)  # hinged on the notch, round the shaft
        for f in range(folds):
            x1 = x0 - (1 if f % 2 == 0 else -1) * rng.uniform(0.6, 0.9) * (top - bottom)
            x1 = float(np.clip(x1, bottom, top))
            r1 = rng.uniform(0.6, 1.8)
            a1 = angle + rng.normal(0, 0.25)
            start = (x0, r0 * np.cos(angle), r0 * np.sin(angle))
            end = (x1, r1 * np.cos(a1), r1 * np.sin(a1))
            parts.append(rod("rib", "steel", start, end, rng.uniform(0.05, 0.08)))
            parts.append(disc("hinge", "steel", (x1, end[1], end[2]), 0.15, 0.25))
            x0, r0, angle = x1, r1, a1
    runner = rng.uniform(bottom + 2, bottom + 6)
    parts += [
        Part("notch", "polypropylene", Cylinder((top - 0.8, 0, 0), ALONG_X, 0.9, 1.6)),
        Part("runner", "polypropylene", Cylinder((runner, 0, 0), ALONG_X, 0.8, 2.0)),
        path(
            "spring",
            "steel",
            [(runner + 3 + k * 0.25, (-1) ** k * 0.35) for k in range(int(rng.integers(6, 13)))],
            0.04,
        ),
    ]
    canopy = rng.uniform(1.6, 2.6)  # the wrapped canopy: a loose roll of nylon
    cloth = length * 0.85
    parts += [
        Part("canopy", "nylon", Cylinder((0.0, 0, 0), ALONG_X, canopy, cloth), 0.35),
        Part("canopy", "nylon", Cylinder((0.0, 0, 0), ALONG_X, canopy * 0.6, cloth), -0.35),
    ]
    grip, grip_len = rng.uniform(1.1, 1.6), rng.uniform(6.0, 10.0)
    centre = -length / 2 - grip_len / 2 + 1.5  # over the shaft's last 1.5 cm
    parts.append(Part("handle", "abs", Cylinder((centre, 0, 0), ALONG_X, grip, grip_len)))
    reach = length + grip_len - 1.5  # handle's end to the shaft's top
    parts = [move(part, ((grip_len - 1.5) / 2, 0.0, 0.0), np.eye(3)) for part in parts]
    across = 2 * max(canopy, grip) + 1
    return ObjectModel("umbrella", parts, (reach, across, across))


BELT_BAR = 0.35  # cm: the radius of a cast belt buckle's round bar


def belt(rng: np.random.Generator, framed: bool = False, cast: bool = False) -> ObjectModel:
    """A rolled or coiled leather belt with a steel or brass buckle: with `cast`, a loop of 7
    mm round bar, 4.5 by 5 cm over all, its corners rounded by 8 mm, and a prong of 3.6 mm
    across it, as belt buckles are cast; else with `framed`, a frame of square-cut 4.5 mm bars
    (v2.38-v2.51, thin hollow squares at the sheet's scale to a blind reader); else a solid
    plate (`shell`'s walls met in the middle, v2.0-v2.37)."""
    pts = _coiled(wander(rng, (0.0, 0.0), 12, 3.0, 0.4))
    buckle = str(rng.choice(["steel", "brass", "stainless"]))
    x, y = pts[0]
    if cast:
        loop = rounded_rect(2.25 - BELT_BAR, 2.5 - BELT_BAR, 0.8) + np.array([x, y])
        made = [path("buckle", buckle, loop, BELT_BAR)]
        prong = rod("prong", buckle, (x - 1.9, y, 0), (x + 1.9, y, 0), 0.18)
    else:
        made = (frame if framed else shell)("buckle", buckle, (4.5, 5.0, 0.5), 0.45, (x, y, 0))
        prong = rod("prong", buckle, (x - 1.5, y, 0), (x + 1.5, y, 0), 0.12)
    parts = [path("strap", "leather", pts, 0.5), *made, prong]
    span = np.ptp(pts, 0) + 6
    return ObjectModel("belt", parts, (float(span[0]), float(span[1]), 1.5))


def glasses(rng: np.random.Generator) -> ObjectModel:
    """Spectacles in a case: polycarbonate lenses, a wire frame with hinges and screws."""
    case = str(rng.choice(["abs", "aluminium", "leather"]))
    parts = shell("case", case, (16.0, 6.5, 4.0), 0.15 if case != "aluminium" else 0.05)
    for side in (-1, 1):
        c = (side * 3.3, 0, 0)
        parts.append(disc("lens", "polycarbonate", c, 2.4, 0.3))
        parts.append(ring("frame", "stainless", c, 2.5, 0.06))
        parts.append(rod("temple", "stainless", (side * 5.8, 1.0, 0), (side * 0.5, 1.6, 0.5), 0.06))
    return ObjectModel("glasses", parts, (16.0, 6.5, 4.0))


def pen(rng: np.random.Generator) -> ObjectModel:
    """A ballpoint pen: ABS barrel, brass tip, steel spring, ink refill."""
    length = rng.uniform(12, 15)
    parts = tube("barrel", "abs", (-length / 2, 0, 0), (length / 2, 0, 0), 0.5, 0.08)
    parts += [
        rod("refill", "polypropylene", (-length * 0.45, 0, 0), (length * 0.4, 0, 0), 0.15),
        rod("tip", "brass", (length * 0.4, 0, 0), (length / 2 + 0.4, 0, 0), 0.12),
        path(
            "spring", "steel", [(length * 0.25 + k * 0.1, (-1) ** k * 0.2) for k in range(10)], 0.02
        ),
    ]
    if rng.random() < 0.5:
        parts.append(box("clip", "steel", (-length * 0.35, 0.55, 0), (4.0, 0.2, 0.2)))
    return ObjectModel("pen", parts, (length + 1, 1.5, 1.0))


def food(rng: np.random.Generator, packed: bool = False) -> ObjectModel:
    """Benign confusers: chocolate in foil, cheese, a sausage, or fruit (organic, like marzipan).

    `packed`: also, as often as each of those, a jar of jam (`jar`) or a pack of rice, pasta or
    coffee (`grain_pack`), the heavy food travellers carry; otherwise (v2.0-v2.11) never."""
    kinds = ["chocolate", "cheese", "sausage", "fruit"] + (["jar", "pack"] if packed else [])
    kind = str(rng.choice(kinds))
    if kind == "jar":
        return jar(rng)
    if kind == "pack":
        return grain_pack(rng)
    if kind == "chocolate":
        w, d, h = rng.uniform(10, 18), rng.uniform(5, 9), rng.uniform(0.8, 2.5)
        parts = [box("food", "chocolate", (0, 0, 0), (w, d, h))]
        parts += shell("foil", "aluminium", (w + 0.1, d + 0.1, h + 0.1), 0.002)
        return ObjectModel("chocolate", parts, (w, d, h))
    if kind == "cheese":
        w, d, h = rng.uniform(6, 14), rng.uniform(5, 9), rng.uniform(2, 5)
        return ObjectModel("cheese", [box("food", "cheese", (0, 0, 0), (w, d, h))], (w, d, h))
    if kind == "sausage":
        length, r = rng.uniform(15, 30), rng.uniform(1.5, 3.0)
        body = Part("food", "cheese", Cylinder((0.0, 0, 0), ALONG_X, r, length))
        clips = [disc("clip", "aluminium", (s * length / 2, 0, 0), 0.5, 0.5) for s in (-1, 1)]
        return ObjectModel("sausage", [body, *clips], (length, 2 * r, 2 * r))
    r = rng.uniform(3.0, 4.5)
    fruit = [Part("food", "water", Ellipsoid((0.0, 0, 0), semi_axes=(r, r, r * 0.95)))]
    return ObjectModel("fruit", fruit, (2 * r, 2 * r, 2 * r))


def jar(rng: np.random.Generator) -> ObjectModel:
    """A glass jar of jam or honey with a steel lid, standing or lying on its side.

    Standing, the beam runs down its axis: a disc of jam ringed by the glass wall seen edge-on
    (green) and the lid; lying, a graded cylinder with a bright lid at one end."""
    r, height = rng.uniform(3.0, 4.5), rng.uniform(7.0, 12.0)
    glass, lid = rng.uniform(0.3, 0.45), 0.03
    standing = rng.random() < 0.5
    axis = np.eye(3) if standing else ALONG_X
    along = axis @ np.array([0.0, 0.0, 1.0])
    fill = rng.uniform(0.7, 0.95)
    cap = tuple(along * (height / 2 + 0.5))  # the lid's centre, on the jar's top
    inside = height - 2 * glass
    jam = Cylinder(tuple(-along * (1 - fill) * inside / 2), axis, r - glass, fill * inside)
    parts = [
        Part("jar", "glass", Cylinder((0.0, 0, 0), axis, r, height)),
        Part("jar", "glass", Cylinder((0.0, 0, 0), axis, r - glass, inside), -1),
        Part("food", "jam", jam),  # settled at the bottom
        Part("lid", "steel", Cylinder(cap, axis, r + 0.1, 1.0)),
        Part("lid", "steel", Cylinder(cap, axis, r + 0.1 - lid, 1.0 - 2 * lid), -1),
    ]
    parts = [move(p, -along * 0.5, np.eye(3)) for p in parts]  # jar and lid about the middle
    across, tall = 2 * (r + 0.1), height + 1
    size = (across, across, tall) if standing else (tall, across, across)
    return ObjectModel("jar", parts, size)


def grain_pack(rng: np.random.Generator) -> ObjectModel:
    """A pack of rice, pasta or coffee (0.12-0.83 kg as drawn, median 0.34): grains in a film
    bag (too thin to show), a rounded brick."""
    w, d, h = rng.uniform(14, 22), rng.uniform(8, 13), rng.uniform(4, 8)
    bulk = rng.uniform(0.6, 0.9)  # of the pack's ellipsoid the grains fill (`grain` is already
    # their bulk density): a pack is a rounded brick, slack at its squeezed ends
    grains = Part("food", "grain", Ellipsoid((0.0, 0, 0), semi_axes=(w / 2, d / 2, h / 2)), bulk)
    return ObjectModel("grain_pack", [grains], (w, d, h))


def wrapping(rng: np.random.Generator) -> ObjectModel:
    """A crumpled carrier bag or sheet of film padding a carton's goods: 2-5 sheets of
    polyethylene, each 0.4-1 mm thick as the crumple stacks the film, over one another; a
    "garment", so cut to the carton's walls, and drawn crumpled by `bag._draw_wad`."""
    w, d = rng.uniform(20, 40), rng.uniform(15, 30)
    parts = []
    for _ in range(int(rng.integers(2, 6))):
        fw, fd = w * rng.uniform(0.4, 1.0), d * rng.uniform(0.4, 1.0)
        x, y = rng.uniform(-1, 1) * (w - fw) / 2, rng.uniform(-1, 1) * (d - fd) / 2
        thick, turn = rng.uniform(0.04, 0.1), rng.normal(0, 0.3)
        parts.append(sheet("film", "polyethylene", (x, y, 0), (fw, fd), thick, turn))
    return ObjectModel("garment", parts, (w, d, 2.0))


_MAX_PIECES = 250  # `sweets`: a pack of more is drawn smaller


def _close_packed(half: np.ndarray, r: float, layers: int) -> np.ndarray:
    """Centres (x, y, z) of balls of radius `r` close-packed in `layers` over an oval of half
    axes `half` (x, y): each layer in the hollows of the one below, a little pressed together."""
    step = 2 * r * 0.95
    xs = np.arange(-half[0] + r, half[0] - r + 1e-9, step)
    ys = np.arange(-half[1] + r, half[1] - r + 1e-9, step * np.sqrt(3) / 2)
    grid = np.array([(x + (k % 2) * step / 2, y) for k, y in enumerate(ys) for x in xs])
    rise = step * np.sqrt(2 / 3)
    centres = np.array(
        [
            (
                x + (k % 3) * step / 2,
                y + (k % 3) * step * np.sqrt(3) / 6,
                (k - (layers - 1) / 2) * rise,
            )
            for k in range(layers)
            for x, y in grid.reshape(-1, 2)
        ]
    ).reshape(-1, 3)
    return centres[np.sum(np.square(centres[:, :2] / (half - r + 1e-9)), axis=1) <= 1.0]


def sweets(rng: np.random.Generator) -> ObjectModel:
    """A bag of nuts or boiled sweets lying flat: small round pieces (r 0.5-0.9 cm before each is
    squashed and sized, 0.3-1.1 of it) close-packed in two or three layers over an oval, jostled
    by 0.3 r, as a bag of them settles, in a film bag too thin to show: the packs of small
    orange blobs real food cartons hold (sixray_benign). At most `_MAX_PIECES`: a bigger pack
    is drawn smaller. Chocolate or marzipan (fat, protein and sugar, as nuts are)."""
    r = rng.uniform(0.5, 0.9)
    half = np.array([rng.uniform(6, 14), rng.uniform(4, 9)])
    layers = int(rng.integers(2, 4))
    centres = _close_packed(half, r, layers)
    while len(centres) > _MAX_PIECES:
        half *= np.sqrt(_MAX_PIECES / len(centres)) * 0.98
        centres = _close_packed(half, r, layers)
    if not len(centres):
        centres = np.zeros((1, 3))
    centres = centres + rng.normal(0, 0.3 * r, centres.shape)  # settled, not on a lattice
    material = str(rng.choice(["chocolate", "marzipan"]))
    count = len(centres)
    squash = rng.uniform(0.6, 1.0, (count, 3)) * rng.uniform(0.5, 1.1, (count, 1))
    parts = [
        Part("food", material, Ellipsoid(tuple(c), semi_axes=tuple(r * s)))
        for c, s in zip(centres, squash, strict=True)
    ]
    height = 2 * (np.abs(centres[:, 2]).max() + r)
    return ObjectModel("sweets", parts, (2 * half[0] + r, 2 * half[1] + r, height))


def tin(rng: np.random.Generator) -> ObjectModel:
    """A tin of food: tinplate (0.2 mm steel) round a solid or wet filling, its ends' double seams
    rings of folded steel, so seen side-on it shows blue rims at both ends and a green body,
    as the tins in real food cartons do (sixray_benign)."""
    r, height = rng.uniform(3.5, 5.5), rng.uniform(4.0, 12.0)
    filling = str(rng.choice(["water", "cheese", "oil"]))
    standing = rng.random() < 0.5
    axis = np.eye(3) if standing else ALONG_X
    along = axis @ np.array([0.0, 0.0, 1.0])
    parts = []
    for end in (-1, 1):  # the double seam: five layers of tinplate (1 mm) folded into a band 3 mm
        seam = tuple(along * end * (height / 2 - 0.15))  # tall round the wall
        parts.append(Part("seam", "steel", Cylinder(seam, axis, r + 0.1, 0.3)))
        parts.append(Part("seam", "steel", Cylinder(seam, axis, r, 0.3), -1))
    parts += [
        Part("tin", "steel", Cylinder((0.0, 0, 0), axis, r, height)),
        Part("tin", "steel", Cylinder((0.0, 0, 0), axis, r - 0.02, height - 0.04), -1),
        Part("food", filling, Cylinder((0.0, 0, 0), axis, r - 0.02, (height - 0.04) * 0.95)),
    ]
    across = 2 * r + 0.3
    size = (across, across, height) if standing else (height, across, across)
    return ObjectModel("tin", parts, size)


def biscuit_rolls(rng: np.random.Generator) -> ObjectModel:
    """A pack of 2-5 rolls of biscuits or crackers side by side: long organic cylinders, the
    rows of wide orange bars real food cartons show (sixray_benign)."""
    r, length = rng.uniform(2.5, 4.0), rng.uniform(15, 25)
    n = int(rng.integers(2, 6))
    bulk = rng.uniform(0.3, 0.5)  # baked dough, more than half of it air
    parts = []
    for k in range(n):
        y = (k - (n - 1) / 2) * 2 * r
        parts.append(Part("food", "marzipan", Cylinder((0.0, y, 0), ALONG_X, r, length), bulk))
    return ObjectModel("biscuit_rolls", parts, (length, 2 * r * n, 2 * r))


def packet(rng: np.random.Generator) -> ObjectModel:
    """A box of folding boxboard (0.4-0.6 mm of paper) holding rolls of biscuits or a pack of
    grain, as much packaged food is sold: face-on a faint veil, its walls seen edge-on crisp
    lines round the food, the outlines of the packs real food cartons show (sixray_benign)."""
    food = biscuit_rolls(rng) if rng.random() < 0.5 else grain_pack(rng)
    wall = rng.uniform(0.04, 0.06)
    size = np.asarray(food.size) + 0.4 + 2 * wall  # a little slack round the food
    return ObjectModel("packet", shell("packet", "paper", tuple(size), wall) + food.parts, size)


# What a carton of food holds (`carton_goods`): (relative frequency, builder), after the eight
# cartons among sixray_benign's backgrounds: heaps of nuts and sweets, rolls, tins, jars, packs
CARTON_GOODS: dict[str, tuple[float, Callable[[np.random.Generator], ObjectModel]]] = {
    "sweets": (5.0, sweets),
    "packet": (2.0, packet),
    "biscuit_rolls": (1.0, biscuit_rolls),
    "tin": (0.5, tin),
    "jar": (0.5, jar),
    "grain_pack": (0.7, grain_pack),
    "food": (0.7, food),
}


def _by_frequency(
    rng: np.random.Generator,
    table: dict[str, tuple[float, Callable]],
    names: list[str],
    frequencies: dict[str, float] | None = None,
) -> str:
    """One of `names`, drawn by the frequencies `table` gives them (those in `frequencies`
    instead)."""
    weights = np.array([(frequencies or {}).get(n, table[n][0]) for n in names])
    return names[int(rng.choice(len(names), p=weights / weights.sum()))]


def carton_goods(rng: np.random.Generator) -> ObjectModel:
    """One item of what a carton of food holds, by the frequencies of `CARTON_GOODS`."""
    return CARTON_GOODS[_by_frequency(rng, CARTON_GOODS, list(CARTON_GOODS))][1](rng)


def batteries(rng: np.random.Generator) -> ObjectModel:
    """Spare alkaline cells (AA or AAA), loose or in a blister: a benign confuser."""
    r, length = (0.72, 5.0) if rng.random() < 0.6 else (0.52, 4.4)
    parts = []
    n = int(rng.integers(2, 9))
    for i in range(n):
        y = (i - (n - 1) / 2) * (2 * r + 0.1)
        parts += [
            Part("can", "steel", Cylinder((0.0, y, 0), ALONG_X, r, length)),
            Part("can", "steel", Cylinder((0.0, y, 0), ALONG_X, r - 0.025, length - 0.05), -1),
            Part("core", "alkaline", Cylinder((0.0, y, 0), ALONG_X, r - 0.03, length - 0.2)),
            rod("pin", "brass", (-length / 2, y, 0), (length / 2 - 0.3, y, 0), 0.08),
        ]
    return ObjectModel("batteries", parts, (length, n * (2 * r + 0.1), 2 * r))


def headphones(rng: np.random.Generator) -> ObjectModel:
    """Headphones: a steel band in an ABS headband, cups with NdFeB magnets, a cable."""
    span = rng.uniform(14, 18)
    arc = [
        (span / 2 * np.cos(a), span / 2 * np.sin(a) * 0.8)
        for a in np.linspace(0.1, np.pi - 0.1, 14)
    ]
    parts = [path("band", "abs", arc, 0.7), path("band", "steel", arc, 0.1)]
    for x in (arc[0][0], arc[-1][0]):
        parts += [
            disc("cup", "abs", (x, 0, 0), 4.0, 3.0),
            disc("magnet", "ndfeb", (x, 0, 0), 1.0, 0.4),
            ring("coil", "copper", (x, 0, 0.3), 1.2, 0.08),
        ]
    return ObjectModel("headphones", parts, (span + 8, span * 0.5 + 8, 3.0))


CLUTTER: dict[str, tuple[float, Callable[[np.random.Generator], ObjectModel]]] = {
    # name: (relative frequency in a bag, builder)
    "garment": (3.0, garment),
    "shoe": (0.8, shoe),
    "cable": (3.5, cable),
    "power_bank": (0.3, power_bank),
    "toiletry_bag": (0.6, toiletry_bag),
    "book": (0.8, book),
    "keys": (0.7, keys),
    "coins": (0.7, coins),
    "trinkets": (5.0, trinkets),
    "umbrella": (0.4, umbrella),
    "belt": (0.5, belt),
    "glasses": (0.3, glasses),
    "pen": (0.7, pen),
    "food": (0.7, food),
    "batteries": (0.4, batteries),
    "headphones": (0.3, headphones),
}


def random_clutter(
    rng: np.random.Generator,
    *,
    only: str | None = None,
    exclude: tuple[str, ...] = (),
    frequencies: dict[str, float] | None = None,
    coiled_cables: bool = False,
    wound_coils: bool = False,
    fanned_keys: bool = False,
    heavy: bool = False,
    folded_umbrellas: bool = False,
    framed_buckles: bool = False,
    cast_buckles: bool = False,
    hardware: bool = False,
    rings: float = 1.0,
    eva_soles: bool = False,
) -> ObjectModel:
    """One clutter item (of kind `only`, or any but `exclude`) by the frequencies of `CLUTTER`,
    those given in `frequencies` instead; cables mostly coiled with `coiled_cables`, their
    chargers' transformers as built with `wound_coils`, keys fanned with `fanned_keys`; with
    `heavy` shoes come in pairs and food also in jars and packs (`shoes`, `food`); umbrellas
    as built with `folded_umbrellas` (`umbrella`); belt buckles open frames with
    `framed_buckles`, cast loops of round bar with `cast_buckles` (`belt`); strewn gadgets
    mostly hardware with `hardware`, and that share of strewn rings kept with `rings`
    (`trinkets`); trainers' soles mostly foamed EVA with `eva_soles` (`shoes`)."""
    if only is None:
        names = [n for n in CLUTTER if n not in exclude]
        only = _by_frequency(rng, CLUTTER, names, frequencies)
    if only == "cable":
        return cable(rng, coiled=coiled_cables, wound=wound_coils)
    if only == "keys":
        return keys(rng, fanned=fanned_keys)
    if heavy and only == "shoe":
        return shoes(rng, eva=eva_soles)
    if only == "food":
        return food(rng, packed=heavy)
    if only == "umbrella":
        return umbrella(rng, folded=folded_umbrellas)
    if only == "belt":
        return belt(rng, framed=framed_buckles, cast=cast_buckles)
    if only == "trinkets":
        return trinkets(rng, hardware=hardware, rings=rings)
    return CLUTTER[only][1](rng)
