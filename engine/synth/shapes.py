"""Solids projected along the beam: exact path lengths (cm) through rotated 3-D primitives.

Every solid answers `thickness(ox, oy, dx, dz)`: the length inside it of the ray that leaves the
belt plane at (ox, oy, 0) in the direction (dx, 0, dz). Convex primitives use ray–slab or
ray–quadric intersection, so a box or cylinder turned in 3-D projects exactly; hollow parts are
an outer solid minus an inner one. A `Canvas` accumulates per-material thickness maps for the
whole bag, which the Scanner renders; with a `FanBeam` its rays fan out across the belt from a
source below it, so objects high in the bag are stretched less than those on the belt and the
top and bottom of a box project apart, as on a line scanner.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

import cv2
import numpy as np

PIXEL_PITCH_CM = 0.08  # 0.8 mm detector pitch
_EPS = 1e-12


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


@dataclass(frozen=True)
class Solid:
    """A convex solid at `center` (x, y, z in cm) with orientation `rot` (local → world).

    `cut` keeps only the part with local z ≥ cut: half an ellipsoid for a dome, a shoulder or
    a sole, exact along every ray (subtracting a box from a solid would not be).
    """

    center: tuple[float, float, float]
    rot: np.ndarray = field(default_factory=lambda: np.eye(3))
    cut: float | None = field(default=None, kw_only=True)

    def _local_rays(self, ox, oy, dx, dz):
        """Ray origins and directions in the solid's local coordinates (float32 arrays).

        Each ray's origin is taken where it crosses the height of the solid's centre, so the
        numbers stay as small as the solid and float32 keeps a thin wall's thickness exact.
        """
        r_t = np.asarray(self.rot, np.float32).T
        cx, cy, cz = self.center
        px = (ox - cx + np.asarray(dx) / np.asarray(dz) * cz).astype(np.float32)
        py = (oy - cy).astype(np.float32)
        dx, dz = np.float32(dx), np.float32(dz)
        origin = [r_t[i, 0] * px + r_t[i, 1] * py for i in range(3)]
        direction = [r_t[i, 0] * dx + r_t[i, 2] * dz for i in range(3)]
        return origin, direction

    def interval(self, origin, direction):
        """(t_near, t_far) of each ray inside the solid, in local coordinates; empty if far<near."""
        raise NotImplementedError

    def thickness(self, ox, oy, dx=0.0, dz=1.0) -> np.ndarray:
        """Path length (cm) inside the solid of each ray; `dx`, `dz` a unit direction."""
        origin, direction = self._local_rays(ox, oy, dx, dz)
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

    def radius(self):
        return float(np.linalg.norm(self.size) / 2)


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

    def radius(self):
        return float(max(self.semi_axes))


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

    def radius(self):
        return float(np.hypot(self.radius_cm, self.length / 2))


@dataclass(frozen=True)
class Wire:
    """A round wire along a polyline at height `z`: its chord length along each ray."""

    points: tuple[tuple[float, float], ...]  # (x, y) cm
    radius_cm: float = 0.05
    z: float = 3.0

    def thickness(self, ox, oy, dx=0.0, dz=1.0):
        x = ox + np.asarray(dx) / np.asarray(dz) * self.z  # where each ray crosses height z
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
    ones less (physics.md §1: 10-30 %).
    """

    source_cm: float = 100.0
    stretch: float = 1.2
    apex_cm: float = 32.0

    def image_x(self, x, z):
        """Across-belt image coordinate (cm) of a point at (x, z)."""
        a = self.source_cm
        return self.apex_cm + (x - self.apex_cm) * self.stretch * a / (a + np.maximum(z, 1 - a))

    def rays(self, u_cm: np.ndarray):
        """Belt-plane crossing and unit direction (dx, dz) of the ray seen by image column u."""
        belt_x = self.apex_cm + (u_cm - self.apex_cm) / self.stretch
        dx, dz = belt_x - self.apex_cm, np.full_like(u_cm, self.source_cm)
        norm = np.hypot(dx, dz)
        return belt_x, dx / norm, dz / norm


