"""Simulated objects of interest projected into real bag scans (threat image projection, TIP).

For image i of a dataset with seed S, `default_rng([S, i])` draws everything, so the files do
not depend on how many worker processes made them. Each image:

1. takes a real background scan (the usable ones in a seed-shuffled cycle) and its **bag
   region**: the pixels that are not white in the false-colour image (HSV saturation < 0.12
   and value > 0.85 is air, the white class of `engine.synth.realism`), closed morphologically
   (about 1.5 % of the image's longer side) so thin gaps between straps and clothes join, then
   the largest 8-connected component with its holes filled;
2. **estimates the scan's pixel pitch** from the bag: a real scan carries no calibration, but
   checked and cabin bags are 40-70 cm long, so the bag's longer side (of the minimum-area
   rectangle around the region, which ignores the bag's turn on the belt) is taken to be a
   length drawn per image from a triangular distribution 42-55-68 cm, and
   pitch = length_cm / length_px, clamped to 0.05-0.25 cm/px. Objects then come out at a
   plausible size relative to the bag, and the per-image draw varies their scale by about
   ±20 % as the real bag lengths do. Handles, wheels and the fan beam's 10-30 % stretch across
   the belt (physics.md §1) lengthen the region a little, so objects err on the small side;
3. places 1-4 objects of interest (`BagConfig.min_objects/max_objects`, at least one; categories,
   anomaly share and types as for simulated bags), each rendered alone with
   `tip.render_object` at that pitch in a mostly flat pose (a random turn about the vertical,
   which for `BagConfig.aligned_hosts` of them, four in five since simulator v2.62, is squared
   to the bag's axes within σ 7° as in simulated bags; a tilt of ~0.1 rad about the others),
   at a position where its whole mask lies inside the bag region, at least 1 cm from its edge
   (the bag's own wall), and overlaps earlier objects by at most a fifth of its area. An object
   that finds no such position in a few tries is tried once more lined up with the bag's long
   axis (as a packer lines up a laptop), then left out;
4. projects each with `tip.project`: colour-only scans (SIXray) through the colour
   approximation, dual-energy scans through their low and high transmissions.

Ground truth is exact for the rendered object: the instance mask is where the object has
material (overlapping objects each keep their full mask: X-rays add), the anomaly mask where
the concealed item has. The anomaly's visibility means what `engine.synth.bag.anomaly_visibility`
computes for simulated bags: mean |Δ ln T_high| over the anomaly mask (the object with vs
without the anomaly, or with the design's own part for a swapped one; the bag's transmission
cancels in the log) over the noise σ of ln T_high at the final pixel, with the simulator's
photon budget at the estimated pitch and its electronic noise. The stack's photon variance is
taken as the object's times the rest's transmission: the same no-beam-hardening approximation
as the projection itself. A dual-energy background whose display is greyscale (raw channels,
no Zeff) is recoloured with our scanner's calibration, so that the projected pixels and the
rest share one colour map.

Each worker process keeps the last `_CACHED_BACKGROUNDS` backgrounds it loaded (a bound, since
a decoded SIXray scan with its region takes ~4 MB); loading one takes ~30 ms, rendering and
projecting an image's objects ~0.5 s.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from engine.colour import false_colour
from engine.config import to_dict
from engine.errors import EngineError
from engine.io import Scan, ScanLoadError, load_scan
from engine.io.load import list_scans
from engine.io.write import save_scan
from engine.synth.bag import BagConfig, ObjectTruth, anomaly_change, squared
from engine.synth.dataset import (
    SynthConfig,
    _scanner,
    object_annotation,
    worker_map,
    write_coco,
)
from engine.synth.objects import ObjectModel, build, draw, insert_anomaly, place
from engine.synth.parts import side_rng
from engine.synth.scanner import Scanner
from engine.synth.shapes import Canvas, rotation
from engine.synth.tip import TIP_STYLE, ThreatObject, colour_to_physics, project, render_object

__all__ = [
    "Background",
    "BackgroundError",
    "bag_region",
    "estimate_pitch",
    "list_backgrounds",
    "load_background",
    "project_objects",
    "read_names",
    "write_tip_dataset",
]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff")
MIN_SIDE_PX = 64  # a background smaller than this a side is refused
MIN_BAG_SHARE = 0.05  # a bag covering less of the image than this is refused
BAG_LENGTH_CM = (42.0, 55.0, 68.0)  # triangular (low, mode, high) of a bag's longer side
PITCH_RANGE_CM = (0.05, 0.25)
TILT_RAD = 0.1  # standard deviation of the tilt about the horizontal axes
BAG_WALL_CM = 1.0  # objects keep this far inside the bag region's edge: the bag's own wall
MAX_OVERLAP = 0.2  # share of a new object's mask that may lie on earlier objects
PLACEMENT_TRIES = 12

_WHITE_S, _WHITE_V = 0.12, 0.85  # air: the white class of engine.synth.realism
_COLOURED_S, _DARK_V = 0.12, 0.2
_MIN_COLOURED_SHARE = 0.02  # of the bag's pixels; below it a colour-only scan is greyscale
_CLOSE_SHARE = 0.015  # closing kernel, as a share of the image's longer side
_MARGIN_PX = 2  # air around a rendered object's crop (render_object's default)
_COARSE_PX = 48  # an object's longer side on the coarse placement grid
_ORDER_KEY = 0x746970  # "tip": the background order's stream, apart from the images' [S, i]
_CACHED_BACKGROUNDS = 32


class BackgroundError(EngineError, ValueError):
    """A background scan cannot be used; the message is one line naming the file and why."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = " ".join(str(problem).split())
        super().__init__(f"{self.path}: {self.problem}")

    def __reduce__(self):
        """(path, problem) again, so the error crosses a process pool whole (a worker's
        exception is pickled; the default would call __init__ with the message alone)."""
        return type(self), (self.path, self.problem)


