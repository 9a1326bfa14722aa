"""The six object classes of the paper, built from solids with their internals, and anomalies.

Builders work in item coordinates (cm, origin at the object's centre, z up, the long side along
x) and return an `ObjectModel` (physics.md §6: a laptop is a case, a board with chips, a battery
pack, a hinge, screws and a fan; a hairdryer a motor, a fan and a nichrome coil on mica; ...).
`insert_anomaly()` puts a concealed item inside a host and removes the internals it displaces,
as in the paper (marzipan, screws, a metal plate, a knife) plus loose wires and a wrong battery,
or swaps one of the design's parts for an explosive or simulant of the same shape (`swapped`).

Product designs: real products of one model are nearly identical inside, which is how an
analyst sees a foreign part. Each class has a catalogue (`DesignCounts`: 20 laptops, 10 of each
other class by default); design k of a class is built from `default_rng([CATALOGUE_SEED, class,
k])` alone (size, case material, board and chip layout, cell count, ports, screws, liquid and
its fill range, ...), so it is the same product in any bag of any dataset. A unit adds its own
state from the bag's generator (a bottle's fill level within its design's range, water in an
iron's tank, a toaster's lever) and a manufacturing tolerance: each internal part group moves
by N(0, 0.4 mm). Annotations record the design (`laptop/07`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from engine.classes import DEFAULT_CLASSES
from engine.synth.parts import ObjectModel, box, disc, move, path, place, rod, shell, tube
from engine.synth.shapes import Canvas, Cylinder, Ellipsoid, Part, Wire, rotation

CATEGORIES = DEFAULT_CLASSES  # the simulator draws the default classes (engine.classes)
ANOMALY_TYPES = ("marzipan", "screws", "metal_plate", "knife", "wires", "battery", "swapped")
ALONG_X = rotation(0, np.pi / 2, 0)  # a cylinder's axis turned from z to x

__all__ = ["ANOMALY_TYPES", "CATEGORIES", "Drawn", "ObjectModel", "build", "draw", "place"]


def _screws(xs, ys, z, length=0.5, radius=0.09, material="steel") -> list[Part]:
    """Upright screws at every (x, y) pair: a head and a shank seen end-on."""
    parts = []
    for x, y in zip(xs, ys, strict=True):
        parts.append(rod("screw", material, (x, y, z), (x, y, z + length), radius))
        parts.append(disc("screw", material, (x, y, z), radius * 2.2, 0.08))
    return parts


def _board(rng, center, size, chips: int, copper: float = 0.004) -> list[Part]:
    """A circuit board: FR4 with copper planes, chips, capacitors and a few traces."""
    cx, cy, cz = center
    w, d, h = size
    parts = [
        box("board", "fr4", center, size),
        box("board_copper", "copper", (cx, cy, cz + h / 2), (w * 0.96, d * 0.96, copper)),
    ]
    for i in range(chips):
        cw, cd = rng.uniform(0.4, min(2.8, w / 3)), rng.uniform(0.4, min(2.8, d / 3))
        x, y = cx + rng.uniform(-0.45, 0.45) * (w - cw), cy + rng.uniform(-0.45, 0.45) * (d - cd)
        parts.append(box(f"chip{i}", "ceramic", (x, y, cz + h / 2 + 0.08), (cw, cd, 0.15)))
        if rng.random() < 0.5:  # leads or a lead frame
            parts.append(box(f"chip{i}", "copper", (x, y, cz + h / 2 + 0.02), (cw, cd, 0.01)))
    for _ in range(int(rng.integers(2, 6))):  # electrolytic capacitors: aluminium cans
        x, y = cx + rng.uniform(-0.45, 0.45) * w, cy + rng.uniform(-0.45, 0.45) * d
        parts.append(disc("capacitor", "aluminium", (x, y, cz + h / 2 + 0.4), 0.3, 0.7))
    for _ in range(int(rng.integers(3, 8))):  # traces
        x0, y0 = cx + rng.uniform(-0.45, 0.45) * w, cy + rng.uniform(-0.45, 0.45) * d
        pts = [
            (x0, y0),
            (x0 + rng.uniform(-0.4, 0.4) * w, y0),
            (x0, y0 + rng.uniform(-0.4, 0.4) * d),
        ]
        parts.append(path("trace", "copper", pts, 0.02, cz + h / 2))
    return parts


# ----- the six classes ------------------------------------------------------------------------
def bottle(design: np.random.Generator, unit: np.random.Generator) -> ObjectModel:
    kind = design.choice(["pet", "pet", "glass", "wine"])
    wall_material, wall = ("pet", design.uniform(0.025, 0.04)) if kind == "pet" else ("glass", 0.3)
    liquid = str(design.choice(["water", "water", "oil", "ethanol", "water"]))
    if kind == "wine":
        liquid = "ethanol" if design.random() < 0.3 else "water"
        radius, length = design.uniform(3.6, 4.0), design.uniform(22.0, 24.0)
    else:
        radius, length = design.uniform(2.8, 4.5), design.uniform(15.0, 30.0)
    fill_range = np.sort(design.uniform(0.5, 0.97, 2))  # how full its units are sold and used
    fill = unit.uniform(*fill_range)
    shoulder = design.uniform(0.15, 0.3) * length
    body_len = length - shoulder
    x0 = -length / 2 + body_len / 2  # the body's centre; the neck is towards +x
    neck_r = radius * design.uniform(0.3, 0.45)
    shoulder_at = x0 + body_len / 2
    dome = (radius, radius, shoulder)
    inner = (radius - wall, radius - wall, shoulder - wall)
    parts = [  # the shoulder: half an ellipsoid shell towards the neck
        Part("wall", wall_material, Ellipsoid((shoulder_at, 0, 0), ALONG_X, dome, cut=0.0)),
        Part("wall", wall_material, Ellipsoid((shoulder_at, 0, 0), ALONG_X, inner, cut=0.0), -1),
        Part("wall", wall_material, Cylinder((x0, 0, 0), ALONG_X, radius, body_len)),
        Part(
            "wall",
            wall_material,
            Cylinder((x0, 0, 0), ALONG_X, radius - wall, body_len - 2 * wall),
            -1.0,
        ),
    ]
    parts += tube(
        "neck",
        wall_material,
        (shoulder_at + shoulder * 0.8, 0, 0),
        (length / 2, 0, 0),
        neck_r,
        wall,
    )
    liquid_len = (body_len - 2 * wall) * fill
    parts.append(
        Part(
            "liquid",
            liquid,
            Cylinder(
                (x0 - (body_len - 2 * wall - liquid_len) / 2, 0, 0),
                ALONG_X,
                radius - wall,
                liquid_len,
            ),
        )
    )
    cap = "aluminium" if kind == "wine" and design.random() < 0.5 else "polyethylene"
    parts.append(rod("cap", cap, (length / 2, 0, 0), (length / 2 + 1.8, 0, 0), neck_r + 0.15))
    if design.random() < 0.6:  # a paper or plastic label around the body
        parts += tube(
            "label",
            "paper",
            (x0 - body_len * 0.3, 0, 0),
            (x0 + body_len * 0.3, 0, 0),
            radius + 0.02,
            0.02,
        )
    return ObjectModel("bottle", parts, (length + 1.8, 2 * radius, 2 * radius))


def laptop(design: np.random.Generator, unit: np.random.Generator) -> ObjectModel:
    inches = float(design.choice([11.6, 13.3, 14.0, 15.6, 17.3]))
    w, d = inches * 2.54 * 0.87, inches * 2.54 * 0.58
    h = design.uniform(1.5, 2.4)
    case = "aluminium" if design.random() < 0.5 else "abs"
    wall = 0.1 if case == "aluminium" else 0.2
    parts = shell("case", case, (w, d, h), wall)
    top = h / 2
    parts += [  # the lid: a glass panel in front of a light guide and a metal or plastic back
        box("screen", "glass", (0, 0, top - 0.35), (w * 0.95, d * 0.95, 0.12)),
        box("screen", "polycarbonate", (0, 0, top - 0.5), (w * 0.93, d * 0.93, 0.15)),
        box("keyboard", "aluminium", (0, d * 0.1, top - 0.75), (w * 0.85, d * 0.42, 0.05)),
    ]
    keys_x, keys_y = 14, 5
    for i, j in itertools.product(range(keys_x), range(keys_y)):
        kx = (i - (keys_x - 1) / 2) * w * 0.85 / keys_x
        ky = d * 0.1 + (j - (keys_y - 1) / 2) * d * 0.42 / keys_y
        parts.append(box("keyboard", "abs", (kx, ky, top - 0.62), (w * 0.05, d * 0.065, 0.2)))
    board_w, board_d = w * design.uniform(0.45, 0.6), d * design.uniform(0.35, 0.45)
    bx, by = w * 0.2 * design.choice([-1, 1]), -d * 0.22
    parts += _board(design, (bx, by, -0.1), (board_w, board_d, 0.12), int(design.integers(5, 11)))
    cells = int(design.choice([3, 4, 6]))
    bat_w, bat_d = w * 0.7, d * 0.3
    for c in range(cells):  # the battery pack: a row of pouch cells
        cx = -bat_w / 2 + bat_w * (c + 0.5) / cells
        parts.append(
            box("battery", "li_ion", (cx, d * 0.28, -0.3), (bat_w / cells - 0.3, bat_d, 0.55))
        )
    parts.append(box("battery", "aluminium", (0, d * 0.28, -0.6), (bat_w, bat_d, 0.02)))
    fan_x = bx + board_w * 0.35 * np.sign(bx or 1)
    parts += [
        disc("fan", "abs", (fan_x, by, 0), 2.4, 0.6),
        disc("fan", "copper", (fan_x, by, 0.1), 0.7, 0.3),
        disc("fan", "ndfeb", (fan_x, by, 0.1), 0.9, 0.1),
        box(
            "heatpipe",
            "copper",
            ((fan_x + bx) / 2, by + 1.5, 0.2),
            (abs(fan_x - bx) + 3, 0.7, 0.25),
        ),
        rod("hinge", "steel", (-w * 0.42, -d / 2 + 0.6, 0), (-w * 0.28, -d / 2 + 0.6, 0), 0.32),
        rod("hinge", "steel", (w * 0.28, -d / 2 + 0.6, 0), (w * 0.42, -d / 2 + 0.6, 0), 0.32),
        box("trackpad", "glass", (0, d * 0.38 - d * 0.5, top - 0.7), (w * 0.3, d * 0.2, 0.07)),
        disc("speaker", "ndfeb", (-w * 0.4, d * 0.05, -0.2), 0.5, 0.25),
        disc("speaker", "ndfeb", (w * 0.4, d * 0.05, -0.2), 0.5, 0.25),
    ]
    for k in range(int(design.integers(2, 5))):  # USB and other ports: steel shells on an edge
        side = -w / 2 + 0.6 if k % 2 else w / 2 - 0.6
        parts += shell("port", "steel", (1.0, 1.3, 0.5), 0.03, (side, -d * 0.3 + k * 2.0, 0))
    n = int(design.integers(8, 15))
    xs = np.concatenate([[-w / 2 + 1, w / 2 - 1] * 2, design.uniform(-w / 2 + 1, w / 2 - 1, n - 4)])
    ys = np.concatenate(
        [[-d / 2 + 1] * 2 + [d / 2 - 1] * 2, design.uniform(-d / 2 + 1, d / 2 - 1, n - 4)]
    )
    parts += _screws(xs, ys, -h / 2, length=0.45)
    return ObjectModel("laptop", parts, (w, d, h), cavity=(w * 0.35, d * 0.3, h * 0.3))


def mobile(design: np.random.Generator, unit: np.random.Generator) -> ObjectModel:
    w, d, h = design.uniform(13.0, 16.5), design.uniform(6.4, 7.8), design.uniform(0.75, 1.0)
    frame = "aluminium" if design.random() < 0.7 else "stainless"
    parts = shell("frame", frame, (w, d, h), 0.12 if frame == "aluminium" else 0.06)
    parts += [
        box("screen", "glass", (0, 0, h / 2 - 0.05), (w * 0.99, d * 0.99, 0.08)),
        box("back", "glass", (0, 0, -h / 2 + 0.05), (w * 0.99, d * 0.99, 0.07)),
        box("battery", "li_ion", (-w * 0.12, 0, -0.05), (w * 0.5, d * 0.78, 0.42)),
        box("battery", "aluminium", (-w * 0.12, 0, 0.17), (w * 0.5, d * 0.78, 0.01)),
        box("shield", "stainless", (w * 0.3, 0, 0.12), (w * 0.28, d * 0.7, 0.02)),
        disc("camera", "stainless", (w * 0.4, d * 0.25, -0.1), 0.55, 0.35),
        disc("camera", "glass", (w * 0.4, d * 0.25, -0.1), 0.4, 0.4),
        box("speaker", "ndfeb", (-w * 0.44, -d * 0.2, 0), (0.6, 1.5, 0.25)),
        box("vibration", "steel", (-w * 0.44, d * 0.25, 0), (0.9, 0.9, 0.3)),
        box("sim", "stainless", (w * 0.1, d * 0.45, 0), (1.5, 0.5, 0.05)),
        box("port", "steel", (-w / 2 + 0.3, 0, 0), (0.6, 0.9, 0.35)),
    ]
    parts += _board(
        design, (w * 0.3, 0, 0), (w * 0.3, d * 0.8, 0.08), int(design.integers(3, 7)), 0.003
    )
    parts += _screws([-w / 2 + 0.3, -w / 2 + 0.3], [-d * 0.2, d * 0.2], -0.2, 0.3, 0.05)
    return ObjectModel("mobile", parts, (w, d, h), cavity=(w * 0.3, d * 0.3, h * 0.3))


def hairdryer(design: np.random.Generator, unit: np.random.Generator) -> ObjectModel:
    length, radius = design.uniform(17, 24), design.uniform(3.2, 4.5)
    handle_len = design.uniform(10, 15)
    wall = 0.25
    parts = [
        Part("body", "abs", Cylinder((0.0, 0, 0), ALONG_X, radius, length)),
        Part("body", "abs", Cylinder((0.0, 0, 0), ALONG_X, radius - wall, length - 2 * wall), -1.0),
    ]
    parts += tube(
        "handle",
        "abs",
        (-length * 0.15, -radius + 0.5, 0),
        (-length * 0.15, -radius - handle_len, 0),
        1.5,
        0.2,
    )
    motor_x = -length * 0.28
    parts += [
        Part("motor", "copper", Cylinder((motor_x, 0, 0), ALONG_X, 1.2, 2.6)),
        Part("motor", "ferrite", Cylinder((motor_x, 0, 0), ALONG_X, 1.7, 2.2)),
        Part("motor", "ferrite", Cylinder((motor_x, 0, 0), ALONG_X, 1.45, 2.2), -1.0),
        rod("motor", "steel", (motor_x - 1.8, 0, 0), (motor_x + 2.2, 0, 0), 0.12),
        Part("fan", "abs", Cylinder((motor_x + 2.0, 0, 0), ALONG_X, radius - 0.5, 0.8)),
        box(
            "heater_support", "mica", (length * 0.15, 0, 0), (length * 0.42, 2 * radius - 1.5, 0.1)
        ),
        box(
            "heater_support", "mica", (length * 0.15, 0, 0), (length * 0.42, 0.1, 2 * radius - 1.5)
        ),
    ]
    turns = int(design.integers(10, 18))
    for i in range(turns):  # the nichrome coil wound along the mica cross
        x = length * (-0.05 + 0.4 * i / turns)
        parts.append(Part(f"coil{i}", "nichrome", Cylinder((x, 0, 0), ALONG_X, radius - 1.2, 0.04)))
        parts.append(
            Part(f"coil{i}", "nichrome", Cylinder((x, 0, 0), ALONG_X, radius - 1.25, 0.04), -1.0)
        )
    grill_x = length / 2 - 0.3
    for k in range(-3, 4):  # a steel grille across the outlet
        parts.append(
            rod(
                "grille",
                "steel",
                (grill_x, k * radius / 4, -radius * 0.8),
                (grill_x, k * radius / 4, radius * 0.8),
                0.04,
            )
        )
    hy = -radius - handle_len * 0.4
    parts += [
        box("switch", "brass", (-length * 0.15, hy, 0), (0.6, 1.5, 0.4)),
        box("switch", "fr4", (-length * 0.15, hy - 1.5, 0), (1.5, 2.5, 0.1)),
        rod(
            "cable",
            "copper",
            (-length * 0.15 - 0.2, -radius - 1, 0),
            (-length * 0.15 - 0.2, hy, 0),
            0.06,
        ),
        rod(
            "cable",
            "copper",
            (-length * 0.15 + 0.2, -radius - 1, 0),
            (-length * 0.15 + 0.2, hy, 0),
            0.06,
        ),
        rod(
            "cable",
            "pvc",
            (-length * 0.15, -radius - handle_len, 0),
            (-length * 0.15, -radius - handle_len - 2.5, 0),
            0.35,
        ),
    ]
    barrel = (radius - 0.6) * 0.7
    # Centre the extent: the barrel's axis sits above the middle, the handle hangs below it.
    dy = (handle_len + 2.5) / 2
    parts = [move(p, (0.0, dy, 0.0), np.eye(3)) for p in parts]
    size = (length, 2 * radius + handle_len + 2.5, 2 * radius)
    return ObjectModel(
        "hairdryer", parts, size, cavity=(length * 0.4, barrel, barrel), cavity_center=(0, dy, 0)
    )


def iron(design: np.random.Generator, unit: np.random.Generator) -> ObjectModel:
    w, d, h = design.uniform(24, 29), design.uniform(10, 12.5), design.uniform(12, 15)
    sole = "aluminium" if design.random() < 0.5 else "stainless"
    sole_t = 0.5 if sole == "aluminium" else 0.15
    z0 = -h / 2
    parts = [
        Part("soleplate", sole, Ellipsoid((0.0, 0, z0), semi_axes=(w / 2, d / 2, sole_t), cut=0)),
    ]
    for _ in range(int(design.integers(12, 30))):  # steam holes through the soleplate
        x, y = design.uniform(-0.35, 0.35) * w, design.uniform(-0.3, 0.3) * d
        parts.append(
            Part("soleplate", sole, Cylinder((x, y, z0 + 0.2), radius_cm=0.15, length=2.0), -1.0)
        )
    parts += [
        Part(
            "body",
            "abs",
            Ellipsoid((0.0, 0, z0 + h * 0.3), semi_axes=(w * 0.48, d * 0.45, h * 0.3)),
        ),
        Part(
            "body",
            "abs",
            Ellipsoid(
                (0.0, 0, z0 + h * 0.3), semi_axes=(w * 0.48 - 0.25, d * 0.45 - 0.25, h * 0.3 - 0.25)
            ),
            -1.0,
        ),
        Part(
            "tank",
            "polycarbonate",
            Ellipsoid((w * 0.12, 0, z0 + h * 0.35), semi_axes=(w * 0.28, d * 0.3, h * 0.15)),
        ),
        Part(
            "tank",
            "polycarbonate",
            Ellipsoid(
                (w * 0.12, 0, z0 + h * 0.35),
                semi_axes=(w * 0.28 - 0.2, d * 0.3 - 0.2, h * 0.15 - 0.2),
            ),
            -1.0,
        ),
    ]
    if unit.random() < 0.5:  # this unit's tank has water in it
        level = unit.uniform(0.3, 1.0)
        fill = Ellipsoid(
            (w * 0.12, 0, z0 + h * 0.33), semi_axes=(w * 0.26, d * 0.28, h * 0.1 * level)
        )
        parts.append(Part("tank", "water", fill))
    parts += tube(
        "handle", "abs", (-w * 0.32, 0, z0 + h * 0.8), (w * 0.22, 0, z0 + h * 0.8), 1.5, 0.25
    )
    ex = w * 0.38
    u_shape = [
        (-ex, -d * 0.25),
        (ex * 0.8, -d * 0.25),
        (ex, 0),
        (ex * 0.8, d * 0.25),
        (-ex, d * 0.25),
    ]
    parts += [
        # the element: a nichrome coil in MgO inside a steel sheath, cast into the soleplate
        path("element", "stainless", u_shape, 0.42, z0 + sole_t + 0.3),
        path("element", "stainless", u_shape, 0.36, z0 + sole_t + 0.3, -1.0),
        path("element", "ceramic", u_shape, 0.36, z0 + sole_t + 0.3),
        path("element", "nichrome", u_shape, 0.08, z0 + sole_t + 0.3),
        box("thermostat", "brass", (-w * 0.15, 0, z0 + 2.0), (2.0, 1.5, 1.0)),
        box("thermostat", "steel", (-w * 0.15, 0, z0 + 2.7), (2.6, 0.6, 0.05)),
        rod("cable", "pvc", (-w * 0.48, 0, z0 + h * 0.5), (-w * 0.58, 0, z0 + h * 0.45), 0.4),
        rod(
            "cable", "copper", (-w * 0.48, 0.1, z0 + h * 0.5), (-w * 0.58, 0.1, z0 + h * 0.45), 0.07
        ),
        rod(
            "cable",
            "copper",
            (-w * 0.48, -0.1, z0 + h * 0.5),
            (-w * 0.58, -0.1, z0 + h * 0.45),
            0.07,
        ),
    ]
    parts += _screws([-w * 0.2, w * 0.25, 0.0], [0, 0, d * 0.2], z0 + 0.5, 1.2, 0.12)
    size = (w * 1.16, d, h)
    return ObjectModel("iron", parts, size, cavity=(w * 0.25, d * 0.25, h * 0.15))


def toaster(
    design: np.random.Generator, unit: np.random.Generator, wire_guards: bool = False
) -> ObjectModel:
    """A pop-up toaster: a sheet-steel body, mica elements wound with nichrome in each slot,
    the guards that keep the bread off them, a carriage, base, crumb tray and controls.

    `wire_guards`: each guard as built, a cage of 1.6 mm steel wire (`_wire_guard`); otherwise
    (v2.0-v2.18) a solid plate, 0.5 mm thick and 11-13 cm tall, which the beam sees edge-on as
    a black line across the toaster. Draws the same random numbers either way."""
    w, d, h = design.uniform(26, 32), design.uniform(15, 19), design.uniform(18, 21)
    body = "stainless" if design.random() < 0.7 else "steel"
    parts = shell("body", body, (w, d, h), design.uniform(0.04, 0.07))
    slots = 2 if design.random() < 0.7 else 4
    carriage_z = -h * 0.35 if unit.random() < 0.85 else -h * 0.1  # this unit's lever down or up
    for s in range(slots):
        y = -d / 2 + d * (s + 1) / (slots + 1)
        for side in (-1, 1):
            ys = y + side * 1.6
            parts.append(box("mica", "mica", (0, ys, 0), (w * 0.8, 0.08, h * 0.7)))
            zig = [(x, ys) for x in np.linspace(-w * 0.38, w * 0.38, 2)]
            for k in range(8):  # nichrome ribbon wound round each mica plate
                z = -h * 0.32 + k * h * 0.09
                parts.append(path("element", "nichrome", zig, 0.05, z))
            if wire_guards:
                parts += _wire_guard(w * 0.8, h * 0.6, y + side * 2.2)
            else:
                parts.append(
                    box("guard", "steel", (0, y + side * 2.2, 0), (w * 0.8, 0.05, h * 0.6))
                )
        parts.append(box("carriage", "steel", (0, y, carriage_z), (w * 0.75, 2.6, 0.08)))
    parts += [
        box("base", "steel", (0, 0, -h / 2 + 0.6), (w * 0.95, d * 0.95, 0.06)),
        box("crumb_tray", "aluminium", (0, 0, -h / 2 + 0.3), (w * 0.9, d * 0.85, 0.05)),
        box("control", "fr4", (w / 2 - 2.5, 0, -h * 0.2), (1.5, d * 0.5, 4.0)),
        box("control", "steel", (w / 2 - 2.0, 0, -h * 0.15), (0.6, 1.2, 1.2)),
        box("lever", "abs", (w / 2 + 0.8, 0, 0), (1.6, 2.4, 2.0)),
        rod("lever", "steel", (w / 2 - 3, 0, 0), (w / 2 + 0.5, 0, 0), 0.15),
        path("spring", "steel", [(-w * 0.3, k * 0.3 - 1.5) for k in range(11)], 0.05, -h * 0.1),
        rod("cable", "pvc", (-w / 2, 0, -h * 0.4), (-w / 2 - 2.5, 0, -h * 0.4), 0.35),
    ]
    parts += _screws(
        [-w * 0.45, w * 0.45, -w * 0.45, w * 0.45],
        [-d * 0.45, -d * 0.45, d * 0.45, d * 0.45],
        -h / 2,
        0.6,
    )
    return ObjectModel("toaster", parts, (w + 2.5, d, h), cavity=(w * 0.3, d * 0.3, h * 0.25))


GUARD_WIRE_CM = 0.08  # radius of a toaster guard's wire
GUARD_PITCH_CM = 2.5  # between its upright wires


def _wire_guard(length: float, height: float, y: float) -> list[Part]:
    """A toaster's slot guard as built, `length` × `height` cm at `y`, upright: a steel wire
    frame along its top and bottom and an upright wire every `GUARD_PITCH_CM`, which the beam
    sees end-on as a row of dots, not a line."""
    half, top = length / 2, height / 2
    parts = [rod("guard", "steel", (-half, y, z), (half, y, z), GUARD_WIRE_CM) for z in (-top, top)]
    count = max(int(length / GUARD_PITCH_CM), 1)
    for x in np.linspace(-half, half, count + 1):
        parts.append(rod("guard", "steel", (x, y, -top), (x, y, top), GUARD_WIRE_CM))
    return parts


BUILDERS: dict[str, Callable[[np.random.Generator, np.random.Generator], ObjectModel]] = {
    "bottle": bottle,
    "hairdryer": hairdryer,
    "iron": iron,
    "toaster": toaster,
    "mobile": mobile,
    "laptop": laptop,
}


@dataclass(frozen=True)
class DesignCounts:
    """How many product designs each class's catalogue holds (`bag.designs` in a synth config)."""

    bottle: int = 10
    hairdryer: int = 10
    iron: int = 10
    toaster: int = 10
    mobile: int = 10
    laptop: int = 20


