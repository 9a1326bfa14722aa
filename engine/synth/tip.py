"""Threat image projection (TIP): put a threat object's X-ray image into a bag scan.

Physics (physics.md §4): at every energy the transmission through bag and object is the product
of the two transmissions, T = T_bag · T_obj, i.e. attenuations add in the log domain. For a real
dual-energy scan an object is therefore inserted by multiplying per channel, the low and the high
layer separately, and then Zeff (from R = ln T_L / ln T_H) and the false colour are recomputed.
Colour images are never alpha-blended: that is not physical. Thickness or density is varied by
raising the object's transmission to a power α (α = 2 is twice as thick: −ln T doubles).

Limits of the shortcut: the detector layers integrate a broad spectrum, so the product of two
already-integrated transmissions is not the transmission of the stacked materials (the bag
hardens the beam the object sees). The error is small for organic on organic (ln T_L off by
~0.02-0.06) but large for metal behind thick material (0.36-1.3); with our scanner, 0.3 cm of
steel behind 10 cm of water gets a Zeff of ~20 by multiplication against ~15 when the stack is
rendered properly. In the simulator, insert by adding thickness maps and re-rendering instead;
use TIP for real scans and for object libraries captured on a real machine.

Other approximations, stated where they happen:
- Zeff of a foreign scanner's dual-energy scan is re-estimated inside the object's mask with
  *our* scanner's calibration (`Scanner.zeff`); outside the mask every channel is kept as is.
- A colour-only scan (no low/high channels) carries no physics, so the bag's high-energy
  transmission is estimated from the pixel's brightness (and, where the value curve saturates
  near air, from its saturation) and its Zeff from its hue, both by inverting
  `engine.colour.false_colour` with `TIP_STYLE`, as sampled at first use. The object's high
  transmission is multiplied in, Zeff becomes the attenuation-weighted mean of bag and object
  Zeff, and only the object's mask is re-rendered with `false_colour` and the same style.
  Another vendor's colour map makes this rougher still; greyscale pixels carry no hue, so they
  take the object's Zeff.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import cache

import cv2
import numpy as np

from engine.colour import STYLE_V2_0, false_colour
from engine.io import Scan
from engine.synth.objects import ObjectModel, draw, place
from engine.synth.scanner import Scanner
from engine.synth.shapes import Canvas

# The console palette projection assumes for real colour scans. Simulator v2.0's, without the
# brightness floor of today's simulated bags: that floor was fitted to make our bags' brightness
# match real scans, and inverting real scans with it would read their darker pixels as nearly
# impenetrable. It also keeps the shipped model's projected training data reproducible.
TIP_STYLE = STYLE_V2_0

__all__ = [
    "ThreatObject",
    "colour_to_physics",
    "default_scanner",
    "extract_object",
    "project",
    "render_object",
]

_T_FLOOR = 1e-7  # smallest transmission kept after multiplying: stays in (0, 1]
_ZEFF_SMOOTH_PAD = 8  # pixels of context around the object for the smoothed Zeff map
_MIN_HUE_SATURATION = 0.1  # below this a pixel's hue says nothing about its material


@dataclass(frozen=True, eq=False)
class ThreatObject:
    """An object's own transmissions (object alone in air), cropped around its mask.

    low, high: float32 h×w transmissions in (0, 1]; 1 where the object is absent.
    mask: bool h×w, where the object attenuates; at least one pixel.
    zeff: optional float32 h×w Zeff of the object alone (used for colour-only scans).
    Arrays are stored as read-only copies so a library object can be reused safely.
    """

    low: np.ndarray
    high: np.ndarray
    mask: np.ndarray
    zeff: np.ndarray | None = None
    name: str = "object"

    def __post_init__(self) -> None:
        low = _frozen_array(self.low, np.float32, "low")
        high = _frozen_array(self.high, np.float32, "high")
        mask = np.asarray(self.mask)
        if low.ndim != 2:
            raise ValueError(f"ThreatObject.low must be 2-D (h×w), got shape {low.shape}")
        for name, arr in (("high", high), ("mask", mask)):
            if arr.shape != low.shape:
                raise ValueError(
                    f"ThreatObject.{name} has shape {arr.shape}, low has {low.shape}: "
                    "low, high and mask must have the same shape"
                )
        for name, arr in (("low", low), ("high", high)):
            _check_transmission(arr, f"ThreatObject.{name}")
        if mask.dtype != bool:
            raise ValueError(f"ThreatObject.mask must be a bool array, got {mask.dtype}")
        if not mask.any():
            raise ValueError("ThreatObject.mask is empty: an object needs at least one pixel")
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)
        object.__setattr__(self, "mask", _frozen_array(mask, bool, "mask"))
        if self.zeff is not None:
            zeff = _frozen_array(self.zeff, np.float32, "zeff")
            if zeff.shape != low.shape:
                raise ValueError(f"ThreatObject.zeff has shape {zeff.shape}, low has {low.shape}")
            object.__setattr__(self, "zeff", zeff)

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of the object's crop."""
        return int(self.low.shape[0]), int(self.low.shape[1])