@dataclass(frozen=True, eq=False)
class Background:
    """A real scan with its bag region (bool H×W), the region's longer side in pixels and the
    direction of its long axis (radians from the image's x axis towards its y axis)."""

    path: Path
    scan: Scan
    region: np.ndarray
    length_px: float
    axis_rad: float = 0.0


# ----- backgrounds ------------------------------------------------------------------------------
def list_backgrounds(source: str | Path) -> list[Path]:
    """The background files named by `source`: a folder, a list file, or one image.

    A folder gives its *.jpg/*.jpeg/*.png/*.tif(f) scans (channel and `_mask` files beside a
    scan are not scans). A list file holds one name per line (blank lines and `#` comments
    skipped), each relative to the list's folder, else to a `sixray_benign/` folder beside it.
    Raises FileNotFoundError when `source` does not exist.
    """
    source = Path(source)
    if source.is_dir():
        return [p for p in list_scans(source) if p.suffix.lower() in IMAGE_SUFFIXES]
    if not source.is_file():
        raise FileNotFoundError(f"no such folder or list file: {source}")
    if source.suffix.lower() in IMAGE_SUFFIXES:
        return [source]
    paths = []
    for name in _list_lines(source):
        here = source.parent / name
        beside = source.parent / "sixray_benign" / name
        paths.append(here if here.exists() or not beside.exists() else beside)
    return paths


def _list_lines(source: Path) -> list[str]:
    """The entries of a list file: one a line, blank lines and `#` comments skipped."""
    try:
        lines = source.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise FileNotFoundError(f"cannot read the list file {source}: {exc}") from None
    return [name for name in (line.split("#", 1)[0].strip() for line in lines) if name]


def read_names(source: str | Path) -> list[str]:
    """The file names a list file holds (`exclude` of `write_tip_dataset`)."""
    return [Path(name).name for name in _list_lines(Path(source))]


def bag_region(image: np.ndarray) -> tuple[np.ndarray, float]:
    """The bag in a false-colour uint8 RGB image: (bool mask, its longer side in pixels).

    Not-white pixels, closed, the largest component with its holes filled; the longer side is
    that of the minimum-area rectangle around it (so a bag turned on the belt is not longer).
    """
    return _region(_hsv(image))


def _hsv(image: np.ndarray) -> np.ndarray:
    """Float HSV of a uint8 RGB image: hue in degrees, saturation and value in [0, 1]."""
    return cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2HSV)