CATALOGUE_SEED = 20261201  # the catalogue: design k of a class is the same product everywhere
TOLERANCE_CM = 0.04  # manufacturing tolerance: each internal part group moves by about this


def design_name(category: str, design: int) -> str:
    """The recorded name of a design, e.g. `laptop/07`."""
    return f"{category}/{design:02d}"


def build(
    category: str,
    rng: np.random.Generator,
    design: int | None = None,
    designs: DesignCounts | None = None,
    tolerance_cm: float = TOLERANCE_CM,
    wire_guards: bool = False,
) -> ObjectModel:
    """A unit of `category`: its product design (drawn from `rng` when None) and its own state.

    Design k's layout comes from `default_rng([CATALOGUE_SEED, class, k])` alone, so it is the
    same in any bag and any dataset; `rng` gives only the unit's state (fill level, water in
    the tank, the toaster's lever) and its manufacturing tolerance. `wire_guards`: a toaster's
    slot guards as built (`toaster`), the same design otherwise.
    """
    try:
        builder = BUILDERS[category]
    except KeyError:
        raise KeyError(f"unknown category {category!r}; known: {list(CATEGORIES)}") from None
    count = int(getattr(designs or DesignCounts(), category))
    if count < 1:
        raise ValueError(f"{category}: the catalogue needs at least one design, got {count}")
    if design is None:
        design = int(rng.integers(count))
    if not 0 <= design < count:
        raise ValueError(f"{category}: design must be in 0..{count - 1}, got {design}")
    layout = np.random.default_rng([CATALOGUE_SEED, CATEGORIES.index(category), design])
    if wire_guards and builder is toaster:
        model = toaster(layout, rng, wire_guards=True)
    else:
        model = builder(layout, rng)
    model = _with_tolerance(model, rng, tolerance_cm)
    return replace(model, design=design_name(category, design))


