"""Building blocks of simulated items: boxes, hollow shells, rods, rings, bent paths, models.

Builders work in item coordinates (cm, origin at the item's centre, z up, the long side along
x) and return `Part`s; an `ObjectModel` is a named list of them with its outer size, which
`place` turns and moves into the bag.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

import numpy as np

from engine.synth.shapes import Box, Cylinder, Part, Shape, Sheet, Wire


def own_rng(key: np.ndarray, person: bytes = b"") -> np.random.Generator:
    """A generator seeded by `key` (a bag's walls, a garment's place; `person`: one stream per
    feature): a feature drawn from it leaves the bag's own random numbers, and so the rest of
    the bag, as they were."""
    digest = hashlib.blake2b(np.ascontiguousarray(key).tobytes(), digest_size=8, person=person)
    return np.random.default_rng(int.from_bytes(digest.digest(), "little"))


def side_rng(rng: np.random.Generator, person: bytes) -> np.random.Generator:
    """A generator seeded by `rng`'s present state, which it leaves as it was: a feature drawn
    from it leaves the bag's own random numbers as they were, yet differs from bag to bag
    (`own_rng` of a shape repeats for two bags of the same shape). `rng` must be a PCG64
    generator (`default_rng`'s): the key is its state's four numbers, written out as numpy
    2.x shows them, so it does not depend on how numpy lays out or prints that state."""
    state = rng.bit_generator.state
    if state.get("bit_generator") != "PCG64":
        raise TypeError(f"side_rng needs a PCG64 generator, not {state.get('bit_generator')}")
    inner = state["state"]
    shown = {
        "bit_generator": "PCG64",
        "state": {"state": int(inner["state"]), "inc": int(inner["inc"])},
        "has_uint32": int(state["has_uint32"]),
        "uinteger": int(state["uinteger"]),
    }
    return own_rng(np.frombuffer(repr(shown).encode(), np.uint8), person)


@dataclass
class ObjectModel:
    """An item of named parts; `anomaly` holds a concealed item's parts when there is one."""

    category: str
    parts: list[Part]
    size: tuple[float, float, float]  # outer extent (cm) in item coordinates
    anomaly: list[Part] = field(default_factory=list)
    anomaly_type: str | None = None
    cavity: tuple[float, float, float] | None = None  # half-extents where an item can hide
    cavity_center: tuple[float, float, float] = (0.0, 0.0, 0.0)
    design: str | None = None  # the product design it was built from, e.g. "laptop/07"
    replaced: list[Part] = field(default_factory=list)  # the design's parts the anomaly replaced

    @property
    def anomalous(self) -> bool:
        return bool(self.anomaly)


def box(role: str, material: str, center, size, sign: float = 1.0, rot=None) -> Part:
    """An axis-aligned (or `rot`-turned) box part."""
    solid = Box(tuple(map(float, center)), size=tuple(map(float, size)))
    if rot is not None:
        solid = replace(solid, rot=np.asarray(rot))
    return Part(role, material, solid, sign)


def frame(
    role: str, material: str, size, bar: float, center=(0.0, 0.0, 0.0), rot=None
) -> list[Part]:
    """A flat rectangular frame, `size` (x, y, z) cm, its sides `bar` cm wide and open right
    through: a buckle, where `shell` of a wall over half its thickness is a solid plate."""
    if 2 * bar >= min(size[0], size[1]):
        raise ValueError(f"a frame of {size[0]} × {size[1]} cm has no hole with {bar} cm bars")
    hole = (size[0] - 2 * bar, size[1] - 2 * bar, size[2])
    return [box(role, material, center, size, rot=rot), box(role, material, center, hole, -1, rot)]


def shell(role: str, material: str, size, wall: float, center=(0.0, 0.0, 0.0), rot=None):
    """A closed box with walls of `wall` cm: outer solid minus inner cavity."""
    inner = tuple(max(s - 2 * wall, 0.01) for s in size)
    return [box(role, material, center, size, rot=rot), box(role, material, center, inner, -1, rot)]


def rod(role: str, material: str, start, end, radius: float, sign: float = 1.0) -> Part:
    """A cylinder from `start` to `end` (item coordinates)."""
    a, b = np.asarray(start, float), np.asarray(end, float)
    axis = b - a
    length = float(np.linalg.norm(axis))
    z = axis / length if length > 1e-9 else np.array([0.0, 0.0, 1.0])  # a point: any axis
    helper = np.array([1.0, 0, 0]) if abs(z[0]) < 0.9 else np.array([0, 1.0, 0])
    x = _cross(helper, z)
    x /= np.linalg.norm(x)
    rot = np.stack([x, _cross(z, x), z], axis=1)
    solid = Cylinder(tuple((a + b) / 2), rot, radius_cm=radius, length=length)
    return Part(role, material, solid, sign)


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`np.cross` of two 3-vectors, term for term the same products and differences, without
    its overhead (several µs a call, and a bag builds hundreds of rods)."""
    (a0, a1, a2), (b0, b1, b2) = a.tolist(), b.tolist()
    return np.array([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0])


def tube(role: str, material: str, start, end, radius: float, wall: float) -> list[Part]:
    """A hollow round tube: a rod minus its bore."""
    return [
        rod(role, material, start, end, radius),
        rod(role, material, start, end, max(radius - wall, 1e-3), -1.0),
    ]


def disc(role: str, material: str, center, radius: float, thickness: float, rot=None) -> Part:
    """A flat cylinder lying in the item's x-y plane (a coin, a magnet, a wheel)."""
    r = np.eye(3) if rot is None else np.asarray(rot)
    return Part(role, material, Cylinder(tuple(map(float, center)), r, radius, thickness))


def ring(role: str, material: str, center, radius: float, wire: float, n: int = 16):
    """A flat ring of round wire (a key ring, an eyelet, a D-ring) as a closed `Wire`."""
    cx, cy, cz = center
    angles = np.linspace(0, 2 * np.pi, n + 1)
    pts = tuple((cx + radius * np.cos(a), cy + radius * np.sin(a)) for a in angles)
    return Part(role, material, Wire(pts, radius_cm=wire, z=float(cz)))


def path(
    role: str, material: str, points, radius: float, z: float = 0.0, sign: float = 1.0
) -> Part:
    """A flat wire along (x, y) `points` at height `z`: cables, springs, zips."""
    pts = tuple(map(tuple, np.asarray(points, float)))
    return Part(role, material, Wire(pts, float(radius), float(z)), sign)


def outline_sheet(role: str, material: str, outline, thick: float, z: float) -> Part:
    """A flat layer filling the polygon `outline` ((x, y) cm points) at height `z`."""
    pts = tuple((float(x), float(y)) for x, y in np.asarray(outline, float))
    return Part(role, material, Sheet(pts, float(thick), float(z)))


def rounded_rect(half_x: float, half_y: float, corner: float, n: int = 5) -> np.ndarray:
    """Closed outline of a rectangle with rounded corners, as (x, y) points."""
    corner = min(corner, half_x * 0.9, half_y * 0.9)
    pts = []
    for cx, cy, a0 in (
        (half_x - corner, half_y - corner, 0.0),
        (-half_x + corner, half_y - corner, 0.5 * np.pi),
        (-half_x + corner, -half_y + corner, np.pi),
        (half_x - corner, -half_y + corner, 1.5 * np.pi),
    ):
        for a in np.linspace(a0, a0 + 0.5 * np.pi, n):
            pts.append((cx + corner * np.cos(a), cy + corner * np.sin(a)))
    pts.append(pts[0])
    return np.asarray(pts)


def sheet(role: str, material: str, center, size, thick: float, angle: float = 0.0) -> Part:
    """A flat rectangular layer `size` (x, y) cm at `center`, turned by `angle` about z."""
    cx, cy, cz = center
    c, s = np.cos(angle), np.sin(angle)
    hx, hy = size[0] / 2, size[1] / 2
    corners = [(-hx, -hy), (hx, -hy), (hx, hy), (-hx, hy)]
    pts = tuple((cx + c * x - s * y, cy + s * x + c * y) for x, y in corners)
    return Part(role, material, Sheet(pts, float(thick), float(cz)))


def wander(rng: np.random.Generator, start, n: int, step: float, turn: float) -> np.ndarray:
    """A smooth random walk of `n` points from `start`: a cable dropped into a bag."""
    heading = rng.uniform(0, 2 * np.pi)
    pts = [np.asarray(start, float)]
    for _ in range(n - 1):
        heading += rng.normal(0, turn)
        pts.append(pts[-1] + step * np.array([np.cos(heading), np.sin(heading)]))
    return np.asarray(pts)


def move(part: Part, position, rot: np.ndarray, moved: dict | None = None) -> Part:
    """`part` turned by `rot` about the origin and moved to `position` (cm).

    `moved` (id of a solid → the solid moved) lets parts that share a solid share it moved
    too, so a canvas computes its thickness once (`Canvas._thickness_maps`)."""
    s = part.solid
    if moved is not None and id(s) in moved:
        return _evolved(part, solid=moved[id(s)])
    position = np.asarray(position, float)
    if isinstance(s, Wire | Sheet):  # wires and sheets stay flat: turn their points about z
        pts = np.asarray(s.points) @ np.asarray(rot)[:2, :2].T + position[:2]
        solid = _evolved(s, points=tuple(map(tuple, pts)), z=s.z + position[2])
    else:
        center = tuple(rot @ np.asarray(s.center) + position)
        solid = _evolved(s, center=center, rot=rot @ np.asarray(s.rot))
    if moved is not None:
        moved[id(s)] = solid
    return _evolved(part, solid=solid)


def _evolved(item, **changes):
    """`dataclasses.replace` for parts and solids, a few times faster: a bag places thousands.

    They are frozen dataclasses with plain fields (no `__post_init__`, slots or caches), so a
    copy of their fields with `changes` is what `replace` would build.
    """
    new = object.__new__(type(item))
    new.__dict__.update(item.__dict__, **changes)
    return new


def place(model: ObjectModel, position, rot: np.ndarray) -> ObjectModel:
    """`model` turned by `rot` and moved to `position` (cm, bag coordinates)."""
    moved: dict[int, Shape] = {}  # the model's parts that share a solid keep sharing it
    return replace(
        model,
        parts=[move(p, position, rot, moved) for p in model.parts],
        anomaly=[move(p, position, rot, moved) for p in model.anomaly],
        replaced=[move(p, position, rot, moved) for p in model.replaced],
    )
