"""COCO mAP for detection and segmentation, computed by pycocotools (no hand-written mAP).

Every training run, the `eval-detector` CLI and the reports go through these functions, so
they all read the same numbers:

- `detections_to_coco` turns torchvision detector outputs (XYXY boxes, contiguous labels 1..K,
  mask probabilities) into COCO result dicts (XYWH boxes, COCO category ids, RLE masks);
- `evaluate_coco` runs `COCOeval` per IoU type and returns plain floats (None where
  pycocotools says -1, i.e. undefined) plus AP per class;
- `ground_truth_as_detections` gives the perfect detector, for tests and sanity checks;
- `format_metrics` prints a result in one line per IoU type.

pycocotools mutates what it is given (`loadRes` adds ids and areas to the detections, `COCOeval`
turns ground-truth polygons into RLE and adds `ignore` flags), so both sides are copied first.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

IOU_TYPES = ("bbox", "segm")
METRICS = ("mAP", "AP50", "AP75", "APs", "APm", "APl", "AR100")
# where each of METRICS sits in COCOeval.stats (AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100...)
_STATS_INDEX = {"mAP": 0, "AP50": 1, "AP75": 2, "APs": 3, "APm": 4, "APl": 5, "AR100": 8}

GroundTruth = COCO | dict | str | Path

__all__ = [
    "IOU_TYPES",
    "METRICS",
    "detections_to_coco",
    "evaluate_coco",
    "format_metrics",
    "ground_truth_as_detections",
]


def _numpy(x: Any) -> np.ndarray:
    """A numpy copy of a tensor on any device (half and bfloat16 widened) or an array-like."""
    if hasattr(x, "detach"):
        x = x.detach()
        if x.is_floating_point():
            x = x.float()
        return x.cpu().numpy()
    return np.asarray(x)


def _label_map(category_ids: Sequence[int] | Mapping[int, int]) -> dict[int, int]:
    if isinstance(category_ids, Mapping):
        return {int(k): int(v) for k, v in category_ids.items()}
    return {k + 1: int(v) for k, v in enumerate(category_ids)}


def _rle_str(rle: dict) -> dict:
    """RLE with `counts` as str, so results serialise to JSON."""
    counts = rle["counts"]
    if isinstance(counts, bytes):
        counts = counts.decode("ascii")
    return {"size": [int(s) for s in rle["size"]], "counts": counts}


def detections_to_coco(
    outputs: Sequence[Mapping[str, Any]],
    image_ids: Sequence[int],
    category_ids: Sequence[int] | Mapping[int, int],
    *,
    mask_threshold: float = 0.5,
    score_threshold: float = 0.0,
) -> list[dict]:
    """COCO result dicts from torchvision detector outputs (one dict per image, eval mode).

    Each output holds `boxes` (N×4 XYXY, image pixels), `labels` (N, model labels 1..K),
    `scores` (N) and optionally `masks` (N×1×H×W or N×H×W probabilities); tensors on any device
    or numpy arrays. `category_ids[k - 1]` (or `category_ids[k]` for a dict) is the COCO
    category id of model label k. Boxes become XYWH; masks are thresholded at
    `mask_threshold` (strictly greater) and RLE-encoded; detections scoring below
    `score_threshold` are dropped.
    """
    if len(outputs) != len(image_ids):
        raise ValueError(f"{len(outputs)} outputs but {len(image_ids)} image ids")
    label_to_cat = _label_map(category_ids)
    results: list[dict] = []
    for output, image_id in zip(outputs, image_ids, strict=True):
        boxes = _numpy(output["boxes"]).astype(np.float64).reshape(-1, 4)
        labels = _numpy(output["labels"]).astype(np.int64).reshape(-1)
        scores = _numpy(output["scores"]).astype(np.float64).reshape(-1)
        if not len(boxes) == len(labels) == len(scores):
            raise ValueError(
                f"image {image_id}: {len(boxes)} boxes, {len(labels)} labels, {len(scores)} scores"
            )
        unknown = sorted(set(labels.tolist()) - label_to_cat.keys())
        if unknown:
            raise ValueError(
                f"image {image_id}: labels {unknown} have no category id "
                f"(known labels: {sorted(label_to_cat)})"
            )
        keep = scores >= score_threshold
        rles: list[dict] | None = None
        if output.get("masks") is not None:
            masks = _numpy(output["masks"])
            if masks.ndim == 4:
                masks = masks[:, 0]
            if len(masks) != len(boxes):
                raise ValueError(f"image {image_id}: {len(masks)} masks for {len(boxes)} boxes")
            masks = masks[keep]
            binary = np.asfortranarray((masks > mask_threshold).astype(np.uint8).transpose(1, 2, 0))
            rles = [_rle_str(r) for r in mask_utils.encode(binary)] if len(masks) else []
        for j, (box, label, score) in enumerate(
            zip(boxes[keep], labels[keep], scores[keep], strict=True)
        ):
            x0, y0, x1, y1 = (float(v) for v in box)
            det = {
                "image_id": int(image_id),
                "category_id": label_to_cat[int(label)],
                "bbox": [x0, y0, x1 - x0, y1 - y0],
                "score": float(score),
            }
            if rles is not None:
                det["segmentation"] = rles[j]
            results.append(det)
    return results


def _load_dataset(ground_truth: GroundTruth) -> dict:
    if isinstance(ground_truth, COCO):
        return ground_truth.dataset
    if isinstance(ground_truth, Mapping):
        return dict(ground_truth)
    if isinstance(ground_truth, str | Path):
        with open(ground_truth, encoding="utf-8") as f:
            return json.load(f)
    raise TypeError(f"ground truth must be a COCO, a dict or a path, not {type(ground_truth)}")


def _has_segmentation(ann: Mapping) -> bool:
    return bool(ann.get("segmentation"))


@contextlib.contextmanager
def _quiet(verbose: bool) -> Iterator[None]:
    """Swallow pycocotools' progress prints unless asked for them."""
    if verbose:
        yield
    else:
        with contextlib.redirect_stdout(io.StringIO()):
            yield


