"""Object crops for stage 2: one function cuts training and inference inputs alike.

Training crops come from ground-truth boxes, inference crops from the detector's boxes and
masks; both go through `crop_objects`, so the classifier sees the same geometry (margin, square
padding with air, resize) and the same channels in both. Pure functions: numpy, OpenCV, torch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np
import torch

from engine.errors import DatasetError
from engine.io import Scan

CHANNEL_MODES = ("rgb", "dual")
AIR_VALUE = {"rgb": 1.0, "dual": 0.0}  # what empty tunnel looks like in each mode

# Round constants, not measured on any data set: they map each mode's usual range to about
# [-2, 2] (rgb: [0, 1]; dual: air 0, dense metal ~1), which is all a network needs. Measure and
# override them only if a model trains poorly.
MEAN = {"rgb": (0.5, 0.5, 0.5), "dual": (0.25, 0.25, 0.25)}
STD = {"rgb": (0.25, 0.25, 0.25), "dual": (0.25, 0.25, 0.25)}

ATTENUATION_SCALE = 6.0  # −ln T of ~0.25 % transmission maps to 1
ZEFF_SCALE = 30.0  # Zeff 30 (zinc) maps to 1
DUAL_MAX = 1.5  # dual channels are clipped to [0, DUAL_MAX]
ZEFF_FADE = 0.1  # Zeff fades in as −ln T_high rises from 0 to this (≈10 % absorbed)
_MIN_TRANSMISSION = 1.0 / 65535  # the 16-bit quantum: keeps −ln T finite
_MAX_SIDE_FACTOR = 4  # a crop wider than 4× the image is a broken box, not an object


def scan_channels(scan: Scan, mode: str = "rgb") -> np.ndarray:
    """The scan as float32 H×W×3 for the classifier, air at `AIR_VALUE[mode]`.

    "rgb" is the console's false colour / 255 (air 1). "dual" is the raw physics:
    [−ln T_low / 6, −ln T_high / 6, Zeff / 30] clipped to [0, 1.5] (air 0). Dual helps because
    false colour squeezes two transmissions into one hue and one brightness, whereas the raw
    channels keep the low/high ratio that tells an organic block (marzipan, explosives) from the
    electronics around it. Zeff is undefined in air (ln T_L / ln T_H is 0/0, the lookup returns a
    placeholder such as 7), so it is faded in with the high-energy attenuation: air is 0 in all
    three channels, matching the padding. Needs `load_scan(..., companions=True)` for "dual".
    """
    _check_mode(mode)
    if mode == "rgb":
        return scan.image.astype(np.float32) / 255.0
    missing = [name for name in ("low", "high", "zeff") if getattr(scan, name) is None]
    if missing:
        raise DatasetError(
            f"{scan.meta.path}: 'dual' mode needs the low, high and zeff channels; this scan has "
            f"no {', '.join(missing)} (save <stem>_low/_high/_zeff.png beside it, or use 'rgb')"
        )
    a_low = -np.log(np.clip(scan.low, _MIN_TRANSMISSION, 1.0))
    a_high = -np.log(np.clip(scan.high, _MIN_TRANSMISSION, 1.0))
    presence = np.clip(a_high / ZEFF_FADE, 0.0, 1.0)
    channels = np.stack(
        [a_low / ATTENUATION_SCALE, a_high / ATTENUATION_SCALE, scan.zeff * presence / ZEFF_SCALE],
        axis=-1,
    )
    return np.clip(channels, 0.0, DUAL_MAX).astype(np.float32)


def crop_objects(
    channels: np.ndarray,
    boxes_xyxy: np.ndarray | Sequence[Sequence[float]] | torch.Tensor,
    *,
    size: int = 224,
    margin: float = 0.15,
    masks: np.ndarray | torch.Tensor | None = None,
    mode: str = "rgb",
    air: float | Sequence[float] | None = None,
    orient: np.ndarray | torch.Tensor | None = None,
) -> torch.Tensor:
    """Square crops of the objects in `boxes_xyxy` (N×4, pixels), as float32 N×C×size×size.

    Each box grows by `margin` of its width/height on each side, then becomes a square around its
    centre (side = the larger of the two), so shapes are not distorted. What falls outside the
    image is air: `air` per channel, by default `AIR_VALUE[mode]` for all. With `masks` (N×H×W,
    bool or 0/1 or probabilities > 0.5) everything outside each object's mask is air too: the
    paper's "pre-localisation". Boxes under 1 px wide or high are cropped as 1 px boxes around
    their centre. Resizing uses INTER_AREA when shrinking and INTER_LINEAR when enlarging.
    `channels` is H×W×C: extra planes (a target map, say) get exactly the image's geometry.
    With `orient` (N×H×W masks, as `masks`) each crop is turned about its box's centre so that
    its mask's long axis (`mask_angle`) lies across: a product's layout then shows in one of
    four poses (flips) instead of at any angle. The square's side is then at least the mask's
    long side (plus margin), so a long thin object at 45° is not cut off.
    """
    _check_mode(mode)
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ValueError(f"size must be a positive int, got {size!r}")
    if not (math.isfinite(margin) and margin >= 0):
        raise ValueError(f"margin must be a finite number >= 0, got {margin!r}")
    image = np.asarray(channels, dtype=np.float32)
    if image.ndim != 3 or image.shape[2] < 1:
        raise ValueError(f"channels must be H×W×C, got shape {image.shape}")
    h, w, depth = image.shape
    fill = np.asarray(AIR_VALUE[mode] if air is None else air, np.float32).reshape(-1)
    if len(fill) not in (1, depth):
        raise ValueError(f"air must be one value or {depth} (one per channel), got {len(fill)}")
    fill = np.broadcast_to(fill, (depth,))
    boxes = _as_numpy(boxes_xyxy).astype(np.float64).reshape(-1, 4)
    if not np.isfinite(boxes).all():
        raise ValueError("boxes must be finite numbers")
    stack = None
    if masks is not None:
        stack = _as_numpy(masks)
        if stack.shape != (len(boxes), h, w):
            raise ValueError(f"masks must be {len(boxes)}×{h}×{w} (N×H×W), got {stack.shape}")
        if stack.dtype != np.bool_:
            stack = stack > 0.5
    turns = None
    if orient is not None:
        turns = _as_numpy(orient)
        if turns.shape != (len(boxes), h, w):
            raise ValueError(f"orient must be {len(boxes)}×{h}×{w} (N×H×W), got {turns.shape}")
    out = np.empty((len(boxes), size, size, depth), np.float32)
    for j, box in enumerate(boxes):
        if turns is not None:
            angle, long_side = mask_angle(turns[j])
            if long_side > 0:
                keep = None if stack is None else stack[j]
                out[j] = _turned(image, box, margin, angle, long_side, keep, fill, size)
                continue
        x0, y0, side = _square(box, margin)
        if side > _MAX_SIDE_FACTOR * max(h, w):
            raise ValueError(f"box {box.tolist()} is far larger than the {w}×{h} image")
        patch = np.empty((side, side, depth), np.float32)
        patch[:] = fill
        # The part of the square inside the image, in image and in patch coordinates.
        ix0, iy0 = max(x0, 0), max(y0, 0)
        ix1, iy1 = min(x0 + side, w), min(y0 + side, h)
        if ix1 > ix0 and iy1 > iy0:
            inside = (slice(iy0 - y0, iy1 - y0), slice(ix0 - x0, ix1 - x0))
            patch[inside] = image[iy0:iy1, ix0:ix1]
            if stack is not None:
                keep = np.zeros((side, side), np.bool_)
                keep[inside] = stack[j, iy0:iy1, ix0:ix1]
                patch[~keep] = fill
        elif stack is not None:
            patch[:] = fill
        out[j] = _resize(patch, size)
    return torch.from_numpy(np.ascontiguousarray(out.transpose(0, 3, 1, 2)))


def mask_angle(mask: np.ndarray | torch.Tensor) -> tuple[float, float]:
    """(angle in degrees, long side in pixels) of a mask's smallest enclosing rectangle.

    Turning the image by the angle (counter-clockwise, as `cv2.getRotationMatrix2D`) lays the
    rectangle's long side across. An empty mask gives (0, 0).
    """
    points = cv2.findNonZero((_as_numpy(mask) > 0.5).astype(np.uint8))
    if points is None:
        return 0.0, 0.0
    _, (width, height), angle = cv2.minAreaRect(points)
    if width < height:  # OpenCV's angle is that of the side it calls width
        angle, width = angle - 90.0, height
    turn = (float(angle) + 90.0) % 180.0 - 90.0  # the smaller of the two turns that lay it across
    return turn, float(width) + 1.0  # pixel centres: a 1-px line is 1 px long


def _turned(
    image: np.ndarray,
    box: np.ndarray,
    margin: float,
    angle: float,
    long_side: float,
    keep: np.ndarray | None,
    fill: np.ndarray,
    size: int,
) -> np.ndarray:
    """One crop of `crop_objects` turned by `angle` about the box's centre (size×size×C)."""
    h, w, depth = image.shape
    x0, y0, x1, y1 = (float(v) for v in box)
    length = max(x1 - x0, y1 - y0, long_side, 1.0)
    side = max(1, math.floor(length * (1 + 2 * margin) + 0.5))
    if side > _MAX_SIDE_FACTOR * max(h, w):
        raise ValueError(f"box {box.tolist()} is far larger than the {w}×{h} image")
    centre = ((x0 + x1) / 2 - 0.5, (y0 + y1) / 2 - 0.5)  # pixel centres sit at +0.5
    turn = cv2.getRotationMatrix2D(centre, angle, 1.0)
    turn[:, 2] += (side - 1) / 2 - np.array(centre)  # the box's centre to the patch's
    planes = []
    for k in range(0, depth, 4):  # OpenCV warps at most 4 planes at a time
        part = np.ascontiguousarray(image[:, :, k : k + 4])
        border = tuple(float(v) for v in fill[k : k + 4])
        warped = cv2.warpAffine(
            part, turn, (side, side), flags=cv2.INTER_LINEAR, borderValue=border
        )
        planes.append(warped.reshape(side, side, -1))
    patch = planes[0] if len(planes) == 1 else np.concatenate(planes, axis=2)
    if keep is not None:
        inside = cv2.warpAffine(keep.astype(np.uint8), turn, (side, side), flags=cv2.INTER_NEAREST)
        patch[inside == 0] = fill
    return _resize(patch, size)


