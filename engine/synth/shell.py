"""The bag's own parts, in bag coordinates: its shell, walls, piping, zips, pockets, the
hardware on its faces and edges, and a trolley's frame and wheels (`trolley.py`) (`shell_parts`).

`bag.compose_bag` places them and packs the bag; the module docstring of `bag.py` has the
physics notes, version by version. The parts added since v2.6 (a soft bag's fringe and
creases, side-on screws, side ribs) draw random numbers of their own (`parts.own_rng`, seeded
by the walls), so a bag is otherwise the same without them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import numpy as np

from engine.synth.materials import MATERIALS
from engine.synth.parts import (
    box,
    disc,
    frame,
    move,
    outline_sheet,
    own_rng,
    path,
    ring,
    rod,
    rounded_rect,
    sheet,
    shell,
    side_rng,
)
from engine.synth.shapes import Part, rotation
from engine.synth.trolley import trolley_frame

TUBE_METALS = ("aluminium", "steel", "stainless")  # what a trolley's handle tubes may be made of


def _squashed(outline: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`outline` bulged and dented by a smooth random amount, as a soft bag's edge is."""
    n = len(outline)
    phase, amp = rng.uniform(0, 2 * np.pi, 3), rng.uniform(0.0, 0.035, 3)
    t = np.linspace(0, 2 * np.pi, n)
    wobble = 1 + sum(amp[k] * np.sin((k + 2) * t + phase[k]) for k in range(3))
    out = outline * wobble[:, None]
    out[-1] = out[0]
    return out


def _inward(outline: np.ndarray, at: int) -> np.ndarray:
    """The unit normal into a closed `outline` (x, y cm) at its point `at`: to the left of the
    way round when the outline runs anticlockwise (by its signed area), else to the right."""
    x, y = np.asarray(outline, float).T
    anticlockwise = float(x[:-1] @ y[1:] - x[1:] @ y[:-1]) > 0
    gap = outline[(at + 1) % len(outline)] - outline[at - 1]
    inward = np.array([-gap[1], gap[0]]) if anticlockwise else np.array([gap[1], -gap[0]])
    return inward / max(float(np.hypot(*gap)), 1e-9)


def _ring(outline: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """A closed `outline` resampled every `step` cm, with its outward unit normals."""
    closed = np.asarray(outline, float)
    gaps = np.diff(closed, axis=0)
    along = np.concatenate([[0.0], np.cumsum(np.hypot(*gaps.T))])
    t = np.arange(0.0, along[-1], step)
    ring = np.stack([np.interp(t, along, closed[:, k]) for k in (0, 1)], axis=1)
    tangent = np.roll(ring, -1, axis=0) - np.roll(ring, 1, axis=0)
    normal = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1)
    normal /= np.maximum(np.hypot(*normal.T), 1e-9)[:, None]
    if np.mean(np.sum(normal * ring, axis=1)) < 0:  # point outwards
        normal = -normal
    return ring, normal


def _cast_d_ring(at, radius: float, wire: float, angle: float) -> Part:
    """A D-ring of round steel `wire` (radius, cm) at `at`: an arc of `radius` round 250° and the
    straight bar across its open side, turned by `angle` about z."""
    arc = np.linspace(-0.7 * np.pi, 0.7 * np.pi, 15) + angle
    pts = np.stack([np.cos(arc), np.sin(arc)], axis=1) * radius
    pts = np.concatenate([pts, pts[:1]]) + np.asarray(at[:2], float)
    return path("d_ring", "steel", pts, wire, float(at[2]))


def _cast_buckle(
    at,
    turn: np.ndarray,
    bar: float = 0.45,
    size=(3.0, 2.2),
    across: bool = True,
    corner=0.5,
    material: str = "steel",
) -> list[Part]:
    """A buckle bent from round steel `bar` (its diameter, cm), or moulded of that `material`,
    `size` over all, corners rounded by `corner`, with a bar `across` its middle (a ladder lock)
    or none (a plain loop), at `at`, turned by `turn`."""
    r = bar / 2
    half_x, half_y = size[0] / 2, size[1] / 2
    lines = [rounded_rect(half_x - r, half_y - r, corner)]
    if across:  # the bar stops 1 mm short of the loop's inside, so its round ends reach only a
        # little into the loop: a solid join, without the dark dots where two whole bars cross
        end = half_y - 2 * r - 0.1
        lines.append(np.array([(0.0, -end), (0.0, end)]))
    at = np.asarray(at, float)
    return [move(path("buckle", material, line, r), at, turn) for line in lines]