def _coco_from(dataset: Mapping, annotations: list[dict]) -> COCO:
    """A fresh, indexed COCO of `dataset`'s images and categories and the given annotations."""
    coco = COCO()
    coco.dataset = {
        "info": dataset.get("info", {}),
        "images": list(dataset.get("images", [])),
        "categories": list(dataset.get("categories", [])),
        "annotations": annotations,
    }
    with _quiet(False):
        coco.createIndex()
    return coco


def _ground_truth_coco(ground_truth: GroundTruth) -> COCO:
    """The ground truth as a private COCO: annotations copied, missing id/iscrowd/area/bbox filled.

    COCOeval needs `area` and `iscrowd` on every annotation and rewrites segmentations in place,
    so the caller's annotations are never handed to it.
    """
    dataset = _load_dataset(ground_truth)
    annotations = []
    for i, ann in enumerate(dataset.get("annotations", [])):
        ann = dict(ann)
        ann.setdefault("id", i + 1)
        ann.setdefault("iscrowd", 0)
        annotations.append(ann)
    if len({a["id"] for a in annotations}) != len(annotations):
        raise ValueError("ground-truth annotation ids are not unique")
    coco = _coco_from(dataset, annotations)
    for ann in annotations:
        if "area" in ann and "bbox" in ann:
            continue
        if not _has_segmentation(ann):
            if "bbox" not in ann:
                raise ValueError(f"annotation {ann['id']} has neither a bbox nor a segmentation")
            ann["area"] = float(ann["bbox"][2] * ann["bbox"][3])
            continue
        rle = coco.annToRLE(ann)
        ann.setdefault("area", float(mask_utils.area(rle)))
        ann.setdefault("bbox", [float(v) for v in mask_utils.toBbox(rle)])
    return coco


