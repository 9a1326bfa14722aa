"""Run a detector over a COCO dataset and score it with pycocotools (bbox and segm mAP).

Imports run one way: models <- evaluate <- train <- cli; screening never loads training code.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from engine.evaluation import detections_to_coco, evaluate_coco, fully_segmented
from engine.runtime import autocast, prepare_for_inference, unwrap


@torch.inference_mode()
def predict_dataset(
    model: nn.Module,
    dataset,
    device: torch.device,
    *,
    batch_size: int = 2,
    max_images: int | None = None,
    dtype: torch.dtype | None = None,
    progress: bool = False,
) -> tuple[list[dict], list[int], float]:
    """COCO result dicts for the first `max_images` images, their ids, and seconds per image."""
    from tqdm import tqdm

    model = unwrap(model)
    was_training = model.training
    model.eval()
    n = len(dataset) if max_images is None else min(max_images, len(dataset))
    category_ids = list(dataset.category_ids)
    detections: list[dict] = []
    image_ids: list[int] = []
    seconds = 0.0
    for start in tqdm(range(0, n, batch_size), desc="eval", unit="batch", disable=not progress):
        batch = [dataset[i] for i in range(start, min(start + batch_size, n))]
        images = [image.to(device) for image, _ in batch]
        ids = [int(target["image_id"]) for _, target in batch]
        t0 = time.perf_counter()
        with autocast(device, dtype):
            outputs = model(images)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds += time.perf_counter() - t0
        outputs = [
            {k: v.float() if v.is_floating_point() else v for k, v in o.items()} for o in outputs
        ]
        detections += detections_to_coco(outputs, ids, category_ids)
        image_ids += ids
    model.train(was_training)
    return detections, image_ids, seconds / max(n, 1)


def evaluate_detector(
    model: nn.Module,
    dataset,
    device: torch.device,
    *,
    max_images: int | None = None,
    batch_size: int = 2,
    dtype: torch.dtype | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """pycocotools bbox (and segm, for mask models) figures on `dataset`, plus ms per image."""
    detections, image_ids, seconds = predict_dataset(
        model,
        dataset,
        device,
        batch_size=batch_size,
        max_images=max_images,
        dtype=dtype,
        progress=progress,
    )
    has_masks = hasattr(unwrap(model), "roi_heads") and unwrap(model).roi_heads.has_mask()
    segm = has_masks and fully_segmented(dataset.coco, image_ids)  # drawn boxes have no mask
    iou_types = ("bbox", "segm") if segm else ("bbox",)
    result = evaluate_coco(dataset.coco, detections, iou_types=iou_types, image_ids=image_ids)
    result["ms_per_image"] = seconds * 1000
    result["data"] = str(Path(dataset.annotations_path))
    return result


def load_detector(
    path: str | Path, device: torch.device | str
) -> tuple[nn.Module, list[str], dict]:
    """A trained detector from a checkpoint or a model bundle's detector: (model in eval mode on
    `device`, classes, state); a bundle's state is its detector's architecture and weights."""
    from engine.checkpoint import CheckpointError, load_checkpoint, rebuilding
    from engine.detection.models import KIND, build_from_architecture
    from engine.runtime import resolve_device

    device = resolve_device(device) if isinstance(device, str) else device
    state = load_checkpoint(path)
    if state.get("kind") == "bundle":
        state = {
            "kind": KIND,
            "architecture": state["detector"]["architecture"],
            "categories": state["categories"],
            "model": {
                k: v.float() if v.is_floating_point() else v
                for k, v in state["model"]["detector"].items()
            },
        }
    elif state.get("kind") != KIND:
        raise CheckpointError(f"{path}: a {state.get('kind')} checkpoint, not a detector or bundle")
    with rebuilding(f"{path}: does not rebuild into its detector"):
        model = build_from_architecture(state["architecture"])
        model.load_state_dict(state["model"])
    return prepare_for_inference(model, device), list(state["categories"]), state
