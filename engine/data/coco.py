"""A torch Dataset over any COCO-format X-ray dataset, for torchvision's detectors.

Reads the simulator's `annotations.json` and users' own files alike: RLE or polygon masks,
bbox-only annotations, crowd annotations, images without objects, and split files whose
`info.image_root` points at the images. Samples come as torchvision `tv_tensors`, so
`torchvision.transforms.v2` augments image, boxes and masks together. Augmentation is seeded
per (seed, epoch, index): a sample is the same whatever the DataLoader's worker count.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from torchvision import tv_tensors

from engine.data.split import image_root as find_root
from engine.data.split import is_anomalous, load_coco, resolve_annotations
from engine.errors import DatasetError
from engine.io import load_scan

Target = dict[str, Any]
Sample = tuple[tv_tensors.Image, Target]
PER_OBJECT_KEYS = ("labels", "area", "iscrowd", "anomalous")  # tensors indexed like the boxes


class CocoDetection(torch.utils.data.Dataset):
    """Images and detection targets of one COCO JSON, labels 1..K in `categories` order.

    `image` is a float32 RGB `tv_tensors.Image`, 3×H×W in [0, 1]. `target` holds `boxes`
    (XYXY `BoundingBoxes`, float32, N×4), `labels` (int64 N, 0 is background), `masks` (uint8
    `Mask` N×H×W, with `masks=True`), `image_id` (int), `area` (float32 N, the file's value for
    the original image: transforms do not rescale it), `iscrowd` (int64 N, all zero) and
    `anomalous` (bool N). Crowd annotations and boxes under 1 px are left out of the targets;
    `coco` keeps the whole file for evaluation.

    Augmentation is seeded from (seed, epoch, index) under a forked RNG, so the global torch RNG
    is untouched. Call `set_epoch` before each epoch; DataLoader workers see the new epoch only
    when they are started afresh (the default `persistent_workers=False`).
    """

    def __init__(
        self,
        annotations: str | Path,
        image_root: str | Path | None = None,
        *,
        transforms: Callable[[tv_tensors.Image, Target], Sample] | None = None,
        masks: bool = True,
        categories: Sequence[str] | None = None,
        seed: int = 0,
    ) -> None:
        path = resolve_annotations(annotations)
        data = load_coco(path)
        _check_dataset(data, path)
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        self.annotations_path = path
        self.image_root = Path(image_root) if image_root is not None else find_root(path, data)
        self.transforms = transforms
        self.masks = masks
        self.seed = seed
        self.epoch = 0

        file_categories = sorted(data["categories"], key=lambda c: c["id"])
        if categories is None:
            chosen = file_categories
        else:
            chosen = _pick_categories(file_categories, categories, path)
        self.categories: list[str] = [str(c.get("name", c["id"])) for c in chosen]
        self.category_ids: list[int] = [c["id"] for c in chosen]
        self._label_of = {cid: k + 1 for k, cid in enumerate(self.category_ids)}

        self._images = data["images"]
        self.image_ids: list[int] = [image["id"] for image in self._images]
        self._objects: dict[int, list[dict]] = {image_id: [] for image_id in self.image_ids}
        for ann in data["annotations"]:
            _fill_defaults(ann)
            if ann["iscrowd"] or ann["category_id"] not in self._label_of:
                continue
            self._objects[ann["image_id"]].append(ann)
        self.coco = COCO()
        self.coco.dataset = data
        with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress
            self.coco.createIndex()

    def __len__(self) -> int:
        return len(self._images)

    def set_epoch(self, epoch: int) -> None:
        """Draw the augmentations of `epoch`: each epoch sees new ones, reproducibly."""
        if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
            raise ValueError(f"epoch must be a non-negative int, got {epoch!r}")
        self.epoch = epoch

    def __getitem__(self, index: int) -> Sample:
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} images")
        index %= len(self)
        image, target = self.load(index)
        if self.transforms is None:
            return image, target
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(sample_seed(self.seed, self.epoch, index))
            return self.transforms(image, target)

    def load(self, index: int) -> Sample:
        """Sample `index` as stored, before any transform; ScanLoadError if the image is bad."""
        record = self._images[index]
        image_path = self.image_root / record["file_name"]
        pixels = load_scan(image_path, companions=False).image  # uint8 H×W×3 RGB
        h, w = pixels.shape[:2]
        expected = (record.get("height", h), record.get("width", w))
        if expected != (h, w):
            raise DatasetError(
                f"{self.annotations_path}: image {record['id']} ({record['file_name']}) is "
                f"{w}×{h} px but the file says {expected[1]}×{expected[0]}"
            )
        image = tv_tensors.Image(torch.from_numpy(pixels).permute(2, 0, 1).float().div_(255.0))

        objects = self._objects[record["id"]]
        xywh = np.array([ann["bbox"] for ann in objects], np.float32).reshape(-1, 4)
        xyxy = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
        xyxy[:, 0::2] = xyxy[:, 0::2].clip(0, w)
        xyxy[:, 1::2] = xyxy[:, 1::2].clip(0, h)
        keep = ((xyxy[:, 2] - xyxy[:, 0]) >= 1) & ((xyxy[:, 3] - xyxy[:, 1]) >= 1)
        objects = [ann for ann, k in zip(objects, keep, strict=True) if k]
        target: Target = {
            "boxes": tv_tensors.BoundingBoxes(
                torch.from_numpy(xyxy[keep]), format="XYXY", canvas_size=(h, w)
            ),
            "labels": torch.tensor(
                [self._label_of[ann["category_id"]] for ann in objects], dtype=torch.int64
            ),
        }
        if self.masks:
            stack = np.zeros((len(objects), h, w), np.uint8)
            for j, ann in enumerate(objects):
                stack[j] = self._mask(ann, h, w)
            target["masks"] = tv_tensors.Mask(torch.from_numpy(stack))
        target["image_id"] = int(record["id"])
        target["area"] = torch.tensor([ann["area"] for ann in objects], dtype=torch.float32)
        target["iscrowd"] = torch.zeros(len(objects), dtype=torch.int64)
        anomalous = [is_anomalous(ann) for ann in objects]
        target["anomalous"] = torch.tensor(anomalous, dtype=torch.bool)
        return image, target

    def _mask(self, ann: dict, h: int, w: int) -> np.ndarray:
        """The H×W uint8 mask of `ann`: its segmentation, or its box filled when it has none."""
        try:
            mask = decode_segmentation(ann.get("segmentation"), h, w)
        except ValueError as exc:
            where = f"{self.annotations_path}: annotation {ann.get('id')!r}"
            raise DatasetError(f"{where}: {exc}") from exc
        if mask is None:
            x, y, bw, bh = ann["bbox"]
            rows = slice(max(math.floor(y), 0), max(math.ceil(y + bh), 0))
            cols = slice(max(math.floor(x), 0), max(math.ceil(x + bw), 0))
            mask = np.zeros((h, w), np.uint8)
            mask[rows, cols] = 1
        return mask


def collate(batch: Sequence[Sample]) -> tuple[list[tv_tensors.Image], list[Target]]:
    """(images, targets) lists for torchvision detectors, which take images of mixed sizes."""
    return [image for image, _ in batch], [target for _, target in batch]


def sample_seed(seed: int, epoch: int, index: int) -> int:
    """The augmentation seed of one sample: hash-free, the same in every process."""
    state = np.random.SeedSequence([seed, epoch, index]).generate_state(1, dtype=np.uint64)
    return int(state[0])


def decode_segmentation(segmentation: Any, h: int, w: int) -> np.ndarray | None:
    """A COCO segmentation (polygons or RLE) as an H×W uint8 mask; None when there is none."""
    if not segmentation:
        return None
    if isinstance(segmentation, list):
        polygons = [
            [float(v) for v in p]
            for p in segmentation
            if isinstance(p, list) and len(p) >= 6 and len(p) % 2 == 0
        ]
        if not polygons:
            return None
        rle = mask_utils.merge(mask_utils.frPyObjects(polygons, h, w))
    elif isinstance(segmentation, dict) and "counts" in segmentation and "size" in segmentation:
        if list(segmentation["size"]) != [h, w]:
            size = segmentation["size"]
            raise DatasetError(f"RLE size {size} differs from the image's [{h}, {w}]")
        rle = segmentation
        if isinstance(segmentation["counts"], list):  # uncompressed RLE
            rle = mask_utils.frPyObjects(segmentation, h, w)
    else:
        raise DatasetError(f"unknown segmentation format {type(segmentation).__name__}")
    return mask_utils.decode(rle).astype(np.uint8)


def _check_dataset(data: dict, path: Path) -> None:
    """What the dataset needs beyond a split: int ids, file names, boxes; one-line ValueErrors."""
    root = data.get("info", {}).get("image_root")
    if root is not None and not isinstance(root, str):
        raise DatasetError(f"{path}: info.image_root must be a folder path, got {root!r}")
    for image in data["images"]:
        if not _is_int(image["id"]):
            raise DatasetError(f"{path}: image id {image['id']!r} is not an integer")
        if not isinstance(image.get("file_name"), str) or not image["file_name"]:
            raise DatasetError(f"{path}: image {image['id']} has no file_name")
        for key in ("width", "height"):
            if key in image and not (_is_int(image[key]) and image[key] > 0):
                raise DatasetError(f"{path}: image {image['id']} has {key} {image[key]!r}")
    for cat in data["categories"]:
        if not _is_int(cat["id"]):
            raise DatasetError(f"{path}: category id {cat['id']!r} is not an integer")
    for ann in data["annotations"]:
        box = ann.get("bbox")
        ok = isinstance(box, list) and len(box) == 4
        ok = ok and all(isinstance(v, int | float) and math.isfinite(v) for v in box)
        if not ok:
            raise DatasetError(
                f"{path}: annotation {ann.get('id')!r} needs a bbox [x, y, w, h], got {box!r}"
            )
        area = ann.get("area")
        if area is not None and not (isinstance(area, int | float) and math.isfinite(area)):
            raise DatasetError(f"{path}: annotation {ann.get('id')!r} has area {area!r}")


def _pick_categories(file_categories: list[dict], names: Sequence[str], path: Path) -> list[dict]:
    """The file's categories named by `names`, in that order; ValueError on unknown names."""
    if isinstance(names, str):
        raise ValueError(f"categories must be a sequence of names, not the string {names!r}")
    by_name: dict[str, dict] = {}
    for cat in file_categories:
        by_name.setdefault(str(cat.get("name")), cat)
    known = ", ".join(str(c.get("name")) for c in file_categories)
    if len(set(names)) != len(names):
        raise DatasetError(f"{path}: categories repeat a name: {list(names)}")
    missing = [n for n in names if n not in by_name]
    if missing:
        raise DatasetError(f"{path}: no category named {', '.join(missing)}; the file has {known}")
    for name in names:
        if sum(str(c.get("name")) == name for c in file_categories) > 1:
            raise DatasetError(f"{path}: several categories are named {name!r}")
    return [by_name[n] for n in names]


def _fill_defaults(ann: dict) -> None:
    """Give `ann` the `iscrowd` and `area` COCO evaluation reads; area falls back to the box's."""
    ann["iscrowd"] = int(bool(ann.get("iscrowd", 0)))
    if ann.get("area") is None:
        ann["area"] = float(ann["bbox"][2] * ann["bbox"][3])


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
