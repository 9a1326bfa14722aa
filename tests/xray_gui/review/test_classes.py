"""The classes come from the model: a project in a site's own classes keeps them, a model of other
classes puts its own in force without touching a label, and exports and statistics follow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.classes import DEFAULT_CLASSES
from engine.pipeline import BagResult, Finding
from xray_gui.review import PROJECT_NAME, ReviewStore, export_coco, export_yolo, review_stats

from .conftest import NAMES, H, W

SITE = ["scissors", "gun", "knife", "lighter", "aerosol", "battery", "phone", "tablet", "cable"]
SITE += ["powerbank", "umbrella"]  # eleven: more than the nine class keys


def site_result(path: Path) -> BagResult:
    """Two findings in the site's classes: m0 a knife, m1 a powerbank (the tenth class)."""
    findings = [
        Finding((4.0, 6.0, 16.0, 20.0), "knife", 0.9, None, 0.8, True),
        Finding((30.0, 10.0, 50.0, 30.0), "powerbank", 0.7, None, 0.1, False),
    ]
    return BagResult(str(path), (W, H), findings, {"total": 5.0}, "site-v1")


@pytest.fixture
def site_store(scan_dir: Path) -> ReviewStore:
    """A project made with the site's model: every scan screened, bag_1 reviewed."""
    store = ReviewStore(scan_dir, analyst="ana", categories=SITE)
    for name in NAMES:
        store.set_prediction(scan_dir / name, site_result(scan_dir / name))
    store.accept("bag_1.png", "m0")
    store.set_label("bag_1.png", "m1", "umbrella")  # the eleventh class
    store.add_object("bag_1.png", (40, 30, 60, 44), "cable")
    store.set_decision("bag_1.png", "suspect")
    return store


def test_a_new_project_without_a_model_starts_from_the_default_classes(scan_dir):
    assert ReviewStore(scan_dir).categories == list(DEFAULT_CLASSES)


def test_a_project_reopens_in_its_own_classes_not_the_defaults(site_store, scan_dir):
    site_store.close()
    again = ReviewStore(scan_dir)
    assert again.categories == SITE
    assert json.loads((scan_dir / PROJECT_NAME).read_bytes())["categories"] == SITE


def test_exports_and_statistics_are_in_the_models_classes(site_store, tmp_path):
    coco = json.loads(export_coco(site_store, tmp_path / "review.json").read_bytes())
    assert [c["name"] for c in coco["categories"]] == SITE
    names = {c["id"]: c["name"] for c in coco["categories"]}
    assert [names[a["category_id"]] for a in coco["annotations"]] == ["knife", "umbrella", "cable"]
    yolo = export_yolo(site_store, tmp_path / "yolo")
    assert (yolo / "classes.txt").read_text().split() == SITE
    stats = review_stats(site_store)
    assert list(stats.per_class) == SITE
    assert stats.per_class["umbrella"] == 1 and stats.per_class["knife"] == 3


def test_another_models_classes_are_put_in_force_and_the_unknown_ones_reported(
    site_store, scan_dir, tmp_path
):
    site_store.close()
    before = (scan_dir / PROJECT_NAME).read_bytes()
    other = ReviewStore(scan_dir, analyst="bo")
    unknown = other.use_classes(["bottle", "knife", "laptop"])
    # knife is known; the rest keep their labels, counted over every object of the project
    assert unknown == {"cable": 1, "powerbank": 2, "umbrella": 1}
    assert list(unknown) == ["cable", "powerbank", "umbrella"]  # in the project's class order
    assert other.categories == ["bottle", "knife", "laptop", "cable", "powerbank", "umbrella"]
    assert [o.label for o in other.objects("bag_1.png")] == ["knife", "umbrella", "cable"]
    assert (scan_dir / PROJECT_NAME).read_bytes() == before  # looking changes nothing
    other.set_label("bag_2.png", "m1", "laptop")  # relabelled into the model's classes
    coco = json.loads(export_coco(other, tmp_path / "review.json").read_bytes())
    assert [c["name"] for c in coco["categories"]][:3] == ["bottle", "knife", "laptop"]
    assert [o.label for o in ReviewStore(scan_dir, inspect=True).objects("bag_1.png")] == [
        "knife",
        "umbrella",
        "cable",
    ]


def test_relabelling_follows_the_classes_in_force(site_store):
    with pytest.raises(ValueError, match="unknown label 'bottle'"):
        site_store.set_label("bag_2.png", "m0", "bottle")
    site_store.use_classes(["bottle", "laptop"])
    site_store.set_label("bag_2.png", "m0", "bottle")
    assert site_store.object("bag_2.png", "m0").label == "bottle"


@pytest.mark.parametrize("names", ["gun", ["gun", "gun"], ["gun", ""], ["gun", 3]])
def test_a_class_list_that_is_no_list_of_names_is_refused(scan_dir, names):
    with pytest.raises(ValueError, match="class"):
        ReviewStore(scan_dir, categories=names)


def test_the_review_store_does_not_load_the_simulator():
    code = "import sys, xray_gui.review; assert not [m for m in sys.modules if 'synth' in m]"
    root = Path(__file__).resolve().parents[3]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, timeout=120)