def extract_object(
    with_low: np.ndarray,
    with_high: np.ndarray,
    without_low: np.ndarray,
    without_high: np.ndarray,
    mask: np.ndarray | None = None,
    threshold: float = 0.01,
    *,
    name: str = "extracted",
) -> ThreatObject:
    """Object transmission = (scan with object) ÷ (same scan without), cropped to its mask.

    The mask, unless given, is where the object's high-energy attenuation −ln T_H exceeds
    `threshold`; outside it the object is set to exactly 1 (absent), so noise is not projected.
    """
    arrays = {
        "with_low": with_low,
        "with_high": with_high,
        "without_low": without_low,
        "without_high": without_high,
    }
    arrays = {k: np.asarray(v, np.float32) for k, v in arrays.items()}
    shape = arrays["with_low"].shape
    if len(shape) != 2:
        raise ValueError(f"extract_object needs 2-D transmissions, with_low has shape {shape}")
    for key, arr in arrays.items():
        if arr.shape != shape:
            raise ValueError(f"{key} has shape {arr.shape}, with_low has {shape}")
        _check_transmission(arr, key)
    t_low = np.clip(arrays["with_low"] / arrays["without_low"], _T_FLOOR, 1.0)
    t_high = np.clip(arrays["with_high"] / arrays["without_high"], _T_FLOOR, 1.0)
    if mask is None:
        mask = -np.log(t_high) > threshold
    else:
        mask = np.asarray(mask)
        if mask.shape != shape:
            raise ValueError(f"mask has shape {mask.shape}, the transmissions have {shape}")
        mask = mask.astype(bool)
    if not mask.any():
        raise ValueError(
            f"no object found: the mask is empty (threshold {threshold} on −ln T_high); "
            "are the 'with' and 'without' images swapped or identical?"
        )
    rows, cols = _bounding_box(mask)
    mask = mask[rows, cols]
    t_low, t_high = (np.where(mask, t[rows, cols], np.float32(1.0)) for t in (t_low, t_high))
    return ThreatObject(t_low, t_high, mask, name=name)


def render_object(
    model: ObjectModel,
    scanner: Scanner,
    *,
    pitch_cm: float = 0.1,
    rotation: np.ndarray | None = None,
    margin_px: int = 2,
) -> ThreatObject:
    """A simulator object rendered alone, noiseless, on a canvas just large enough: a TIP item.

    `rotation` (3×3) turns the model about its centre before the beam sees it; the crop keeps
    `margin_px` pixels of air around the object's footprint.
    """
    if pitch_cm <= 0:
        raise ValueError(f"pitch_cm must be positive, got {pitch_cm}")
    if margin_px < 0:
        raise ValueError(f"margin_px must be >= 0, got {margin_px}")
    rot = np.eye(3) if rotation is None else np.asarray(rotation, float)
    if rot.shape != (3, 3):
        raise ValueError(f"rotation must be a 3×3 matrix, got shape {rot.shape}")
    # Start from the bounding sphere of the item's box and grow if parts stick out of it.
    side = int(np.ceil(float(np.linalg.norm(model.size)) / pitch_cm)) + 2 * margin_px + 4
    for _ in range(4):
        canvas = Canvas(side, side, pitch_cm)
        centre = side * pitch_cm / 2
        draw(canvas, place(model, (centre, centre, 0.0), rot))
        footprint = np.zeros((side, side), bool)
        for t in canvas.maps.values():
            footprint |= t > 0
        if not footprint.any():
            raise ValueError(f"model {model.category!r} has no material to render")
        border = (footprint[0], footprint[-1], footprint[:, 0], footprint[:, -1])
        if not any(b.any() for b in border):  # nothing cut off by the canvas edge
            break
        side *= 2
    else:
        raise ValueError(f"model {model.category!r} does not fit a {side}-pixel canvas")
    rows, cols = _bounding_box(footprint, margin_px)
    maps = {m: t[rows, cols] for m, t in canvas.maps.items()}
    mask = footprint[rows, cols]
    t_low, t_high = scanner.transmissions(maps)
    t_low, t_high = (
        np.where(mask, np.clip(t, _T_FLOOR, 1.0), 1.0).astype(np.float32) for t in (t_low, t_high)
    )
    name = model.category + (f"+{model.anomaly_type}" if model.anomaly_type else "")
    return ThreatObject(t_low, t_high, mask, zeff=scanner.zeff(t_low, t_high), name=name)


