"""The classes come from the model (issue 19, item 13): class keys, the class of a drawn box,
statistics and exports follow the loaded model's classes, any names and any number; a project
in classes the model does not know is reported and left as it is."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from engine.classes import DEFAULT_CLASSES
from engine.pipeline import BagResult, Finding
from xray_gui.class_keys import KEYED
from xray_gui.main_window import MainWindow
from xray_gui.review import PROJECT_NAME, ReviewStore
from xray_gui.screening import ModelInfo

from .conftest import open_and_wait

W, H = 80, 60  # the scans of `scan_folder`
SITE = ("scissors", "gun", "knife", "lighter", "aerosol", "battery", "phone", "tablet", "cable")
SITE += ("powerbank", "umbrella")  # eleven classes: two beyond the class keys
MODEL_TIMEOUT_MS = 60_000
SCREEN_TIMEOUT_MS = 60_000


def site_model(window: MainWindow, classes=SITE, name: str = "site") -> ModelInfo:
    """Tell the window a model of these classes is loaded (no screener: nothing is screened)."""
    info = ModelInfo(f"{name}.xsb", name, "CPU", tuple(classes), 0.5, 0.5, True, 1)
    window.review._on_model_loaded(info)
    return info


def site_findings(path: Path, labels=("knife", "powerbank")) -> BagResult:
    """m0 an anomalous object, m1 a benign one, in the given classes."""
    findings = [
        Finding((10.0, 10.0, 50.0, 30.0), labels[0], 0.9, None, 0.8, True),
        Finding((55.0, 35.0, 75.0, 55.0), labels[1], 0.7, None, 0.1, False),
    ]
    return BagResult(str(path), (W, H), findings, {"total": 5.0}, "site-v1")


@pytest.fixture
def site(qtbot, window: MainWindow, scan_folder: Path) -> MainWindow:
    """The window on the first scan, a model of the site's eleven classes, two findings drawn."""
    open_and_wait(qtbot, window, [scan_folder])
    site_model(window)
    path = window.review.session.current_path
    window.review.session.store.set_prediction(path, site_findings(Path(path)), device="CPU")
    window.review.refresh()
    return window


def labels(window: MainWindow) -> list[str]:
    return [o.label for o in window.review.objects()]


