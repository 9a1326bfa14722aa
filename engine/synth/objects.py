"""The six object classes of the paper, built from solids with their internals, and anomalies.

Builders work in object coordinates (cm, origin at the object's centre, z up, the long side
along x) and return an `ObjectModel`: named parts of given materials. `place()` turns and moves
a model into the bag; `insert_anomaly()` puts a concealed item inside a host and removes the
internals it displaces, as in the paper (marzipan, screws, a metal plate, a knife) plus wires
and a wrong battery.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from engine.synth.shapes import Box, Canvas, Cylinder, Ellipsoid, Solid, rotation

CATEGORIES = ("bottle", "hairdryer", "iron", "toaster", "mobile", "laptop")
ANOMALY_TYPES = ("marzipan", "screws", "metal_plate", "knife", "wires", "battery")


@dataclass(frozen=True)
class Part:
    """One solid of one material; `sign=-1` carves a cavity out of what came before."""

    role: str
    material: str
    solid: Solid
    sign: float = 1.0


@dataclass
class ObjectModel:
    category: str
    parts: list[Part]
    size: tuple[float, float, float]  # outer extent (cm) in object coordinates
    anomaly: list[Part] = field(default_factory=list)
    anomaly_type: str | None = None
    cavity: tuple[float, float, float] | None = None  # half-extents where an item can hide

    @property
    def anomalous(self) -> bool:
        return bool(self.anomaly)


def _box(role, material, center, size, sign=1.0) -> Part:
    return Part(role, material, Box(tuple(center), size=tuple(size)), sign)


def _shell(role, material, size, wall, center=(0.0, 0.0, 0.0)) -> list[Part]:
    """A closed box with walls of `wall` cm: outer solid minus inner cavity."""
    inner = tuple(max(s - 2 * wall, 0.01) for s in size)
    return [_box(role, material, center, size), _box(role, material, center, inner, -1.0)]


def _rod(role, material, start, end, radius) -> Part:
    """A cylinder from `start` to `end` (object coordinates)."""
    a, b = np.asarray(start, float), np.asarray(end, float)
    axis = b - a
    length = float(np.linalg.norm(axis))
    z = axis / length
    helper = np.array([1.0, 0, 0]) if abs(z[0]) < 0.9 else np.array([0, 1.0, 0])
    x = np.cross(helper, z)
    x /= np.linalg.norm(x)
    rot = np.stack([x, np.cross(z, x), z], axis=1)
    return Part(role, material, Cylinder(tuple((a + b) / 2), rot, radius_cm=radius, length=length))


# ----- the six classes ------------------------------------------------------------------------
def bottle(rng: np.random.Generator) -> ObjectModel:
    glass = rng.random() < 0.35
    wall_material, wall = ("glass", 0.35) if glass else ("pet", 0.03)
    liquid = str(rng.choice(["water", "water", "oil", "ethanol"]))
    radius, length = rng.uniform(3.0, 4.5), rng.uniform(18.0, 30.0)
    fill = rng.uniform(0.6, 0.95)
    along_x = rotation(0, np.pi / 2, 0)
    body = Cylinder((0.0, 0, 0), along_x, radius_cm=radius, length=length)
    cavity = Cylinder((0.0, 0, 0), along_x, radius_cm=radius - wall, length=length - 2 * wall)
    liquid_len = (length - 2 * wall) * fill
    parts = [
        Part("wall", wall_material, body),
        Part("wall", wall_material, cavity, -1.0),
        Part(
            "liquid",
            liquid,
            Cylinder(
                (-(length - 2 * wall - liquid_len) / 2, 0, 0),
                along_x,
                radius_cm=radius - wall,
                length=liquid_len,
            ),
        ),
        _rod("cap", "polyethylene", (length / 2, 0, 0), (length / 2 + 2.0, 0, 0), radius * 0.45),
    ]
    return ObjectModel("bottle", parts, (length + 2.0, 2 * radius, 2 * radius))


def laptop(rng: np.random.Generator) -> ObjectModel:
    inches = float(rng.choice([13.0, 14.0, 15.6, 17.0]))
    w, d = inches * 2.54 * 0.87, inches * 2.54 * 0.55
    h = rng.uniform(1.6, 2.4)
    case = "aluminium" if rng.random() < 0.4 else "abs"
    wall = 0.12 if case == "aluminium" else 0.2
    parts = _shell("case", case, (w, d, h), wall)
    parts += [
        _box("board", "fr4", (w * 0.18, -d * 0.2, 0), (w * 0.55, d * 0.45, 0.12)),
        _box("board_copper", "copper", (w * 0.18, -d * 0.2, 0.07), (w * 0.5, d * 0.4, 0.006)),
        _box("battery", "li_ion", (-w * 0.05, d * 0.25, -0.1), (w * 0.6, d * 0.28, 0.6)),
        _box("screen", "glass", (0, 0, h / 2 - 0.35), (w * 0.95, d * 0.95, 0.15)),
        _box("keyboard", "abs", (0, 0, h / 2 - 0.15), (w * 0.85, d * 0.5, 0.2)),
        _rod("hinge", "steel", (-w * 0.45, -d / 2 + 0.5, 0), (-w * 0.3, -d / 2 + 0.5, 0), 0.3),
        _rod("hinge", "steel", (w * 0.3, -d / 2 + 0.5, 0), (w * 0.45, -d / 2 + 0.5, 0), 0.3),
        Part("fan", "copper", Cylinder((w * 0.38, -d * 0.25, 0), radius_cm=2.5, length=0.3)),
        _box("heatpipe", "copper", (w * 0.28, -d * 0.25, 0.1), (w * 0.25, 0.8, 0.2)),
    ]
    for sx in (-1, 1):
        for sy in (-1, 1):
            parts.append(
                _rod(
                    "screw",
                    "steel",
                    (sx * (w / 2 - 1), sy * (d / 2 - 1), -h / 2),
                    (sx * (w / 2 - 1), sy * (d / 2 - 1), -h / 2 + 0.5),
                    0.1,
                )
            )
    for i in range(int(rng.integers(4, 9))):  # chips on the board
        x = w * 0.18 + rng.uniform(-0.25, 0.25) * w * 0.55
        y = -d * 0.2 + rng.uniform(-0.2, 0.2) * d * 0.45
        parts.append(_box(f"chip{i}", "ceramic", (x, y, 0.15), (rng.uniform(1, 3),) * 2 + (0.2,)))
    return ObjectModel("laptop", parts, (w, d, h))


def mobile(rng: np.random.Generator) -> ObjectModel:
    w, d, h = rng.uniform(13.5, 16.5), rng.uniform(6.5, 7.8), rng.uniform(0.75, 0.95)
    parts = _shell("frame", "aluminium", (w, d, h), 0.1)
    parts += [
        _box("screen", "glass", (0, 0, h / 2 - 0.1), (w * 0.98, d * 0.98, 0.1)),
        _box("board", "fr4", (w * 0.3, 0, 0), (w * 0.3, d * 0.8, 0.1)),
        _box("shield", "stainless", (w * 0.3, 0, 0.08), (w * 0.25, d * 0.6, 0.02)),
        _box("battery", "li_ion", (-w * 0.12, 0, 0), (w * 0.5, d * 0.8, 0.45)),
        _rod("camera", "stainless", (w * 0.4, d * 0.25, -h / 2), (w * 0.4, d * 0.25, 0), 0.5),
        Part("speaker", "ndfeb", Box((-w * 0.45, 0, 0), size=(0.6, 1.5, 0.3))),
    ]
    return ObjectModel("mobile", parts, (w, d, h))


def hairdryer(rng: np.random.Generator) -> ObjectModel:
    length, radius = rng.uniform(18, 24), rng.uniform(3.5, 4.5)
    along_x = rotation(0, np.pi / 2, 0)
    wall = 0.25
    parts = [
        Part("body", "abs", Cylinder((0.0, 0, 0), along_x, radius_cm=radius, length=length)),
        Part(
            "body",
            "abs",
            Cylinder((0.0, 0, 0), along_x, radius_cm=radius - wall, length=length - 2 * wall),
            -1.0,
        ),
        _rod("handle", "abs", (-length * 0.15, 0, 0), (-length * 0.15, -14.0, 0), 1.6),
        Part(
            "motor", "copper", Cylinder((-length * 0.3, 0, 0), along_x, radius_cm=1.4, length=3.0)
        ),
        Part(
            "magnet", "ferrite", Cylinder((-length * 0.3, 0, 0), along_x, radius_cm=1.8, length=2.5)
        ),
        Part(
            "fan",
            "abs",
            Cylinder((-length * 0.18, 0, 0), along_x, radius_cm=radius - 0.5, length=0.8),
        ),
        _box(
            "heater_support", "mica", (length * 0.15, 0, 0), (length * 0.4, 2 * radius - 1.5, 0.1)
        ),
        _box(
            "heater_support", "mica", (length * 0.15, 0, 0), (length * 0.4, 0.1, 2 * radius - 1.5)
        ),
    ]
    for i in range(10):  # nichrome coil wound along the mica cross
        x = length * (-0.03 + 0.036 * i)
        parts.append(
            Part(
                f"coil{i}",
                "nichrome",
                Cylinder((x, 0, 0), along_x, radius_cm=radius - 1.2, length=0.04),
            )
        )
    parts.append(
        _rod("cable", "copper", (-length * 0.15, -14.0, 0), (-length * 0.15, -20.0, 0), 0.1)
    )
    barrel = (radius - 0.5) * 0.7
    return ObjectModel(
        "hairdryer",
        parts,
        (length, 2 * radius + 14, 2 * radius),
        cavity=(length * 0.4, barrel, barrel),
    )


def iron(rng: np.random.Generator) -> ObjectModel:
    w, d, h = rng.uniform(24, 28), rng.uniform(10, 12), rng.uniform(12, 15)
    sole = "aluminium" if rng.random() < 0.5 else "stainless"
    parts = [
        Part("soleplate", sole, Ellipsoid((0.0, 0, -h / 2 + 0.5), semi_axes=(w / 2, d / 2, 0.4))),
        Part("body", "abs", Ellipsoid((0.0, 0, -h * 0.2), semi_axes=(w * 0.48, d * 0.45, h * 0.3))),
        Part(
            "tank",
            "water",
            Ellipsoid((w * 0.1, 0, -h * 0.15), semi_axes=(w * 0.28, d * 0.3, h * 0.15)),
        ),
        _rod("handle", "abs", (-w * 0.3, 0, h * 0.25), (w * 0.25, 0, h * 0.25), 1.5),
        _rod(
            "element",
            "nichrome",
            (-w * 0.35, -d * 0.25, -h / 2 + 1.1),
            (w * 0.35, -d * 0.25, -h / 2 + 1.1),
            0.35,
        ),
        _rod(
            "element",
            "nichrome",
            (-w * 0.35, d * 0.25, -h / 2 + 1.1),
            (w * 0.35, d * 0.25, -h / 2 + 1.1),
            0.35,
        ),
        _box("thermostat", "brass", (-w * 0.15, 0, -h / 2 + 2.0), (2.0, 1.5, 1.0)),
        _rod("cable", "copper", (-w * 0.45, 0, 0), (-w * 0.6, 0, 0), 0.12),
    ]
    return ObjectModel("iron", parts, (w, d, h))


def toaster(rng: np.random.Generator) -> ObjectModel:
    w, d, h = rng.uniform(26, 32), rng.uniform(15, 19), rng.uniform(18, 21)
    parts = _shell("body", "stainless", (w, d, h), 0.06)
    slots = 2 if rng.random() < 0.7 else 4
    for s in range(slots):
        y = -d / 2 + d * (s + 1) / (slots + 1)
        for side in (-1, 1):
            parts.append(_box("mica", "mica", (0, y + side * 1.6, 0), (w * 0.8, 0.08, h * 0.7)))
            for k in range(7):  # nichrome wound on each mica plate
                z = -h * 0.3 + k * h * 0.1
                parts.append(
                    _rod(
                        "element",
                        "nichrome",
                        (-w * 0.38, y + side * 1.6, z),
                        (w * 0.38, y + side * 1.6, z),
                        0.04,
                    )
                )
    parts += [
        _box("base", "stainless", (0, 0, -h / 2 + 0.6), (w * 0.95, d * 0.95, 0.1)),
        _box("control", "fr4", (w / 2 - 2.5, 0, -h * 0.2), (1.5, d * 0.5, 4.0)),
        _box("lever", "stainless", (w / 2 + 0.8, 0, 0), (1.6, 1.0, 2.0)),
    ]
    return ObjectModel("toaster", parts, (w, d, h))


BUILDERS: dict[str, Callable[[np.random.Generator], ObjectModel]] = {
    "bottle": bottle,
    "hairdryer": hairdryer,
    "iron": iron,
    "toaster": toaster,
    "mobile": mobile,
    "laptop": laptop,
}


def build(category: str, rng: np.random.Generator) -> ObjectModel:
    """A new random instance of `category`."""
    try:
        return BUILDERS[category](rng)
    except KeyError:
        raise KeyError(f"unknown category {category!r}; known: {list(CATEGORIES)}") from None


# ----- anomalies ------------------------------------------------------------------------------
def insert_anomaly(model: ObjectModel, kind: str, rng: np.random.Generator) -> ObjectModel:
    """A copy of `model` with a concealed item of `kind` inside; displaced internals removed."""
    if kind not in ANOMALY_TYPES:
        raise ValueError(f"unknown anomaly {kind!r}; known: {list(ANOMALY_TYPES)}")
    sx, sy, sz = model.size
    inner = np.array(model.cavity) if model.cavity else np.array([sx, sy, sz]) * 0.5
    if model.category == "bottle":
        inner = np.array([sx * 0.6, sy * 0.35, sz * 0.35])
    cx, cy = rng.uniform(-0.4, 0.4, 2) * inner[:2]
    center = np.array([cx, cy, 0.0])
    if kind == "marzipan":
        size = np.minimum(inner * rng.uniform(0.35, 0.6, 3), [12.0, 8.0, sz * 0.5])
        parts = [Part("anomaly", "marzipan", Box(tuple(center), size=tuple(size)))]
    elif kind == "metal_plate":
        size = (min(inner[0], 10) * rng.uniform(0.5, 0.9), min(inner[1], 6) * 0.8, 0.3)
        parts = [
            Part(
                "anomaly", "steel", Box(tuple(center), rotation(0, 0, rng.uniform(0, 3)), size=size)
            )
        ]
    elif kind == "knife":
        blade = min(sx * 0.45, 11.0)
        with_handle = model.category in ("laptop", "toaster", "iron") and sx > 24
        center = np.array([0.0, cy * 0.5, 0.0]) - ([4.5, 0, 0] if with_handle else 0)
        rot = rotation(0, 0, rng.uniform(-0.25, 0.25))
        parts = [Part("anomaly", "stainless", Box(tuple(center), rot, size=(blade, 2.2, 0.15)))]
        if with_handle:
            handle_at = center + rot @ np.array([blade / 2 + 4.0, 0, 0])
            parts.append(Part("anomaly", "abs", Box(tuple(handle_at), rot, size=(8.0, 2.0, 1.2))))
    elif kind == "screws":
        parts = []
        for _ in range(int(rng.integers(3, 8))):
            p = center + np.append(rng.uniform(-1.5, 1.5, 2), 0)
            rot = rotation(rng.uniform(0, np.pi), rng.uniform(0, np.pi), 0)
            parts.append(
                Part(
                    "anomaly",
                    "steel",
                    Cylinder(tuple(p), rot, radius_cm=0.2, length=rng.uniform(1.5, 4.0)),
                )
            )
    elif kind == "wires":
        pts = center + np.cumsum(np.append(rng.uniform(-2, 2, (6, 2)), np.zeros((6, 1)), 1), 0)
        parts = [_rod("anomaly", "copper", a, b, 0.08) for a, b in itertools.pairwise(pts)]
    else:  # cells of the wrong kind: steel-canned 18650s where a board or a motor should be
        parts = []
        for i in range(int(rng.integers(1, 4))):
            p = tuple(center + np.array([0, (i - 1) * 1.9, 0]))
            along_x = rotation(0, np.pi / 2, 0)
            parts += [
                Part("anomaly", "steel", Cylinder(p, along_x, radius_cm=0.9, length=6.5)),
                Part("anomaly", "steel", Cylinder(p, along_x, radius_cm=0.88, length=6.4), -1.0),
                Part("anomaly", "li_ion", Cylinder(p, along_x, radius_cm=0.88, length=6.4)),
            ]
    region = np.max([np.abs(np.asarray(p.solid.center)) + p.solid.radius() for p in parts], 0)
    keep = [
        p
        for p in model.parts
        if p.sign < 0
        or p.role in ("case", "frame", "body", "wall", "screen", "soleplate", "liquid", "base")
        or np.any(np.abs(np.asarray(p.solid.center) - center) > region * 0.8)
    ]
    return replace(model, parts=keep, anomaly=parts, anomaly_type=kind)


# ----- placing and drawing --------------------------------------------------------------------
def place(model: ObjectModel, position: tuple[float, float, float], rot: np.ndarray) -> ObjectModel:
    """`model` turned by `rot` and moved to `position` (cm, bag coordinates)."""

    def move(part: Part) -> Part:
        s = part.solid
        center = tuple(rot @ np.asarray(s.center) + np.asarray(position))
        return replace(part, solid=replace(s, center=center, rot=rot @ np.asarray(s.rot)))

    return replace(
        model, parts=[move(p) for p in model.parts], anomaly=[move(p) for p in model.anomaly]
    )


def draw(canvas: Canvas, model: ObjectModel) -> tuple[np.ndarray, np.ndarray | None]:
    """Add a placed model to `canvas`; returns its instance mask and its anomaly mask."""
    instance = np.zeros((canvas.height, canvas.width), bool)
    for part in model.parts:
        canvas.add(part.material, part.solid, part.sign)
    for part in model.parts + model.anomaly:
        if part.sign > 0:
            instance |= _footprint(canvas, part.solid)
    anomaly = None
    if model.anomaly:
        anomaly = np.zeros_like(instance)
        for part in model.anomaly:
            canvas.add(part.material, part.solid, part.sign)
            if part.sign > 0:
                anomaly |= _footprint(canvas, part.solid)
    return instance, anomaly


def _footprint(canvas: Canvas, solid: Solid) -> np.ndarray:
    probe = Canvas(canvas.height, canvas.width, canvas.pitch)
    probe.add("x", solid)
    return probe.maps.get("x", np.zeros((canvas.height, canvas.width), np.float32)) > 0