def _with_tolerance(model: ObjectModel, rng: np.random.Generator, sigma_cm: float) -> ObjectModel:
    """Each internal part group (one role) shifted by its own small offset; the outside stays."""
    if sigma_cm <= 0:
        return model
    shifts: dict[str, np.ndarray] = {}
    parts = []
    for part in model.parts:
        if part.role in _EXTERIOR_ROLES:
            parts.append(part)
            continue
        if part.role not in shifts:
            shifts[part.role] = np.append(rng.normal(0, sigma_cm, 2), 0.0)
        parts.append(move(part, shifts[part.role], np.eye(3)))
    return replace(model, parts=parts)


# ----- anomalies ------------------------------------------------------------------------------
# The outside of a host stays when something is hidden in it; only internals make room.
_EXTERIOR_ROLES = frozenset(
    {
        *("case", "frame", "body", "wall", "screen", "back", "soleplate", "liquid", "base"),
        *("handle", "neck", "cap", "label", "cable", "grille", "lever", "keyboard", "trackpad"),
        *("port", "screw", "hinge", "crumb_tray", "tank"),
    }
)


def _anomaly_parts(kind: str, center: np.ndarray, inner: np.ndarray, model: ObjectModel, rng):
    sx, _, sz = model.size
    if kind == "marzipan":
        material = str(rng.choice(["marzipan", "marzipan", "cheese", "chocolate"]))
        size = np.minimum(inner * 2 * rng.uniform(0.35, 0.6, 3), [12.0, 8.0, sz * 0.6])
        return [box("anomaly", material, center, size)]
    if kind == "metal_plate":
        size = (min(inner[0] * 2, 10) * rng.uniform(0.5, 0.9), min(inner[1] * 2, 6) * 0.8, 0.3)
        return [box("anomaly", "steel", center, size, rot=rotation(0, 0, rng.uniform(0, 3)))]
    if kind == "knife":
        blade = min(sx * 0.45, 11.0)
        with_handle = model.category in ("laptop", "toaster") and sx > 24  # box-shaped hosts
        center = np.array([0.0, center[1] * 0.5, center[2]]) - ([4.5, 0, 0] if with_handle else 0)
        rot = rotation(0, 0, rng.uniform(-0.25, 0.25))
        parts = [box("anomaly", "stainless", center, (blade, 2.2, 0.15), rot=rot)]
        tip = center + rot @ np.array([-blade / 2 - 1.0, 0, 0])
        parts.append(
            box("anomaly", "stainless", tip, (2.0, 1.2, 0.15), rot=rot @ rotation(0, 0, 0.3))
        )
        if with_handle:
            handle_at = center + rot @ np.array([blade / 2 + 4.0, 0, 0])
            parts.append(box("anomaly", "abs", handle_at, (8.0, 2.0, 1.2), rot=rot))
            parts += [
                disc("anomaly", "brass", handle_at + rot @ np.array([k, 0, 0]), 0.2, 1.3)
                for k in (-2.5, 0.0, 2.5)
            ]
        return parts
    if kind == "screws":
        parts = []
        for _ in range(int(rng.integers(3, 9))):
            p = center + np.append(rng.uniform(-1.0, 1.0, 2) * np.minimum(inner[:2], 2.5), 0)
            rot = rotation(rng.uniform(0, np.pi), rng.uniform(0, np.pi), 0)
            length = rng.uniform(1.5, 4.0)
            parts.append(Part("anomaly", "steel", Cylinder(tuple(p), rot, 0.2, length)))
        return parts
    if kind == "wires":
        steps = np.append(
            rng.uniform(-1, 1, (7, 2)) * np.minimum(inner[:2], 3.0), np.zeros((7, 1)), 1
        )
        pts = center + np.cumsum(steps, 0) * 0.5
        pts[:, :2] = np.clip(pts[:, :2], -inner[:2], inner[:2])
        parts = [rod("anomaly", "copper", a, b, 0.08) for a, b in itertools.pairwise(pts)]
        parts.append(box("anomaly", "fr4", pts[-1], (1.5, 1.0, 0.15)))
        return parts
    # cells of the wrong kind: steel-canned 18650s where a board or a motor should be
    parts = []
    for i in range(int(rng.integers(1, 4))):
        p = center + np.array([0, (i - 1) * 1.9, 0])
        parts += [
            Part("anomaly", "steel", Cylinder(tuple(p), ALONG_X, 0.9, 6.5)),
            Part("anomaly", "steel", Cylinder(tuple(p), ALONG_X, 0.88, 6.4), -1.0),
            Part("anomaly", "li_ion", Cylinder(tuple(p), ALONG_X, 0.88, 6.4)),
        ]
    return parts


