"""The shipped demo: the bundle loads, stays under its size budget, and screens two demo scans
as its model card says, so a broken or replaced bundle fails CI.

The two scans are ones the card lists as screened right: a toaster with a hidden item, flagged,
and a benign toaster, not flagged; the card gives the figures over all 24 demo scans and the
test splits, misses included.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torchvision.ops import box_iou

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "resources" / "demo"
BUNDLE = REPO / "resources" / "models" / "demo.xsb"
EXPECTED = {"bag_000020.png": ("toaster", True), "bag_000009.png": ("toaster", False)}


def _iou(a, b) -> float:
    """Intersection over union of two xyxy boxes."""
    one, other = (torch.tensor([box], dtype=torch.float64) for box in (a, b))
    return float(box_iou(one, other))


@pytest.fixture(scope="module")
def truth() -> dict[str, list[dict]]:
    data = json.loads((DEMO / "annotations.json").read_text())
    names = {c["id"]: c["name"] for c in data["categories"]}
    by_image: dict[str, list[dict]] = {}
    files = {i["id"]: Path(i["file_name"]).name for i in data["images"]}
    for a in data["annotations"]:
        x, y, w, h = a["bbox"]
        by_image.setdefault(files[a["image_id"]], []).append(
            {
                "box": (x, y, x + w, y + h),
                "label": names[a["category_id"]],
                "anomalous": a["attributes"]["anomalous"],
            }
        )
    return by_image


def test_the_demo_bundle_is_shipped_within_budget():
    assert BUNDLE.is_file(), "resources/models/demo.xsb is missing: make demo-model"
    assert BUNDLE.stat().st_size < 60 * 1024 * 1024


@pytest.mark.slow
def test_the_demo_bundle_finds_and_judges_the_objects_of_two_demo_scans(truth):
    """The card's object of each scan is found (right class, IoU >= 0.5) and judged right, and
    nothing else on the two scans is flagged."""
    from engine.bundle import load_bundle
    from engine.pipeline import Screener

    bundle = load_bundle(BUNDLE)
    judged = {c for info in bundle["classifiers"] for c in info["categories"]}
    screener = Screener(bundle, device="cpu")
    for name, (label, anomalous) in EXPECTED.items():
        result = screener(DEMO / "images" / name)
        (obj,) = [o for o in truth[name] if o["label"] == label and o["anomalous"] == anomalous]
        best = max(
            (f for f in result.findings if f.label == label),
            key=lambda f: _iou(f.box_xyxy, obj["box"]),
            default=None,
        )
        assert best is not None and _iou(best.box_xyxy, obj["box"]) >= 0.5, (name, obj)
        assert best.anomalous == anomalous, (name, obj, best.anomaly_score)
        assert [f for f in result.findings if f.anomalous and f is not best] == [], name
        for f in result.findings:
            assert (f.anomaly_score is None) == (f.label not in judged)
            assert f.anomaly_score is None or np.isfinite(f.anomaly_score)