def project(
    scan: Scan,
    obj: ThreatObject,
    at: tuple[int, int],
    *,
    alpha: float = 1.0,
    scanner: Scanner | None = None,
) -> tuple[Scan, np.ndarray]:
    """Insert `obj` with its top-left at pixel `at` = (x, y); gives the new scan and its mask.

    The object may hang over the image border (it is cropped). With dual energy, low and high
    are multiplied by the object's transmissions to the power `alpha` and Zeff and colour are
    recomputed inside the mask with `scanner` (a default Scanner when None); a colour-only scan
    gets the approximation described in the module docstring (the object's own Zeff is taken
    from `obj.zeff` when present, unscaled by `alpha`). Pixels outside the returned
    mask are bit-identical to the input, whose arrays are never modified.
    `scan.meta.extra["tip"]` gets a JSON list recording every insertion.
    """
    if not np.isfinite(alpha) or alpha <= 0:
        raise ValueError(f"alpha must be a positive number, got {alpha}")
    x, y = (int(v) for v in at)
    h, w = obj.shape
    r0, r1 = max(y, 0), min(y + h, scan.height)
    c0, c1 = max(x, 0), min(x + w, scan.width)
    if r0 >= r1 or c0 >= c1 or not obj.mask[r0 - y : r1 - y, c0 - x : c1 - x].any():
        raise ValueError(
            f"object {obj.name!r} ({w}×{h} px) at (x={x}, y={y}) does not overlap the "
            f"{scan.width}×{scan.height} scan"
        )
    region = (slice(r0, r1), slice(c0, c1))
    local = (slice(r0 - y, r1 - y), slice(c0 - x, c1 - x))
    mask_w = obj.mask[local]
    obj_low, obj_high = (_power(t[local], alpha) for t in (obj.low, obj.high))
    full_mask = np.zeros((scan.height, scan.width), bool)
    full_mask[region] = mask_w

    if scan.has_dual_energy:
        new, method = _project_dual(scan, obj_low, obj_high, mask_w, region, scanner), "dual-energy"
    else:
        obj_zeff = obj.zeff[local] if obj.zeff is not None else None
        if obj_zeff is None:
            obj_zeff = (scanner or default_scanner()).zeff(obj_low, obj_high)
        new = _project_colour(scan, obj_low, obj_high, obj_zeff, mask_w, region)
        method = "colour-estimate"
    record = {
        "name": obj.name,
        "x": x,
        "y": y,
        "width": w,
        "height": h,
        "alpha": float(alpha),
        "pixels": int(full_mask.sum()),
        "method": method,
    }
    history = _tip_history(scan.meta.extra.get("tip"))
    extra = {**scan.meta.extra, "tip": json.dumps([*history, record])}
    return replace(new, meta=replace(scan.meta, extra=extra)), full_mask


@cache
def default_scanner() -> Scanner:
    """The default-configured Scanner, built once (about 2 s) and shared by every projection."""
    return Scanner()