@dataclass(frozen=True)
class Part:
    """One solid of one material; `sign=-1` carves a cavity out of what came before."""

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
        self.maps: dict[str, np.ndarray] = {}

    # ----- geometry ---------------------------------------------------------------------------
    def _pixel_span(self, x0, y0, x1, y1, z0, z1):
        """Pixel slices (of this canvas) covering a world box in cm, or None if off-canvas."""
        if self.fan is not None:
            us = [self.fan.image_x(x, z) for x in (x0, x1) for z in (z0, z1)]
            x0, x1 = min(us), max(us)
        p = self.pitch
        c0 = max(0, int(np.floor(x0 / p)) - 1 - self.col0)
        c1 = min(self.width, int(np.ceil(x1 / p)) + 2 - self.col0)
        r0 = max(0, int(np.floor(y0 / p)) - 1 - self.row0)
        r1 = min(self.height, int(np.ceil(y1 / p)) + 2 - self.row0)
        if c0 >= c1 or r0 >= r1:
            return None
        return slice(r0, r1), slice(c0, c1)

    def span_of(self, shape: Shape):
        """Pixel slices that can see `shape`, or None."""
        if isinstance(shape, Wire | Sheet):
            x0, y0, x1, y1 = shape.bounds()
            return self._pixel_span(x0, y0, x1, y1, shape.z, shape.z)
        r = shape.radius()
        cx, cy, cz = shape.center
        return self._pixel_span(cx - r, cy - r, cx + r, cy + r, cz - r, cz + r)

    def rays(self, rows: slice, cols: slice):
        """(ox, oy, dx, dz) of the rays of a block of pixels, broadcastable to its shape."""
        u = (np.arange(cols.start, cols.stop) + self.col0 + 0.5)[None, :] * self.pitch
        oy = (np.arange(rows.start, rows.stop) + self.row0 + 0.5)[:, None] * self.pitch
        if self.fan is None:
            return u, oy, 0.0, 1.0
        belt_x, dx, dz = self.fan.rays(u)
        return belt_x, oy, dx, dz

    # ----- drawing ----------------------------------------------------------------------------
    def add(self, material: str, solid: Shape, sign: float = 1.0) -> np.ndarray | None:
        """Add (or with sign=-1 carve out) a solid's thickness; returns its local map."""
        span = self.span_of(solid)
        if span is None:
            return None
        shape = (span[0].stop - span[0].start, span[1].stop - span[1].start)
        if isinstance(solid, Sheet):
            local = self._sheet(solid, span, shape)
        elif isinstance(solid, Wire) and len(solid.points) > 2:
            local = self._wire(solid, span, shape)
        else:
            ox, oy, dx, dz = self.rays(*span)
            local = np.broadcast_to(solid.thickness(ox, oy, dx, dz).astype(np.float32), shape)
        target = self.maps.setdefault(material, np.zeros((self.height, self.width), np.float32))
        target[span] += sign * local
        if sign < 0:
            np.clip(target[span], 0.0, None, out=target[span])
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
        cols = (x / self.pitch - self.col0 - span[1].start - 0.5) * 16
        rows = (y / self.pitch - self.row0 - span[0].start - 0.5) * 16
        polygon = np.stack([cols, rows], axis=1).round().astype(np.int32)
        local = np.zeros(shape, np.float32)
        cv2.fillPoly(local, [polygon], float(sheet.thick / cos), lineType=cv2.LINE_8, shift=4)
        return local

    def _wire(self, wire: Wire, span, shape) -> np.ndarray:
        """A long wire segment by segment, each over its own pixels: the union of their chords."""
        local = np.zeros(shape, np.float32)
        for segment in wire.segments():
            sub = self.span_of(segment)
            if sub is None:
                continue
            ox, oy, dx, dz = self.rays(*sub)
            rows = slice(sub[0].start - span[0].start, sub[0].stop - span[0].start)
            cols = slice(sub[1].start - span[1].start, sub[1].stop - span[1].start)
            np.maximum(local[rows, cols], segment.thickness(ox, oy, dx, dz), out=local[rows, cols])
        return local

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
        return Canvas(
            r1 - r0, c1 - c0, self.pitch, self.fan, row0=self.row0 + r0, col0=self.col0 + c0
        )

    def draw(self, parts: Iterable[Part]) -> Canvas | None:
        """Draw one object's `parts` in a window of their own, merge it, and return the window.

        Cavities (`sign=-1`) carve only this object's material.
        """
        parts = list(parts)
        window = self.window(p.solid for p in parts)
        if window is None:
            return None
        for part in parts:
            window.add(part.material, part.solid, part.sign)
        self.merge(window)
        return window

    def region(self, window: Canvas) -> tuple[slice, slice]:
        """This canvas's slices covered by `window`, one of its sub-canvases."""
        r0, c0 = window.row0 - self.row0, window.col0 - self.col0
        return slice(r0, r0 + window.height), slice(c0, c0 + window.width)

    def merge(self, window: Canvas, sign: float = 1.0) -> None:
        """Add (or subtract) a sub-canvas's maps into this canvas."""
        region = self.region(window)
        for material, t in window.maps.items():
            target = self.maps.setdefault(material, np.zeros((self.height, self.width), np.float32))
            target[region] += sign * t

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