def insert_anomaly(model: ObjectModel, kind: str, rng: np.random.Generator) -> ObjectModel:
    """A copy of `model` with a concealed item of `kind` inside; displaced internals removed."""
    if kind not in ANOMALY_TYPES:
        raise ValueError(f"unknown anomaly {kind!r}; known: {list(ANOMALY_TYPES)}")
    if kind == "swapped":
        return _swap_part(model, rng)
    sx, sy, sz = model.size
    inner = np.array(model.cavity) if model.cavity else np.array([sx, sy, sz]) * 0.25
    if model.category == "bottle":
        inner = np.array([sx * 0.25, sy * 0.2, sz * 0.2])
    offset = np.append(rng.uniform(-0.5, 0.5, 2) * inner[:2], 0.0)
    local = _anomaly_parts(kind, offset, inner, model, rng)
    reach = np.max([np.abs(_centre_of(p)) + _radius_of(p) for p in local], 0)
    cavity = np.asarray(model.cavity_center, float)
    parts = [move(p, cavity, np.eye(3)) for p in local]
    keep, kept = [], {}
    for p in model.parts:  # a cavity goes with the solid it was carved from
        key = (p.role, p.material)
        if p.sign > 0:
            near = np.all(np.abs(_centre_of(p) - cavity - offset) <= reach * 0.8)
            kept[key] = p.role in _EXTERIOR_ROLES or not near
        if kept.get(key, True):
            keep.append(p)
    return replace(model, parts=keep, anomaly=parts, anomaly_type=kind)