# ----- the two projections --------------------------------------------------------------------
def _project_dual(scan, obj_low, obj_high, mask_w, region, scanner) -> Scan:
    """Multiply per channel, then re-estimate Zeff and colour inside the mask with our table."""
    scanner = scanner or default_scanner()
    low, high = scan.low.copy(), scan.high.copy()
    for channel, t_obj in ((low, obj_low), (high, obj_high)):
        window = channel[region]
        window[mask_w] = np.maximum(window[mask_w] * t_obj[mask_w], np.float32(_T_FLOOR))
    # Zeff is smoothed: give the table some context beyond the object, then keep the mask only.
    ctx, inner = _padded(region, scan.height, scan.width, _ZEFF_SMOOTH_PAD)
    zeff_ctx = scanner.zeff(low[ctx], high[ctx])[inner]
    colour = false_colour(high[region], zeff_ctx, TIP_STYLE)
    image = scan.image.copy()
    image[region][mask_w] = colour[mask_w]
    zeff = None
    if scan.zeff is not None:
        zeff = scan.zeff.copy()
        zeff[region][mask_w] = zeff_ctx[mask_w]
    return Scan(image, scan.meta, low=low, high=high, zeff=zeff)


def _project_colour(scan, obj_low, obj_high, obj_zeff, mask_w, region) -> Scan:
    """Colour-only: estimate the bag's T_high and Zeff from its colour, multiply, re-render."""
    bag_rgb = scan.image[region]
    bag_high, bag_zeff, hue_known = colour_to_physics(bag_rgb)
    if scan.high is not None:  # a lone raw high channel beats the brightness
        bag_high = scan.high[region].astype(np.float32)
    if scan.zeff is not None:  # a Zeff channel beats the hue
        bag_zeff, hue_known = scan.zeff[region].astype(np.float32), np.ones_like(hue_known)
    new_high = np.maximum(bag_high * obj_high, np.float32(_T_FLOOR))
    att_bag = np.where(hue_known, -np.log(bag_high), 0.0)
    att_obj = -np.log(obj_high)
    total = att_bag + att_obj
    zeff = np.divide(
        att_bag * bag_zeff + att_obj * obj_zeff,
        total,
        out=obj_zeff.astype(np.float64),
        where=total > 0,
    ).astype(np.float32)
    colour = false_colour(new_high, zeff, TIP_STYLE)
    image = scan.image.copy()
    image[region][mask_w] = colour[mask_w]
    channels = {}
    for name, t_obj in (("low", obj_low), ("high", obj_high)):
        channel = getattr(scan, name)
        if channel is not None:  # a lone raw channel still multiplies exactly
            channel = channel.copy()
            window = channel[region]
            window[mask_w] = np.maximum(window[mask_w] * t_obj[mask_w], np.float32(_T_FLOOR))
        channels[name] = channel
    if scan.zeff is not None:
        channels["zeff"] = scan.zeff.copy()
        channels["zeff"][region][mask_w] = zeff[mask_w]
    return Scan(image, scan.meta, **channels)


# ----- inverting the false-colour map -----------------------------------------------------------
def colour_to_physics(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimate (T_high, Zeff, hue_known) from a false-colour uint8 RGB image.

    T_high inverts `false_colour`'s brightness curve (its saturation where brightness has
    clipped at white, near air); Zeff inverts its hue anchors; `hue_known` is False where the
    pixel is too grey to carry a hue. Only as good as the image's colour map matches ours.
    """
    hue, sat, val = _hsv(rgb)
    inv = _colour_inverse()
    att_val = np.interp(val, inv["val"], inv["val_att"])
    att_sat = np.interp(sat, inv["sat"], inv["sat_att"])
    att = np.where(val >= inv["val"][-1], att_sat, att_val)
    t_high = np.clip(np.exp(-att), _T_FLOOR, 1.0).astype(np.float32)
    hue_u = np.where(hue >= inv["hue_split"], hue - 360.0, hue)
    zeff = np.interp(hue_u, inv["hue"], inv["hue_zeff"]).astype(np.float32)
    return t_high, zeff, sat >= _MIN_HUE_SATURATION


def _hsv(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hue in degrees [0, 360), saturation and value in [0, 1], as float32 arrays."""
    hsv = cv2.cvtColor(np.ascontiguousarray(rgb).astype(np.float32) / 255.0, cv2.COLOR_RGB2HSV)
    return hsv[..., 0], hsv[..., 1], hsv[..., 2]


