"""Polygon masks for the analyst's objects (issue 19, item 14): stored in the project (old
projects still read), edited vertex by vertex with undo, exported as COCO polygon segmentation."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET

import pytest

from engine.data.coco import CocoDetection
from xray_gui.review import PROJECT_NAME, ReviewStore, export_coco, export_voc, export_yolo
from xray_gui.review.project import VERSION

from .conftest import H, W

BAG = "bag_1.png"
TRIANGLE = [(10.0, 8.0), (40.0, 8.0), (25.0, 38.0)]  # box (10, 8, 40, 38), area 450


def test_a_polygon_is_stored_with_its_bounding_box_and_reopens(store, scan_dir):
    obj_id = store.add_polygon(BAG, TRIANGLE, "iron", anomalous=True)
    obj = store.object(BAG, obj_id)
    assert obj.polygon == tuple(TRIANGLE) and obj.box_xyxy == (10, 8, 40, 38)
    assert (obj.source, obj.status, obj.label, obj.anomalous) == ("analyst", "added", "iron", True)
    store.close()
    data = json.loads((scan_dir / PROJECT_NAME).read_bytes())
    assert data["version"] == VERSION == 2
    assert data["scans"][BAG]["analyst"]["added"][obj_id]["polygon"] == [list(p) for p in TRIANGLE]
    assert ReviewStore(scan_dir).object(BAG, obj_id).polygon == tuple(TRIANGLE)


def test_a_polygon_and_its_box_are_clipped_to_the_image(store):
    obj_id = store.add_polygon(BAG, [(-5, -5), (W + 20, 10), (30, H + 9)], "iron")
    obj = store.object(BAG, obj_id)
    assert obj.polygon == ((0, 0), (W, 10), (30, H))
    assert obj.box_xyxy == (0, 0, W, H)


@pytest.mark.parametrize(
    "points",
    [
        [(1, 1), (9, 9)],
        [(1, 1), (5, 5), (9, 9)],  # on one line: no area
        [(1, 1), (1, 1), (1, 1), (1, 1)],
        [(1, 1), (math.nan, 5), (9, 2)],
        [(-9, -9), (-5, -2), (-1, -7)],  # wholly off the image: clipped to one point
        "1,2 3,4 5,6",
    ],
)
def test_a_polygon_without_area_is_refused_and_nothing_saved(store, scan_dir, points):
    before = (scan_dir / PROJECT_NAME).read_bytes()
    with pytest.raises(ValueError, match="polygon"):
        store.add_polygon(BAG, points, "iron")
    assert (scan_dir / PROJECT_NAME).read_bytes() == before and not store.can_undo()


def test_moving_a_vertex_moves_the_box_and_undo_takes_it_back(store, scan_dir):
    obj_id = store.add_polygon(BAG, TRIANGLE, "iron")
    store.set_polygon(BAG, obj_id, [(10, 8), (40, 8), (25, 46), (12, 30)])  # moved, one added
    obj = store.object(BAG, obj_id)
    assert len(obj.polygon) == 4 and obj.box_xyxy == (10, 8, 40, 46)
    assert store.history(BAG)[-1]["action"] == "set_polygon"
    assert store.undo_text().startswith("Undo reshape a1")
    store.undo()
    assert store.object(BAG, obj_id).polygon == tuple(TRIANGLE)
    assert store.object(BAG, obj_id).box_xyxy == (10, 8, 40, 38)
    store.redo()
    store.close()
    again = ReviewStore(scan_dir).object(BAG, obj_id)
    assert len(again.polygon) == 4 and again.box_xyxy == (10, 8, 40, 46)


def test_moving_or_resizing_the_box_carries_the_polygon(store):
    obj_id = store.add_polygon(BAG, TRIANGLE, "iron")
    store.set_box(BAG, obj_id, (20, 10, 80, 40))  # moved 10 right, twice as wide, clipped at 64
    obj = store.object(BAG, obj_id)
    xs, ys = [p[0] for p in obj.polygon], [p[1] for p in obj.polygon]
    assert obj.box_xyxy == (20, 10, W, 40) == (min(xs), min(ys), max(xs), max(ys))


def test_a_box_drawn_object_can_be_given_a_polygon_but_a_model_finding_cannot(store):
    obj_id = store.add_object(BAG, (1, 1, 20, 20), "iron")
    store.set_polygon(BAG, obj_id, TRIANGLE)
    assert store.object(BAG, obj_id).box_xyxy == (10, 8, 40, 38)
    with pytest.raises(ValueError, match="model's finding"):
        store.set_polygon(BAG, "m1", TRIANGLE)
    assert store.object(BAG, "m1").polygon is None


def test_a_deleted_polygon_comes_back_with_undo(store):
    obj_id = store.add_polygon(BAG, TRIANGLE, "iron")
    store.delete_object(BAG, obj_id)
    assert store.history(BAG)[-1]["before"]["polygon"] == [list(p) for p in TRIANGLE]
    store.undo()
    assert store.object(BAG, obj_id).polygon == tuple(TRIANGLE)


def test_a_version_1_project_still_opens_and_is_kept_whole(store, scan_dir):
    store.add_object(BAG, (1, 2, 20, 30), "iron")
    store.set_decision(BAG, "suspect")
    store.close()
    old = json.loads((scan_dir / PROJECT_NAME).read_bytes())
    old["version"] = 1  # as the app wrote it before polygons
    (scan_dir / PROJECT_NAME).write_text(json.dumps(old))
    again = ReviewStore(scan_dir, analyst="bo")
    assert again.warnings == [] and again.decision(BAG) == "suspect"
    assert again.object(BAG, "a1").box_xyxy == (1, 2, 20, 30)
    again.add_polygon("bag_2.png", TRIANGLE, "iron")
    again.close()
    new = json.loads((scan_dir / PROJECT_NAME).read_bytes())
    assert new["version"] == 2 and new["scans"][BAG] == old["scans"][BAG]
    assert list((scan_dir).glob("*.corrupt-*")) == []


def test_coco_exports_the_polygon_as_segmentation(store, scan_dir, tmp_path):
    obj_id = store.add_polygon(BAG, [(10, 8), (40, 8), (40, 38), (10, 38)], "iron")
    store.set_box(BAG, "m1", (30, 10, 50, 30))  # a moved model box: no mask, no polygon
    store.accept(BAG, "m1")
    store.set_decision(BAG, "suspect")
    path = export_coco(store, tmp_path / "review.json")
    raw = json.loads(path.read_bytes())
    (mine,) = [a for a in raw["annotations"] if a["attributes"]["source"] == "analyst"]
    assert mine["segmentation"] == [[10, 8, 40, 8, 40, 38, 10, 38]]
    assert mine["bbox"] == [10, 8, 30, 30] and mine["area"] == pytest.approx(900, rel=0.1)
    moved = next(a for a in raw["annotations"] if a["attributes"]["source"] == "model")
    assert "segmentation" not in moved
    data = CocoDetection(path)
    _, target = data[0]
    assert target["masks"][-1].sum() == pytest.approx(900, rel=0.1)  # the polygon, filled
    assert target["boxes"][-1].tolist() == [10, 8, 40, 38]
    voc = ET.parse(export_voc(store, tmp_path / "voc") / "bag_1.xml")  # VOC and YOLO: its box
    boxes = [[int(v.text) for v in o.find("bndbox")] for o in voc.findall("object")]
    assert [11, 9, 40, 38] in boxes
    lines = (export_yolo(store, tmp_path / "yolo") / "labels" / "bag_1.txt").read_text()
    assert f" {25 / W:.6f} {23 / H:.6f} {30 / W:.6f} {30 / H:.6f}" in lines
    assert obj_id == "a1"
