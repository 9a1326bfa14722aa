"""torch Datasets of stage-2 inputs: object crops from COCO files and folders, whole scans.

Every item is cut by `crop_objects`, the function inference uses on the detector's boxes, so
training and test inputs are made the same way. Labels: 0 benign, 1 anomalous (COCO
`attributes.anomalous`). Augmentation (`train=True`) is seeded per (seed, epoch, index) under a
forked RNG, like `engine.data.coco.CocoDetection`: an item is the same whatever the DataLoader's
worker count, and the global torch RNG is untouched. Call `set_epoch` before each epoch.
"""

from __future__ import annotations

import functools
import math
import multiprocessing
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import torch

from engine.classification.anomaly_map import UNKNOWN
from engine.classification.crops import AIR_VALUE, CHANNEL_MODES, crop_objects, scan_channels
from engine.data.coco import (
    _check_dataset,
    _pick_categories,
    decode_segmentation,
    sample_seed,
)
from engine.data.split import image_root as find_root
from engine.data.split import is_anomalous, load_coco, resolve_annotations
from engine.errors import DatasetError
from engine.io import list_scans, load_scan

if TYPE_CHECKING:
    from engine.classification.config import ClassifierConfig

CLASS_NAMES = ("benign", "anomalous")  # label 0 and label 1; also FolderCrops' folder names
JITTER = 0.1  # train-time box jitter: scale and shift up to ±10 % of the box
SCAN_CACHE_SIZE = 16  # decoded scans kept per process (~4 MB each at 640×480 in float32)

Item = tuple[torch.Tensor, int]
MapItem = tuple[torch.Tensor, int, torch.Tensor]  # with the anomaly map target, S×S


class CropItem(NamedTuple):
    """Where one `ObjectCrops` item comes from."""

    image_id: int
    annotation_id: int | str | None
    category: str


@functools.lru_cache(maxsize=SCAN_CACHE_SIZE)
def _channels(path: str, mode: str) -> np.ndarray:
    """The float32 H×W×3 channels of the scan at `path`, cached: objects share scans.

    One cache per process, so each DataLoader worker keeps its own. Only "dual" reads the
    companion files (`<stem>_low/_high/_zeff.png`).
    """
    scan = load_scan(path, companions=mode == "dual")
    channels = scan_channels(scan, mode)
    channels.flags.writeable = False  # shared between items: nobody may edit it in place
    return channels