# The part of each design a smuggler replaces by an organic block of the same shape: its main
# material and what the block may be (explosive simulants and explosives, physics.md §5).
_SWAPPABLE = {
    "laptop": (("battery", "li_ion"), ("board", "fr4")),
    "mobile": (("battery", "li_ion"),),
    "hairdryer": (("motor", "ferrite"), ("motor", "copper")),
    "iron": (("thermostat", "brass"), ("tank", "water")),
    "toaster": (("control", "fr4"), ("crumb_tray", "aluminium")),
    "bottle": (("liquid", None),),
}
_SWAP_MATERIALS = ("marzipan", "rdx", "petn", "tnt")


def _swap_part(model: ObjectModel, rng: np.random.Generator) -> ObjectModel:
    """A copy of `model` whose internal part (cells, board, motor, liquid) is another material.

    The shape stays the design's, so only the material departs from it: what an analyst sees
    as cells that look like a block of organic matter. The swapped parts are the anomaly.
    """
    options = [
        (role, material)
        for role, material in _SWAPPABLE.get(model.category, ())
        if any(p.role == role and material in (None, p.material) for p in model.parts)
    ]
    if not options:  # e.g. an iron whose tank is empty and no thermostat: fall back
        return insert_anomaly(model, "marzipan", rng)
    role, material = options[int(rng.integers(len(options)))]
    targets = [p for p in model.parts if p.role == role and material in (None, p.material)]
    if len(targets) > 2 and model.category in ("laptop", "mobile"):  # some cells of a pack
        keep = int(rng.integers(1, len(targets)))
        order = rng.permutation(len(targets))[:keep]
        targets = [targets[i] for i in sorted(order)]
    new = str(rng.choice(_SWAP_MATERIALS))
    ids = {id(p) for p in targets}
    anomaly = [replace(p, role="anomaly", material=new) for p in targets]
    parts = [p for p in model.parts if id(p) not in ids]
    return replace(model, parts=parts, anomaly=anomaly, anomaly_type="swapped", replaced=targets)


