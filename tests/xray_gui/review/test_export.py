"""Exports read back: COCO through our own dataset reader (and one training step), VOC, YOLO."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import torch
import yaml

from engine.data.coco import CocoDetection, collate
from xray_gui.review import ReviewStore, export_coco, export_voc, export_yolo


@pytest.fixture
def reviewed(store: ReviewStore) -> ReviewStore:
    """bag_1 worked through and suspect, bag_2 all rejected and clear, bag_10 undecided."""
    s = "bag_1.png"
    store.accept(s, "m0")  # keeps its mask
    store.reject(s, "m1")
    store.set_label(s, "m2", "toaster")
    store.set_box(s, "m2", (12, 28, 42, 46))  # moved: box only
    store.set_anomalous(s, "m2", True)
    store.add_object(s, (50, 2, 62, 12), "mobile", anomalous=True)
    store.set_decision(s, "suspect")
    store.set_note(s, "check the toaster")
    for obj_id in ("m0", "m1", "m2"):
        store.reject("bag_2.png", obj_id)
    store.set_decision("bag_2.png", "clear")
    return store


@pytest.mark.slow
def test_coco_export_loads_in_our_dataset_and_trains(reviewed, tmp_path):
    path = export_coco(reviewed, tmp_path / "out" / "review.json")
    data = CocoDetection(path)
    assert len(data) == 2 and data.categories[:6] == reviewed.categories[:6]
    image, target = data[0]  # bag_1
    assert image.shape == (3, 48, 64)
    assert target["boxes"].tolist() == [[4, 6, 16, 20], [12, 28, 42, 46], [50, 2, 62, 12]]
    names = [data.categories[i - 1] for i in target["labels"].tolist()]
    assert names == ["bottle", "toaster", "mobile"]
    assert target["anomalous"].tolist() == [True, True, True]
    assert target["masks"][0].sum() == 14 * 12  # the model's mask
    assert target["masks"][1].sum() == 30 * 18  # box-only: the box filled
    _, negative = data[1]  # bag_2: everything rejected, still a training image
    assert len(negative["boxes"]) == 0

    raw = json.loads(path.read_bytes())
    assert raw["images"][0]["review"] == {
        "decision": "suspect",
        "note": "check the toaster",
        "reviewed_by": "ana",
    }
    attrs = [a["attributes"] for a in raw["annotations"]]
    assert [a["review_status"] for a in attrs] == ["accepted", "corrected", "added"]
    assert [a["source"] for a in attrs] == ["model", "model", "analyst"]
    assert attrs[0]["model"] == "demo-v1" and attrs[2]["model"] is None
    assert attrs[0]["score"] == 0.9 and attrs[1]["reviewed_by"] == "ana"
    assert "segmentation" in raw["annotations"][0] and "segmentation" not in raw["annotations"][1]

    from engine.detection import build_detector

    torch.manual_seed(0)
    model = build_detector(
        "fasterrcnn_mobilenet_v3_large_fpn",
        num_classes=len(data.categories) + 1,
        min_size=64,
        max_size=64,
        box_batch_size_per_image=32,
    )
    model.train()
    images, targets = collate([data[0], data[1]])
    targets = [{k: t[k] for k in ("boxes", "labels")} for t in targets]
    loss = sum(model(images, targets).values())
    loss.backward()
    assert torch.isfinite(loss)
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_coco_export_of_everything_keeps_statuses(reviewed, tmp_path):
    raw = json.loads(export_coco(reviewed, tmp_path / "all.json", reviewed_only=False).read_bytes())
    assert [i["file_name"] for i in raw["images"]] == ["bag_1.png", "bag_2.png", "bag_10.png"]
    statuses = [a["attributes"]["review_status"] for a in raw["annotations"]]
    assert statuses.count("pending") == 3 and statuses.count("rejected") == 4
    assert len(CocoDetection(tmp_path / "all.json")) == 3


def test_everything_shown_leaves_out_findings_under_the_thresholds_in_force(reviewed, tmp_path):
    # bag_10 untouched: m0 0.9, m1 0.6, m2 0.2 pending; at 0.5 the analyst saw m0 and m1 only
    reviewed.set_thresholds(0.5, 0.5)
    raw = json.loads(
        export_coco(reviewed, tmp_path / "shown.json", reviewed_only=False).read_bytes()
    )
    bag_10 = next(i["id"] for i in raw["images"] if i["file_name"] == "bag_10.png")
    shown = [a for a in raw["annotations"] if a["image_id"] == bag_10]
    assert [a["attributes"]["score"] for a in shown] == [0.9, 0.6]
    assert [a["attributes"]["anomalous"] for a in shown] == [True, False]  # 0.8, 0.2 vs 0.5
    assert raw["info"]["score_threshold"] == 0.5 and raw["info"]["include_hidden"] is False
    statuses = [a["attributes"]["review_status"] for a in raw["annotations"]]
    assert statuses.count("rejected") == 4  # what the analyst rejected was seen: it stays
    # explicit thresholds beat the project's; everything the model found on request
    at_0 = export_coco(reviewed, tmp_path / "a.json", reviewed_only=False, score_threshold=0.0)
    assert len(json.loads(at_0.read_bytes())["annotations"]) == 10
    every = export_coco(reviewed, tmp_path / "e.json", reviewed_only=False, include_hidden=True)
    assert len(json.loads(every.read_bytes())["annotations"]) == 10
    out = export_yolo(reviewed, tmp_path / "yolo", reviewed_only=False)
    assert len((out / "labels" / "bag_10.txt").read_text().splitlines()) == 2
    out = export_voc(reviewed, tmp_path / "voc", reviewed_only=False)
    assert len(ET.parse(out / "bag_10.xml").getroot().findall("object")) == 2


def test_a_scan_without_prediction_takes_its_size_from_the_file(scan_dir, tmp_path):
    store = ReviewStore(scan_dir, analyst="ana")
    store.add_object("bag_2.png", (1, 2, 30, 40), "iron")
    store.set_decision("bag_2.png", "search")
    raw = json.loads(export_coco(store, tmp_path / "c.json").read_bytes())
    assert (raw["images"][0]["width"], raw["images"][0]["height"]) == (64, 48)
    assert raw["annotations"][0]["bbox"] == [1, 2, 29, 38]


def test_voc_export(reviewed, tmp_path):
    out = export_voc(reviewed, tmp_path / "voc")
    assert sorted(p.name for p in out.iterdir()) == ["bag_1.xml", "bag_2.xml"]
    root = ET.parse(out / "bag_1.xml").getroot()
    assert root.findtext("filename") == "bag_1.png"
    assert (root.findtext("size/width"), root.findtext("size/height")) == ("64", "48")
    assert root.findtext("review/decision") == "suspect"
    objects = reviewed.objects("bag_1.png")
    kept = [o for o in objects if o.status != "rejected"]
    written = root.findall("object")
    assert len(written) == len(kept) == 3
    for element, obj in zip(written, kept, strict=True):
        box = [int(element.findtext(f"bndbox/{t}")) for t in ("xmin", "ymin", "xmax", "ymax")]
        x0, y0, x1, y1 = obj.box_xyxy
        assert box == [round(x0) + 1, round(y0) + 1, round(x1), round(y1)]  # VOC is 1-based
        assert element.findtext("name") == obj.label
        assert element.findtext("anomalous") == str(int(obj.anomalous))
        assert element.findtext("status") == obj.status
    assert ET.parse(out / "bag_2.xml").getroot().findall("object") == []


def test_yolo_export(reviewed, tmp_path):
    out = export_yolo(reviewed, tmp_path / "yolo")
    classes = (out / "classes.txt").read_text().split()
    assert classes == reviewed.categories
    lines = (out / "labels" / "bag_1.txt").read_text().splitlines()
    kept = [o for o in reviewed.objects("bag_1.png") if o.status != "rejected"]
    assert len(lines) == len(kept)
    for line, obj in zip(lines, kept, strict=True):
        cls, cx, cy, w, h = line.split()
        x0, y0, x1, y1 = obj.box_xyxy
        assert classes[int(cls)] == obj.label
        expected = [(x0 + x1) / 128, (y0 + y1) / 96, (x1 - x0) / 64, (y1 - y0) / 48]
        assert [float(v) for v in (cx, cy, w, h)] == pytest.approx(expected, abs=1e-6)
    assert (out / "labels" / "bag_2.txt").read_text() == ""  # negative image
    assert json.loads((out / "anomalies.json").read_text()) == {
        "bag_1": [o.anomalous for o in kept],
        "bag_2": [],
    }
    data = yaml.safe_load((out / "data.yaml").read_text())
    assert data["names"] == dict(enumerate(classes)) and Path(data["path"]) == out.resolve()
    assert (out / "images" / "bag_1.png").read_bytes() == (
        reviewed.folder / "bag_1.png"
    ).read_bytes()
