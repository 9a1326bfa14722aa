"""A bag: shell, frame, zips, handles, wheels, clutter, confusers and 0-4 objects of interest.

`compose_bag` draws everything into one per-material Canvas (thickness maps, never rendered
pixels) and returns it with exact ground truth: each object's instance mask, and for anomalous
ones the anomaly's mask, type and visibility (the change in ln T_high it causes over the noise).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from engine.synth.objects import ANOMALY_TYPES, CATEGORIES, build, draw, insert_anomaly, place
from engine.synth.scanner import Scanner
from engine.synth.shapes import Box, Canvas, Cylinder, Ellipsoid, Wire, rotation


@dataclass(frozen=True)
class BagConfig:
    """What goes into a bag; (est.) defaults, all randomised per bag from the seed."""

    width: int = 640
    height: int = 480
    pitch_cm: float = 0.1
    min_objects: int = 0
    max_objects: int = 4
    anomaly_share: float = 0.5
    categories: tuple[str, ...] = CATEGORIES
    anomaly_types: tuple[str, ...] = ANOMALY_TYPES
    clutter: tuple[int, int] = (4, 10)  # how many clutter items


@dataclass
class ObjectTruth:
    category: str
    mask: np.ndarray  # bool H×W
    anomalous: bool = False
    anomaly_type: str | None = None
    anomaly_mask: np.ndarray | None = None
    anomaly_visibility: float | None = None


@dataclass
class Bag:
    canvas: Canvas
    objects: list[ObjectTruth] = field(default_factory=list)
    anomaly_canvas: Canvas | None = None  # the anomalies alone, for their visibility


def _bag_shell(canvas: Canvas, rng: np.random.Generator) -> tuple[float, float, float, float]:
    """Draw shell, frame, zip, handles and wheels; returns the inner area (x0, y0, x1, y1) cm."""
    w_cm, h_cm = canvas.width * canvas.pitch, canvas.height * canvas.pitch
    bw, bh = w_cm * rng.uniform(0.82, 0.94), h_cm * rng.uniform(0.78, 0.92)
    cx, cy = w_cm / 2 + rng.uniform(-1, 1), h_cm / 2 + rng.uniform(-1, 1)
    depth = rng.uniform(20, 30)
    shell = (bw, bh, depth)
    canvas.add("nylon", Box((cx, cy, depth / 2), size=shell))
    canvas.add("nylon", Box((cx, cy, depth / 2), size=(bw - 0.6, bh - 0.6, depth - 0.6)), -1)
    trolley = rng.random() < 0.6
    if trolley:
        along_y = rotation(np.pi / 2, 0, 0)
        for dx in (-0.3, 0.3):  # frame tubes: 2 cm aluminium tube, 1.5 mm wall
            for radius, sign in ((1.0, 1.0), (0.85, -1.0)):
                tube = Cylinder(
                    (cx + dx * bw, cy, 1.0), along_y, radius_cm=radius, length=bh * 0.95
                )
                canvas.add("aluminium", tube, sign)
        for sx in (-1, 1):
            for sy in (-1, 1):
                canvas.add(
                    "rubber",
                    Cylinder(
                        (cx + sx * (bw / 2 - 3), cy + sy * (bh / 2 - 2.5), 2.0),
                        rotation(0, np.pi / 2, 0),
                        radius_cm=2.5,
                        length=2.5,
                    ),
                )
    zip_metal = "brass" if rng.random() < 0.4 else "steel"
    inset = 1.2
    corners = [
        (cx - bw / 2 + inset, cy - bh / 2 + inset),
        (cx + bw / 2 - inset, cy - bh / 2 + inset),
        (cx + bw / 2 - inset, cy + bh / 2 - inset),
        (cx - bw / 2 + inset, cy + bh / 2 - inset),
    ]
    canvas.add(zip_metal, Wire((*corners, corners[0]), radius_cm=0.12))
    handle_y = cy - bh / 2 + 0.5
    canvas.add("abs", Box((cx, handle_y, depth / 2), size=(12.0, 2.0, 3.0)))
    return cx - bw / 2 + 2, cy - bh / 2 + 2, cx + bw / 2 - 2, cy + bh / 2 - 2


def _clothes(canvas: Canvas, rng: np.random.Generator, area) -> None:
    """Folded clothes: a smooth random field of cotton with folds and gaps (bulk 0.1-0.4)."""
    x0, y0, x1, y1 = (int(v / canvas.pitch) for v in area)
    h, w = max(y1 - y0, 1), max(x1 - x0, 1)
    field_ = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 18)
    field_ = field_ / (field_.std() + 1e-6)
    folds = np.sin(np.linspace(0, rng.uniform(6, 20), w))[None, :] * 0.3
    bulk = rng.uniform(0.1, 0.4) / 1.54  # cotton at 1.54 g/cm³ packed to 0.1-0.4 g/cm³
    thickness = np.clip(field_ + folds + rng.uniform(0.2, 1.0), 0, None) * rng.uniform(4, 9) * bulk
    target = canvas.maps.setdefault("cotton", np.zeros((canvas.height, canvas.width), np.float32))
    target[y0:y1, x0:x1] += thickness.astype(np.float32)[
        : target[y0:y1, x0:x1].shape[0], : target[y0:y1, x0:x1].shape[1]
    ]


def _clutter_item(canvas: Canvas, rng: np.random.Generator, at: tuple[float, float]) -> None:
    """One everyday item: cable, charger, shoe, book, toiletry, keys, coins, umbrella, confuser."""
    x, y = at
    rot = rotation(0, 0, rng.uniform(0, np.pi))
    kind = rng.choice(
        [
            "cable",
            "charger",
            "shoe",
            "book",
            "toiletry",
            "keys",
            "coins",
            "umbrella",
            "chocolate",
            "cheese",
            "batteries",
        ]
    )
    if kind == "cable":
        pts = np.cumsum(rng.uniform(-4, 4, (8, 2)), 0) + np.array([x, y])
        canvas.add("pvc", Wire(tuple(map(tuple, pts)), radius_cm=0.25))
        canvas.add("copper", Wire(tuple(map(tuple, pts)), radius_cm=0.06))
    elif kind == "charger":
        canvas.add("abs", Box((x, y, 3), rot, size=(6.0, 4.0, 3.0)))
        canvas.add("ferrite", Box((x, y, 3), rot, size=(1.5, 1.5, 1.5)))
        canvas.add("fr4", Box((x, y, 2), rot, size=(5.0, 3.5, 0.15)))
        canvas.add("copper", Cylinder((x, y, 3), rot, radius_cm=0.7, length=1.2))
    elif kind == "shoe":
        canvas.add("rubber", Ellipsoid((x, y, 2), rot, semi_axes=(14.0, 4.5, 1.5)))
        canvas.add("steel", Box((x, y, 2), rot, size=(8.0, 1.0, 0.15)))
        canvas.add("cotton", Ellipsoid((x, y, 5), rot, semi_axes=(12.0, 4.0, 4.0)))
    elif kind == "book":
        canvas.add(
            "paper",
            Box((x, y, 2), rot, size=(rng.uniform(14, 24), rng.uniform(10, 17), rng.uniform(1, 4))),
        )
    elif kind == "toiletry":
        liquid = str(rng.choice(["water", "ethanol", "glass"]))
        canvas.add(
            "polyethylene",
            Cylinder((x, y, 3), rot @ rotation(0, np.pi / 2, 0), radius_cm=2.0, length=12.0),
        )
        canvas.add(
            liquid if liquid != "glass" else "water",
            Cylinder((x, y, 3), rot @ rotation(0, np.pi / 2, 0), radius_cm=1.8, length=9.0),
        )
    elif kind == "keys":
        for i in range(int(rng.integers(2, 5))):
            k = rotation(0, 0, rng.uniform(0, np.pi))
            canvas.add("brass", Box((x + i, y + i * 0.5, 2), k, size=(5.5, 2.2, 0.2)))
        canvas.add(
            "steel",
            Wire(
                tuple(
                    (x + 1.5 * np.cos(a), y + 1.5 * np.sin(a))
                    for a in np.linspace(0, 2 * np.pi, 16)
                ),
                radius_cm=0.1,
            ),
        )
    elif kind == "coins":
        for _ in range(int(rng.integers(2, 7))):
            canvas.add(
                "brass",
                Cylinder(
                    (x + rng.uniform(-3, 3), y + rng.uniform(-3, 3), 2),
                    rotation(rng.uniform(-0.3, 0.3), 0, 0),
                    radius_cm=rng.uniform(0.8, 1.3),
                    length=0.2,
                ),
            )
    elif kind == "umbrella":
        for i in range(6):
            canvas.add(
                "steel",
                Cylinder(
                    (x, y + (i - 3) * 0.6, 3),
                    rot @ rotation(0, np.pi / 2, 0),
                    radius_cm=0.12,
                    length=28.0,
                ),
            )
        canvas.add(
            "nylon",
            Cylinder((x, y, 3), rot @ rotation(0, np.pi / 2, 0), radius_cm=2.5, length=26.0),
        )
    elif kind in ("chocolate", "cheese"):
        canvas.add(
            str(kind),
            Box((x, y, 2), rot, size=(rng.uniform(8, 16), rng.uniform(5, 9), rng.uniform(1, 4))),
        )
    else:  # spare batteries: AA cells
        for i in range(int(rng.integers(2, 6))):
            canvas.add(
                "steel",
                Cylinder(
                    (x, y + i * 1.5, 2), rot @ rotation(0, np.pi / 2, 0), radius_cm=0.7, length=5.0
                ),
            )


def _inside(area, size, rot: np.ndarray, rng: np.random.Generator) -> tuple[float, float, float]:
    """A position that keeps an object of `size` turned by `rot` inside the bag's `area`.

    The half extents of the turned box are |R|·size/2; an object larger than the bag (a 17"
    laptop in a cabin holdall) is centred, as a packer would wedge it in.
    """
    x0, y0, x1, y1 = area
    ex, ey, _ = np.abs(rot) @ (np.asarray(size) / 2)
    lo_x, hi_x = x0 + ex, x1 - ex
    lo_y, hi_y = y0 + ey, y1 - ey
    x = rng.uniform(lo_x, hi_x) if hi_x > lo_x else (x0 + x1) / 2
    y = rng.uniform(lo_y, hi_y) if hi_y > lo_y else (y0 + y1) / 2
    return x, y, rng.uniform(6, 14)


def compose_bag(rng: np.random.Generator, config: BagConfig | None = None) -> Bag:
    """A random bag with its objects of interest and exact masks."""
    cfg = config or BagConfig()
    canvas = Canvas(cfg.height, cfg.width, cfg.pitch_cm)
    area = _bag_shell(canvas, rng)
    _clothes(canvas, rng, area)
    x0, y0, x1, y1 = area
    for _ in range(int(rng.integers(*cfg.clutter, endpoint=True))):
        _clutter_item(canvas, rng, (rng.uniform(x0 + 3, x1 - 3), rng.uniform(y0 + 3, y1 - 3)))
    bag = Bag(canvas, anomaly_canvas=Canvas(cfg.height, cfg.width, cfg.pitch_cm))
    n = int(rng.integers(cfg.min_objects, cfg.max_objects, endpoint=True))
    for _ in range(n):
        model = build(str(rng.choice(cfg.categories)), rng)
        if rng.random() < cfg.anomaly_share:
            model = insert_anomaly(model, str(rng.choice(cfg.anomaly_types)), rng)
        tilt = rotation(
            rng.uniform(-0.35, 0.35), rng.uniform(-0.35, 0.35), rng.uniform(0, 2 * np.pi)
        )
        position = _inside(area, model.size, tilt, rng)
        placed = place(model, position, tilt)
        instance, anomaly = draw(canvas, placed)
        if not instance.any():
            continue
        truth = ObjectTruth(
            model.category, instance, placed.anomalous, placed.anomaly_type, anomaly
        )
        for part in placed.anomaly:
            bag.anomaly_canvas.add(part.material, part.solid, part.sign)
        bag.objects.append(truth)
    return bag


def anomaly_visibility(bag: Bag, scanner: Scanner) -> None:
    """Fill each anomalous object's visibility: mean |Δ ln T_high| over its mask / noise σ."""
    if not any(o.anomalous for o in bag.objects) or bag.anomaly_canvas is None:
        return
    with_all = bag.canvas.maps
    without = {m: t - bag.anomaly_canvas.maps.get(m, 0) for m, t in with_all.items()}
    _, (t_with, variance) = scanner.signals(with_all)
    _, t_without = scanner.transmissions(without)
    t = np.maximum(t_with, 1e-9)
    delta = np.abs(np.log(t) - np.log(np.maximum(t_without, 1e-9)))
    cfg = scanner.config
    sigma_ln = np.sqrt(variance / cfg.photons_per_pixel + cfg.electronic_noise**2) / t
    for obj in bag.objects:
        if not obj.anomalous:
            continue
        m = obj.anomaly_mask
        # An anomaly thinner than the pixel grid samples leaves no trace at all: visibility 0.
        has_pixels = m is not None and m.any()
        obj.anomaly_visibility = float((delta[m] / sigma_ln[m]).mean()) if has_pixels else 0.0