def test_the_class_keys_are_the_models_classes(qtbot, site):
    actions = site.actions
    assert not any(f"label_{c}" in actions for c in DEFAULT_CLASSES if c not in SITE)
    for i, name in enumerate(SITE[:KEYED], start=1):
        assert actions[f"label_{name}"].shortcut().toString() == f"Ctrl+{i}"
    more = site.review.class_keys.more
    assert more is not None and [a.text() for a in more.actions()] == [
        "Class: powerbank",
        "Class: umbrella",
    ]
    assert all(actions[f"label_{c}"].shortcut().isEmpty() for c in SITE[KEYED:])
    keys = [a.shortcut().toString() for a in actions.values() if not a.shortcut().isEmpty()]
    assert len(keys) == len(set(keys))
    site.review.select("m0")
    qtbot.keyClick(site.view, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert labels(site)[0] == "knife"
    qtbot.keyClick(site.view, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert labels(site)[0] == "gun"
    actions["label_umbrella"].trigger()  # beyond the ninth: from the menu
    assert labels(site)[0] == "umbrella"
    assert dict(site.shortcut_table())["Ctrl+9"] == "Class: cable"


def test_a_drawn_box_gets_the_models_class(qtbot, site):
    review = site.review
    site.actions["draw_box"].trigger()
    site.view.view_box.boxDrawn.emit(20.0, 32.0, 40.0, 50.0)
    assert labels(site)[-1] == SITE[0]  # the model's first class, not the simulator's bottle
    review.select("m1")
    site.actions["label_tablet"].trigger()
    site.actions["draw_box"].trigger()
    site.view.view_box.boxDrawn.emit(2.0, 40.0, 12.0, 58.0)
    assert labels(site)[-1] == "tablet"  # the class last used
    assert "Ctrl+1…9 (more in Review ▸ Class)" in site.statusBar().currentMessage()


def test_statistics_and_exports_are_in_the_models_classes(qtbot, site, tmp_path):
    review = site.review
    review.select("m0")
    site.actions["accept"].trigger()
    site.actions["decide_suspect"].trigger()
    review.stats_dock.show()
    review._refresh_stats()
    assert review.stats.class_names == list(SITE)
    assert review.stats.class_counts[SITE.index("knife")] == 1
    coco = json.loads(review.export("coco", tmp_path / "review.json").read_bytes())
    assert [c["name"] for c in coco["categories"]] == list(SITE)
    assert [coco["categories"][a["category_id"] - 1]["name"] for a in coco["annotations"]] == [
        "knife"
    ]
    yolo = review.export("yolo", tmp_path / "yolo")
    assert (yolo / "classes.txt").read_text().split() == list(SITE)


def _old_project(folder: Path) -> bytes:
    """A project reviewed with a model of the classes gun and knife; its bytes on disk."""
    with ReviewStore(folder, analyst="ana", categories=["gun", "knife"]) as store:
        for name in ("bag_1.png", "bag_2.png"):
            store.set_prediction(folder / name, site_findings(folder / name, ("gun", "knife")))
            store.accept(name, "m0")
        store.add_object("bag_1.png", (2, 40, 12, 58), "knife")
    return (folder / PROJECT_NAME).read_bytes()


@pytest.mark.parametrize("model_first", [True, False], ids=["model first", "folder first"])
def test_a_project_in_other_classes_is_reported_not_mangled(
    qtbot, window, scan_folder, model_first
):
    before = json.loads(_old_project(scan_folder))
    if model_first:
        site_model(window, ("bottle", "laptop"), name="demo")
        open_and_wait(qtbot, window, [scan_folder])
    else:
        open_and_wait(qtbot, window, [scan_folder])
        site_model(window, ("bottle", "laptop"), name="demo")
    message = window.error_banner.message()
    assert "model demo does not know: gun (2 objects), knife (3 objects)" in message
    review = window.review
    assert labels(window) == ["gun", "knife", "knife"]  # shown as they were reviewed
    assert review.class_keys.names == ["bottle", "laptop"]
    assert review.session.store.categories == ["bottle", "laptop", "gun", "knife"]
    review.select("m1")
    window.actions["label_laptop"].trigger()  # relabelled into the model's classes
    after = json.loads((scan_folder / PROJECT_NAME).read_bytes())
    scans = after["scans"]
    assert scans["bag_1.png"]["analyst"]["objects"]["m1"]["label"] == "laptop"
    assert scans["bag_1.png"]["analyst"]["added"]["a1"]["label"] == "knife"
    assert scans["bag_2.png"] == before["scans"]["bag_2.png"]  # untouched
    for scan in scans.values():
        found = [f["label"] for f in scan["predictions"][0]["result"]["findings"]]
        assert found == ["gun", "knife"]


def test_without_a_model_the_keys_are_the_projects_classes(qtbot, window, scan_folder):
    _old_project(scan_folder)
    assert window.review.class_keys.names == list(DEFAULT_CLASSES)  # nothing said otherwise
    open_and_wait(qtbot, window, [scan_folder])
    assert window.review.class_keys.names == ["gun", "knife"]
    assert window.error_banner.message() == ""
    assert window.actions["label_knife"].shortcut().toString() == "Ctrl+2"


# ----- a real model of a site's own classes ---------------------------------------------------
SITE_NAMES = ("flask", "dryer", "press", "grill", "handset", "notebook")
RENAMED = dict(zip(DEFAULT_CLASSES, SITE_NAMES, strict=True))
TRAINED = ["notebook", "flask", "handset"]  # three of them, in the site's order


@pytest.fixture(scope="module")
def site_bundle(tiny_coco: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real bundle (a detector trained a few steps, no classifier) of three renamed classes."""
    from engine.bundle import make_bundle
    from engine.config import load_config
    from engine.detection.config import DetectionConfig
    from engine.detection.train import train_detector

    from ..conftest import REPO

    folder = tmp_path_factory.mktemp("site_data")
    for split in ("train", "val"):
        data = json.loads((tiny_coco / f"{split}.json").read_text())
        data.setdefault("info", {})["image_root"] = str(tiny_coco)
        for category in data["categories"]:
            category["name"] = RENAMED[category["name"]]
        (folder / f"{split}.json").write_text(json.dumps(data))
    runs = tmp_path_factory.mktemp("site_runs")
    config = load_config(
        DetectionConfig,
        REPO / "configs" / "detection" / "smoke.yaml",
        [
            f"data.train={folder}",
            f"data.categories=[{','.join(TRAINED)}]",
            f"run.out={runs}",
            "solver.max_iters=2",
            "solver.warmup_iters=1",
        ],
    )
    run = train_detector(config, progress=False)
    return make_bundle(run.run_dir / "last.pt", None, runs / "site.xsb", detection_threshold=0.0)


@pytest.mark.slow
def test_a_real_bundle_of_other_classes_reviews_in_them(
    qtbot, window, site_bundle, tiny_coco, tmp_path
):
    folder = tmp_path / "bags"
    folder.mkdir()
    for path in sorted((tiny_coco / "images").glob("bag_00000[0-1]*.png")):
        shutil.copy(path, folder / path.name)
    review = window.review
    with qtbot.waitSignal(review.modelChanged, timeout=MODEL_TIMEOUT_MS):
        review.load_model(site_bundle, "cpu")
    assert review.session.model.categories == tuple(TRAINED)
    assert review.class_keys.names == TRAINED
    with qtbot.waitSignal(review.resultShown, timeout=SCREEN_TIMEOUT_MS):
        open_and_wait(qtbot, window, [folder])
    review.panel.score_slider.set_value(0.0)
    assert set(labels(window)) <= set(TRAINED)
    window.actions["draw_box"].trigger()
    window.view.view_box.boxDrawn.emit(10.0, 10.0, 40.0, 30.0)
    (added,) = [o for o in review.objects() if o.source == "analyst"]
    assert added.label == "notebook"
    review.select(added.id)
    qtbot.keyClick(window.view, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert review.session.store.object(review.session.current_path, added.id).label == "handset"
    window.actions["decide_suspect"].trigger()
    coco = json.loads(review.export("coco", tmp_path / "review.json").read_bytes())
    assert [c["name"] for c in coco["categories"]] == TRAINED
    names = [coco["categories"][a["category_id"] - 1]["name"] for a in coco["annotations"]]
    assert names == ["handset"]