def normalise(batch: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """(batch − mean) / std per channel, for 3×H×W or N×3×H×W; a new tensor."""
    mean_t = torch.as_tensor(mean, dtype=batch.dtype, device=batch.device).view(3, 1, 1)
    std_t = torch.as_tensor(std, dtype=batch.dtype, device=batch.device).view(3, 1, 1)
    if (std_t <= 0).any():
        raise ValueError(f"std must be positive, got {list(std)}")
    return (batch - mean_t) / std_t


def _square(box: np.ndarray, margin: float) -> tuple[int, int, int]:
    """The square crop of one XYXY box: its integer top-left corner and side in pixels."""
    x0, y0, x1, y1 = (float(v) for v in box)
    bw, bh = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    side = max(1, math.floor(max(bw, bh) * (1 + 2 * margin) + 0.5))
    return math.floor(cx - side / 2 + 0.5), math.floor(cy - side / 2 + 0.5), side


def _resize(patch: np.ndarray, size: int) -> np.ndarray:
    """`patch` (side×side×C) at size×size: area averaging to shrink, bilinear to enlarge; never
    outside the patch's own range (float rounding of the weights can overshoot by an ulp)."""
    side = patch.shape[0]
    if side == size:
        return patch
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    # OpenCV resizes at most 4 planes at a time and drops a single plane's axis.
    parts = [
        cv2.resize(patch[:, :, k : k + 4], (size, size), interpolation=interpolation)
        for k in range(0, patch.shape[2], 4)
    ]
    parts = [p.reshape(size, size, -1) for p in parts]
    resized = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=2)
    if resized.dtype.kind == "f":
        np.clip(resized, patch.min(), patch.max(), out=resized)
    return resized


def _as_numpy(values: object) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def _check_mode(mode: str) -> None:
    if mode not in CHANNEL_MODES:
        raise ValueError(f"mode must be one of {CHANNEL_MODES}, got {mode!r}")