class _CropDataset(torch.utils.data.Dataset):
    """What the crop datasets share: settings, epochs, seeded augmentation, `labels`."""

    def __init__(
        self, *, size: int, margin: float, mode: str, train: bool, seed: int, jitter: float
    ) -> None:
        if mode not in CHANNEL_MODES:
            raise ValueError(f"mode must be one of {CHANNEL_MODES}, got {mode!r}")
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ValueError(f"size must be a positive int, got {size!r}")
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        if not (math.isfinite(jitter) and 0 <= jitter < 1):
            raise ValueError(f"jitter must be in [0, 1), got {jitter!r}")
        self.size = size
        self.margin = margin
        self.mode = mode
        self.train = train
        self.seed = seed
        self.jitter = jitter
        self.epoch = 0
        self.labels: list[int] = []
        self.masks = False  # outside the instance mask is air (ObjectCrops)
        self.align = False  # crops turned along their masks (ObjectCrops)
        self.anomaly_maps = False  # items also carry where the anomaly is (see anomaly_map/)

    def __len__(self) -> int:
        return len(self.labels)

    def set_epoch(self, epoch: int) -> None:
        """Draw the augmentations of `epoch`: each epoch sees new ones, reproducibly."""
        if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
            raise ValueError(f"epoch must be a non-negative int, got {epoch!r}")
        self.epoch = epoch

    def __getitem__(self, index: int) -> Item:
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} items")
        index %= len(self)
        channels, box, mask = self._source(index)
        target = self._anomaly_target(index, channels.shape[:2]) if self.anomaly_maps else None
        if not self.train:
            return self._item(index, channels, box, mask, target)
        with torch.random.fork_rng(devices=[]):
            # the CPU generator alone: torch.manual_seed also queues seeds for CUDA, XPU and
            # MTIA, formatting a stack trace each time (~0.4 ms an item)
            torch.random.default_generator.manual_seed(sample_seed(self.seed, self.epoch, index))
            item = self._item(index, channels, jitter_box(box, self.jitter), mask, target)
            turns = not self.align  # an aligned crop keeps its long axis across: flips only
            if not self.anomaly_maps:
                return flip_rotate(item[0], turns=turns), item[1]
            both = flip_rotate(torch.cat([item[0], item[2][None]]), turns=turns)
            return both[:3], item[1], both[3]

    def _item(self, index: int, channels, box, mask, target) -> Item | MapItem:
        if not self.anomaly_maps:
            return self._crop(channels, box, mask), self.labels[index]
        if target is None:  # no pixel labels for this object: only its crop label counts
            crop = self._crop(channels, box, mask)
            return crop, self.labels[index], torch.full((self.size, self.size), UNKNOWN)
        both = self._crop(np.concatenate([channels, target[:, :, None]], axis=2), box, mask)
        return both[:-1], self.labels[index], both[-1]  # the map is cut exactly as the crop

    def _crop(self, channels: np.ndarray, box: np.ndarray, mask: np.ndarray | None) -> torch.Tensor:
        """One crop; planes past the mode's three (a target map) are padded with 0.

        `mask` blanks the outside when the dataset masks, turns the crop when it aligns."""
        mask = None if mask is None else mask[None]
        air = [AIR_VALUE[self.mode]] * 3 + [0.0] * (channels.shape[2] - 3)
        return crop_objects(
            channels,
            box[None],
            size=self.size,
            margin=self.margin,
            masks=mask if self.masks else None,
            mode=self.mode,
            air=air,
            orient=mask if self.align else None,
        )[0]

    def _anomaly_target(self, index: int, shape: tuple[int, int]) -> np.ndarray | None:
        """Where item `index`'s inserted item lies (H×W float32 0/1); None when unknown."""
        return None

    def _source(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Item `index` before cropping: channels H×W×3, XYXY box (4,), mask H×W or None."""
        raise NotImplementedError


class ObjectCrops(_CropDataset):
    """One crop per non-crowd annotation with a usable box, labelled by `attributes.anomalous`.

    `labels` (0/1 per item, for `balanced_sampler`) and `items` (`CropItem`: image id,
    annotation id, category name) follow the file's order. With `masks=True` the outside of the
    object's segmentation (its box when it has none) is air. `min_visibility` leaves out
    anomalies whose `attributes.anomaly_visibility` is below it (a curriculum's first stage). A
    file where no annotation carries `attributes.anomalous` cannot train a classifier: ValueError.
    Where only some do, the others count as benign, as in `engine.data.split`. "dual" mode needs
    the companion channel files. With `anomaly_maps=True` each item is (crop, label, map): the
    crop's S×S share covered by the inserted item (`attributes.anomaly_segmentation`), zeros
    for benign objects, `UNKNOWN` where an anomaly has no segmentation.
    """

    def __init__(
        self,
        annotations: str | Path,
        image_root: str | Path | None = None,
        *,
        size: int = 224,
        margin: float = 0.15,
        mode: str = "rgb",
        masks: bool = False,
        align: bool = False,
        train: bool = False,
        seed: int = 0,
        categories: Sequence[str] | None = None,
        jitter: float = JITTER,
        min_visibility: float | None = None,
        anomaly_maps: bool = False,
    ) -> None:
        super().__init__(size=size, margin=margin, mode=mode, train=train, seed=seed, jitter=jitter)
        data, path, root = _read_coco(annotations, image_root)
        self.annotations_path = path
        self.image_root = root
        self.masks = masks
        self.align = align
        self.anomaly_maps = anomaly_maps
        file_categories = sorted(data["categories"], key=lambda c: c["id"])
        chosen = (
            file_categories
            if categories is None
            else _pick_categories(file_categories, categories, path)
        )
        names = {c["id"]: str(c.get("name", c["id"])) for c in chosen}
        self._images = {image["id"]: image for image in data["images"]}
        # see `preload`: per item, the window's corner (x0, y0), its channels, the scan's (h, w)
        self._windows: list[tuple[int, int, np.ndarray, tuple[int, int]]] | None = None
        self.items: list[CropItem] = []
        self._annotations: list[dict] = []
        for ann in data["annotations"]:
            if ann.get("iscrowd") or ann.get("category_id") not in names:
                continue
            record = self._images[ann["image_id"]]  # load_coco checked that it exists
            if not _usable(ann["bbox"], record):
                continue
            if min_visibility is not None and is_anomalous(ann):
                seen = (ann.get("attributes") or {}).get("anomaly_visibility")
                if seen is not None and seen < min_visibility:
                    continue  # too faint for this stage of training (unknown: kept)
            self._annotations.append(ann)
            self.items.append(CropItem(record["id"], ann.get("id"), names[ann["category_id"]]))
            self.labels.append(int(is_anomalous(ann)))

    def attributes(self, index: int) -> dict:
        """The item's annotation `attributes` (anomaly type, visibility, ...); {} when none."""
        return dict(self._annotations[index].get("attributes") or {})

    def preload(self, workers: int = 0) -> None:
        """Keep each object's neighbourhood in memory, read by `workers` processes (0: this one).

        The neighbourhood is the window every crop of the object can reach (margin, box jitter,
        turning), so crops stay the same (to float32 rounding); an epoch then decodes no image,
        which keeps a GPU fed (a dual-energy scan costs ~20 ms to read, a crop from memory ~3).
        """
        started = time.monotonic()
        tasks = [self._window_task(i) for i in range(len(self))]
        needed, free = sum(_window_bytes(task) for task in tasks), available_memory()
        if free is not None and needed > 0.8 * free:
            raise DatasetError(
                f"{self.annotations_path}: preloading {len(self)} objects needs about "
                f"{needed / 2**30:.1f} GB and {free / 2**30:.1f} GB of memory is free: "
                "train with data.preload=false, or on fewer objects"
            )
        if workers > 0 and len(tasks) > 1:
            with multiprocessing.get_context().Pool(min(workers, len(tasks))) as pool:
                windows = pool.map(_read_window, tasks, chunksize=8)
        else:
            windows = [_read_window(task) for task in tasks]
        self._windows = [
            (task[-1][0], task[-1][1], window, shape)
            for task, (window, shape) in zip(tasks, windows, strict=True)
        ]
        mb = sum(w[2].nbytes for w in self._windows) / 2**20
        print(
            f"{self.annotations_path.name}: {len(self)} objects in memory ({mb:.0f} MB, "
            f"{time.monotonic() - started:.1f} s)",
            file=sys.stderr,
        )

    def _window_task(self, index: int) -> tuple:
        """What `_read_window` needs for item `index`: where the scan is, which window (x0, y0,
        x1, y1) to keep."""
        ann = self._annotations[index]
        record = self._images[ann["image_id"]]
        x, y, bw, bh = (float(v) for v in ann["bbox"])
        side = max(bw, bh)
        # how far a crop reaches from the box centre: the jittered centre, then half the
        # jittered, margined square. A turned crop's square has up to the mask's long side, at
        # most the box's diagonal, and reaches its half-diagonal: twice as far at most.
        half = 0.5 * side * (1 + self.jitter) * (1 + 2 * self.margin)
        reach = self.jitter * side + half * (2 if self.align else 1) + 6  # + rounding, taps
        cx, cy = x + bw / 2, y + bh / 2
        x0, y0 = max(0, math.floor(cx - reach)), max(0, math.floor(cy - reach))
        x1, y1 = math.ceil(cx + reach), math.ceil(cy + reach)  # slicing stops at the edge
        return self.image_root, record, self.mode, self.annotations_path, (x0, y0, x1, y1)

    def _cut(self, index: int, plane: np.ndarray | None) -> np.ndarray | None:
        """A whole-scan plane (mask, anomaly map) cut to item `index`'s preloaded window."""
        if plane is None or self._windows is None:
            return plane
        x0, y0, window, _ = self._windows[index]
        return plane[y0 : y0 + window.shape[0], x0 : x0 + window.shape[1]]

    def _source(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        ann = self._annotations[index]
        record = self._images[ann["image_id"]]
        x, y, bw, bh = (float(v) for v in ann["bbox"])
        box = np.array([x, y, x + bw, y + bh])
        if self._windows is None:
            channels = _load_checked(self.image_root, record, self.mode, self.annotations_path)
        else:  # the window is what the scan is for this item: boxes count from its corner
            x0, y0, channels, _ = self._windows[index]
            box = box - np.array([x0, y0, x0, y0])
        mask = None
        if self.masks or self.align:
            h, w = channels.shape[:2] if self._windows is None else self._windows[index][3]
            try:
                mask = decode_segmentation(ann.get("segmentation"), h, w)
            except ValueError as exc:
                where = f"{self.annotations_path}: annotation {ann.get('id')!r}"
                raise DatasetError(f"{where}: {exc}") from exc
            if mask is None:  # bbox-only annotation: the box is the best mask there is
                mask = np.zeros((h, w), np.bool_)
                mask[
                    max(math.floor(y), 0) : max(math.ceil(y + bh), 0),
                    max(math.floor(x), 0) : max(math.ceil(x + bw), 0),
                ] = True
        return channels, box, self._cut(index, mask)

    def _anomaly_target(self, index: int, shape: tuple[int, int]) -> np.ndarray | None:
        if not self.labels[index]:
            return np.zeros(shape, np.float32)
        shape = shape if self._windows is None else self._windows[index][3]
        ann = self._annotations[index]
        try:
            mask = decode_segmentation(
                (ann.get("attributes") or {}).get("anomaly_segmentation"), *shape
            )
        except ValueError as exc:
            where = f"{self.annotations_path}: annotation {ann.get('id')!r} anomaly_segmentation"
            raise DatasetError(f"{where}: {exc}") from exc
        return None if mask is None else self._cut(index, mask.astype(np.float32))


class FolderCrops(_CropDataset):
    """An ImageFolder-style tree, `root/benign/*` (0) and `root/anomalous/*` (1), one crop each.

    The files may be crops or whole scans: each image's whole extent is its box, squared and
    resized by `crop_objects` (no margin). Folders are not searched recursively; channel files
    beside a scan (`_low`, `_high`, `_zeff`) are not items, "dual" mode loads them. `items` holds
    the file paths. A sub-folder with another name, or a tree without images, is a ValueError.
    Box jitter is off by default: the images are framed already, and shifting the frame could
    cut off the anomaly; flips and 90° turns still apply with `train=True`.
    """

    def __init__(
        self,
        root: str | Path,
        *,
        size: int = 224,
        mode: str = "rgb",
        train: bool = False,
        seed: int = 0,
        jitter: float = 0.0,
    ) -> None:
        super().__init__(size=size, margin=0.0, mode=mode, train=train, seed=seed, jitter=jitter)
        self.root = Path(root)
        if not self.root.is_dir():
            raise DatasetError(f"{self.root}: no such folder")
        folders = sorted(
            p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")
        )
        unknown = [name for name in folders if name not in CLASS_NAMES]
        if unknown:
            raise DatasetError(
                f"{self.root}: sub-folder(s) {', '.join(unknown)} not allowed; the classes are "
                f"{' and '.join(CLASS_NAMES)}"
            )
        self.items: list[Path] = []
        for label, name in enumerate(CLASS_NAMES):
            if (self.root / name).is_dir():
                files = list_scans(self.root / name)
                self.items += files
                self.labels += [label] * len(files)
        if not self.items:
            raise DatasetError(
                f"{self.root}: no images found; put them in {self.root / CLASS_NAMES[0]} and "
                f"{self.root / CLASS_NAMES[1]}"
            )

    def _source(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        channels = _channels(str(self.items[index]), self.mode)
        h, w = channels.shape[:2]
        return channels, np.array([0.0, 0.0, w, h]), None


class WholeScans(_CropDataset):
    """The full-image baseline (the paper's Table II): one item per scan, label 1 if any of its
    annotations is anomalous, the scan squared with air and resized by `crop_objects`.

    Box jitter is off by default (`jitter=0`): shifting a whole scan could cut off the very
    object that makes it anomalous. Flips and 90° turns still apply with `train=True`. `items`
    holds the image ids.
    """

    def __init__(
        self,
        annotations: str | Path,
        image_root: str | Path | None = None,
        *,
        size: int = 448,
        mode: str = "rgb",
        train: bool = False,
        seed: int = 0,
        jitter: float = 0.0,
    ) -> None:
        super().__init__(size=size, margin=0.0, mode=mode, train=train, seed=seed, jitter=jitter)
        data, path, root = _read_coco(annotations, image_root)
        self.annotations_path = path
        self.image_root = root
        anomalous = {image["id"]: False for image in data["images"]}
        for ann in data["annotations"]:
            if ann.get("image_id") in anomalous and is_anomalous(ann):
                anomalous[ann["image_id"]] = True
        self._images = list(data["images"])
        self.items: list[int] = [image["id"] for image in self._images]
        self.labels = [int(anomalous[image_id]) for image_id in self.items]

    def _source(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        channels = _load_checked(
            self.image_root, self._images[index], self.mode, self.annotations_path
        )
        h, w = channels.shape[:2]
        return channels, np.array([0.0, 0.0, w, h]), None


def balanced_sampler(
    labels: Sequence[int], seed: int = 0
) -> torch.utils.data.WeightedRandomSampler:
    """A sampler that draws every class equally often: weight 1 / class count per item.

    Draws `len(labels)` items with replacement per epoch from a generator seeded with `seed`, so
    the draws are reproducible and differ from epoch to epoch.
    """
    values = [int(label) for label in labels]
    if not values:
        raise ValueError("balanced_sampler needs at least one label")
    counts = Counter(values)
    weights = torch.tensor([1.0 / counts[v] for v in values], dtype=torch.double)
    generator = torch.Generator().manual_seed(seed)
    return torch.utils.data.WeightedRandomSampler(
        weights, num_samples=len(values), replacement=True, generator=generator
    )


def jitter_box(box: np.ndarray, jitter: float) -> np.ndarray:
    """`box` (XYXY) scaled and shifted by up to ±`jitter` of its size, from the torch RNG."""
    if jitter <= 0:
        return box
    scale, dx, dy = (torch.rand(3, dtype=torch.float64) * 2 - 1).mul_(jitter).tolist()
    x0, y0, x1, y1 = (float(v) for v in box)
    bw, bh = x1 - x0, y1 - y0
    cx, cy = (x0 + x1) / 2 + dx * bw, (y0 + y1) / 2 + dy * bh
    bw, bh = bw * (1 + scale), bh * (1 + scale)
    return np.array([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2])


def flip_rotate(crop: torch.Tensor, *, turns: bool = True) -> torch.Tensor:
    """`crop` (C×S×S) flipped and turned by a random multiple of 90°: a bag's top view has no up.

    Horizontal and vertical flips plus the four turns reach all eight symmetries of the square;
    `turns=False` (crops aligned along their masks) only flips, which keeps the long axis across.
    """
    hflip, vflip = (torch.rand(2) < 0.5).tolist()
    quarter = int(torch.randint(4, ())) if turns else 0
    if hflip:
        crop = crop.flip(-1)
    if vflip:
        crop = crop.flip(-2)
    return torch.rot90(crop, quarter, dims=(-2, -1)).contiguous()


def _read_coco(annotations: str | Path, image_root: str | Path | None) -> tuple[dict, Path, Path]:
    """The checked COCO dict, its path and image root; ValueError if it has no anomaly labels."""
    path = resolve_annotations(annotations)
    data = load_coco(path)
    _check_dataset(data, path)
    if not any(
        isinstance(ann.get("attributes"), dict) and "anomalous" in ann["attributes"]
        for ann in data["annotations"]
    ):
        raise DatasetError(
            f"{path}: no annotation has attributes.anomalous, so this file cannot train or test "
            'an anomaly classifier; label objects with "attributes": {"anomalous": true|false}'
        )
    return data, path, Path(image_root) if image_root is not None else find_root(path, data)


def _usable(bbox: Sequence[float], record: dict) -> bool:
    """Whether `bbox` [x, y, w, h] keeps at least 1×1 px inside its image (when its size is
    known), the rule `CocoDetection` uses too."""
    x, y, bw, bh = (float(v) for v in bbox)
    x0, y0, x1, y1 = x, y, x + bw, y + bh
    if "width" in record:
        x0, x1 = min(max(x0, 0), record["width"]), min(max(x1, 0), record["width"])
    if "height" in record:
        y0, y1 = min(max(y0, 0), record["height"]), min(max(y1, 0), record["height"])
    return x1 - x0 >= 1 and y1 - y0 >= 1


def _load_checked(root: Path, record: dict, mode: str, source: Path) -> np.ndarray:
    """The cached channels of one COCO image, checked against the size the file gives."""
    channels = _channels(str(root / record["file_name"]), mode)
    h, w = channels.shape[:2]
    expected = (record.get("height", h), record.get("width", w))
    if expected != (h, w):
        raise DatasetError(
            f"{source}: image {record['id']} ({record['file_name']}) is {w}×{h} px but the file "
            f"says {expected[1]}×{expected[0]}"
        )
    return channels


def available_memory() -> int | None:
    """Bytes of memory free for new allocations (Linux: MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _window_bytes(task: tuple) -> int:
    """About how many bytes `_read_window` will keep for `task` (3 float32 planes)."""
    _, record, _, _, (x0, y0, x1, y1) = task
    x1, y1 = min(x1, record.get("width", x1)), min(y1, record.get("height", y1))
    return max(0, x1 - x0) * max(0, y1 - y0) * 3 * 4


def _read_window(task: tuple) -> tuple[np.ndarray, tuple[int, int]]:
    """One object's window of its scan's channels, and the scan's (h, w) (`ObjectCrops.preload`,
    in a worker)."""
    root, record, mode, source, (x0, y0, x1, y1) = task
    channels = _load_checked(root, record, mode, source)
    return channels[y0:y1, x0:x1].copy(), channels.shape[:2]


def make_dataset(
    source: Path, config: ClassifierConfig, size: int, *, train: bool, anomaly_maps: bool = False
):
    """The dataset a source and the config call for (crops, whole scans or a folder tree);
    `anomaly_maps`: object crops also carry where the anomaly is, for map-trained models."""
    c, seed = config.crops, config.run.seed
    if source.is_dir() and (source / "benign").is_dir():
        return FolderCrops(source, size=size, mode=c.mode, train=train, seed=seed)
    if config.data.whole_image:
        return WholeScans(source, size=size, mode=c.mode, train=train, seed=seed)
    return ObjectCrops(
        source,
        size=size,
        margin=c.margin,
        mode=c.mode,
        masks=c.masks,
        align=c.align,
        train=train,
        seed=seed,
        min_visibility=config.data.min_visibility if train else None,
        categories=config.data.categories,
        anomaly_maps=anomaly_maps,
    )