def ground_truth_as_detections(ground_truth: GroundTruth, *, with_masks: bool = True) -> list[dict]:
    """Every non-crowd ground-truth annotation as a score-1.0 detection: the perfect detector.

    Segmentations (polygon or RLE) become compressed RLE with `counts` as str; annotations
    without one get none. Feeding this to `evaluate_coco` must give mAP 1.0.
    """
    gt = _ground_truth_coco(ground_truth)
    out = []
    for ann in gt.dataset["annotations"]:
        if ann.get("iscrowd"):
            continue
        det = {
            "image_id": ann["image_id"],
            "category_id": ann["category_id"],
            "bbox": [float(v) for v in ann["bbox"]],
            "score": 1.0,
        }
        if with_masks and _has_segmentation(ann):
            det["segmentation"] = _rle_str(gt.annToRLE(ann))
        out.append(det)
    return out


def _check_detections(gt: COCO, detections: Sequence[Mapping]) -> list[dict]:
    """Copies of the detections, checked against the ground truth; bbox filled from masks."""
    images, categories = gt.imgs, gt.cats
    out = []
    for det in detections:
        det = dict(det)
        for key in ("image_id", "category_id"):
            if isinstance(det.get(key), np.integer):
                det[key] = int(det[key])
        if det.get("image_id") not in images:
            raise ValueError(
                f"detection for image id {det.get('image_id')!r}, which is not in the ground "
                f"truth ({len(images)} images)"
            )
        if det.get("category_id") not in categories:
            raise ValueError(
                f"detection of category id {det.get('category_id')!r}, which is not in the "
                f"ground truth (ids {sorted(categories)})"
            )
        seg = det.get("segmentation")
        image = images[det["image_id"]]
        shape = [image.get("height"), image.get("width")]
        if isinstance(seg, Mapping) and "size" in seg and list(seg["size"]) != shape:
            raise ValueError(
                f"detection mask of size {list(seg['size'])} on image {det['image_id']} "
                f"of size {shape} (height, width)"
            )
        if "bbox" not in det:
            if not seg:
                raise ValueError("a detection carries neither a bbox nor a segmentation")
            det["bbox"] = [float(v) for v in mask_utils.toBbox(seg)]
        out.append(det)
    return out


def _results_coco(gt: COCO, detections: list[dict]) -> COCO:
    """The detections as a COCO results object; an empty one when there are none.

    `COCO.loadRes([])` raises IndexError; an empty results object makes COCOeval score
    0 where there is ground truth and -1 (undefined) where there is none, as it should.
    """
    if not detections:
        return _coco_from(gt.dataset, [])
    return gt.loadRes([dict(d) for d in detections])


def _metric(value: float) -> float | None:
    return None if value < 0 else float(value)


def _run_cocoeval(gt: COCO, dt: COCO, iou_type: str, image_ids: list[int]) -> dict:
    evaluator = COCOeval(gt, dt, iouType=iou_type)
    evaluator.params.imgIds = image_ids
    evaluator.evaluate()
    evaluator.accumulate()
    evaluator.summarize()
    result: dict[str, Any] = {name: _metric(evaluator.stats[i]) for name, i in _STATS_INDEX.items()}
    params = evaluator.params
    precision = evaluator.eval["precision"]  # [IoU thresholds, recall, class, area, max dets]
    area, max_dets = params.areaRngLbl.index("all"), params.maxDets.index(100)
    at_50 = int(np.argmin(np.abs(params.iouThrs - 0.5)))
    names = [gt.cats[cat_id]["name"] for cat_id in params.catIds]
    result["per_class"] = _class_means(precision[:, :, :, area, max_dets], names)
    result["per_class_ap50"] = _class_means(precision[at_50, :, :, area, max_dets], names)
    return result


def _class_means(precision: np.ndarray, names: Sequence[str]) -> dict[str, float | None]:
    """Per class (last axis), the mean of the defined precisions; None where none is."""
    out: dict[str, float | None] = {}
    for k, name in enumerate(names):
        p = precision[..., k]
        p = p[p > -1]
        out[name] = float(p.mean()) if p.size else None
    return out