@dataclass(frozen=True)
class _FittingDesign:
    """How one bag's face fittings are made (`varied_fittings`): a maker uses one buckle
    throughout a bag, but makers differ. Its defaults are the usual fittings of v2.47-v2.59."""

    scale: float = 1.0  # of the buckles' size (the square root of their area), the D-rings' too
    aspect: float = 3.0 / 2.2  # a buckle's length over its width
    across: bool = True  # a bar across a buckle (a ladder lock); False: a plain loop
    material: str = "steel"  # the buckles'; "nylon": moulded, as many luggage buckles are

    @classmethod
    def drawn(cls, rng: np.random.Generator, plastic: float = 0.0) -> _FittingDesign:
        """A design: `scale` 0.8-1.3, buckles 1.2-1.6 times as long as wide (so 2.3-4.2 cm long),
        three in five ladder locks and the rest plain loops. Pair readers saw a first design's
        tri-glides, two bars across, blur into striped blobs (docs/simulator-realism.md). With
        chance `plastic` its buckles are moulded nylon, drawn after the rest (none drawn at 0,
        v2.60-v2.71)."""
        across = bool(rng.choice([1, 0], p=[0.6, 0.4]))
        design = cls(float(rng.uniform(0.8, 1.3)), float(rng.uniform(1.2, 1.6)), across)
        if plastic > 0 and rng.random() < plastic:
            return replace(design, material="nylon")
        return design

    def buckle_size(self) -> tuple[float, float]:
        """(length, width) cm, with the usual 3 × 2.2 cm buckle's area times `scale`²."""
        area = 3.0 * 2.2 * self.scale**2
        return float(np.sqrt(area * self.aspect)), float(np.sqrt(area / self.aspect))


ZIP_PITCH = 0.3  # cm from one tooth of a zip's chain to the next on the same side (a #5 zip)
ZIP_WIDTH = 0.4  # cm across the chain, teeth included
ZIP_TOOTH = 0.12  # cm that a tooth reaches beyond the other side's, into the gap between its teeth
ZIP_THICK = 0.25  # cm of metal in a tooth, seen face-on