@cache
def _colour_inverse() -> dict:
    """Inverse curves of `engine.colour.false_colour` with `TIP_STYLE`, sampled from it.

    Sampling (instead of copying its constants) keeps the inverse right if the colour map's
    gamma or hue anchors are retuned.
    """
    att = np.linspace(0.0, -np.log(0.005), 4000, dtype=np.float32)  # past the black cut-off
    t = np.exp(-att)[None, :]
    _, sat, val = _hsv(false_colour(t, np.full_like(t, 7.0), TIP_STYLE))
    val_x, val_att = _monotone_inverse(val[0], att)
    top = val[0] >= val_x[-1]  # near air, where brightness has clipped: read the saturation
    sat_x, sat_att = _monotone_inverse(sat[0][top], att[top])
    zeff = np.linspace(3.0, 40.0, 3000, dtype=np.float32)[None, :]
    hue, _, _ = _hsv(false_colour(np.full_like(zeff, 0.3), zeff, TIP_STYLE))
    hue, zeff = hue[0], zeff[0]
    # Keep one sample of each end plateau: hues beyond the anchors mean the end anchors' Zeff.
    moving = np.flatnonzero((hue > hue[0]) & (hue < hue[-1]))
    keep = slice(max(moving[0] - 1, 0), moving[-1] + 2)
    hue_x, hue_zeff = _monotone_inverse(hue[keep], zeff[keep])
    # Hues in the gap between the last anchor and the first (through 360°) go to the nearer end.
    split = (hue_x[-1] + hue_x[0] + 360.0) / 2
    return {
        "val": val_x,
        "val_att": val_att,
        "sat": sat_x,
        "sat_att": sat_att,
        "hue": hue_x,
        "hue_zeff": hue_zeff,
        "hue_split": float(split),
    }


def _monotone_inverse(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(x values, mean y at each) for interpolating y(x), x sorted with duplicates merged."""
    xs, index = np.unique(np.round(x.astype(np.float64), 4), return_inverse=True)
    ys = np.bincount(index, weights=y) / np.bincount(index)
    return xs, ys


# ----- small helpers ----------------------------------------------------------------------------
def _tip_history(text: str | None) -> list:
    """Earlier insertions recorded in `meta.extra["tip"]`; a foreign value is kept as one entry."""
    if not text:
        return []
    try:
        history = json.loads(text)
    except json.JSONDecodeError:
        return [text]
    return history if isinstance(history, list) else [history]


def _frozen_array(value, dtype, name: str) -> np.ndarray:
    """A read-only copy of `value` as `dtype`."""
    try:
        arr = np.array(value, dtype=dtype, copy=True)
    except (TypeError, ValueError) as err:
        raise ValueError(f"ThreatObject.{name} is not a numeric array: {err}") from None
    arr.setflags(write=False)
    return arr


def _check_transmission(arr: np.ndarray, name: str) -> None:
    """Transmissions must be finite and in (0, 1]."""
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} has NaN or infinite values; transmissions must lie in (0, 1]")
    lo, hi = float(arr.min()), float(arr.max())
    if lo <= 0.0 or hi > 1.0:
        raise ValueError(
            f"{name} ranges over [{lo:.4g}, {hi:.4g}]; transmissions must lie in (0, 1] "
            "(divide raw counts by the air signal first)"
        )


def _power(t: np.ndarray, alpha: float) -> np.ndarray:
    """t**alpha in float32, exact for alpha == 1."""
    return t if alpha == 1.0 else np.power(t, np.float32(alpha)).astype(np.float32)


def _bounding_box(mask: np.ndarray, margin: int = 0) -> tuple[slice, slice]:
    """Row and column slices around a mask's True pixels, widened by `margin` (within bounds)."""
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    h, w = mask.shape
    return (
        slice(max(rows[0] - margin, 0), min(rows[-1] + 1 + margin, h)),
        slice(max(cols[0] - margin, 0), min(cols[-1] + 1 + margin, w)),
    )


def _padded(region: tuple[slice, slice], height: int, width: int, pad: int):
    """(`region` widened by `pad` within the image, `region` relative to the widened one)."""
    rows, cols = region
    r0, c0 = max(rows.start - pad, 0), max(cols.start - pad, 0)
    r1, c1 = min(rows.stop + pad, height), min(cols.stop + pad, width)
    ctx = (slice(r0, r1), slice(c0, c1))
    inner = (slice(rows.start - r0, rows.stop - r0), slice(cols.start - c0, cols.stop - c0))
    return ctx, inner
