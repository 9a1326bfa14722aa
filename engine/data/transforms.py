"""torchvision.transforms.v2 pipelines for detection training and evaluation.

They act on `CocoDetection` samples, `(Image, target)`, moving boxes and masks with the image.
`area` is NOT rescaled by resizing: it stays the original image's area, which is only used by
COCO evaluation, and that reads the file's own values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torchvision.transforms import v2

from engine.data.coco import PER_OBJECT_KEYS

# The multi-scale jitter of the Detectron recipe, scaled to the simulator's ~640×480 scans.
TRAIN_MIN_SIZES = (384, 416, 448, 480, 512, 544, 576)
TRAIN_MAX_SIZE = 800


def per_object_tensors(inputs: Any) -> tuple[torch.Tensor, ...]:
    """The target's per-object tensors (labels, area, iscrowd, anomalous) to filter with boxes.

    A `labels_getter` for `v2.SanitizeBoundingBoxes`: masks need not be listed, it filters
    `tv_tensors.Mask` itself. Module-level so the pipeline pickles into DataLoader workers.
    """
    target = inputs[1] if isinstance(inputs, tuple | list) else inputs
    return tuple(target[key] for key in PER_OBJECT_KEYS if key in target)


def train_transforms(
    min_sizes: Sequence[int] = TRAIN_MIN_SIZES,
    max_size: int = TRAIN_MAX_SIZE,
    hflip: float = 0.5,
) -> v2.Transform:
    """Flip and multi-scale resize for training, then drop boxes the resize made degenerate."""
    return v2.Compose(
        [
            v2.RandomHorizontalFlip(hflip),
            v2.RandomShortestSize(min_size=list(min_sizes), max_size=max_size),
            v2.SanitizeBoundingBoxes(labels_getter=per_object_tensors),
        ]
    )


def eval_transforms() -> v2.Transform | None:
    """No transform: evaluation feeds scans at their own size and the detector resizes them."""
    return None
