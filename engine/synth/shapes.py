"""Solids projected along the beam: exact path lengths (cm) through rotated 3-D primitives.

Every solid answers `thickness(ox, oy, dx, dz)`: the length inside it of the ray that leaves the
belt plane at (ox, oy, 0) in the direction (dx, 0, dz). Convex primitives use ray–slab or
ray–quadric intersection, so a box or cylinder turned in 3-D projects exactly; hollow parts are
an outer solid minus an inner one. A `Canvas` accumulates per-material thickness maps for the
whole bag, which the Scanner renders; with a `FanBeam` its rays fan out across the belt from a
source below it, so objects high in the bag are stretched less than those on the belt and the
top and bottom of a box project apart, as on a line scanner.

Speed: a solid is ray-cast over its bounding box only, in float32, every bound of every ray as
c0 + c1·py with c0, c1 per image column (`_RayInterval`); an object's small solids of one kind
are cast together as one padded block and its wires as one set of short pieces. The plain
ray-by-ray `reference_thickness` and `Wire.thickness` are what the tests hold them to.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import cv2
import numpy as np

PIXEL_PITCH_CM = 0.08  # 0.8 mm detector pitch
_EPS = 1e-12
# A wire is computed in straight pieces, each over its own pixels: at most this long along its
# main axis and this wide across it (pixels), so that few pixels far from the wire are computed.
_PIECE_LONG_PX = 48
_PIECE_WIDE_PX = 4
_FAR_CM = 1e6
_CHORD_CHUNK = 64  # wire pieces per block in `Canvas._chords`
_BATCH_MAX_PX = 16384  # solids of up to this many pixels are ray-cast in batches ...
_BATCH_SLACK_PX = 4096  # ... padded to one block of up to twice their pixels plus this


def rotation(rx: float = 0.0, ry: float = 0.0, rz: float = 0.0) -> np.ndarray:
    """3×3 rotation matrix from angles in radians about x, then y, then z."""
    cx, sx, cy, sy, cz, sz = np.cos(rx), np.sin(rx), np.cos(ry), np.sin(ry), np.cos(rz), np.sin(rz)
    rot_x = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    rot_y = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rot_z = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rot_z @ rot_y @ rot_x


def _safe(d):
    """`d` with components too close to zero replaced by a tiny number of the same sign."""
    return np.where(np.abs(d) < _EPS, np.where(d < 0, -_EPS, _EPS), d)


class _RayInterval:
    """Each ray's (near, far) inside a solid, narrowed bound by bound over a block of pixels.

    A ray's local origin is a + b·py with a per column (across the belt), b per solid and py per
    row (along the belt), and its direction is per column; so every bound is c0 + c1·py with
    c0, c1 per column, and each costs a few whole-block float32 operations.
    """

    def __init__(self, py: np.ndarray, shape: tuple[int, ...]) -> None:
        self.py, self.shape = py, shape
        self.near: np.ndarray | None = None
        self.far: np.ndarray | None = None
        self._free: list[np.ndarray] = []  # block buffers to reuse

    def block(self) -> np.ndarray:
        """An uninitialised float32 block."""
        return self._free.pop() if self._free else np.empty(self.shape, np.float32)

    def affine(self, c0, c1, out: np.ndarray | None = None) -> np.ndarray:
        """c0 + c1·py over the block (c0, c1 per column or scalars)."""
        out = self.block() if out is None else out
        np.multiply(_f32(c1), self.py, out=out)
        return np.add(out, _f32(c0), out=out)

    def slab(self, lo, hi, slope) -> None:
        """Keep the part of each ray in [lo + slope·py, hi + slope·py]."""
        step = np.multiply(_f32(slope), self.py, out=self.block())
        self._narrow(np.add(step, _f32(lo), out=self.block()), np.add(step, _f32(hi), out=step))

    def chord(self, centre: np.ndarray, half: np.ndarray) -> None:
        """Keep the part of each ray in [centre − half, centre + half]; takes both blocks."""
        near = np.subtract(centre, half, out=self.block())
        self._narrow(near, np.add(centre, half, out=centre))
        self._free.append(half)

    def _narrow(self, near: np.ndarray, far: np.ndarray) -> None:
        if self.near is None:
            self.near, self.far = near, far
            return
        np.maximum(self.near, near, out=self.near)
        np.minimum(self.far, far, out=self.far)
        self._free += [near, far]

    def length(self) -> np.ndarray:
        """far − near, or 0 where the ray misses."""
        length = np.subtract(self.far, self.near, out=self.far)
        return np.maximum(length, 0.0, out=length)


def _rows(rot) -> list[list[float]]:
    """A rotation matrix as rows of plain floats (cheaper than NumPy for 3×3 arithmetic)."""
    return rot.tolist() if isinstance(rot, np.ndarray) else [list(map(float, r)) for r in rot]


def _f32(x):
    """`x` as float32 (per-column coefficients are small arrays or scalars)."""
    return np.asarray(x, np.float32)


@dataclass(frozen=True)
class Solid:
    """A convex solid at `center` (x, y, z in cm) with orientation `rot` (local → world).

    `cut` keeps only the part with local z ≥ cut: half an ellipsoid for a dome, a shoulder or
    a sole, exact along every ray (subtracting a box from a solid would not be).
    """

    center: tuple[float, float, float]
    rot: np.ndarray = field(default_factory=lambda: np.eye(3))
    cut: float | None = field(default=None, kw_only=True)

    def _local_rays(self, ox, oy, dx, dz, shear=0.0):
        """Ray origins and directions in the solid's local coordinates (float32 arrays).

        Each ray's origin is taken where it crosses the height of the solid's centre, so the
        numbers stay as small as the solid and float32 keeps a thin wall's thickness exact.
        """
        rays = (np.asarray(v)[None] for v in (ox, oy, dx, dz))
        (a, b, d), py = _column_rays([self], *rays, shear=shear)
        origin = [(ai + bi * py)[0] for ai, bi in zip(a, b, strict=True)]
        return origin, [di[0] for di in d]

    def interval(self, origin, direction):
        """(t_near, t_far) of each ray inside the solid, in local coordinates; empty if far<near."""
        raise NotImplementedError

    def thickness(self, ox, oy, dx=0.0, dz=1.0, shear=0.0) -> np.ndarray:
        """Path length (cm) inside the solid of each ray (dx, shear·dz, dz), a unit direction
        (`FanBeam.rays`).

        Same as `reference_thickness` to float32 rounding, in a third of the operations.
        """
        block = _thickness([self], *(np.asarray(v)[None] for v in (ox, oy, dx, dz)), shear=shear)
        if block is None:
            return self.reference_thickness(ox, oy, dx, dz, shear)
        return block[0]

    @classmethod
    def _bound(cls, rays: _RayInterval, a, b, d, solids: list[Solid]) -> bool:
        """Narrow `rays` to each of `solids` (all of this class, one per leading index).

        a, b, d: (3, n, ...) as `_column_rays` gives them. False where only
        `reference_thickness` is exact (and for a solid that only defines `interval`).
        """
        return False

    def reference_thickness(self, ox, oy, dx=0.0, dz=1.0, shear=0.0) -> np.ndarray:
        """`thickness` ray by ray through `interval`: the plain, slower reference."""
        origin, direction = self._local_rays(ox, oy, dx, dz, shear)
        t_near, t_far = self.interval(origin, direction)
        if self.cut is not None:  # the half-space local z >= cut
            ez = _safe(direction[2])
            bound = (float(self.cut) - origin[2]) / ez
            t_near = np.where(ez > 0, np.maximum(t_near, bound), t_near)
            t_far = np.where(ez < 0, np.minimum(t_far, bound), t_far)
        return np.clip(t_far - t_near, 0.0, None)

    def radius(self) -> float:
        """Radius (cm) of a sphere around `center` that holds the solid, for its bounding box."""
        raise NotImplementedError

    def half_extent(self) -> tuple[float, float, float]:
        """Half-sizes (cm) along world x, y, z of a box around `center` holding the solid."""
        r = self.radius()
        return r, r, r


def _column_rays(solids: list[Solid], ox, oy, dx, dz, shear: float = 0.0):
    """((a, b, d), py) of each solid's rays: local origins a + b·py, directions d (float32).

    ox, oy, dx, dz carry a leading axis, one entry per solid (or one for all); the rays run
    along (dx, shear·dz, dz). a and d are (3, n, ...) and vary across the columns (with ox, dx,
    dz), b (3, n, 1, ...) is per solid and axis, and py = oy + shear·centre_z − centre_y
    (n, ...) varies along the rows.
    """
    r_t = np.array([s.rot for s in solids], np.float32).transpose(2, 0, 1)  # [i, n, k] = R[k, i]
    ndim = max(np.ndim(ox), np.ndim(oy), np.ndim(dx), np.ndim(dz))
    cx, cy, cz = _per_solid([s.center for s in solids], ndim + 1, np.float64)
    px = (ox - cx + np.asarray(dx) / np.asarray(dz) * cz).astype(np.float32)
    py = np.asarray(oy - cy + shear * cz if shear else oy - cy).astype(np.float32)
    dx, dz = np.asarray(dx, np.float32), np.asarray(dz, np.float32)
    axes = (3, len(solids)) + (1,) * (ndim - 1)
    a = r_t[:, :, 0].reshape(axes) * px
    direction = r_t[:, :, 0].reshape(axes) * dx + r_t[:, :, 2].reshape(axes) * dz
    if shear:
        direction += r_t[:, :, 1].reshape(axes) * (np.float32(shear) * dz)
    return (a, r_t[:, :, 1].reshape(axes), direction), py


def _per_solid(values, ndim: int, dtype=np.float32) -> np.ndarray:
    """Per-solid values (n scalars or n 3-vectors) shaped to broadcast over `ndim` dimensions:
    (n, 1, ...) for scalars, (3, n, 1, ...) for vectors."""
    v = np.asarray(values, np.float64)
    if v.ndim == 2:
        v = v.T
    return v.reshape(v.shape + (1,) * (ndim - v.ndim)).astype(dtype, copy=False)


def _thickness(solids: list[Solid], ox, oy, dx, dz, shear: float = 0.0) -> np.ndarray | None:
    """Path lengths through each of `solids` (one class, all with or all without a cut).

    The rays carry a leading axis, one entry per solid (see `_column_rays`); returns float32
    (n, ...) or None where only `reference_thickness` is exact.
    """
    (a, b, d), py = _column_rays(solids, ox, oy, dx, dz, shear)
    shape = np.broadcast_shapes(a.shape[1:], py.shape, d.shape[1:])
    rays = _RayInterval(py, shape)
    if not type(solids[0])._bound(rays, a, b, d, solids):
        return None
    if solids[0].cut is not None:  # the half-space local z >= cut
        cut = _per_solid([s.cut for s in solids], a.ndim - 1)
        ez = _safe(d[2])
        up = ez > 0
        bound = (cut - a[2]) / ez
        rays.slab(np.where(up, bound, -np.inf), np.where(up, np.inf, bound), -b[2] / ez)
    return rays.length()


@dataclass(frozen=True)
class Box(Solid):
    size: tuple[float, float, float] = (1.0, 1.0, 1.0)  # full edge lengths in local x, y, z

    def interval(self, origin, direction):
        t_near, t_far = -np.inf, np.inf
        for o, di, size in zip(origin, direction, self.size, strict=True):
            inv = 1 / _safe(di)  # directions vary across columns only: a small array
            half = float(size) / 2
            t1, t2 = (-half - o) * inv, (half - o) * inv
            t_near = np.maximum(t_near, np.minimum(t1, t2))
            t_far = np.minimum(t_far, np.maximum(t1, t2))
        return t_near, t_far

    @classmethod
    def _bound(cls, rays, a, b, d, solids):
        inv = _f32(1 / _safe(d))
        half = _per_solid([np.asarray(s.size, float) / 2 for s in solids], a.ndim)
        t1, t2 = (-half - a) * inv, (half - a) * inv
        lo, hi = np.minimum(t1, t2), np.maximum(t1, t2)
        slope = -b * inv
        for i in range(3):
            rays.slab(lo[i], hi[i], slope[i])
        return True

    def radius(self):
        return float(np.linalg.norm(self.size) / 2)

    def half_extent(self):
        half = [float(v) / 2 for v in self.size]
        return tuple(
            sum(abs(r) * h for r, h in zip(row, half, strict=True)) for row in _rows(self.rot)
        )


@dataclass(frozen=True)
class Ellipsoid(Solid):
    semi_axes: tuple[float, float, float] = (1.0, 1.0, 1.0)

    def interval(self, origin, direction):
        o = [oi / float(ai) for oi, ai in zip(origin, self.semi_axes, strict=True)]
        dd = [di / float(ai) for di, ai in zip(direction, self.semi_axes, strict=True)]
        qa = sum(di * di for di in dd)
        qb = 2 * sum(oi * di for oi, di in zip(o, dd, strict=True))
        qc = sum(oi * oi for oi in o) - 1
        disc = qb * qb - 4 * qa * qc
        root = np.sqrt(np.clip(disc, 0.0, None))
        t_near, t_far = (-qb - root) / (2 * qa), (-qb + root) / (2 * qa)
        return np.where(disc > 0, t_near, 0.0), np.where(disc > 0, t_far, 0.0)

    @classmethod
    def _bound(cls, rays, a, b, d, solids):
        # In units of the semi-axes the solid is the unit sphere; a ray o + t·e meets it at
        # t = (−o·e ± √(|e|² − |o×e|²)) / |e|², and o×e is linear in py like o.
        scale = _per_solid([1 / np.asarray(s.semi_axes, float) for s in solids], a.ndim)
        a, b, e = a * scale, b * scale, d * scale
        qa = e[0] * e[0] + e[1] * e[1] + e[2] * e[2]
        inv_qa = 1 / qa
        half, term = None, rays.block()
        for i, j in ((1, 2), (2, 0), (0, 1)):  # components of o × e
            rays.affine(a[i] * e[j] - a[j] * e[i], b[i] * e[j] - b[j] * e[i], out=term)
            if half is None:
                half = np.square(term)
            else:
                half += np.square(term, out=term)
        np.subtract(_f32(qa), half, out=half)
        np.maximum(half, 0.0, out=half)
        np.sqrt(half, out=half)
        np.multiply(half, _f32(inv_qa), out=half)
        centre = rays.affine(
            -(a[0] * e[0] + a[1] * e[1] + a[2] * e[2]) * inv_qa,
            -(b[0] * e[0] + b[1] * e[1] + b[2] * e[2]) * inv_qa,
            out=term,
        )
        rays.chord(centre, half)
        return True

    def radius(self):
        return float(max(self.semi_axes))

    def half_extent(self):
        axes = [float(v) for v in self.semi_axes]
        return tuple(
            math.sqrt(sum((r * a) ** 2 for r, a in zip(row, axes, strict=True)))
            for row in _rows(self.rot)
        )


@dataclass(frozen=True)
class Cylinder(Solid):
    """A finite cylinder along its local z axis."""

    radius_cm: float = 1.0
    length: float = 1.0

    def interval(self, origin, direction):
        (lx, ly, lz), (ex, ey, ez) = origin, direction
        half, r = float(self.length) / 2, float(self.radius_cm)
        qa = ex * ex + ey * ey
        along_axis = qa < _EPS
        qa = np.where(along_axis, 1.0, qa)
        qb = 2 * (lx * ex + ly * ey)
        qc = lx * lx + ly * ly - r * r
        disc = qb * qb - 4 * qa * qc
        root = np.sqrt(np.clip(disc, 0.0, None))
        t1, t2 = (-qb - root) / (2 * qa), (-qb + root) / (2 * qa)
        # Looking down the axis the side wall never bounds the ray: inside or outside it.
        t1 = np.where(along_axis, np.where(qc <= 0, -np.inf, np.inf), np.where(disc > 0, t1, 0.0))
        t2 = np.where(along_axis, np.where(qc <= 0, np.inf, -np.inf), np.where(disc > 0, t2, 0.0))
        ez_safe = _safe(ez)
        c1, c2 = (-half - lz) / ez_safe, (half - lz) / ez_safe
        return np.maximum(t1, np.minimum(c1, c2)), np.minimum(t2, np.maximum(c1, c2))

    @classmethod
    def _bound(cls, rays, a, b, d, solids):
        # The side wall across the axis: t = (−l·e ± √(r²|e|² − (l×e)²)) / |e|² in local x, y,
        # with l×e linear in py; the end caps are a slab along local z.
        (ax, ay, az), (bx, by, bz), (ex, ey, ez) = a, b, d
        qa = ex * ex + ey * ey
        if np.any(qa < _EPS):  # looking down the axis: the reference handles it
            return False
        inv_qa = 1 / qa
        r2 = _per_solid([float(s.radius_cm) ** 2 for s in solids], a.ndim - 1)
        half = rays.affine(ax * ey - ay * ex, bx * ey - by * ex)
        np.square(half, out=half)
        np.subtract(_f32(r2 * qa), half, out=half)
        np.maximum(half, 0.0, out=half)
        np.sqrt(half, out=half)
        np.multiply(half, _f32(inv_qa), out=half)
        centre = rays.affine(-(ax * ex + ay * ey) * inv_qa, -(bx * ex + by * ey) * inv_qa)
        rays.chord(centre, half)
        inv = 1 / _safe(ez)
        length = _per_solid([float(s.length) / 2 for s in solids], a.ndim - 1)
        c1, c2 = (-length - az) * inv, (length - az) * inv
        rays.slab(np.minimum(c1, c2), np.maximum(c1, c2), -bz * inv)
        return True

    def radius(self):
        return float(np.hypot(self.radius_cm, self.length / 2))

    def half_extent(self):
        half, r = float(self.length) / 2, float(self.radius_cm)
        return tuple(
            abs(row[2]) * half + math.sqrt(max(1 - row[2] ** 2, 0.0)) * r for row in _rows(self.rot)
        )


@dataclass(frozen=True)
class Wire:
    """A round wire along a polyline at height `z`: its chord length along each ray."""

    points: tuple[tuple[float, float], ...]  # (x, y) cm
    radius_cm: float = 0.05
    z: float = 3.0

    def thickness(self, ox, oy, dx=0.0, dz=1.0, shear=0.0):
        x = ox + np.asarray(dx) / np.asarray(dz) * self.z  # where each ray crosses height z
        oy = oy + shear * self.z if shear else oy
        best = np.full(np.broadcast_shapes(np.shape(x), np.shape(oy)), np.inf)
        pts = np.asarray(self.points, np.float64)
        for (x0, y0), (x1, y1) in itertools.pairwise(pts):
            vx, vy = x1 - x0, y1 - y0
            length2 = vx * vx + vy * vy
            s = np.clip(((x - x0) * vx + (oy - y0) * vy) / max(length2, _EPS), 0.0, 1.0)
            best = np.minimum(best, (x - x0 - s * vx) ** 2 + (oy - y0 - s * vy) ** 2)
        return 2 * np.sqrt(np.clip(self.radius_cm**2 - best, 0.0, None)) / np.abs(dz)

    def segments(self) -> list[Wire]:
        """The wire as one-segment wires, so each is computed only where it can be seen."""
        pts = self.points
        return [Wire((a, b), self.radius_cm, self.z) for a, b in itertools.pairwise(pts)]

    def bounds(self) -> tuple[float, float, float, float]:
        pts = np.asarray(self.points)
        r = self.radius_cm
        return pts[:, 0].min() - r, pts[:, 1].min() - r, pts[:, 0].max() + r, pts[:, 1].max() + r


@dataclass(frozen=True)
class Sheet:
    """A thin flat layer (fabric, paper, a coating): a polygon at height `z`, `thick` cm.

    Drawn by filling its projected polygon, not by ray tracing: for a layer this thin the path
    along a ray is its thickness over the cosine of the ray's angle.
    """

    points: tuple[tuple[float, float], ...]  # (x, y) cm, the outline
    thick: float = 0.05
    z: float = 3.0

    def bounds(self) -> tuple[float, float, float, float]:
        pts = np.asarray(self.points)
        return pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()


Shape = Solid | Wire | Sheet


@dataclass(frozen=True)
class FanBeam:
    """Line-scanner geometry across the belt: a source `source_cm` below the belt at `apex_cm`.

    Along the belt the image is orthographic; across it, a point at height z lands at
    apex + (x − apex)·stretch·a/(a + z): objects on the belt are stretched by `stretch`, higher
    ones less (physics.md §1: 10-30 %). `shear`: the fan's plane leans along the belt, so a
    point at height z lands at y − shear·z along it and a bag's top and bottom faces show
    apart, joined by its side walls, as in real scans (sixray_benign); 0: an upright fan.
    """

    source_cm: float = 100.0
    stretch: float = 1.2
    apex_cm: float = 32.0
    shear: float = 0.0

    def image_x(self, x, z):
        """Across-belt image coordinate (cm) of a point at (x, z)."""
        a = self.source_cm
        return self.apex_cm + (x - self.apex_cm) * self.stretch * a / (a + np.maximum(z, 1 - a))

    def image_y(self, y, z):
        """Along-belt image coordinate (cm) of a point at (y, z)."""
        return y - self.shear * z if self.shear else y

    def rays(self, u_cm: np.ndarray):
        """Belt-plane crossing of the ray seen by image column u, and dx, dz of its unit
        direction (dx, shear·dz, dz)."""
        belt_x = self.apex_cm + (u_cm - self.apex_cm) / self.stretch
        dx, dz = belt_x - self.apex_cm, np.full_like(u_cm, self.source_cm)
        norm = np.hypot(dx, dz * math.hypot(1.0, self.shear)) if self.shear else np.hypot(dx, dz)
        return belt_x, dx / norm, dz / norm


@dataclass(frozen=True)
class Part:
    """One solid of one material. `sign` scales the thickness it adds: -1 carves a cavity out of
    what came before (never below zero), 0.3 adds 30 % of it (a coating's share of a cloth)."""

    role: str
    material: str
    solid: Shape
    sign: float = 1.0


class Canvas:
    """Per-material thickness maps (cm) for `height`×`width` pixels, optionally a window.

    A window (`row0`, `col0` > 0) is a sub-canvas of a larger one with the same geometry:
    objects are drawn into their own window, so carving a cavity never removes another
    object's material, and then merged into the bag.
    """

    def __init__(
        self,
        height: int,
        width: int,
        pitch_cm: float = PIXEL_PITCH_CM,
        fan: FanBeam | None = None,
        *,
        row0: int = 0,
        col0: int = 0,
    ) -> None:
        self.height, self.width, self.pitch, self.fan = height, width, float(pitch_cm), fan
        self.row0, self.col0 = row0, col0
        self.shear = 0.0 if fan is None else float(fan.shear)  # see `FanBeam`
        self.maps: dict[str, np.ndarray] = {}
        self._rays: tuple | None = None

    # ----- geometry ---------------------------------------------------------------------------
    def _pixel_span(self, x0, y0, x1, y1, z0, z1):
        """Pixel slices (of this canvas) covering a world box in cm, or None if off-canvas."""
        x0, y0, x1, y1, z0, z1 = map(float, (x0, y0, x1, y1, z0, z1))
        if self.fan is not None:  # FanBeam.image_x in plain floats: this runs for every solid
            a, apex = float(self.fan.source_cm), float(self.fan.apex_cm)
            stretch = float(self.fan.stretch)
            us = [
                apex + (x - apex) * stretch * a / (a + max(z, 1 - a))
                for x in (x0, x1)
                for z in (z0, z1)
            ]
            x0, x1 = min(us), max(us)
        if self.shear:  # FanBeam.image_y
            shifts = (self.shear * z0, self.shear * z1)
            y0, y1 = y0 - max(shifts), y1 - min(shifts)
        p = self.pitch
        c0 = max(0, math.floor(x0 / p) - 1 - self.col0)
        c1 = min(self.width, math.ceil(x1 / p) + 2 - self.col0)
        r0 = max(0, math.floor(y0 / p) - 1 - self.row0)
        r1 = min(self.height, math.ceil(y1 / p) + 2 - self.row0)
        if c0 >= c1 or r0 >= r1:
            return None
        return slice(r0, r1), slice(c0, c1)

    def span_of(self, shape: Shape):
        """Pixel slices that can see `shape` (a solid's bounding sphere), or None."""
        if isinstance(shape, Wire | Sheet):
            x0, y0, x1, y1 = shape.bounds()
            return self._pixel_span(x0, y0, x1, y1, shape.z, shape.z)
        r = shape.radius()
        cx, cy, cz = shape.center
        return self._pixel_span(cx - r, cy - r, cx + r, cy + r, cz - r, cz + r)

    def _draw_span(self, shape: Shape):
        """Pixel slices that can see `shape` (a solid's bounding box: within `span_of`)."""
        if isinstance(shape, Wire | Sheet):
            return self.span_of(shape)
        hx, hy, hz = shape.half_extent()
        cx, cy, cz = shape.center
        return self._pixel_span(cx - hx, cy - hy, cx + hx, cy + hy, cz - hz, cz + hz)

    def rays(self, rows: slice, cols: slice):
        """(ox, oy, dx, dz, shear) of the rays of a block of pixels, broadcastable to its
        shape: `Solid.thickness`'s arguments."""
        ox, oy, dx, dz = self._ray_table()
        if self.fan is None:
            return ox[:, cols], oy[rows], dx, dz, 0.0
        return ox[:, cols], oy[rows], dx[:, cols], dz[:, cols], self.shear

    def _ray_table(self):
        """(ox, oy, dx, dz) of every column's (1, width) and row's (height, 1) ray, cached."""
        if self._rays is None:
            u = (np.arange(self.width) + self.col0 + 0.5)[None, :] * self.pitch
            oy = (np.arange(self.height) + self.row0 + 0.5)[:, None] * self.pitch
            if self.fan is None:
                self._rays = (u, oy, 0.0, 1.0)
            else:
                belt_x, dx, dz = self.fan.rays(u)
                self._rays = (belt_x, oy, dx, dz)
        return self._rays

    # ----- drawing ----------------------------------------------------------------------------
    def add(self, material: str, solid: Shape, sign: float = 1.0) -> np.ndarray | None:
        """Add (or with sign=-1 carve out) a solid's thickness; returns its local map.

        The local map covers the pixels that can see the solid (its bounding box), or is None
        when none can.
        """
        return self.add_parts([Part("", material, solid, sign)])[0]

    def add_parts(self, parts: Iterable[Part]) -> list[np.ndarray | None]:
        """`add` each part in turn; their maps are computed in batches, which is faster.

        Small solids of one kind and about one size are ray-cast as one block, all wires as
        one set of pieces; the maps are the same as one by one, and they are added in order.
        """
        parts = list(parts)
        solids = [p.solid for p in parts]
        spans = self._draw_spans(solids)
        maps = self._thickness_maps(solids, spans)
        for part, span, local in zip(parts, spans, maps, strict=True):
            if span is not None:
                self._accumulate(part, span, local)
        return maps

    def _accumulate(self, part: Part, span: tuple[slice, slice], local: np.ndarray) -> None:
        """Add (or carve, clamped at 0) a part's local map over `span` of this canvas."""
        _add_or_carve(self._map(part.material)[span], local, part.sign)

    def _thickness_maps(self, shapes: list[Shape], spans: list) -> list[np.ndarray | None]:
        """Each shape's float32 thickness over its span (None without one), batched."""
        maps: list[np.ndarray | None] = [None] * len(shapes)
        kinds: dict[tuple, list[int]] = {}
        first: dict[int, int] = {}  # a solid object drawn by several parts is computed once
        again: list[tuple[int, int]] = []
        for i, (shape, span) in enumerate(zip(shapes, spans, strict=True)):
            if span is None:
                continue
            if id(shape) in first:
                again.append((i, first[id(shape)]))
                continue
            first[id(shape)] = i
            if isinstance(shape, Sheet):
                maps[i] = self._sheet(shape, span, _size(span))
            elif isinstance(shape, Wire):
                kinds.setdefault(("wire",), []).append(i)
            else:  # solids of one kind, with or without a cut
                kinds.setdefault((type(shape), shape.cut is None), []).append(i)
        for key, members in kinds.items():
            batches = [members] if key[0] == "wire" else _size_batches(members, spans)
            for batch in batches:
                group = [shapes[i] for i in batch]
                group_spans = [spans[i] for i in batch]
                if key[0] == "wire":
                    results = self._wires(group, group_spans)
                else:
                    results = self._solids(group, group_spans)
                for i, local in zip(batch, results, strict=True):
                    maps[i] = local
        for i, k in again:  # read-only from here: parts add their maps, never into them
            maps[i] = maps[k]
        return maps

    def _solids(self, solids: list[Solid], spans: list) -> list[np.ndarray]:
        """Thickness of solids of one class over their spans, ray-cast as one padded block."""
        if len(solids) == 1:
            return [self._solid(solids[0], spans[0])]
        sizes = [_size(span) for span in spans]
        rows = np.array([span[0].start for span in spans])[:, None] + np.arange(
            max(h for h, _ in sizes)
        )
        cols = np.array([span[1].start for span in spans])[:, None] + np.arange(
            max(w for _, w in sizes)
        )
        np.minimum(rows, self.height - 1, out=rows)  # padding repeats the last row or column
        np.minimum(cols, self.width - 1, out=cols)
        ox, oy, dx, dz = self._ray_table()
        if self.fan is None:
            dx, dz = np.asarray(dx)[None], np.asarray(dz)[None]
        else:
            dx, dz = dx[0][cols][:, None, :], dz[0][cols][:, None, :]
        block = _thickness(
            solids, ox[0][cols][:, None, :], oy[:, 0][rows][:, :, None], dx, dz, self.shear
        )
        if block is None:
            return [self._solid(solid, span) for solid, span in zip(solids, spans, strict=True)]
        return [block[k, :h, :w] for k, (h, w) in enumerate(sizes)]

    def _solid(self, solid: Solid, span) -> np.ndarray:
        local = solid.thickness(*self.rays(*span))
        shape = _size(span)
        if local.shape != shape or local.dtype != np.float32:
            local = np.broadcast_to(local.astype(np.float32), shape)
        return local

    def _sheet(self, sheet: Sheet, span, shape) -> np.ndarray:
        """A sheet's projected polygon filled with its thickness along the rays."""
        pts = np.asarray(sheet.points, np.float64)
        x, y = pts[:, 0], pts[:, 1]
        cos = 1.0
        if self.fan is not None:
            x = self.fan.image_x(x, sheet.z)
            cos = float(self.fan.rays(np.array([x.mean()]))[2][0])
        # Pixel coordinates inside the span, in 1/16 px for sub-pixel edges.
        if self.shear:
            y = self.fan.image_y(y, sheet.z)
        cols = (x / self.pitch - self.col0 - span[1].start - 0.5) * 16
        rows = (y / self.pitch - self.row0 - span[0].start - 0.5) * 16
        polygon = np.stack([cols, rows], axis=1).round().astype(np.int32)
        local = np.zeros(shape, np.float32)
        cv2.fillPoly(local, [polygon], float(sheet.thick / cos), lineType=cv2.LINE_8, shift=4)
        return local

    def _wires(self, wires: list[Wire], spans: list) -> list[np.ndarray]:
        """Chords of wires over their spans: every polyline cut into short, thin pieces.

        The pieces are computed together, each over the pixels that can see it (as `span_of`
        finds them for a one-segment wire), those running across the image in one
        (pieces, rows, columns) block and those running along it in another, so that blocks are
        long and thin like their pieces. Where a wire's pieces overlap the thickest chord, that
        of the nearest piece, wins, as `Wire.thickness` takes the nearest segment.
        """
        sizes = [_size(span) for span in spans]
        offsets = np.cumsum([0] + [h * w for h, w in sizes])
        flat = np.zeros(int(offsets[-1]), np.float32)  # every wire's map, one after another
        pieces = [self._pieces(wire) for wire in wires]
        start = np.concatenate([p[0] for p in pieces])
        end = np.concatenate([p[1] for p in pieces])
        owner = np.repeat(np.arange(len(wires)), [len(p[0]) for p in pieces])
        if len(owner):
            extent = np.abs(end - start)
            across = extent[:, 0] >= extent[:, 1]
            frame = np.array(
                [
                    (offsets[k], span[0].start, span[1].start, h, w)
                    for k, (span, (h, w)) in enumerate(zip(spans, sizes, strict=True))
                ]
            )
            radius = np.array([float(w.radius_cm) for w in wires])
            z = np.array([float(w.z) for w in wires])
            for group in (across, ~across):
                if group.any():
                    k = owner[group]
                    self._chords(flat, start[group], end[group], radius[k], z[k], frame[k])
        return [flat[offsets[k] : offsets[k + 1]].reshape(size) for k, size in enumerate(sizes)]

    def _pieces(self, wire: Wire) -> tuple[np.ndarray, np.ndarray]:
        """(start, end) points (cm) of a wire's polyline cut into pieces at most
        `_PIECE_LONG_PX` long and `_PIECE_WIDE_PX` wide in pixels."""
        pts = np.asarray(wire.points, np.float64).reshape(-1, 2)
        if len(pts) < 2:
            return np.zeros((0, 2)), np.zeros((0, 2))
        step = pts[1:] - pts[:-1]
        extent = np.abs(step) / self.pitch  # pixels, before the fan's stretch (at most 1.3×)
        count = np.maximum(
            np.ceil(extent.max(axis=1) / _PIECE_LONG_PX),
            np.ceil(extent.min(axis=1) / _PIECE_WIDE_PX),
        )
        count = np.maximum(count, 1).astype(np.intp)
        seg = np.repeat(np.arange(len(step)), count)
        k = np.arange(len(seg)) - np.repeat(np.cumsum(count) - count, count)
        start = pts[seg] + (k / count[seg])[:, None] * step[seg]
        last = (k + 1 == count[seg])[:, None]
        end = np.where(last, pts[seg + 1], start + step[seg] / count[seg][:, None])
        return start, end

    def _chords(self, flat, start, end, radius, z, frame) -> None:
        """Chords of straight pieces start→end (cm) of radius `radius` at height `z`.

        Each piece's chords go by the largest into its wire's map in `flat`, whose offset, span
        origin (row, column) and size (rows, columns) are the piece's row of `frame`.
        """
        v = end - start
        lo, hi = np.minimum(start, end) - radius[:, None], np.maximum(start, end) + radius[:, None]
        u_lo, u_hi = lo[:, 0], hi[:, 0]
        if self.fan is not None:
            u_lo, u_hi = self.fan.image_x(u_lo, z), self.fan.image_x(u_hi, z)
            u_lo, u_hi = np.minimum(u_lo, u_hi), np.maximum(u_lo, u_hi)
        p = self.pitch
        c0 = np.floor(u_lo / p).astype(np.intp) - 1 - self.col0
        c1 = np.ceil(u_hi / p).astype(np.intp) + 2 - self.col0
        v_lo, v_hi = lo[:, 1] - self.shear * z, hi[:, 1] - self.shear * z  # FanBeam.image_y
        r0 = np.floor(v_lo / p).astype(np.intp) - 1 - self.row0
        r1 = np.ceil(v_hi / p).astype(np.intp) + 2 - self.row0
        # Pieces of about one block size together: one padded block for all of them would
        # compute several times the pixels (thick and thin wires, short last pieces).
        order = np.lexsort((c1 - c0, r1 - r0))
        for chunk in np.array_split(order, -(-len(order) // _CHORD_CHUNK)):
            self._chord_block(
                flat,
                start[chunk],
                v[chunk],
                radius[chunk],
                z[chunk],
                frame[chunk],
                c0[chunk],
                c1[chunk],
                r0[chunk],
                r1[chunk],
            )

    def _chord_block(self, flat, start, v, radius, z, frame, c0, c1, r0, r1) -> None:
        """`_chords` for pieces with start points `start` and vectors `v`, over one block of
        (pieces, most rows, most columns) from their pixel bounds [r0, r1) × [c0, c1)."""
        offset, span_r0, span_c0, height, width = frame.T
        cols = c0[:, None] + np.arange(max(int((c1 - c0).max()), 1))  # canvas columns
        rows = r0[:, None] + np.arange(max(int((r1 - r0).max()), 1))
        cols -= span_c0[:, None]  # ... and in each wire's own map
        rows -= span_r0[:, None]
        col_off = (cols < 0) | (cols >= width[:, None])  # block pixels outside the wire's map
        row_off = (rows < 0) | (rows >= height[:, None])
        np.clip(cols, 0, width[:, None] - 1, out=cols)
        np.clip(rows, 0, height[:, None] - 1, out=rows)
        ox, oy, dx, dz = self._ray_table()
        canvas_cols = cols + span_c0[:, None]
        slope = np.broadcast_to(np.asarray(dx) / np.asarray(dz), ox.shape)[0]  # dx/dz per column
        abs_dz = np.broadcast_to(np.abs(np.asarray(dz, np.float64)), ox.shape)[0]
        x_at = ox[0][canvas_cols] + slope[canvas_cols] * z[:, None]  # rays at the wire's height
        rx = x_at - start[:, :1]  # (pieces, columns)
        ry = oy[:, 0][rows + span_r0[:, None]] - start[:, 1:]  # (pieces, rows)
        if self.shear:  # rays at the wire's height
            ry += (self.shear * z)[:, None]
        rx[col_off], ry[row_off] = _FAR_CM, _FAR_CM  # far from every piece: no chord
        length2 = np.maximum(v[:, 0] ** 2 + v[:, 1] ** 2, _EPS)[:, None]
        s = (rx * (v[:, :1] / length2))[:, None, :] + (ry * (v[:, 1:] / length2))[:, :, None]
        np.clip(s, 0.0, 1.0, out=s)
        ex = rx[:, None, :] - s * v[:, 0, None, None]
        ey = np.multiply(s, v[:, 1, None, None], out=s)
        np.subtract(ry[:, :, None], ey, out=ey)
        d2 = np.square(ex, out=ex)
        d2 += np.square(ey, out=ey)
        chord = np.subtract((radius * radius)[:, None, None], d2, out=d2)
        piece, row, col = np.nonzero(chord > 0)
        at_rows, at_cols = rows[piece, row], cols[piece, col]
        chord = 2 * np.sqrt(chord[piece, row, col]) / abs_dz[canvas_cols[piece, col]]
        at = offset[piece] + at_rows * width[piece] + at_cols
        np.maximum.at(flat, at, chord.astype(np.float32))

    def window(self, shapes: Iterable[Shape], margin: int = 0) -> Canvas | None:
        """An empty sub-canvas covering every pixel that can see one of `shapes`, or None.

        `margin` pixels more on each side (within the canvas) leave room to warp the contents.
        """
        spans = [s for s in map(self.span_of, shapes) if s is not None]
        if not spans:
            return None
        r0 = max(min(s[0].start for s in spans) - margin, 0)
        r1 = min(max(s[0].stop for s in spans) + margin, self.height)
        c0 = max(min(s[1].start for s in spans) - margin, 0)
        c1 = min(max(s[1].stop for s in spans) + margin, self.width)
        window = Canvas(
            r1 - r0, c1 - c0, self.pitch, self.fan, row0=self.row0 + r0, col0=self.col0 + c0
        )
        ox, oy, dx, dz = self._ray_table()  # the window's rays: a slice of ours, to the bit
        cols = slice(c0, c1)
        if self.fan is not None:
            dx, dz = dx[:, cols], dz[:, cols]
        window._rays = (ox[:, cols], oy[r0:r1], dx, dz)
        return window

    def draw(self, parts: Iterable[Part]) -> Canvas | None:
        """Draw one object's `parts` in a window of their own, merge it, and return the window.

        Cavities (`sign=-1`) carve only this object's material.
        """
        return self.draw_all([parts])[0]

    def draw_all(self, objects: Iterable[Iterable[Part]]) -> list[Canvas | None]:
        """Draw each object in a window of its own and merge it, in turn, with the thickness
        maps of all their parts computed together: the same windows and maps as drawing them one
        by one, in fewer, larger batches. Gives each object's window (None: off the canvas)."""
        objects, spans, maps = self._object_maps(objects)
        windows: list[Canvas | None] = []
        k = 0
        for group in objects:
            window = self.window(p.solid for p in group)
            windows.append(window)
            if window is not None:  # every part's span lies within its object's window
                r0, c0 = window.row0 - self.row0, window.col0 - self.col0
                end = k + len(group)
                for part, span, local in zip(group, spans[k:end], maps[k:end], strict=True):
                    if span is not None:
                        rows, cols = span
                        inside = (
                            slice(rows.start - r0, rows.stop - r0),
                            slice(cols.start - c0, cols.stop - c0),
                        )
                        window._accumulate(part, inside, local)
                self.merge(window)
            k += len(group)
        return windows

    def draw_unseen(self, objects: Iterable[Iterable[Part]]) -> None:
        """`draw_all` for objects whose windows nobody looks at again (clutter): the same maps
        to the bit, without making the windows.

        A material drawn by one part of an object adds straight into this canvas; one drawn by
        several (or carved) is summed, in order, over the box of those parts only, then added.
        Outside that box a window holds zeros, and adding zero changes no bit.
        """
        objects, spans, maps = self._object_maps(objects)
        parts = [part for group in objects for part in group]
        k = 0
        for group in objects:
            by_material: dict[str, list[int]] = {}
            for i in range(k, k + len(group)):
                if spans[i] is not None:
                    by_material.setdefault(parts[i].material, []).append(i)
            k += len(group)
            for material, members in by_material.items():
                if len(members) == 1 and parts[members[0]].sign > 0:
                    i = members[0]
                    self._accumulate(parts[i], spans[i], maps[i])
                    continue
                r0 = min(spans[i][0].start for i in members)
                r1 = max(spans[i][0].stop for i in members)
                c0 = min(spans[i][1].start for i in members)
                c1 = max(spans[i][1].stop for i in members)
                box = np.zeros((r1 - r0, c1 - c0), np.float32)
                for i in members:
                    rows, cols = spans[i]
                    inside = (
                        slice(rows.start - r0, rows.stop - r0),
                        slice(cols.start - c0, cols.stop - c0),
                    )
                    _add_or_carve(box[inside], maps[i], parts[i].sign)
                _add_into(self._map(material)[r0:r1, c0:c1], box, 1.0)

    def _object_maps(self, objects: Iterable[Iterable[Part]]):
        """(objects as lists, every part's span, every part's map), the maps computed together."""
        objects = [list(parts) for parts in objects]
        solids = [part.solid for group in objects for part in group]
        spans = self._draw_spans(solids)
        return objects, spans, self._thickness_maps(solids, spans)

    def _draw_spans(self, solids: list[Shape]) -> list:
        """`_draw_span` of each solid, once per solid object: parts that share one (a coating
        drawn again in PVC, `parts.place` keeps it shared) share its span."""
        first: dict[int, tuple] = {}
        return [
            first[id(s)] if id(s) in first else first.setdefault(id(s), self._draw_span(s))
            for s in solids
        ]

    def region(self, window: Canvas) -> tuple[slice, slice]:
        """This canvas's slices covered by `window`, one of its sub-canvases."""
        r0, c0 = window.row0 - self.row0, window.col0 - self.col0
        return slice(r0, r0 + window.height), slice(c0, c0 + window.width)

    def merge(self, window: Canvas, sign: float = 1.0) -> None:
        """Add (or subtract) a sub-canvas's maps into this canvas."""
        region = self.region(window)
        for material, t in window.maps.items():
            _add_into(self._map(material)[region], t, sign)

    def _map(self, material: str) -> np.ndarray:
        """`material`'s thickness map, made (zero) on first use."""
        target = self.maps.get(material)
        if target is None:
            target = self.maps[material] = np.zeros((self.height, self.width), np.float32)
        return target

    def full_mask(self, window: Canvas, local: np.ndarray) -> np.ndarray:
        """A full-size bool mask with a window's local mask in its place."""
        out = np.zeros((self.height, self.width), bool)
        out[self.region(window)] = local
        return out

    def footprint(self, material: str | None = None) -> np.ndarray:
        """Boolean mask of pixels with any (or `material`'s) thickness."""
        maps = [self.maps[material]] if material else list(self.maps.values())
        mask = np.zeros((self.height, self.width), bool)
        for m in maps:
            mask |= m > 0
        return mask


def _add_into(target: np.ndarray, local: np.ndarray, sign: float) -> None:
    """target += sign·local in place, with no temporary for a sign of ±1.

    OpenCV adds 2-D float32 blocks with rows of any stride a few times faster than NumPy, to
    the same bits.
    """
    if (
        sign in (1, -1)
        and local.dtype == target.dtype == np.float32
        and local.ndim == 2
        and local.shape == target.shape
        and local.strides[1] == target.strides[1] == 4
        and local.strides[0] > 0
    ):
        (cv2.add if sign == 1 else cv2.subtract)(target, local, dst=target)
    elif sign == 1:
        target += local
    elif sign == -1:
        target -= local
    else:
        target += sign * local


def _add_or_carve(target: np.ndarray, local: np.ndarray, sign: float) -> None:
    """target += sign·local in place; a cavity (sign < 0) leaves no negative thickness."""
    _add_into(target, local, sign)
    if sign < 0:
        np.maximum(target, 0.0, out=target)


def _size_batches(members: list[int], spans: list) -> list[list[int]]:
    """`members` (indices of solids) in batches whose padded block wastes little.

    Largest first; a solid joins the open batch while the block (count × most rows × most
    columns) stays within twice the pixels of its members, plus `_BATCH_SLACK_PX`.
    """
    sizes = {i: _size(spans[i]) for i in members}
    order = sorted(members, key=lambda i: sizes[i][0] * sizes[i][1], reverse=True)
    batches: list[list[int]] = []
    current: list[int] = []
    rows = cols = area = 0
    for i in order:
        h, w = sizes[i]
        if h * w > _BATCH_MAX_PX:
            batches.append([i])
            continue
        grown_rows, grown_cols, grown_area = max(rows, h), max(cols, w), area + h * w
        if current and (len(current) + 1) * grown_rows * grown_cols <= (
            2 * grown_area + _BATCH_SLACK_PX
        ):
            current.append(i)
            rows, cols, area = grown_rows, grown_cols, grown_area
        else:
            current = [i]
            batches.append(current)
            rows, cols, area = h, w, h * w
    return batches


def _size(span: tuple[slice, slice]) -> tuple[int, int]:
    return span[0].stop - span[0].start, span[1].stop - span[1].start