def _zip_chain(role: str, metal: str, outline: np.ndarray, z: float) -> Part:
    """A zip's chain along a closed `outline` (x, y cm) at height `z`, seen face-on: interlocked
    teeth, each side's every `ZIP_PITCH`, reaching into the other side's gaps, so the chain is
    a band `ZIP_WIDTH` wide with a square-toothed edge either side, half a pitch out of step:
    the fine ladder real scans show along a zip, where a round wire is one even line. One
    polygon (a ring band, `outline_sheet`), so it costs one fill. `outline` must be closed (its
    last point its first) and at least a pitch round; its bends wider than the chain."""
    outline = np.asarray(outline, float)
    if len(outline) < 3 or not np.allclose(outline[0], outline[-1]):
        raise ValueError("a zip's chain runs round a closed outline (its last point its first)")
    if np.hypot(*np.diff(outline, axis=0).T).sum() < ZIP_PITCH:
        raise ValueError(f"a zip's chain needs an outline at least {ZIP_PITCH} cm round")
    ring, normal = _ring(outline, ZIP_PITCH / 2)
    ring, normal = ring[: len(ring) // 2 * 2], normal[: len(ring) // 2 * 2]  # whole teeth
    half, short = ZIP_WIDTH / 2, ZIP_WIDTH / 2 - ZIP_TOOTH
    tooth = np.arange(len(ring)) % 2 == 0  # this half-pitch: a tooth outside, a gap inside
    out = np.where(tooth, half, short)[:, None]
    inn = np.where(tooth, short, half)[:, None]
    after = np.roll(np.arange(len(ring)), -1)

    def side(reach: np.ndarray, sign: float) -> np.ndarray:  # each half-pitch's two corners
        start = ring + sign * normal * reach
        end = ring[after] + sign * normal[after] * reach
        return np.stack([start, end], axis=1).reshape(-1, 2)

    band = _ring_band(side(out, 1.0), side(inn, -1.0))
    return outline_sheet(role, metal, band, ZIP_THICK, z)


def _ring_band(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """The strip between two closed lines of as many points as one polygon: round the outer,
    back to its start, across to the inner's and round the inner backwards; the fill leaves
    the middle empty, the way across and back having no area."""
    return np.concatenate([outer, outer[:1], inner[:1], inner[::-1]])


def _fringe(walls: np.ndarray, depth: float, fabric: str, reach, rng) -> list[Part]:
    """A soft bag's ragged fabric edge outside its piping, on both faces: seam allowances,
    flaps and bulging cloth, up to `reach` (cm, a range) beyond the walls, 2.5-5 mm of cloth.
    Drawn first, so its cavity carves only itself."""
    ring, normal = _ring(walls, 0.8)  # a point every 8 mm: ragged at that scale
    parts = []
    for z in (-depth / 2, depth / 2):
        width = float(rng.uniform(*reach))
        phase, amp = rng.uniform(0, 2 * np.pi, 3), rng.uniform(0.2, 0.5, 3)
        u = np.linspace(0, 2 * np.pi, len(ring), endpoint=False)
        smooth = 0.5 + sum(amp[k] * np.sin((3 * k + 4) * u + phase[k]) for k in range(3)) / 3
        out = width * np.clip(smooth + rng.normal(0, 0.06, len(ring)), 0.05, 1.0)
        edge = ring + normal * out[:, None]
        thick = float(rng.uniform(0.25, 0.5))  # folded layers and a padded edge
        parts.append(outline_sheet("fringe", fabric, edge, thick, z))
        inner = outline_sheet("fringe", fabric, ring, thick, z)
        parts.append(replace(inner, sign=-1.0))
    return parts


def _creases(
    walls: np.ndarray,
    depth: float,
    wall: float,
    fabric: str,
    count: tuple[int, int],
    rng: np.random.Generator,
) -> list[Part]:
    """Creases of a soft bag's crumpled walls: `count` (a range) stretches of wall cloth
    (`wall` cm thick) that slant or bulge inwards. A stretch 15-40 % of the bag's `depth` high,
    slanted to span 1-3 cm seen from above, is a band of that width whose thickness is the
    cloth's times its height over its width: narrow bands strong, wide ones faint. Each band
    follows the walls 0.2-2.6 cm inside them, by a smooth random amount along the way. A packed
    soft wall is never one upright sheet; the fan shows its buckles as bands stacked inside the
    bag's outline (sixray_benign). A band is one ring-shaped sheet: its outer edge, then its
    inner edge backwards, joined where they start."""
    ring, normal = _ring(walls, 1.0)
    around = np.linspace(0, 2 * np.pi, len(ring), endpoint=False)
    parts = []
    for _ in range(int(rng.integers(count[0], count[1] + 1))):
        phase, amp = rng.uniform(0, 2 * np.pi, 3), rng.uniform(0.0, 0.3, 3)
        inset = rng.uniform(0.2, 0.8) + sum(
            amp[k] * (1 + np.sin((k + 2) * around + phase[k])) for k in range(3)
        )
        width, high = rng.uniform(1.0, 3.0), rng.uniform(0.15, 0.4) * depth
        thick, z = wall * high / width, rng.uniform(-0.45, 0.45) * depth
        outer = ring - normal * inset[:, None]
        inner = outer - normal * width
        parts.append(outline_sheet("side_wall", fabric, _ring_band(outer, inner), thick, z))
    return parts


def _coated(parts: list[Part], share: float) -> list[Part]:
    """The PVC coating of fabric `parts`: each again in PVC at `share` of its thickness (the
    coating's share of the coated cloth; `Part.sign` scales what a part adds). 0: none."""
    if share <= 0:
        return []
    return [replace(p, material="pvc", sign=p.sign * share) for p in parts]


def _rounded_shell(role: str, material: str, outline: np.ndarray, depth: float, wall: float):
    """A closed shell of `wall` cm around the prism of `outline` (x, y cm) and `depth`: its two
    faces as sheets, its side wall as one upright slab per edge of the outline."""
    outline = np.asarray(outline, float)
    parts = [
        outline_sheet(role, material, outline, wall, z)
        for z in (-(depth - wall) / 2, (depth - wall) / 2)
    ]
    inner_depth = depth - 2 * wall
    for a, b in itertools.pairwise(outline):
        length = float(np.hypot(*(b - a)))
        if length < 1e-6:
            continue
        mid = (a + b) / 2
        heading = rotation(0, 0, float(np.arctan2(b[1] - a[1], b[0] - a[0])))
        parts.append(box(role, material, (*mid, 0.0), (length, wall, inner_depth), rot=heading))
    return parts


# A carton's corrugated board (`carton_parts`): grammage (g/cm²) and thickness (cm) of a
# double-wall board (BC flute), as export cartons of food are made, est. from makers' tables
_BOARD_GRAMMAGE = (0.09, 0.14)
_BOARD_THICKNESS = (0.6, 0.8)
_WALL_POINTS = 8  # the points along each of a carton's walls that its bow follows
CARTON_CORNER = 0.5  # cm: what `bag.compose_bag` takes a carton's corners for (nearly square)


def carton_parts(size, rng: np.random.Generator) -> list[Part]:
    """A regular slotted carton of corrugated board, in bag coordinates: four walls; on each
    face two outer flaps meeting along the middle with a slit between them (roles "shell",
    sheets), and under them at each end an inner flap as deep as half the width, or of the
    length if that is shorter ("inner_flap").

    The board is paper at the share of its density its grammage gives (0.11-0.23 g/cm³): face-on
    a pale veil, its walls seen edge-on a faint line. Each wall bows out at its middle by
    0.2-1.2 cm, as a loaded carton's do, its corners square. Its flutes run up the walls, so in
    an outer flap across the carton and in an inner flap along it (`bag._draw_carton`)."""
    length, width, depth = size
    board = rng.uniform(*_BOARD_THICKNESS)
    share = rng.uniform(*_BOARD_GRAMMAGE) / (MATERIALS["paper"].density * board)
    corners = np.array([(-1, -1), (1, -1), (1, 1), (-1, 1)]) * [length / 2, width / 2]
    along = np.linspace(0.0, 1.0, _WALL_POINTS, endpoint=False)[:, None]
    walls = []
    for k, bow in enumerate(rng.uniform(0.2, 1.2, 4)):  # cm, most at the middle of each wall
        a, b = corners[k], corners[(k + 1) % 4]
        outward = np.array([(b - a)[1], -(b - a)[0]]) / float(np.hypot(*(b - a)))
        walls.append(a + (b - a) * along + outward * bow * np.sin(np.pi * along))
    outline = np.vstack([*walls, corners[:1]])
    parts = _rounded_shell("shell", "paper", outline, depth, board)
    slit = rng.uniform(0.1, 0.6)  # the outer flaps seldom quite meet
    flap = min(width / 2, length / 2)
    for z in (-(depth - board) / 2, (depth - board) / 2):
        parts.append(replace(sheet("shell", "paper", (0, 0, z), (length, slit), board), sign=-1))
        inward = z - np.sign(z) * board
        for x in (-(length - flap) / 2, (length - flap) / 2):
            parts.append(sheet("inner_flap", "paper", (x, 0, inward), (flap - 0.3, width), board))
    return [replace(p, sign=p.sign * share) for p in parts]


def shell_parts(
    kind: str,
    size,
    rng: np.random.Generator,
    corner: float | None = None,
    moulding: bool = False,
    fringe: tuple[float, float] = (0.0, 0.0),
    creases: tuple[int, int] = (0, 0),
    side_fittings: float = 0.0,
    plates: tuple[str, ...] = ("polypropylene", "pvc", "pvc"),
    on_walls: bool = False,
    side_ribs: tuple[int, int] = (0, 0),
    tubes: tuple[float, float] = (2.8, 4.5),
    tube_metals: tuple[str, ...] = ("aluminium", "steel"),
    corner_points: int = 5,
    tube_walls: float = 1.0,
    coated_folds: bool = False,
    wheels_at_end: bool = False,
    swivel_wheels: bool = False,
    rail_fittings: bool = False,
    rail_webs: bool = False,
    piping_on_walls: bool = False,
    framed_buckles: bool = False,
    spinner_tyres: str = "polyurethane",
    inner_webs: bool = False,
    heavy_fittings: bool = False,
    toothed_zips: bool = False,
    cast_fittings: bool = False,
    hard_shells: tuple[str, ...] = ("polycarbonate",),
    side_handles: bool = False,
    domed_turrets: bool = False,
    piping_wires: tuple[float, float] = (0.08, 0.15),
    rounded_plates: bool = False,
    rail_spacing: float = 0.6,
    flush_housings: bool = False,
    varied_fittings: bool = False,
    varied_rails: bool = False,
    rail_walls: tuple[float, float] = (1.0, 1.0),
    plastic_buckles: float = 0.0,
) -> list[Part]:
    """The bag itself in bag coordinates: shell, piping, zips, handles, frame and wheels.

    `corner`: the shell's corners are rounded with this radius (cm) and a soft bag's walls
    follow the bulge of its piping; None: a box (simulator v2.0-v2.2, whose random numbers it
    draws in the same order). `moulding`: screws and rivets along the edges (`_fittings`), and
    a hard shell's edges, lips and ribs (`_moulding`; v2.0-v2.4 drew neither). `fringe`: a
    rounded soft bag's ragged cloth edge reaches this far (cm, a range) beyond its walls
    (`_fringe`; (0, 0): none, v2.0-v2.5). `creases`: how many bands of buckled wall cloth
    a rounded soft bag shows (`_creases`, a range; (0, 0): none, v2.0-v2.8). `side_fittings`:
    the share of `moulding`'s screw groups driven through the side walls, seen side-on
    (`_fittings`; 0: all seen face-on, v2.5-v2.8). `plates`: a trolley's frame plate is made of
    one of these, drawn (`trolley.trolley_frame`). `on_walls`: screw groups follow
    the walls round corners, the zip follows the walls, its pulls lie along it and the studs,
    D-rings and buckles on the faces keep 2.5 cm inside the walls, so no hardware stands out of
    the shell (v2.0-v2.10: all could). `side_ribs`: a rounded shell's side wall has this many ribs
    or seams round it (a range, `_side_ribs`, on random numbers of their own; none: v2.0-v2.10).
    `tubes`, `tube_metals`: how wide a trolley's handle tubes are and the metals they are made
    of, one drawn, with walls `tube_walls` times 1.2 mm (aluminium) or 0.5 mm (steel) thick
    (`trolley.trolley_frame`). `corner_points`: the points round each rounded corner of
    the outline that walls, piping, zip and ribs follow (5, v2.0-v2.14: facets of 22.5°).
    `coated_folds`: a PVC-coated soft bag's fringe, bulges, creases and seams carry the coating
    in the share it has of the wall (`_coated`; False: bare fabric, v2.0-v2.26). `wheels_at_end`:
    a rounded trolley's wheels stand on its bottom end, as on a case lying on its back
    (`trolley._end_wheel`; False: on the four corners of its outline, v2.0-v2.29).
    `swivel_wheels`: those spinners stand turned as they swivel, on random numbers of their
    own, with steel bearings in their hubs and their turrets (`trolley._swivelled`; False: all
    turned alike, a steel pin out to a bare axle, v2.30-v2.31). `rail_fittings`: a trolley's
    handle tubes have steel feet, screws, rivets and a lock clip (`trolley._rail_fittings`;
    False: bare tubes, v2.0-v2.33). `rail_webs`: the handle tubes are extrusions with one or
    two webs inside, on random numbers of their own (`trolley._webs`; False: plain
    rectangular tubes, v2.0-v2.37). `piping_on_walls`: a soft bag's piping runs along its walls'
    edges on both faces (False: each face's piping bulged its own way, the second's up to a few
    cm off the walls, a line round a bag of another shape, v2.0-v2.37). `framed_buckles`: the
    buckles on its faces are open frames with a bar across (False: solid steel plates, whose
    `shell` walls met in the middle, v2.0-v2.37). `spinner_tyres`: the material of swivelled
    spinners' tyres (`trolley._swivelled`). `inner_webs`: only the inner handle tube carries
    webs (`trolley.trolley_frame`). `heavy_fittings`: the D-rings on its faces are of 5 mm wire
    and its buckles' bars 4.5 mm square (False: 3 mm wire, bars 3.5 by 3 mm, v2.0-v2.40).
    `toothed_zips`: a zip that lies on a face (a pocket's; a holdall's or backpack's main zip)
    is a chain of teeth (`_zip_chain`); False: a round wire (v2.0-v2.45). `cast_fittings`: its
    face D-rings are D-shaped and its buckles rounded loops of round bar (`_cast_d_ring`,
    `_cast_buckle`); False: round rings and square-cut frames (v2.0-v2.46). `hard_shells`: the
    plastics a hard shell is moulded of, one drawn on random numbers of its own, its edges,
    lips and ribs of the same (polycarbonate alone: v2.0-v2.47). `side_handles`: a trolley's
    side handle is a grip bowed out between two mounts (`trolley._side_handle`), on
    random numbers of its own; False: an ABS bar inside the wall (v2.0-v2.48).
    `domed_turrets`: its swivelled spinners' turrets are hollow domes (`trolley._dome`); False:
    flat discs (v2.32-v2.49). `piping_wires`: the radius (cm) of the steel wire in a wired soft
    bag's piping, its frame (v2.0-v2.54: 0.08-0.15). `rounded_plates`: a rounded trolley's frame
    plate has the shell's round corners (`trolley_frame`); False: square (v2.0-v2.56).
    `rail_spacing`: a trolley's handle tubes this share of its width apart (v2.0-v2.57: 0.6).
    `flush_housings`: an inline wheel's housing flush with the trolley's end (v2.0-v2.58: no).
    `varied_fittings`: each bag's face buckles (with `cast_fittings`) follow a design of its own,
    its D-rings scaled with them, on random numbers of their own (`_FittingDesign`); False:
    every bag's alike (v2.0-v2.59). `varied_rails`: a trolley's handle tubes follow a design of
    its own, on random numbers of their own (`trolley._RailDesign`), in place of
    `rail_spacing`; False: every trolley's alike (v2.0-v2.69). `rail_walls`: with
    `varied_rails`, each trolley's tube walls this share (drawn) of `tube_walls`; (1, 1): all
    as `tube_walls` (v2.0-v2.70). `plastic_buckles`: with `varied_fittings` and `cast_fittings`,
    the chance that a bag's maker moulds its face buckles of nylon (`_FittingDesign`); 0: all
    steel (v2.0-v2.71)."""
    if kind == "carton":
        return carton_parts(size, rng)
    length, width, depth = size
    rounded = corner is not None
    hard = kind == "trolley" and rng.random() < 0.4
    fabric = _hard_plastic(hard_shells, rng) if hard else str(rng.choice(["nylon", "pet", "nylon"]))
    wall = rng.uniform(0.2, 0.3) if hard else rng.uniform(0.06, 0.14)
    parts = []
    if not rounded:  # a box: shell, and the lining on both big faces
        parts += shell("shell", fabric, (length, width, depth), wall)
        for z in (-depth / 2 + 0.5, depth / 2 - 0.5):
            parts.append(sheet("lining", "pet", (0, 0, z), (length - 1, width - 1), 0.03))
    coating = None
    if not hard and rng.random() < 0.75:
        # PVC-coated fabric: faint face-on, but the side walls seen edge-on make the green rim
        # real scans show around a soft bag
        coating = rng.uniform(0.01, 0.03)
        if not rounded:
            parts += shell("coating", "pvc", (length, width, depth), coating)
    corner = rng.uniform(2, 7) if corner is None else corner
    outline = rounded_rect(length / 2 - 0.3, width / 2 - 0.3, corner, n=corner_points)
    folds = []  # a soft bag's wall cloth folded or seen edge-on: fringe, bulges, creases, seams
    piping = []  # (z, wire's radius or None) of each face's piping, laid on the walls
    if not hard:  # piping: PVC cord along the edges of both big faces, often on a steel wire
        r = rng.uniform(0.2, 0.4)
        wired = rng.random() < 0.5
        squashes = []
        for z in (-depth / 2, depth / 2):
            squashes.append(_squashed(outline, rng))  # a soft bag is never quite rectangular
            wire = rng.uniform(*piping_wires) if wired else None
            if piping_on_walls:
                piping.append((z, wire))
                continue
            parts.append(path("piping", "pvc", squashes[-1], r, z))
            if wire is not None:
                parts.append(path("piping", "steel", squashes[-1], wire, z))
        walls = squashes[0]  # a rounded shell follows the first face's bulge
        for _ in range(int(rng.integers(1, 4))):  # soft sides bulge: seams and folds of the wall
            bulge = _squashed(outline, rng) * rng.uniform(1.0, 1.04)
            z = rng.uniform(-0.4, 0.4) * depth
            folds.append(path("side_wall", fabric, bulge, rng.uniform(0.15, 0.4), z))
            parts.append(folds[-1])
    else:
        walls = outline
    if rounded:
        # as long and wide as the box it replaces (the frame is fitted to that), bulges and all
        walls = walls / np.abs(walls).max(axis=0) * [length / 2, width / 2]
    edge = walls if rounded else outline  # where the shell is: a box's walls are its outline
    for z, wire in piping:  # both faces' piping on the walls' edges, which join them
        parts.append(path("piping", "pvc", edge, r, z))
        if wire is not None:
            parts.append(path("piping", "steel", edge, wire, z))
    if rounded:
        parts += _rounded_shell("shell", fabric, walls, depth, wall)
        inner = walls * (1 - 1.0 / np.array([length, width]))
        for z in (-depth / 2 + 0.5, depth / 2 - 0.5):
            parts.append(outline_sheet("lining", "pet", inner, 0.03, z))
        if coating is not None:
            parts += _rounded_shell("coating", "pvc", walls, depth, coating)
    # A soft bag's ragged edge and buckled walls, on random numbers of their own (the bag is
    # otherwise the same without them), drawn first: the fringe's cavity carves only the fringe
    first = []
    if rounded and not hard and fringe[1] > 0:
        first += _fringe(walls, depth, fabric, fringe, own_rng(walls))
    if rounded and not hard and creases[1] > 0:
        first += _creases(walls, depth, wall, fabric, creases, own_rng(walls, b"creases"))
    share = coating / wall if coated_folds and coating is not None else 0.0
    parts = first + _coated(first, share) + parts + _coated(folds, share)
    if moulding:
        # which screw groups go through the walls: random numbers of their own too
        sideways = own_rng(walls, b"fittings") if side_fittings else None
        parts += _fittings(walls, depth, rng, sideways, side_fittings, follow=on_walls)
        if hard:
            parts += _moulding(walls, depth, rng, fabric)
    if rounded and side_ribs[1] > 0:
        ribs_rng = own_rng(walls, b"side ribs")
        ribs = _side_ribs(walls, depth, side_ribs, ribs_rng, fabric, soft=not hard)
        parts += ribs + _coated([p for p in ribs if p.role == "side_seam"], share)
    zip_metal = str(rng.choice(["steel", "brass", "stainless"]))
    zip_z = 0.0 if kind in ("trolley", "briefcase") else depth / 2
    zip_outline = outline if kind != "holdall" else rounded_rect(length * 0.4, 1.0, 0.5)
    if on_walls and kind != "holdall":  # round the walls as they bulge, not the plain outline
        zip_outline = edge
    zip_wire = rng.uniform(0.1, 0.2)  # drawn even for a chain of teeth: the rest stays the same
    if toothed_zips and zip_z != 0.0:  # on a face: seen face-on, its teeth show
        parts.append(_zip_chain("zip", zip_metal, zip_outline * 0.97, zip_z))
    else:  # round the side walls (a trolley's, a briefcase's): seen edge-on, a line
        parts.append(path("zip", zip_metal, zip_outline * 0.97, zip_wire, zip_z))
    for _ in range(int(rng.integers(1, 5))):  # zip pulls
        at = int(rng.integers(len(zip_outline)))
        x, y = zip_outline[at] * 0.97
        heading = rng.uniform(0, np.pi)
        if on_walls:  # hanging from the zip along it, just inside: not across the walls
            inward = _inward(zip_outline, at)
            heading = np.arctan2(-inward[0], inward[1]) + (heading - np.pi / 2) * 0.1
            x, y = (x, y) + inward * 1.0
        turn = rotation(0, 0, heading)
        parts.append(box("zip_pull", zip_metal, (x, y, zip_z), (3.0, 1.0, 0.2), rot=turn))
        parts.append(ring("zip_pull", zip_metal, (x, y, zip_z), 0.5, 0.06, 8))
    if rng.random() < 0.6:  # a front pocket with its own zip
        pw, ph = length * rng.uniform(0.4, 0.7), width * rng.uniform(0.3, 0.6)
        px, py = rng.uniform(-0.2, 0.2) * length, rng.uniform(-0.2, 0.2) * width
        if rounded:  # sewn on the face, not hanging over its edge
            px = float(np.clip(px, -(length - pw) / 2 + 2, (length - pw) / 2 - 2))
            py = float(np.clip(py, -(width - ph) / 2 + 2, (width - ph) / 2 - 2))
        pocket = rounded_rect(pw / 2, ph / 2, 2.0) + np.array([px, py])
        if toothed_zips:
            parts.append(_zip_chain("pocket_zip", zip_metal, pocket, depth / 2))
        else:
            parts.append(path("pocket_zip", zip_metal, pocket, 0.08, depth / 2))
        if rounded:
            parts.append(outline_sheet("pocket", fabric, pocket, wall, depth / 2))
        else:
            parts.append(sheet("pocket", fabric, (px, py, depth / 2), (pw, ph), wall))
    cast = side_rng(rng, b"cast fittings") if cast_fittings else None
    usual = _FittingDesign()  # v2.47-v2.59's, to the bit
    if varied_fittings:
        design = _FittingDesign.drawn(side_rng(rng, b"fitting design"), plastic_buckles)
    else:
        design = usual
    for _ in range(int(rng.integers(4, 16))):  # studs, rivets, D-rings, buckles on the outside
        at, share = int(rng.integers(len(outline))), rng.uniform(0.85, 1.0)
        x, y = outline[at] * share
        if on_walls:  # on a face, 2.5 cm or more inside its walls: none stands out of them
            depth_in = 2.5 + (1 - share) * float(np.hypot(*edge[at]))
            x, y = edge[at] + _inward(edge, at) * depth_in
        z = float(rng.choice([-depth / 2, depth / 2]))
        kind_ = rng.integers(3)
        if kind_ == 0:
            parts.append(disc("stud", "steel", (x, y, z), rng.uniform(0.4, 0.8), 0.3))
        elif kind_ == 1:
            wire = 0.25 if heavy_fittings else 0.15  # 5 mm wire, as luggage D-rings; 3 mm
            radius = rng.uniform(0.8, 1.5) * design.scale  # each its own, the bag's scale
            if cast is not None:
                parts.append(_cast_d_ring((x, y, z), radius, wire, cast.uniform(0, 2 * np.pi)))
            else:
                parts.append(ring("d_ring", "steel", (x, y, z), radius, wire, 10))
        else:
            turn = rotation(0, 0, rng.uniform(0, np.pi))
            if cast is not None:  # round bar as thick as the square bar below
                bar = 0.45 if heavy_fittings else 0.35
                rounding = 0.5 * design.scale  # the buckle's corners, not the shell's
                extent = design.buckle_size()  # the buckle's, not the bag's `size`
                parts += _cast_buckle(
                    (x, y, z), turn, bar, extent, design.across, rounding, design.material
                )
            elif framed_buckles:  # a ladder lock: a frame of bars and one across it
                bar, hole, thick = (0.45, 1.3, 0.45) if heavy_fittings else (0.35, 1.5, 0.3)
                parts += frame("buckle", "steel", (3.0, 2.2, thick), bar, (x, y, z), turn)
                across = (bar, hole, thick)
                parts.append(box("buckle", "steel", (x, y, z), across, rot=turn))
            else:  # a wall over half its thickness: a solid plate (v2.0-v2.37)
                parts += shell("buckle", "steel", (3.0, 2.2, 0.3), 0.25, (x, y, z), turn)
    if kind == "trolley":
        rounded_corner = corner if rounded else None
        swivel = side_rng(rng, b"swivel") if swivel_wheels and rounded else None
        fittings = side_rng(rng, b"rail fittings") if rail_fittings else None
        webs = side_rng(rng, b"rail webs") if rail_webs else None
        handle = side_rng(rng, b"side handle") if side_handles else None
        rails = side_rng(rng, b"rail design") if varied_rails else None
        parts += trolley_frame(
            length, width, depth, rng, rounded_corner, plates=plates, tubes=tubes,
            metals=tube_metals, walls=tube_walls, at_end=wheels_at_end, swivel=swivel,
            fittings=fittings, webs=webs, tyres=spinner_tyres, inner_webs=inner_webs,
            handle=handle, domed=domed_turrets, rounded_plate=rounded_plates,
            rail_spacing=rail_spacing, flush=flush_housings, rails=rails, rail_walls=rail_walls,
        )  # fmt: skip
    elif kind == "holdall":
        for side in (-1, 1):  # two webbing handles riveted to the top, with D-rings
            x0, x1 = -length * 0.2, length * 0.2
            y = side * width * 0.12
            loop = [(x0, y), (x0 * 0.6, y + side * 4), (x1 * 0.6, y + side * 4), (x1, y)]
            parts.append(path("handle", "nylon", loop, 0.5, depth / 2 + 0.5))
            for x in (x0, x1):
                parts.append(disc("rivet", "steel", (x, y, depth / 2), 0.4, 0.3))
        for x in (-length / 2 + 2, length / 2 - 2):
            parts.append(ring("d_ring", "steel", (x, 0, depth * 0.3), 1.2, 0.2))
    elif kind == "backpack":
        for side in (-1, 1):  # padded shoulder straps with buckles and adjusters
            y = side * width * 0.22
            parts.append(
                box("strap", "polyethylene", (0, y, -depth / 2 - 1), (length * 0.8, 6, 1.5))
            )
            parts.append(
                box("buckle", "polypropylene", (-length * 0.3, y, -depth / 2 - 1), (4, 3, 0.8))
            )
            parts.append(
                box("adjuster", "aluminium", (length * 0.1, y, -depth / 2 - 1), (3, 2.5, 0.3))
            )
        parts.append(
            path("frame", "aluminium", [(-length * 0.4, 0), (length * 0.4, 0)], 0.3, -depth / 2)
        )
    else:  # briefcase: a handle and two brass clasps
        parts.append(box("handle", "abs", (length / 2 + 1.5, 0, 0), (3.0, 11.0, 2.5)))
        parts.append(
            rod("handle", "steel", (length / 2 + 0.5, -5, 0), (length / 2 + 0.5, 5, 0), 0.15)
        )
        for y in (-width * 0.3, width * 0.3):
            parts += shell("clasp", "brass", (2.0, 3.0, 1.0), 0.1, (length / 2 - 0.5, y, 0))
    return parts


def _fittings(
    walls: np.ndarray,
    depth: float,
    rng: np.random.Generator,
    sideways: np.random.Generator | None = None,
    share: float = 0.0,
    follow: bool = False,
) -> list[Part]:
    """Screws and rivets in small groups along a bag's outline (`walls`, x, y cm): where
    handles, feet, corner guards and the trolley's housings are fixed. Real scans show tens of
    such dense specks on the edges of every bag (sixray_benign).

    With a generator `sideways`, a `share` of the groups are screws driven through the side
    wall instead: the fan sees them side-on, a head at the wall and a shaft pointing inwards,
    square to the wall, the nail and T shapes real scans show along a bag's walls. `sideways`
    draws which groups and their shafts, so the bag is otherwise the same. `follow`: a face-on
    group follows the walls round a corner, as the side-on ones do, where stepping along a
    straight line (v2.5-v2.10) left dots outside the shell."""
    parts = []
    n = len(walls)
    if sideways is not None or follow:  # the walls every 2.5 mm, where a screw goes through them
        ring, normal = _ring(walls, 0.25)
    for _ in range(int(rng.integers(5, 10))):
        at = int(rng.integers(n))
        tangent = walls[(at + 1) % n] - walls[at - 1]
        tangent = tangent / max(float(np.hypot(*tangent)), 1e-6)
        z = float(rng.choice([-depth / 2 + 0.4, depth / 2 - 0.4]))
        metal = str(rng.choice(["steel", "steel", "stainless", "brass"]))
        radius, thick = rng.uniform(0.2, 0.45), rng.uniform(0.3, 0.8)
        inset = rng.uniform(0.93, 0.98)
        side = sideways is not None and sideways.random() < share
        if side:
            shaft, z = sideways.uniform(0.6, 1.5), sideways.uniform(-0.35, 0.35) * depth
        for k in range(int(rng.integers(2, 5))):
            step = tangent * (k * rng.uniform(1.2, 2.5))
            if side or follow:  # the wall where it is nearest: a corner curves away from the line
                j = int(np.argmin(np.hypot(*(ring - (walls[at] + step)).T)))
            if not side:
                x, y = ring[j] * inset if follow else walls[at] * inset + step
                parts.append(disc("fitting", metal, (x, y, z), radius, thick))
                continue
            head = ring[j] - normal[j] * 0.05
            under = head - normal[j] * 0.2
            tip = under - normal[j] * shaft
            parts.append(rod("fitting", metal, (*head, z), (*under, z), radius))
            parts.append(rod("fitting", metal, (*under, z), (*tip, z), radius * 0.5))
    return parts


def _hard_plastic(plastics: tuple[str, ...], rng: np.random.Generator) -> str:
    """The plastic of a hard shell, one of `plastics`: drawn on random numbers of its own, so
    the bag is otherwise the same whichever are given (none drawn from one alone)."""
    if len(plastics) == 1:
        return plastics[0]
    return str(side_rng(rng, b"hard shell").choice(list(plastics)))


def _moulding(
    walls: np.ndarray, depth: float, rng: np.random.Generator, plastic: str = "polycarbonate"
) -> list[Part]:
    """What a hard shell's moulding (of `plastic`) adds to its outline (`walls`, x, y cm) and
    `depth`.

    Real scans show a hard case's side walls as stacked contour lines between its two faces,
    seen apart by an oblique or leaning fan (sixray_benign): the thick bent edge of each face,
    the two halves' lips meeting at mid-height (on an aluminium frame in some cases), and ribs
    moulded along each face, seen face-on as pairs of thin lines.
    """
    parts = []
    bead = rng.uniform(0.3, 0.5)
    for z in (-depth / 2 + bead, depth / 2 - bead):  # the face's edge, bent into the wall
        parts.append(path("shell_edge", plastic, walls * 0.985, bead, z))
    lip = "aluminium" if rng.random() < 0.3 else plastic
    radius = rng.uniform(0.2, 0.35)
    for z in (-0.7, 0.7):  # each half's lip, where they close
        parts.append(path("shell_lip", lip, walls * 0.99, radius, z))
    half_x, half_y = np.abs(walls).max(axis=0)
    ribs = int(rng.integers(2, 6))
    for z in (-depth / 2 + 0.3, depth / 2 - 0.3):
        for k in range(ribs):
            y = half_y * (2 * (k + 1) / (ribs + 1) - 1) * 0.8
            for dy in (-0.6, 0.6):  # a rib's two flanks
                line = [(-half_x * 0.8, y + dy), (half_x * 0.8, y + dy)]
                parts.append(path("shell_rib", plastic, line, 0.25, z))
    return parts


def _side_ribs(
    walls: np.ndarray,
    depth: float,
    count: tuple[int, int],
    rng: np.random.Generator,
    material: str = "polycarbonate",
    soft: bool = False,
) -> list[Part]:
    """What runs round a bag's side wall at `count` (a range) heights: a hard shell's moulded
    ribs, or (`soft`) a soft bag's seams and, in half of them, the steel teeth of an expander
    zip, of `material`. A leaning or oblique fan sees the wall from the side, so they show as a band
    of lines along its outline (`walls`, x, y cm), the striped rim of real bags (sixray_benign)."""
    parts = []
    for _ in range(int(rng.integers(count[0], count[1], endpoint=True))):
        z = rng.uniform(-0.42, 0.42) * depth
        if soft:
            parts.append(path("side_seam", material, walls, rng.uniform(0.15, 0.3), z))
        else:
            parts.append(path("shell_rib", material, walls, rng.uniform(0.12, 0.25), z))
    if soft and rng.random() < 0.5:
        z = rng.uniform(-0.3, 0.3) * depth
        parts.append(path("expander_zip", "steel", walls * 0.995, rng.uniform(0.08, 0.14), z))
    return parts
