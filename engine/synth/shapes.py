"""Solids projected along the beam: exact path lengths (cm) through rotated 3-D primitives.

Every solid answers `thickness(x, y)`: the length of the vertical ray at (x, y) cm inside it.
Convex primitives use ray–slab or ray–quadric intersection, so a box or cylinder turned in 3-D
projects exactly; hollow parts are an outer solid minus an inner one. A `Canvas` accumulates
per-material thickness maps for the whole bag, which the Scanner renders.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

PIXEL_PITCH_CM = 0.08  # 0.8 mm detector pitch


def rotation(rx: float = 0.0, ry: float = 0.0, rz: float = 0.0) -> np.ndarray:
    """3×3 rotation matrix from angles in radians about x, then y, then z."""
    cx, sx, cy, sy, cz, sz = np.cos(rx), np.sin(rx), np.cos(ry), np.sin(ry), np.cos(rz), np.sin(rz)
    rot_x = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    rot_y = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rot_z = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rot_z @ rot_y @ rot_x


@dataclass(frozen=True)
class Solid:
    """A solid placed at `center` (x, y, z in cm) with orientation `rot` (local → world)."""

    center: tuple[float, float, float]
    rot: np.ndarray = field(default_factory=lambda: np.eye(3))

    def _local_rays(self, x: np.ndarray, y: np.ndarray):
        """Origins (at z = 0) and the common direction of the vertical rays, in local coords."""
        r_t = np.asarray(self.rot).T
        cx, cy, cz = self.center
        dx, dy = x - cx, y - cy
        origin = [r_t[i, 0] * dx + r_t[i, 1] * dy - r_t[i, 2] * cz for i in range(3)]
        return origin, r_t[:, 2]

    def thickness(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def radius(self) -> float:
        """Radius (cm) of a sphere around `center` that holds the solid, for its bounding box."""
        raise NotImplementedError


@dataclass(frozen=True)
class Box(Solid):
    size: tuple[float, float, float] = (1.0, 1.0, 1.0)  # full edge lengths in local x, y, z

    def thickness(self, x, y):
        origin, d = self._local_rays(x, y)
        t_near = np.full(np.shape(x), -np.inf)
        t_far = np.full(np.shape(x), np.inf)
        for o, di, half in zip(origin, d, np.asarray(self.size) / 2, strict=True):
            if abs(di) < 1e-12:
                outside = np.abs(o) > half
                t_far = np.where(outside, -np.inf, t_far)
                continue
            t1, t2 = (-half - o) / di, (half - o) / di
            t_near = np.maximum(t_near, np.minimum(t1, t2))
            t_far = np.minimum(t_far, np.maximum(t1, t2))
        return np.clip(t_far - t_near, 0.0, None)

    def radius(self):
        return float(np.linalg.norm(self.size) / 2)


@dataclass(frozen=True)
class Ellipsoid(Solid):
    semi_axes: tuple[float, float, float] = (1.0, 1.0, 1.0)

    def thickness(self, x, y):
        origin, d = self._local_rays(x, y)
        a = np.asarray(self.semi_axes, np.float64)
        o = [oi / ai for oi, ai in zip(origin, a, strict=True)]
        dd = d / a
        qa = float(dd @ dd)
        qb = 2 * sum(oi * di for oi, di in zip(o, dd, strict=True))
        qc = sum(oi * oi for oi in o) - 1
        disc = np.clip(qb * qb - 4 * qa * qc, 0.0, None)
        return np.sqrt(disc) / qa

    def radius(self):
        return float(max(self.semi_axes))


@dataclass(frozen=True)
class Cylinder(Solid):
    """A finite cylinder along its local z axis."""

    radius_cm: float = 1.0
    length: float = 1.0

    def thickness(self, x, y):
        origin, d = self._local_rays(x, y)
        ox, oy, oz = origin
        qa = d[0] ** 2 + d[1] ** 2
        half = self.length / 2
        if qa < 1e-12:  # looking down the axis: a disc of the full length
            return np.where(ox**2 + oy**2 <= self.radius_cm**2, self.length, 0.0)
        qb = 2 * (ox * d[0] + oy * d[1])
        qc = ox**2 + oy**2 - self.radius_cm**2
        disc = qb * qb - 4 * qa * qc
        root = np.sqrt(np.clip(disc, 0.0, None))
        t1, t2 = (-qb - root) / (2 * qa), (-qb + root) / (2 * qa)
        if abs(d[2]) > 1e-12:
            c1, c2 = (-half - oz) / d[2], (half - oz) / d[2]
            t1, t2 = np.maximum(t1, np.minimum(c1, c2)), np.minimum(t2, np.maximum(c1, c2))
        else:
            t2 = np.where(np.abs(oz) > half, t1, t2)
        return np.where(disc > 0, np.clip(t2 - t1, 0.0, None), 0.0)

    def radius(self):
        return float(np.hypot(self.radius_cm, self.length / 2))


@dataclass(frozen=True)
class Wire:
    """A round wire along a polyline lying at a constant height: chord length per pixel."""

    points: tuple[tuple[float, float], ...]  # (x, y) cm
    radius_cm: float = 0.05

    def thickness(self, x, y):
        best = np.full(np.shape(x), np.inf)
        pts = np.asarray(self.points, np.float64)
        for (x0, y0), (x1, y1) in itertools.pairwise(pts):
            vx, vy = x1 - x0, y1 - y0
            length2 = vx * vx + vy * vy
            s = np.clip(((x - x0) * vx + (y - y0) * vy) / max(length2, 1e-12), 0.0, 1.0)
            best = np.minimum(best, (x - x0 - s * vx) ** 2 + (y - y0 - s * vy) ** 2)
        return 2 * np.sqrt(np.clip(self.radius_cm**2 - best, 0.0, None))

    def bounds(self) -> tuple[float, float, float, float]:
        pts = np.asarray(self.points)
        r = self.radius_cm
        return pts[:, 0].min() - r, pts[:, 1].min() - r, pts[:, 0].max() + r, pts[:, 1].max() + r


class Canvas:
    """Per-material thickness maps (cm) for one scene of `height`×`width` pixels."""

    def __init__(self, height: int, width: int, pitch_cm: float = PIXEL_PITCH_CM) -> None:
        self.height, self.width, self.pitch = height, width, pitch_cm
        self.maps: dict[str, np.ndarray] = {}

    def _window(self, x0: float, y0: float, x1: float, y1: float):
        """Pixel slices and pixel-centre coordinates (cm) covering a box in cm, or None."""
        c0, r0 = max(0, int(np.floor(x0 / self.pitch))), max(0, int(np.floor(y0 / self.pitch)))
        c1 = min(self.width, int(np.ceil(x1 / self.pitch)) + 1)
        r1 = min(self.height, int(np.ceil(y1 / self.pitch)) + 1)
        if c0 >= c1 or r0 >= r1:
            return None
        ys, xs = np.mgrid[r0:r1, c0:c1]
        return (slice(r0, r1), slice(c0, c1)), (xs + 0.5) * self.pitch, (ys + 0.5) * self.pitch

    def add(self, material: str, solid: Solid | Wire, sign: float = 1.0) -> np.ndarray | None:
        """Add (or with sign=-1 carve out) a solid's thickness; returns its local map."""
        if isinstance(solid, Wire):
            window = self._window(*solid.bounds())
        else:
            r = solid.radius()
            cx, cy, _ = solid.center
            window = self._window(cx - r, cy - r, cx + r, cy + r)
        if window is None:
            return None
        region, xs, ys = window
        local = solid.thickness(xs, ys).astype(np.float32)
        target = self.maps.setdefault(material, np.zeros((self.height, self.width), np.float32))
        target[region] += sign * local
        np.clip(target[region], 0.0, None, out=target[region])
        return local

    def footprint(self, material: str | None = None) -> np.ndarray:
        """Boolean mask of pixels with any (or `material`'s) thickness."""
        maps = [self.maps[material]] if material else list(self.maps.values())
        mask = np.zeros((self.height, self.width), bool)
        for m in maps:
            mask |= m > 0
        return mask
