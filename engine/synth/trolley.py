"""A trolley's frame: telescopic handle tubes and their fittings, the frame plate, the grip,
and its wheels, fixed or spinners, on its corners or on its bottom end (`trolley_frame`).

`shell.shell_parts` draws it as part of the bag; the module docstring of `bag.py` has the
physics notes, version by version. The spinners' turns (v2.32), the tubes' fittings (v2.34),
their webs (v2.38) and the tubes' design (v2.70) draw random numbers of their own
(`parts.side_rng`), so a bag is otherwise the same without them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.synth.parts import box, disc, outline_sheet, path, rod, rounded_rect, shell
from engine.synth.shapes import Cylinder, Ellipsoid, Part, rotation


def trolley_frame(
    length: float,
    width: float,
    depth: float,
    rng: np.random.Generator,
    corner: float | None = None,
    plates: tuple[str, ...] = ("polypropylene", "pvc", "pvc"),
    tubes: tuple[float, float] = (2.8, 4.5),
    metals: tuple[str, ...] = ("aluminium", "steel"),
    walls: float = 1.0,
    at_end: bool = False,
    swivel: np.random.Generator | None = None,
    fittings: np.random.Generator | None = None,
    webs: np.random.Generator | None = None,
    tyres: str = "polyurethane",
    inner_webs: bool = False,
    handle: np.random.Generator | None = None,
    domed: bool = False,
    rounded_plate: bool = False,
    rail_spacing: float = 0.6,
    flush: bool = False,
    rails: np.random.Generator | None = None,
    rail_walls: tuple[float, float] = (1.0, 1.0),
) -> list[Part]:
    """Telescopic handle tubes (of one of `metals`, the outer one `tubes` cm wide, drawn, their
    walls `walls` times 1.2 mm of aluminium or 0.5 mm of steel), a frame plate (of one of
    `plates`), the grip and wheels of a trolley.

    `corner`: the shell's corner radius (cm) of a rounded shell, whose wheels are spinners on
    its corners (`_spinner`); None: fixed wheels in box housings inside the corners (v2.0-2.2).
    `swivel`: with `at_end`, the spinners' own random numbers, each turned as it swivels
    (`_swivelled`); None: all turned alike (v2.30-v2.31). `fittings`: the handle tubes' own
    random numbers for the steel that holds them (`_rail_fittings`); None: bare tubes
    (v2.0-v2.33). `webs`: the tubes' own random numbers for the webs inside their extrusion
    (`_webs`); None: plain rectangular tubes (v2.0-v2.37). `inner_webs`: only the inner tube
    carries them, kept clear of its walls and of one another, and the outer's bore is plain for
    it to slide in; False: both tubes, the outer's running through the inner (v2.38-v2.39).
    `tyres`: the swivelled spinners' tyres' material (`_swivelled`). `handle`: the side
    handle's own random numbers, a grip bowed out of one long side between two mounts
    (`_side_handle`); None: an ABS bar inside the wall (v2.0-v2.48). `domed`: the swivelled
    spinners' turrets are hollow domes (`_dome`); False: flat discs (v2.32-v2.49).
    `rounded_plate`: in a rounded shell the frame plate's corners are rounded as the shell's are,
    so they stay inside it; False: a square plate, whose corners poke out of a shell of round
    corners (v2.0-v2.56). `rail_spacing`: the handle tubes' centres this share of `width` apart,
    the grip's housing 1.1 times as wide (v2.0-v2.57: 0.6, the tubes near the walls). `flush`:
    an inline wheel's housing flush with the end (`_end_wheel`; v2.0-v2.58: standing out).
    `rails`: the handle's own random numbers for how this maker sets its tubes (`_RailDesign`:
    their spacing, in place of `rail_spacing`, and how far down the bag they reach; with
    `rail_walls` other than (1, 1) also their walls, that share of `walls`); None: every
    trolley's alike (v2.0-v2.69).
    """
    parts = []
    z = -depth / 2 + 1.5
    tube_w = rng.uniform(*tubes)
    metal = str(rng.choice(list(metals)))  # cheap trolleys have steel tubes: blue bars
    design = (
        _RailDesign.drawn(rails, rail_walls) if rails is not None else _RailDesign(rail_spacing)
    )
    rail_spacing = design.spacing
    half_apart = width * rail_spacing / 2
    for y in (-half_apart, half_apart):  # two rectangular tubes, one inside the other
        profile = _profile(webs) if webs is not None else ()
        for scale, length_share in ((1.0, design.outer), (0.8, design.inner)):
            w, h = tube_w * scale, rng.uniform(1.2, 2.0) * scale
            center = (length * (0.46 - length_share / 2), y, z)
            wall = (0.12 if metal == "aluminium" else 0.05) * walls * design.walls
            size = (length * length_share, w, h)
            parts += shell("handle_tube", metal, size, wall, center)
            if not inner_webs:
                parts += _webs(profile, metal, size, wall, center)
            elif scale < 1.0:  # the inner tube: the outer's bore stays plain for it to slide in
                parts += _webs(_fitted(profile, w, h, wall), metal, size, wall, center)
        if fittings is not None:
            parts += _rail_fittings(length, width, y, z, tube_w, corner, fittings, design)
    # PVC plates read green. One draw even from a single material, as from two or three, so
    # that the bag after the plate is the same whichever `plates` are given
    plate = plates[int(rng.integers(0, max(len(plates), 2))) % len(plates)]
    z_plate = -depth / 2 + 0.5
    if rounded_plate and corner is not None:  # within the shell: its corners, its radius
        outline = rounded_rect(length * 0.45, width * 0.4, corner, n=9)
        parts.append(outline_sheet("frame_plate", plate, outline, 0.3, z_plate))
    else:
        parts.append(box("frame_plate", plate, (0, 0, z_plate), (length * 0.9, width * 0.8, 0.3)))
    grip = 1.1 * rail_spacing  # of the width: 0.66 at 0.6, to the bit
    parts.append(box("grip", "abs", (length / 2 - 1.5, 0, z), (3.0, width * grip, 2.5)))
    parts.append(box("grip", "steel", (length / 2 - 1.5, 0, z), (1.0, 3.0, 0.8)))
    if handle is None:
        parts.append(box("side_handle", "abs", (0, width / 2 - 1.0, 0), (14.0, 2.0, 3.0)))
    else:
        parts += _side_handle(width, handle)
    wheels = 4 if rng.random() < 0.6 else 2
    corners = [(-1, -1), (-1, 1)] + ([(1, -1), (1, 1)] if wheels == 4 else [])
    r = rng.uniform(2.2, 3.5)
    if corner is not None and at_end:  # on the bottom end, at the back or all four corners
        for sy, sz in ((-1, -1), (1, -1)) + (((-1, 1), (1, 1)) if wheels == 4 else ()):
            spinner = wheels == 4
            if spinner and swivel is not None:
                parts += _swivelled(sy, sz, length, width, depth, corner, r, swivel, tyres, domed)
            else:
                parts += _end_wheel(sy, sz, length, width, depth, corner, r, spinner, flush)
        return parts
    if corner is not None:
        for sx, sy in corners:
            parts += _spinner(sx, sy, length, width, depth, corner, r)
        return parts
    for sx, sy in corners:
        x, y = sx * (length / 2 - r - 0.5), sy * (width / 2 - r - 0.5)
        parts += [
            *shell(
                "wheel_housing", "abs", (2 * r + 1.5, 2 * r + 1.5, 3.0), 0.3, (x, y, -depth / 2 + 2)
            ),
            Part("wheel", "rubber", _wheel(x, y, -depth / 2 + 2, r)),
            rod("axle", "steel", (x, y - 1.2, -depth / 2 + 2), (x, y + 1.2, -depth / 2 + 2), 0.4),
            disc("bearing", "steel", (x, y, -depth / 2 + 2), 0.9, 0.8, rotation(np.pi / 2, 0, 0)),
        ]
        for dx in (-r, r):  # the housing's screws
            parts.append(disc("screw", "steel", (x + dx, y, -depth / 2 + 3.5), 0.25, 0.4))
    return parts


@dataclass(frozen=True)
class _RailDesign:
    """How a maker sets a trolley's handle tubes: their centres `spacing` of its width apart,
    the outer tubes reaching `outer` of its length down from the grip's end, the inner ones
    `inner`. The real backgrounds' rails stand 0.3-0.45 of the bag's width apart and reach
    about 0.75-0.9 of its length, where every simulated trolley had the same pair (0.34, 0.92,
    0.6), which readers named "twin rails too alike" in bag after bag. Their walls are `walls`
    of the bag's setting: some real rails read as hollow tubes, dark edges round a paler
    middle, others as solid bars."""

    spacing: float
    outer: float = 0.92
    inner: float = 0.6
    walls: float = 1.0
    outer_end: float = -0.46  # where the tubes end, a share of the length from its middle:
    inner_end: float = -0.14  # 0.46 - `outer` and 0.46 - `inner`, kept as v2.0-v2.69 wrote them
    varied: bool = False  # drawn (`drawn`), not v2.0-v2.69's one pair

    @classmethod
    def drawn(
        cls, rng: np.random.Generator, walls: tuple[float, float] = (1.0, 1.0)
    ) -> _RailDesign:
        """One maker's design, on the handle's own random numbers (`rng`); its walls' share
        drawn from `walls` after the rest, none drawn at (1, 1) (v2.70)."""
        outer = float(rng.uniform(0.76, 0.92))
        spacing = float(rng.uniform(0.28, 0.46))
        inner = outer * float(rng.uniform(0.55, 0.75))
        share = float(rng.uniform(*walls)) if tuple(walls) != (1.0, 1.0) else 1.0
        return cls(spacing, outer, inner, share, 0.46 - outer, 0.46 - inner, varied=True)


def _spinner(sx, sy, length, width, depth, corner, r) -> list[Part]:
    """A spinner wheel on a rounded shell's corner (`sx`, `sy`: which one, ±1): a hollow round
    turret centred on the middle of the corner's arc, so half of it stands out of the shell as
    real ones do, its steel swivel pin, and twin wheels of radius `r`·0.7 under it. Seen from
    above it is a ring with a dot, as in real scans, where box housings read as boxes."""
    inset = corner * (1 - np.sqrt(0.5))  # the arc's middle, from the box's corner
    x, y = sx * (length / 2 - inset), sy * (width / 2 - inset)
    z = -depth / 2 + 1.5
    turret = r + 0.8
    wheel = 0.7 * r
    parts = [
        *_turret((x, y, z), turret, np.eye(3)),
        disc("swivel_pin", "steel", (x, y, z), 0.5, 2.4),
    ]
    for dy in (-0.9, 0.9):  # twin wheels on one axle, below the turret
        parts.append(Part("wheel", "rubber", _wheel(x, y + dy, z - 1.5, wheel, width=1.4)))
    parts.append(rod("axle", "steel", (x, y - 1.8, z - 1.5), (x, y + 1.8, z - 1.5), 0.3))
    return parts


def _rail_fittings(
    length: float,
    width: float,
    y: float,
    z: float,
    tube_w: float,
    corner: float | None,
    rng: np.random.Generator,
    design: _RailDesign,
) -> list[Part]:
    """The steel that holds a telescopic handle tube (centred on `y`, `tube_w` cm wide, at
    height `z`, its tubes from 0.46 of `length` down as far as `design` says): a foot bracket
    wider than the tube at its bottom end, on the frame plate, screwed to it either side of the
    tube; a screw through the grip's housing at its top; and the lock's steel clip at the inner
    tube's bottom end, with 1-3 rivets along the outer one's middle. Real rails show these as flared
    blue feet, screw heads and dots along the bar, where bare tubes read as plain bars with hard
    ends.

    The foot keeps 0.3 cm inside the shell's outline (`rounded_rect` 0.3 cm inside the bag's
    box), on the arc of its corner rounded by `corner` where it reaches into it (None: a box)."""
    bottom = design.outer_end * length
    foot = rng.uniform(3.5, 5.5)
    half = tube_w / 2 + 0.8  # the foot's half width
    end, side = length / 2 - 0.3, width / 2 - 0.3  # the outline's half length and width
    inside = -end + 0.3
    if corner is not None:  # its outer corner on the end's rounded arc
        into = min(abs(y) + half - (side - corner), corner)
        if into > 0:
            inside += corner - np.sqrt(corner**2 - into**2)
    start = max(bottom, inside)
    plate = z - 0.7  # on the frame plate, under the tube
    parts = [box("rail_foot", "steel", (start + foot / 2, y, plate), (foot, 2 * half, 0.25))]
    for side in (-1, 1):  # the foot's screws, either side of the tube, into the plate
        at = (start + foot / 2, y + side * (tube_w / 2 + 0.5), plate)
        parts.append(disc("screw", "steel", at, rng.uniform(0.25, 0.35), 0.8))
    grip = length / 2 - 1.5  # the grip's housing, across both tubes' tops
    parts.append(disc("screw", "steel", (grip, y, z), rng.uniform(0.25, 0.35), 1.0))
    lock = design.inner_end * length + rng.uniform(1.0, 2.5)  # the inner tube's end, its clip
    parts.append(box("rail_lock", "steel", (lock, y, z), (1.2, tube_w * 0.5, 0.6)))
    along = rng.uniform(-0.4, 0.4, int(rng.integers(1, 4))) * length  # of a tube 0.92 long
    if design.varied:  # over the middle 87 % of this one
        along = along * (design.outer / 0.92) + (design.outer_end + design.outer / 2) * length
    for x in along:
        parts.append(disc("rivet", "steel", (float(x), y, z), rng.uniform(0.2, 0.3), 1.2))
    return parts


def _side_handle(width: float, rng: np.random.Generator) -> list[Part]:
    """A trolley's carry handle on one long side, folded down: a grip of filled rubber 1.6 cm
    thick on a steel core, bowed 1.5-3 cm out between two mounts 12-17 cm apart, each an ABS
    housing (3.5 mm walls) on the grip's steel pivot pin, held by two screws through the wall.
    It is placed by the bag's width: the rounded outline runs 0.3 cm inside `width`/2, about
    where a hard shell's wall stands; a soft bag's wall bulges in or out of it by up to a
    couple of cm, so there the mounts sit a little off it. Real scans show a side handle as two
    mounts with screws seen side-on, joined by an arc standing out of the bag, where a plain
    plastic bar inside the wall showed as a flat darker slab. Mounts of stamped steel (boxes of
    1.2 mm sheet) split two readers, 8 of 8 for and 8 of 8 against ("flat, saturated blue
    blocks with hard edges")."""
    side = 1.0 if rng.random() < 0.5 else -1.0
    span = rng.uniform(12.0, 17.0)
    wall = width / 2 - 0.3
    out = wall + 0.7  # the mounts' middles, standing out of the wall
    parts = []
    for x in (-span / 2, span / 2):
        parts += shell("handle_mount", "abs", (2.6, 1.4, 2.8), 0.35, (x, side * out, 0.0))
        pin = (x - 0.9, side * out, 0.0), (x + 0.9, side * out, 0.0)
        parts.append(rod("handle_mount", "steel", *pin, 0.2))  # the grip's pivot
        for dx in (-0.6, 0.6):  # two screws through the mount and the wall, heads outside
            under = (x + dx, side * (out + 0.6), 0.0)  # under the head
            parts.append(rod("screw", "steel", (x + dx, side * (wall - 1.0), 0.0), under, 0.18))
            parts.append(rod("screw", "steel", under, (x + dx, side * (out + 0.85), 0.0), 0.4))
    bow = rng.uniform(1.5, 3.0)
    t = np.linspace(0.0, 1.0, 9)
    xs = (t - 0.5) * (span - 1.2)
    ys = side * (out + bow * np.sin(np.pi * t))
    grip = np.stack([xs, ys], axis=1)
    parts.append(path("side_handle", "rubber", grip, 0.8, 0.0))  # filled rubber over a core
    parts.append(path("side_handle", "steel", grip, 0.15, 0.0))  # of steel strip
    return parts


def _profile(rng: np.random.Generator) -> tuple[float, ...]:
    """Where the webs inside a handle tube's extrusion stand, as shares of its bore's half
    width from its middle: one web in two rails in three, somewhat off the middle, else two,
    about a third of the bore apart. The inner tube's profile is the outer's, scaled."""
    if rng.random() < 2 / 3:
        return (float(rng.uniform(-0.25, 0.25)),)
    gap = rng.uniform(0.25, 0.4)
    shift = rng.uniform(-0.1, 0.1)
    return (float(shift - gap), float(shift + gap))


def _webs(profile, metal: str, size, wall: float, center) -> list[Part]:
    """The webs of a handle tube's extrusion (`size`: its length, width and height; `wall`:
    its walls' thickness): walls as thick as the tube's, standing along its length across its
    height at `profile`'s places. Seen from above a web stands edge-on, the beam crossing its
    whole height, so each shows as a thin dark line down the rail, as real rails show them
    beside their edges' lines; a plain tube's middle is one even shade."""
    length, width, height = size
    inner = width - 2 * wall
    return [
        box(
            "handle_tube",
            metal,
            (center[0], center[1] + share * inner / 2, center[2]),
            (length - 2 * wall, wall, height - 2 * wall),
        )
        for share in profile
    ]


def _fitted(
    profile: tuple[float, ...], width: float, height: float, wall: float
) -> tuple[float, ...]:
    """`profile` kept buildable in a tube `width` by `height` cm with walls of `wall` cm: each
    web wholly in the bore, two less than a wall apart merged into one between them, none in a
    bore under two walls wide or high (a tube that thick is all but solid)."""
    bore = width - 2 * wall
    if bore < 2 * wall or height - 2 * wall < 2 * wall or not profile:
        return ()
    room = (bore - wall) / bore  # the largest share whose web stays in the bore
    shares = [float(np.clip(share, -room, room)) for share in profile]
    if len(shares) == 2 and abs(shares[1] - shares[0]) * bore / 2 < 2 * wall:
        shares = [(shares[0] + shares[1]) / 2]
    return tuple(shares)


END_WHEEL_REACH = 7.5  # cm: the most a wheel on a trolley's bottom end stands out of it


def _end_wheel(
    sy, sz, length, width, depth, corner, r, spinner: bool, flush: bool = False
) -> list[Part]:
    """A wheel on a trolley's bottom end (x = −length/2, or on the arc of its corner rounded by
    `corner`), at its back (`sz` −1) or front (+1) corner on side `sy`, as a case lying on its
    back carries them: a spinner's round turret on the end face, its pin and twin wheels
    standing out beyond it; a fixed (inline) wheel half sunk into the end in a box housing, on
    its flat clear of the rounded corner.
    Seen from above the wheels are a pair at one end, each doubled by the fan's lean where
    there are four, and their tyres show edge-on. `flush`: an inline wheel's housing is moulded
    into the end, its outer face flush with it, and only the wheel stands out of the end (the
    box's outer side still reaches about 1 cm into the rounded corner); False: the box stands
    0.6 of the wheel's radius and 5 mm out of the end round it (v2.0-v2.58)."""
    end, y, z = _end_spot(sy, sz, length, width, depth, corner, r)
    across = rotation(np.pi / 2, 0, 0)  # an axle along y: the wheel rolls along x, seen edge-on
    if not spinner:  # on the flat of the end, clear of its rounded corner: the box fits in
        y = sy * max(width / 2 - corner - 0.5, r + 1.0)
        x = -length / 2 + r * 0.4  # half sunk into the case, its housing round it
        housing = -length / 2 + r + 0.5 if flush else x  # the box's centre
        box_size = (2 * r + 1.0, 2 * r + 1.5, 2 * r + 1.0)
        return [
            *shell("wheel_housing", "abs", box_size, 0.3, (housing, y, z)),
            Part("wheel", "rubber", _wheel(x - r * 0.3, y, z, r)),
            rod("axle", "steel", (x - r * 0.3, y - 1.2, z), (x - r * 0.3, y + 1.2, z), 0.4),
        ]
    turret = r + 0.8
    on_face = rotation(0, np.pi / 2, 0)  # a disc whose axis is x: flat against the end face
    wheel = 0.7 * r
    axle_x = end - 2.6 - wheel
    parts = [
        *_turret((end - 1.3, y, z), turret, on_face),
        rod("swivel_pin", "steel", (end, y, z), (axle_x, y, z), 0.5),
    ]
    for dy in (-0.9, 0.9):  # twin wheels on one axle
        parts.append(Part("wheel", "rubber", Cylinder((axle_x, y + dy, z), across, wheel, 1.4)))
    parts.append(rod("axle", "steel", (axle_x, y - 1.8, z), (axle_x, y + 1.8, z), 0.3))
    return parts


def _end_spot(sy, sz, length, width, depth, corner, r) -> tuple[float, float, float]:
    """Where a wheel of radius `r` on a trolley's bottom end stands (`_end_wheel`): the end's x
    there, on its rounded corner's arc where it reaches into it, and the wheel's y and z."""
    y, z = sy * (width / 2 - r - 1.0), sz * (depth / 2 - r - 1.0)
    into = abs(y) - (width / 2 - corner)  # how far into the end's rounded corner: on its arc
    end = -length / 2
    if into > 0:
        end += corner - np.sqrt(max(corner**2 - into**2, 0.0))
    return end, y, z


def _swivelled(
    sy,
    sz,
    length,
    width,
    depth,
    corner,
    r,
    rng: np.random.Generator,
    tyres: str,
    domed: bool = False,
) -> list[Part]:
    """A spinner on a trolley's bottom end as it stands after rolling: its twin wheels turned
    about the swivel (x) by an angle of their own, so their axle may lie across the belt (tyres
    edge-on), along the beam (wheels seen round, the axle a dot) or anywhere between.

    As built: the turret's swivel runs on a ring of 8-12 steel balls; the steel pin stays inside
    the turret and a nylon stem carries the axle; the tyres are of `tyres` (filled rubber
    reads green, as most real wheels do; polyurethane orange), and in half the casters each
    wheel turns on a steel ball bearing (a 608's 2.2 cm ring, smaller in small wheels; cheaper
    ones turn on the axle); the axle is a bolt with a nut at each end.
    Where `_end_wheel` drew the same wheel turned one way, with a steel pin out to a bare axle,
    a blind reader saw T-shaped stubs; real end wheels show rings of dots and round tyres."""
    end, y, z = _end_spot(sy, sz, length, width, depth, corner, r)
    turret = r + 0.8
    on_face = rotation(0, np.pi / 2, 0)  # a disc whose axis is x: flat against the end face
    wheel = 0.7 * r
    face = end - 1.3
    axle_x = end - 2.6 - wheel
    housing = _dome((end, y, z), turret) if domed else _turret((face, y, z), turret, on_face)
    parts = [
        *housing,
        rod("swivel_pin", "steel", (end, y, z), (end - 2.6, y, z), 0.4),
        rod("caster_stem", "nylon", (end - 2.6, y, z), (axle_x, y, z), 0.7),
    ]
    balls = int(rng.integers(8, 13))
    ball = rng.uniform(0.2, 0.28)
    ring_r = turret * rng.uniform(0.5, 0.65)
    for angle in np.arange(balls) * 2 * np.pi / balls + rng.uniform(0, np.pi):
        at = (float(face), float(y + ring_r * np.cos(angle)), float(z + ring_r * np.sin(angle)))
        parts.append(Part("swivel_bearing", "steel", Ellipsoid(at, semi_axes=(ball,) * 3)))
    turn = rng.uniform(0, np.pi)
    axis = np.array([0.0, np.cos(turn), np.sin(turn)])  # the axle, at right angles to the pin
    hub = np.array([axle_x, y, z])
    race = min(1.1, 0.6 * wheel)  # a 608 bearing's outer ring, or less in a small wheel
    bearings = rng.random() < 0.5
    for offset in (-0.9, 0.9):  # twin wheels on one axle
        c = hub + offset * axis
        parts.append(rod("wheel", tyres, c - 0.7 * axis, c + 0.7 * axis, wheel))
        if bearings:
            parts.append(rod("bearing", "steel", c - 0.35 * axis, c + 0.35 * axis, race))
            parts.append(rod("bearing", "steel", c - 0.35 * axis, c + 0.35 * axis, race / 2, -1))
    parts.append(rod("axle", "steel", hub - 1.9 * axis, hub + 1.9 * axis, 0.3))
    for side in (-1, 1):  # the bolt's head and its nut
        parts.append(
            rod("axle_nut", "steel", hub + side * 1.9 * axis, hub + side * 2.3 * axis, 0.55)
        )
    return parts


def _turret(center, radius: float, rot: np.ndarray) -> list[Part]:
    """A spinner's hollow round ABS turret, 2.6 cm tall, of axis `rot`'s z: a disc and its
    cavity."""
    return [
        disc("wheel_housing", "abs", center, radius, 2.6, rot),
        Part("wheel_housing", "abs", Cylinder(center, rot, radius - 0.35, 2.0), -1.0),
    ]


def _dome(base: tuple[float, float, float], radius: float) -> list[Part]:
    """A spinner's turret as moulded: a hollow half-ellipsoid of ABS on the end face at `base`
    (the trolley's bottom end there, on its rounded corner's arc where the wheel reaches into
    it: `_end_spot`), `radius` round and 2.6 cm tall out of it,
    its walls 3.5 mm. Seen edge-on it is an arch whose rim fades in, where the flat disc of
    `_turret` is a hard-edged rectangle, the "flat tab" blind readers named."""
    outward = rotation(0, -np.pi / 2, 0)  # local z along −x: out of the bottom end
    inner = (radius - 0.35, radius - 0.35, 2.25)
    return [
        Part("wheel_housing", "abs", Ellipsoid(base, outward, (radius, radius, 2.6), cut=0.0)),
        Part("wheel_housing", "abs", Ellipsoid(base, outward, inner, cut=0.0), -1.0),
    ]


def _wheel(x: float, y: float, z: float, r: float, width: float = 2.0) -> Cylinder:
    return Cylinder((x, y, z), rotation(np.pi / 2, 0, 0), radius_cm=r, length=width)