def _centre_of(part: Part) -> np.ndarray:
    s = part.solid
    if isinstance(s, Wire):
        return np.append(np.asarray(s.points, float).mean(0), s.z)
    return np.asarray(s.center, float)


def _radius_of(part: Part) -> float:
    s = part.solid
    if isinstance(s, Wire):
        x0, y0, x1, y1 = s.bounds()
        return float(np.hypot(x1 - x0, y1 - y0) / 2)
    return s.radius()


# ----- drawing --------------------------------------------------------------------------------
@dataclass
class Drawn:
    """Where a drawn object landed: full-size masks, and the host's and the anomaly's own
    windows."""

    instance: np.ndarray  # bool H×W: any of the object's material, anomaly included
    anomaly: np.ndarray | None = None  # bool H×W: the concealed item alone
    anomaly_window: Canvas | None = None  # its thickness maps, for its visibility
    replaced_window: Canvas | None = None  # what the design had there instead (not drawn)
    host_window: Canvas | None = None  # the host's own thickness maps, for its anomaly's cover


def draw(canvas: Canvas, model: ObjectModel) -> Drawn:
    """Add a placed model to `canvas`, host and anomaly each in a window of their own."""
    instance = np.zeros((canvas.height, canvas.width), bool)
    host = canvas.draw(model.parts)
    if host is not None:
        instance |= canvas.full_mask(host, host.footprint())
    drawn = Drawn(instance, host_window=host)
    if model.anomaly:
        window = canvas.draw(model.anomaly)
        anomaly = np.zeros_like(instance)
        if window is not None:
            anomaly = canvas.full_mask(window, window.footprint())
            instance |= anomaly
        drawn.anomaly, drawn.anomaly_window = anomaly, window
        if model.replaced and window is not None:  # same solids, so the same window
            original = canvas.window(p.solid for p in model.anomaly)
            for part in model.replaced:
                original.add(part.material, part.solid, part.sign)
            drawn.replaced_window = original
    return drawn