def _region(hsv: np.ndarray) -> tuple[np.ndarray, float]:
    content = ~((hsv[..., 1] < _WHITE_S) & (hsv[..., 2] > _WHITE_V))
    size = max(3, round(_CLOSE_SHARE * max(hsv.shape[:2])) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    closed = cv2.morphologyEx(content.astype(np.uint8), cv2.MORPH_CLOSE, kernel)
    contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    region = np.zeros(hsv.shape[:2], np.uint8)
    if not contours:
        return region.astype(bool), 0.0
    largest = max(contours, key=cv2.contourArea)
    cv2.drawContours(region, [largest], -1, 1, thickness=cv2.FILLED)
    (_, _), (w, h), _ = cv2.minAreaRect(largest)
    return region.astype(bool), float(max(w, h))


def load_background(path: str | Path) -> Background:
    """Load a scan and find its bag; raises BackgroundError saying why it cannot be used."""
    path = Path(path)
    try:
        scan = load_scan(path)
    except ScanLoadError as exc:
        raise BackgroundError(path, exc.problem) from None
    if min(scan.width, scan.height) < MIN_SIDE_PX:
        raise BackgroundError(
            path, f"too small ({scan.width}×{scan.height} px, under {MIN_SIDE_PX} px a side)"
        )
    hsv = _hsv(scan.image)
    region, length_px = _region(hsv)
    share = float(region.mean())
    if share < MIN_BAG_SHARE:
        raise BackgroundError(
            path, f"no bag found (the largest non-white region covers {share:.1%} of the image)"
        )
    if not scan.has_dual_energy:
        coloured = (hsv[..., 1] >= _COLOURED_S) & (hsv[..., 2] >= _DARK_V)
        if float(coloured[region].mean()) < _MIN_COLOURED_SHARE:
            raise BackgroundError(
                path, "greyscale without dual-energy channels: no colour to read materials from"
            )
    moments = cv2.moments(region.astype(np.uint8), binaryImage=True)
    axis = 0.5 * math.atan2(2 * moments["mu11"], moments["mu20"] - moments["mu02"])
    return Background(path, scan, region, length_px, axis)


@lru_cache(maxsize=_CACHED_BACKGROUNDS)
def _cached_background(path: str) -> Background:
    return load_background(path)


def _check_background(path: str) -> str | None:
    """Why `path` cannot be a background, or None; loading it warms this worker's cache."""
    try:
        _cached_background(path)
    except BackgroundError as exc:
        return exc.problem
    except Exception as exc:  # an image no check foresaw: skip it, name it, go on
        return " ".join(f"{type(exc).__name__}: {exc}".split())
    return None


def estimate_pitch(length_px: float, rng: np.random.Generator) -> tuple[float, float]:
    """(pitch cm/px, the bag length in cm drawn for it): see the module docstring."""
    length_cm = float(rng.triangular(*BAG_LENGTH_CM))
    pitch = float(np.clip(length_cm / max(length_px, 1.0), *PITCH_RANGE_CM))
    return pitch, length_cm


# ----- one object ------------------------------------------------------------------------------
@dataclass
class _Rendered:
    """A rendered object and, when anomalous, its anomaly's truth on the object's crop."""

    model: ObjectModel
    obj: ThreatObject
    anomaly: np.ndarray | None = None  # bool, where the anomaly has material
    delta: np.ndarray | None = None  # |Δ ln T_high| the anomaly causes
    noise: np.ndarray | None = None  # variance of T_high per incident photon, over T_high


def _render(model: ObjectModel, scanner: Scanner, pitch: float, rot: np.ndarray) -> _Rendered:
    """`render_object`, plus for an anomalous model the anomaly's mask and contrast."""
    obj = render_object(model, scanner, pitch_cm=pitch, rotation=rot, margin_px=_MARGIN_PX)
    if not model.anomalous:
        return _Rendered(model, obj)
    # Draw the model again on the canvas render_object uses, to split host and anomaly.
    side = int(np.ceil(float(np.linalg.norm(model.size)) / pitch)) + 2 * _MARGIN_PX + 4
    for _ in range(4):
        canvas = Canvas(side, side, pitch)
        centre = side * pitch / 2
        drawn = draw(canvas, place(model, (centre, centre, 0.0), rot))
        footprint = canvas.footprint()
        border = (footprint[0], footprint[-1], footprint[:, 0], footprint[:, -1])
        if not any(b.any() for b in border):
            break
        side *= 2
    crop = _crop(footprint, _MARGIN_PX)
    if not np.array_equal(footprint[crop], obj.mask):
        raise RuntimeError(f"the {model.category}'s anomaly does not line up with its render")
    shape = (canvas.height, canvas.width)
    anomaly = np.zeros(shape, bool)
    delta = np.zeros(shape, np.float32)
    noise = np.ones(shape, np.float32)
    window = drawn.anomaly_window
    if window is not None and drawn.anomaly is not None and drawn.anomaly.any():
        region, change, t_with, variance = anomaly_change(
            canvas, window, drawn.replaced_window, scanner
        )
        delta[region] = change
        noise[region] = variance / t_with
        anomaly = drawn.anomaly & footprint
    return _Rendered(model, obj, anomaly[crop], delta[crop], noise[crop])


def _crop(mask: np.ndarray, margin: int) -> tuple[slice, slice]:
    """Rows and columns around a mask's pixels, `margin` wider (within bounds)."""
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    h, w = mask.shape
    return (
        slice(max(rows[0] - margin, 0), min(rows[-1] + 1 + margin, h)),
        slice(max(cols[0] - margin, 0), min(cols[-1] + 1 + margin, w)),
    )


def _pool(mask: np.ndarray, f: int, any_: bool) -> np.ndarray:
    """`mask` on a grid f times coarser: a cell is True if any (or all) of its pixels are."""
    h, w = mask.shape
    hp, wp = -(-h // f) * f, -(-w // f) * f
    padded = np.zeros((hp, wp), bool)
    padded[:h, :w] = mask
    cells = padded.reshape(hp // f, f, wp // f, f)
    return cells.any((1, 3)) if any_ else cells.all((1, 3))


def _find_spot(
    region: np.ndarray, taken: np.ndarray, mask: np.ndarray, rng: np.random.Generator
) -> tuple[int, int] | None:
    """A top-left (x, y) where `mask` lies inside `region` and mostly off `taken`, or None.

    Candidates come from an erosion on a coarse grid (the region shrunk to whole cells, the
    mask grown to them, so every coarse fit is a fit), each jittered within its cell and
    checked at full resolution.
    """
    h, w = mask.shape
    big_h, big_w = region.shape
    if h > big_h or w > big_w:
        return None
    f = max(1, math.ceil(max(h, w) / _COARSE_PX))
    inside = _pool(region, f, any_=False).astype(np.uint8)
    kernel = _pool(mask, f, any_=True).astype(np.uint8)
    fits = cv2.erode(
        inside,
        kernel,
        anchor=(0, 0),
        borderType=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    cells = np.argwhere(fits > 0)
    if len(cells) == 0:
        return None
    area = int(mask.sum())
    for _ in range(PLACEMENT_TRIES):
        cy, cx = cells[int(rng.integers(len(cells)))]
        jy, jx = (int(v) for v in rng.integers(0, f, 2))
        for y, x in ((cy * f + jy, cx * f + jx), (cy * f, cx * f)):
            if y + h > big_h or x + w > big_w:
                continue
            window = (slice(y, y + h), slice(x, x + w))
            if not region[window][mask].all():
                continue
            if int(taken[window][mask].sum()) <= MAX_OVERLAP * area:
                return int(x), int(y)
            break  # inside the bag but on other objects: try another cell
    return None


# ----- one image ------------------------------------------------------------------------------
@dataclass
class _Placed:
    rendered: _Rendered
    at: tuple[int, int]
    mask: np.ndarray  # bool H×W instance mask


def project_objects(
    background: Background,
    rng: np.random.Generator,
    config: BagConfig,
    scanner: Scanner,
) -> tuple[Scan, list[ObjectTruth], dict]:
    """Project 1-4 simulated objects into `background`'s bag.

    Returns the new scan, each placed object's truth (with its design), and a record of the
    pitch and of what was left out.
    """
    scan = _coloured(background.scan, scanner)
    pitch, length_cm = estimate_pitch(background.length_px, rng)
    low = max(config.min_objects, 1)
    count = int(rng.integers(low, max(config.max_objects, low), endpoint=True))
    height, width = scan.height, scan.width
    inside = _inside(background.region, BAG_WALL_CM / pitch)
    taken = np.zeros((height, width), bool)
    placed: list[_Placed] = []
    skipped = 0
    for _ in range(count):
        model = build(str(rng.choice(config.categories)), rng, wire_guards=config.wire_guards)
        if rng.random() < config.anomaly_share:
            model = insert_anomaly(model, str(rng.choice(config.anomaly_types)), rng)
        # A random turn first, squared to the bag's axes for `aligned_hosts` of the items (on
        # numbers of their own, as in simulated bags); an item that does not fit is lined up
        # with the bag's long axis, as a packer lines up a laptop.
        square = side_rng(rng, b"host heading") if config.aligned_hosts > 0 else None
        for lined_up in (False, True):
            if lined_up:
                along = background.axis_rad + float(rng.choice([0.0, np.pi])) + rng.normal(0, 0.05)
            else:
                along = rng.uniform(0, 2 * np.pi)
                if square is not None and square.random() < config.aligned_hosts:
                    along = squared(along, square, background.axis_rad)
            turn = rotation(rng.normal(0, TILT_RAD), rng.normal(0, TILT_RAD), along)
            rendered = _render(model, scanner, pitch, turn)
            at = _find_spot(inside, taken, rendered.obj.mask, rng)
            if at is not None:
                break
        if at is None:
            skipped += 1
            continue
        scan, mask = project(scan, rendered.obj, at, scanner=scanner)
        taken |= mask
        placed.append(_Placed(rendered, at, mask))
    objects = [_truth(p, placed, background.scan, pitch, scanner) for p in placed]
    record = {
        "pitch_cm": pitch,
        "bag_length_cm": length_cm,
        "bag_length_px": background.length_px,
        "objects_left_out": skipped,
    }
    return scan, objects, record


def _inside(region: np.ndarray, wall_px: float) -> np.ndarray:
    """The bag region less `wall_px` pixels along its edge (the image's edge counts as one)."""
    padded = np.pad(region.astype(np.uint8), 1)
    depth = cv2.distanceTransform(padded, cv2.DIST_L2, 3)[1:-1, 1:-1]
    return depth > wall_px


def _coloured(scan: Scan, scanner: Scanner) -> Scan:
    """A dual-energy scan whose display is greyscale, recoloured with our calibration.

    Projected pixels get our false colour; the rest of the bag should match them.
    """
    image = scan.image
    grey = bool((image[..., 0] == image[..., 1]).all() and (image[..., 1] == image[..., 2]).all())
    if not (scan.has_dual_energy and grey):
        return scan
    zeff = scan.zeff if scan.zeff is not None else scanner.zeff(scan.low, scan.high)
    return replace(scan, image=false_colour(scan.high, zeff, TIP_STYLE), zeff=zeff)


def _paste(crop: np.ndarray, at: tuple[int, int], shape: tuple[int, int], fill) -> np.ndarray:
    """`crop` put at top-left `at` = (x, y) into an array of `shape` filled with `fill`."""
    out = np.full(shape, fill, crop.dtype)
    x, y = at
    h, w = crop.shape
    r0, c0 = max(y, 0), max(x, 0)
    r1, c1 = min(y + h, shape[0]), min(x + w, shape[1])
    out[r0:r1, c0:c1] = crop[r0 - y : r1 - y, c0 - x : c1 - x]
    return out


def _truth(
    p: _Placed, placed: list[_Placed], background: Scan, pitch: float, scanner: Scanner
) -> ObjectTruth:
    """The object's ground truth; an anomaly's visibility as `bag.anomaly_visibility` means it."""
    model, r = p.rendered.model, p.rendered
    truth = ObjectTruth(
        model.category, p.mask, model.anomalous, model.anomaly_type, design=model.design
    )
    if not model.anomalous or r.anomaly is None:
        return truth
    shape = p.mask.shape
    anomaly = _paste(r.anomaly, p.at, shape, False) & p.mask
    truth.anomaly_mask = anomaly
    if not anomaly.any():
        truth.anomaly_visibility = 0.0  # thinner than the pixel grid samples: no trace at all
        return truth
    # T_high at the anomaly: the background's (read from its colour when it has no channels)
    # times every projected object's, this one included.
    rows, cols = np.nonzero(anomaly)
    box = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
    if background.high is not None:
        t_bag = background.high[box]
    else:
        t_bag = colour_to_physics(background.image[box])[0]
    t_total = t_bag.astype(np.float64)
    for q in placed:
        t_total = t_total * _paste(q.rendered.obj.high, q.at, shape, 1.0)[box]
    m = anomaly[box]
    t = np.maximum(t_total[m], 1e-9)
    variance = _paste(r.noise, p.at, shape, 1.0)[box][m] * t
    cfg = scanner.config
    photons = cfg.photons_per_pixel * (pitch / cfg.detector_pitch_cm) ** 2
    sigma_ln = np.sqrt(variance / photons + cfg.electronic_noise**2) / t
    delta = _paste(r.delta, p.at, shape, 0.0)[box][m]
    truth.anomaly_visibility = float((delta / sigma_ln).mean())
    return truth


def _make_one(job: tuple[Path, int, int, str, SynthConfig]) -> tuple[dict, list[dict]]:
    """Project objects into background `path` as image `index`; returns its record and anns."""
    out, seed, index, path, config = job
    rng = np.random.default_rng([seed, index])
    variants = config.scanners()
    scanner = _scanner(variants[int(rng.integers(len(variants)))])
    background = _cached_background(path)
    scan, objects, record = project_objects(background, rng, config.bag, scanner)
    name = f"tip_{index:06d}"
    save_scan(scan, out / "images" / name, durable=False)  # made again from the seed
    image = {
        "id": index + 1,
        "file_name": f"images/{name}.png",
        "width": scan.width,
        "height": scan.height,
        "seed": [seed, index],
        "background": background.path.name,
        **record,
        "scanner": scanner.config.to_dict(),
        "tip": json.loads(scan.meta.extra.get("tip", "[]")),
    }
    roles = [r for r in ("low", "high", "zeff") if getattr(scan, r) is not None]
    if roles:
        image["channels"] = {r: f"images/{name}_{r}.png" for r in roles}
    anns = []
    for truth in objects:
        ann = object_annotation(truth, index + 1)
        ann["attributes"] = {**ann["attributes"], "design": truth.design, "projected": True}
        anns.append(ann)
    return image, anns


# ----- a dataset --------------------------------------------------------------------------------
def write_tip_dataset(
    out: str | Path,
    n: int,
    backgrounds: str | Path,
    seed: int = 0,
    *,
    config: SynthConfig | None = None,
    workers: int = 1,
    progress: bool = True,
    on_skip: Callable[[Path, str], None] | None = None,
    exclude: Collection[str] = (),
) -> Path:
    """Write `n` images of simulated objects projected into real scans, and `annotations.json`.

    `backgrounds` is a folder, a list file or one image (`list_backgrounds`). Every background
    that cannot be used is reported once through `on_skip(path, why)` and left out; none usable
    raises BackgroundError, a missing `backgrounds` FileNotFoundError. Backgrounds whose file
    names are in `exclude` (e.g. scans holding unlabelled objects of our classes) are left out
    and recorded as excluded. Image i is drawn from
    `default_rng([seed, i])`, so the files do not depend on `workers`. Returns the JSON's path.
    """
    from tqdm import tqdm

    out = Path(out)
    config = config or SynthConfig()
    paths = list_backgrounds(backgrounds)
    if not paths:
        raise BackgroundError(backgrounds, "names no scans (*.jpg, *.jpeg, *.png, *.tif)")
    excluded = [p.name for p in paths if p.name in set(exclude)]
    paths = [p for p in paths if p.name not in set(exclude)]
    if not paths:
        raise BackgroundError(backgrounds, f"every background is excluded ({len(excluded)})")
    usable, skipped = [], []
    with worker_map(workers) as imap:
        for path, why in zip(paths, imap(_check_background, map(str, paths)), strict=True):
            if why is None:
                usable.append(path)
                continue
            skipped.append({"file": path.name, "why": why})
            if on_skip is not None:
                on_skip(path, why)
        if not usable:
            raise BackgroundError(backgrounds, f"no usable background ({len(paths)} skipped)")
        (out / "images").mkdir(parents=True, exist_ok=True)
        order = np.random.default_rng([seed, _ORDER_KEY]).permutation(len(usable))
        jobs = [(out, seed, i, str(usable[order[i % len(usable)]]), config) for i in range(n)]
        results = []
        with tqdm(total=n, desc="tip", unit="bag", disable=not progress) as bar:
            for r in imap(_make_one, jobs):
                results.append(r)
                bar.update()
    info = {
        "description": "engine.synth simulated objects projected into real scans (TIP)",
        "seed": seed,
        # what was used: projection paints with the palette it reads real scans through
        "config": {**to_dict(config), "colour": to_dict(TIP_STYLE), "jitter_colour": False},
        "backgrounds": [p.name for p in usable],
        "skipped_backgrounds": skipped,
        "excluded_backgrounds": excluded,
    }
    return write_coco(out, results, info)