def fully_segmented(ground_truth: GroundTruth, image_ids: Sequence[int] | None = None) -> bool:
    """Whether every ground-truth object (of `image_ids`) has a mask, so "segm" can be scored:
    reviewed data mixes model masks with boxes an analyst drew without one."""
    gt = _ground_truth_coco(ground_truth)
    wanted = None if image_ids is None else {int(i) for i in image_ids}
    return all(
        _has_segmentation(a)
        for a in gt.dataset["annotations"]
        if wanted is None or a["image_id"] in wanted
    )


def evaluate_coco(
    ground_truth: GroundTruth,
    detections: Sequence[Mapping],
    *,
    iou_types: Sequence[str] = IOU_TYPES,
    image_ids: Sequence[int] | None = None,
    verbose: bool = False,
) -> dict:
    """COCO mAP of `detections` (COCO result dicts) against `ground_truth`, per IoU type.

    `ground_truth` is a COCO object, a path to a COCO JSON or a COCO dict; it is not modified.
    Only `image_ids` are evaluated (default: every ground-truth image); `detections` counts
    the detections on them. Each IoU type gives METRICS as floats in [0, 1], None where
    undefined (no ground truth in that area range), and `per_class`: {name: AP@[.5:.95], None
    for a class without ground truth in the evaluated images}. "segm" is left out when the
    ground truth has no segmentations, or when there are detections and none carries one
    (only detections with a segmentation are scored for "segm"). Raises ValueError for a
    detection on an image or of a category the ground truth does not have.
    """
    unknown_types = sorted(set(iou_types) - set(IOU_TYPES))
    if unknown_types:
        raise ValueError(f"unknown IoU types {unknown_types}; known: {list(IOU_TYPES)}")
    gt = _ground_truth_coco(ground_truth)
    if image_ids is None:
        ids = sorted(gt.getImgIds())
    else:
        ids = sorted({int(i) for i in image_ids})
        missing = [i for i in ids if i not in gt.imgs]
        if missing:
            raise ValueError(f"image ids {missing[:10]} are not in the ground truth")
    dets = _check_detections(gt, detections)
    wanted = set(ids)
    dets = [d for d in dets if d["image_id"] in wanted]

    result: dict[str, Any] = {"images": len(ids), "detections": len(dets)}
    with _quiet(verbose):
        if "bbox" in iou_types:
            boxes = [{k: v for k, v in d.items() if k != "segmentation"} for d in dets]
            result["bbox"] = _run_cocoeval(gt, _results_coco(gt, boxes), "bbox", ids)
        if "segm" in iou_types:
            gt_anns = [a for a in gt.dataset["annotations"] if a["image_id"] in wanted]
            with_seg = [a for a in gt_anns if _has_segmentation(a)]
            if with_seg and len(with_seg) < len(gt_anns):
                raise ValueError(
                    f"{len(gt_anns) - len(with_seg)} of {len(gt_anns)} ground-truth "
                    "annotations have no segmentation; evaluate with iou_types=('bbox',)"
                )
            masks = [d for d in dets if _has_segmentation(d)]
            if with_seg and (masks or not dets):
                result["segm"] = _run_cocoeval(gt, _results_coco(gt, masks), "segm", ids)
    return result


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def format_metrics(result: Mapping[str, Any]) -> str:
    """One line per IoU type, e.g. `bbox mAP 0.712 AP50 0.934 AP75 0.801 AR100 0.850`."""
    lines = []
    for iou_type in IOU_TYPES:
        if iou_type in result:
            m = result[iou_type]
            lines.append(
                f"{iou_type} mAP {_fmt(m['mAP'])} AP50 {_fmt(m['AP50'])} "
                f"AP75 {_fmt(m['AP75'])} AR100 {_fmt(m['AR100'])}"
            )
    return "\n".join(lines)
