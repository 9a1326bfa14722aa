"""A scripted analyst: reviews a screened bag from its ground truth, through the review store.

For benchmarks and tests of learning from reviews (`xray-engine improve`): it does what a
careful analyst does with the findings shown at the score threshold: accepts a finding that
overlaps a true object (IoU >= 0.5), correcting its class, anomaly flag or loose box (IoU < 0.8
with the truth) where they are wrong; rejects a finding that overlaps none; draws every true
object no finding covered; then decides the bag (suspect when it holds an anomaly, else clear).
Qt-free, like the rest of `xray_gui.review`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.improve import box_iou as iou
from engine.results import BagResult
from xray_gui.review.store import ReviewStore


@dataclass(frozen=True)
class TrueObject:
    """One ground-truth object of a bag."""

    box_xyxy: tuple[float, float, float, float]
    label: str
    anomalous: bool


@dataclass
class ReviewCounts:
    """What the scripted analyst did to one bag."""

    accepted: int = 0
    corrected: int = 0
    rejected: int = 0
    added: int = 0


def truth_from_coco(coco: dict) -> dict[str, list[TrueObject]]:
    """Each image's `file_name` -> its true objects, from a COCO dict (attributes.anomalous)."""
    names = {c["id"]: c["name"] for c in coco["categories"]}
    files = {im["id"]: im["file_name"] for im in coco["images"]}
    truth: dict[str, list[TrueObject]] = {name: [] for name in files.values()}
    for ann in coco["annotations"]:
        x, y, w, h = ann["bbox"]
        anomalous = bool((ann.get("attributes") or {}).get("anomalous"))
        truth[files[ann["image_id"]]].append(
            TrueObject((x, y, x + w, y + h), names[ann["category_id"]], anomalous)
        )
    return truth


def review_bag(
    store: ReviewStore,
    scan: str | Path,
    result: BagResult,
    truth: Sequence[TrueObject],
    *,
    score_threshold: float,
    anomaly_threshold: float,
) -> ReviewCounts:
    """Store the model's `result` for `scan`, review its shown findings against `truth`, decide."""
    store.set_prediction(
        scan, result, score_threshold=score_threshold, anomaly_threshold=anomaly_threshold
    )
    counts = ReviewCounts()
    free = list(truth)
    shown = [
        o
        for o in store.objects(
            scan, score_threshold=score_threshold, anomaly_threshold=anomaly_threshold
        )
        if o.visible and o.source == "model"
    ]
    for obj in sorted(shown, key=lambda o: -(o.score or 0.0)):
        best = max(free, key=lambda t: iou(obj.box_xyxy, t.box_xyxy), default=None)
        overlap = 0.0 if best is None else iou(obj.box_xyxy, best.box_xyxy)
        if best is None or overlap < 0.5:
            store.reject(scan, obj.id)
            counts.rejected += 1
            continue
        free.remove(best)
        fixed = False
        if obj.label != best.label:
            store.set_label(scan, obj.id, best.label)
            fixed = True
        if obj.anomalous != best.anomalous:
            store.set_anomalous(scan, obj.id, best.anomalous)
            fixed = True
        if overlap < 0.8:
            store.set_box(scan, obj.id, best.box_xyxy)
            fixed = True
        if fixed:
            counts.corrected += 1
        else:
            store.accept(scan, obj.id)
            counts.accepted += 1
    for t in free:
        store.add_object(scan, t.box_xyxy, t.label, t.anomalous)
        counts.added += 1
    store.set_decision(scan, "suspect" if any(t.anomalous for t in truth) else "clear")
    return counts
