"""The review store: actions, undo/redo, thresholds, persistence and failed saves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import xray_gui.review.store as store_module
from xray_gui.review import (
    PROJECT_NAME,
    ReviewSaveError,
    ReviewStore,
)


def view(store: ReviewStore, scan: str = "bag_1.png") -> list[tuple]:
    """What the overlay would draw, comparable with ==."""
    return [
        (o.id, o.box_xyxy, o.label, o.anomalous, o.status, o.source, o.mask is None, o.visible)
        for o in store.objects(scan)
    ]


def test_prediction_is_stored_with_masks_and_reloaded(store, scan_dir):
    result = store.prediction(scan_dir / "bag_1.png")
    assert [f.label for f in result.findings] == ["bottle", "iron", "laptop"]
    assert result.findings[0].mask.dtype == bool and result.findings[0].mask.sum() == 14 * 12
    assert store.prediction_info("bag_1.png")["model"] == "demo-v1"
    assert store.prediction_info("bag_1.png")["device"] == "CPU"
    assert store.has_prediction("bag_2.png") and not store.has_prediction("nope.png")
    store.close()  # else the second store opens the project read-only, and says so
    again = ReviewStore(scan_dir, analyst="bob")
    assert again.warnings == []
    assert view(again) == view(store)
    assert np.array_equal(again.objects("bag_1.png")[0].mask, result.findings[0].mask)
    assert again.history("bag_1.png")[0]["action"] == "screen"


def test_objects_merge_model_findings(store):
    objs = store.objects("bag_1.png")
    assert [(o.id, o.status, o.source) for o in objs] == [
        ("m0", "pending", "model"),
        ("m1", "pending", "model"),
        ("m2", "pending", "model"),
    ]
    assert objs[0].mask is not None and objs[1].mask is None
    assert objs[0].score == 0.9 and objs[0].anomaly_score == 0.8 and objs[0].anomalous
    with pytest.raises(KeyError, match="m7"):
        store.object("bag_1.png", "m7")


ACTIONS = {
    "accept": (lambda s: s.accept("bag_1.png", "m0"), {"m0": ("status", "accepted")}),
    "reject": (lambda s: s.reject("bag_1.png", "m1"), {"m1": ("status", "rejected")}),
    "relabel": (lambda s: s.set_label("bag_1.png", "m1", "toaster"), {"m1": ("label", "toaster")}),
    "anomalous": (lambda s: s.set_anomalous("bag_1.png", "m1", True), {"m1": ("anomalous", True)}),
    "move": (
        lambda s: s.set_box("bag_1.png", "m0", (20, 30, 2, 4)),
        {"m0": ("box_xyxy", (2.0, 4.0, 20.0, 30.0))},
    ),
    "delete model": (lambda s: s.delete_object("bag_1.png", "m2"), {"m2": ("status", "rejected")}),
}


@pytest.mark.parametrize("name", ACTIONS)
def test_each_action_undoes_and_redoes(store, name):
    act, expected = ACTIONS[name]
    before = view(store)
    act(store)
    ((obj_id, (attr, value)),) = expected.items()
    changed = store.object("bag_1.png", obj_id)
    assert getattr(changed, attr) == value
    if name in ("relabel", "anomalous", "move"):
        assert changed.status == "corrected"
    if name == "move":
        assert changed.mask is None
    after = view(store)
    assert store.can_undo() and not store.can_redo()
    assert store.undo() == "bag_1.png"
    assert view(store) == before
    assert store.can_redo() and store.redo_text().startswith("Redo ")
    assert store.redo() == "bag_1.png"
    assert view(store) == after
    assert view(ReviewStore(store.folder)) == after


def test_analyst_objects_add_edit_delete(store):
    a1 = store.add_object("bag_1.png", (50, 40, 44, 30), "mobile")
    assert a1 == "a1"
    obj = store.object("bag_1.png", "a1")
    assert (obj.box_xyxy, obj.status, obj.source, obj.score) == (
        (44, 30, 50, 40),
        "added",
        "analyst",
        None,
    )
    store.set_label("bag_1.png", "a1", "laptop")
    store.set_anomalous("bag_1.png", "a1", True)
    assert store.object("bag_1.png", "a1").status == "added"
    store.delete_object("bag_1.png", "a1")
    assert [o.id for o in store.objects("bag_1.png")] == ["m0", "m1", "m2"]
    store.undo()
    assert store.object("bag_1.png", "a1").label == "laptop"
    store.undo()
    store.undo()
    store.undo()  # the add itself
    assert [o.id for o in store.objects("bag_1.png")] == ["m0", "m1", "m2"]
    assert store.add_object("bag_1.png", (1, 1, 5, 5), "iron") == "a2"  # ids are never reused
    store.reject("bag_1.png", "a2")  # rejecting one's own drawing deletes it
    assert store.add_object("bag_1.png", (1, 1, 5, 5), "iron") == "a3"
    store.close()
    assert ReviewStore(store.folder).add_object("bag_1.png", (1, 1, 5, 5), "iron") == "a4"


def test_bad_arguments_raise_clear_errors(store):
    with pytest.raises(ValueError, match="unknown label 'gun'"):
        store.set_label("bag_1.png", "m0", "gun")
    with pytest.raises(ValueError, match="decision must be one of"):
        store.set_decision("bag_1.png", "maybe")
    with pytest.raises(ValueError, match="no area"):
        store.set_box("bag_1.png", "m0", (3, 3, 3, 9))
    with pytest.raises(KeyError, match="a9"):
        store.accept("bag_1.png", "a9")
    assert not store.can_undo()


def test_thresholds_filter_pending_findings_only(store):
    objs = store.objects("bag_1.png", score_threshold=0.5)
    assert [o.visible for o in objs] == [True, True, False]
    store.accept("bag_1.png", "m2")
    assert store.object("bag_1.png", "m2", score_threshold=0.5).visible  # analyst beats slider
    store.reject("bag_1.png", "m2")
    assert store.object("bag_1.png", "m2", score_threshold=0.5).visible
    flags = [o.anomalous for o in store.objects("bag_1.png", anomaly_threshold=0.5)]
    assert flags == [True, False, True]  # 0.8, 0.2, 0.55 against 0.5
    assert [o.anomalous for o in store.objects("bag_1.png")] == [True, False, False]
    store.set_anomalous("bag_1.png", "m2", False)
    assert not store.object("bag_1.png", "m2", anomaly_threshold=0.5).anomalous


def test_decision_note_and_review_time(store):
    store.set_decision("bag_1.png", "suspect")
    assert store.decision("bag_1.png") == "suspect" and store.is_reviewed("bag_1.png")
    for text in ("k", "kn", "knife?"):
        store.set_note("bag_1.png", text)
    assert store.undo_text() == "Undo edit note (bag_1.png)"
    store.add_review_time("bag_1.png", 2.5)
    store.add_review_time("bag_1.png", 1.0)
    assert store.undo() == "bag_1.png" and store.note("bag_1.png") == ""  # one step for 3 edits
    assert store.undo_text() == "Undo decide suspect (bag_1.png)"
    store.redo()
    reloaded = ReviewStore(store.folder)
    assert reloaded.note("bag_1.png") == "knife?"
    assert reloaded.review_seconds("bag_1.png") == 3.5
    assert reloaded.decision("bag_1.png") == "suspect"
    assert not reloaded.can_undo()  # undo is per session
    store.set_decision("bag_1.png", None)
    assert not store.is_reviewed("bag_1.png")


def test_undo_crosses_scans_and_is_logged(store):
    store.reject("bag_2.png", "m1")
    store.accept("bag_1.png", "m0")
    assert store.undo_text() == "Undo accept m0 (bag_1.png)"
    assert store.undo() == "bag_1.png"
    assert store.undo_text() == "Undo reject m1 (bag_2.png)"
    assert store.undo() == "bag_2.png"
    assert store.undo() is None and store.undo_text() == ""
    log = store.history("bag_2.png")
    assert [e["action"] for e in log] == ["screen", "reject", "undo"]
    assert log[1] == {**log[1], "by": "ana", "object": "m1", "before": "pending"}
    assert log[1]["after"] == "rejected" and log[1]["model"] == "demo-v1"
    assert log[2]["of"] == "reject" and log[2]["after"] == "pending"


def test_rescreen_keeps_the_analyst_record(store, result_for, scan_dir):
    store.reject("bag_1.png", "m1")
    store.set_decision("bag_1.png", "clear")
    store.set_prediction("bag_1.png", result_for(scan_dir / "bag_1.png", model="demo-v2"))
    assert store.prediction_info("bag_1.png")["model"] == "demo-v2"
    assert store.object("bag_1.png", "m1").status == "rejected"
    assert store.decision("bag_1.png") == "clear"
    saved = json.loads((scan_dir / PROJECT_NAME).read_bytes())
    assert len(saved["scans"]["bag_1.png"]["predictions"]) == 2


def test_status_and_next_unreviewed(store, scan_dir):
    paths = [scan_dir / n for n in ("bag_1.png", "bag_2.png", "bag_10.png")] + [scan_dir / "x.png"]
    assert store.status(paths[0]) == "screened" and store.status(paths[3]) == "new"
    store.set_decision(paths[1], "clear")
    store.set_decision(paths[3], "search")
    assert store.status(paths[1]) == "reviewed"
    assert store.next_unreviewed(paths, 1) == 2
    assert store.next_unreviewed(paths, 2) == 0  # wraps round
    for p in paths:
        store.set_decision(p, "clear")
    assert store.next_unreviewed(paths, 0) is None
    assert store.scan_keys() == ["bag_1.png", "bag_2.png", "bag_10.png", "x.png"]


def test_keys_are_relative_to_the_folder(store, scan_dir, tmp_path):
    assert store.key(scan_dir / "sub" / "a.png") == "sub/a.png"
    assert store.key("sub/a.png") == "sub/a.png"
    outside = tmp_path / "elsewhere.png"
    assert store.key(outside) == outside.as_posix()


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b'{"format": "xray-review", "version": 99, "scans": {}}',
        b"[1, 2]",
        b'{"format": "xray-review", "version": 1, "scans": {"a.png": {"analyst": {"added": 3}}}}',
    ],
    ids=["garbage", "wrong version", "not an object", "wrong schema"],
)
def test_a_corrupt_project_is_kept_aside(scan_dir, content):
    project = scan_dir / PROJECT_NAME
    project.write_bytes(content)
    store = ReviewStore(scan_dir, analyst="ana")
    assert store.scan_keys() == [] and len(store.warnings) == 1
    backups = list(scan_dir.glob(f"{PROJECT_NAME}.corrupt-*"))
    assert len(backups) == 1 and backups[0].read_bytes() == content
    assert str(backups[0]) in store.warnings[0] and "\n" not in store.warnings[0]
    store.set_decision("bag_1.png", "clear")
    assert ReviewStore(scan_dir).decision("bag_1.png") == "clear"


def test_a_failed_save_keeps_the_file_and_the_change(store, scan_dir, monkeypatch):
    project = scan_dir / PROJECT_NAME
    before = project.read_bytes()

    def disk_full(path, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store_module, "atomic_write_bytes", disk_full)
    with pytest.raises(ReviewSaveError, match=f"{project}.*No space left on device"):
        store.reject("bag_1.png", "m0")
    assert project.read_bytes() == before
    assert store.object("bag_1.png", "m0").status == "rejected" and store.dirty
    monkeypatch.undo()
    store.save()
    assert not store.dirty
    assert ReviewStore(scan_dir).object("bag_1.png", "m0").status == "rejected"


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_a_read_only_folder_raises_save_errors(store, scan_dir):
    before = (scan_dir / PROJECT_NAME).read_bytes()
    scan_dir.chmod(0o500)
    try:
        assert not store.writable()
        with pytest.raises(ReviewSaveError, match="Permission denied"):
            store.accept("bag_1.png", "m0")
        assert (scan_dir / PROJECT_NAME).read_bytes() == before
    finally:
        scan_dir.chmod(0o700)


def test_move_to_another_project_file(store, scan_dir, tmp_path):
    store.accept("bag_1.png", "m0")
    target = tmp_path / "data" / "projects" / "scans.json"
    store.move_to(target)
    assert store.project_path == target and target.is_file()
    store.reject("bag_1.png", "m1")
    moved = ReviewStore(scan_dir, target)
    assert [o.status for o in moved.objects("bag_1.png")][:2] == ["accepted", "rejected"]
    assert ReviewStore(scan_dir).object("bag_1.png", "m1").status == "pending"  # old file


def test_fallback_project_path_is_per_folder(scan_dir, tmp_path):
    path = ReviewStore.fallback_project_path(scan_dir)
    other = ReviewStore.fallback_project_path(tmp_path)
    assert path.parent.name == "projects" and path.name.startswith("scans-")
    assert path.suffix == ".json" and path != other


def test_the_file_is_compact_json_with_format_and_version(store, scan_dir):
    raw = (scan_dir / PROJECT_NAME).read_text()
    data = json.loads(raw)
    assert (data["format"], data["version"]) == ("xray-review", 2) and ", " not in raw[:200]
    scan = data["scans"]["bag_1.png"]
    assert set(scan) == {"predictions", "analyst", "log"}
    assert "mask_rle" in scan["predictions"][0]["result"]["findings"][0]


def test_the_review_package_imports_no_qt():
    """Every module of the package, the session included, imported one by one: no Qt, no torch."""
    code = (
        "import importlib, pkgutil, sys, xray_gui.review as r; "
        "names = [m.name for m in pkgutil.iter_modules(r.__path__, 'xray_gui.review.')]; "
        "assert 'xray_gui.review.session' in names, names; "
        "[importlib.import_module(n) for n in names]; "
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))]; "
        "assert not bad, bad; assert 'torch' not in sys.modules"
    )
    root = Path(__file__).resolve().parents[3]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, timeout=60)


def test_for_folder_falls_back_when_the_folder_is_read_only(scan_dir, tmp_path, monkeypatch):
    assert ReviewStore.for_folder(scan_dir).project_path == scan_dir / PROJECT_NAME
    monkeypatch.setattr(store_module.platformdirs, "user_data_path", lambda app: tmp_path / app)
    monkeypatch.setattr(ReviewStore, "writable", lambda self: False)
    store = ReviewStore.for_folder(scan_dir, analyst="ana")
    assert store.project_path == ReviewStore.fallback_project_path(scan_dir)
    assert store.project_path.is_relative_to(tmp_path / "xray-gui" / "projects")


def test_boxes_are_kept_on_the_image(store):
    store.set_box("bag_1.png", "m0", (50, 40, 90, 70))  # the scans are 64×48
    assert store.object("bag_1.png", "m0").box_xyxy == (50, 40, 64, 48)
    assert store.add_object("bag_1.png", (-5, -5, 10, 10), "iron") == "a1"
    assert store.object("bag_1.png", "a1").box_xyxy == (0, 0, 10, 10)
    with pytest.raises(ValueError, match="no area"):
        store.set_box("bag_1.png", "m1", (70, 50, 90, 60))  # wholly off the image


def test_a_note_typed_just_before_a_kill_is_recovered(store, scan_dir):
    store.set_note("bag_1.png", "kn")
    store.close()
    code = (
        "import os, signal, sys; from xray_gui.review import ReviewStore; "
        "s = ReviewStore(sys.argv[1], analyst='ana'); s.stage_note('bag_1.png', 'knife?'); "
        "os.kill(os.getpid(), signal.SIGKILL)"
    )
    root = Path(__file__).resolve().parents[3]
    child = subprocess.run([sys.executable, "-c", code, str(scan_dir)], cwd=root, timeout=60)
    assert child.returncode == -9
    again = ReviewStore(scan_dir, analyst="bob")
    assert again.note("bag_1.png") == "knife?"
    assert again.history("bag_1.png")[-1] == {
        **again.history("bag_1.png")[-1],
        "action": "note",
        "before": "kn",
        "after": "knife?",
        "recovered": True,
    }
    assert not again.note_journal_path.exists()  # applied and saved in the project
    again.close()
    assert ReviewStore(scan_dir).note("bag_1.png") == "knife?"


def test_the_note_journal_goes_once_the_note_is_saved(store):
    store.stage_note("bag_1.png", "kni")
    assert store.note_journal_path.is_file() and store.note("bag_1.png") == ""
    store.accept("bag_2.png", "m0")  # a save without the note: the journal stays
    assert store.note_journal_path.is_file()
    store.set_note("bag_1.png", "kni")
    assert not store.note_journal_path.exists()


def test_thresholds_in_force_are_kept_with_the_project(store, scan_dir, result_for):
    assert store.thresholds is None and store.thresholds_for("bag_1.png") is None
    store.set_prediction(
        "bag_2.png", result_for(scan_dir / "bag_2.png"), score_threshold=0.5, anomaly_threshold=0.6
    )
    assert store.thresholds_for("bag_2.png") == (0.5, 0.6)  # the screening model's
    assert store.prediction_info("bag_2.png")["total_ms"] == 5.0
    store.set_thresholds(0.3, None, model="demo-v1")
    store.close()
    again = ReviewStore(scan_dir)
    assert again.thresholds == {"score": 0.3, "anomaly": None, "model": "demo-v1"}
    assert again.thresholds_for("bag_2.png") == (0.3, None)


def test_inspect_reads_a_project_and_touches_nothing(tmp_path):
    """Training reads reviews so: no lock, no repair, every change refused."""
    from xray_gui.review.store import ReviewError

    with ReviewStore(tmp_path) as store:
        store.add_object(tmp_path / "a.png", (1, 1, 5, 5), "bottle")
    before = sorted(p.name for p in tmp_path.iterdir())
    seen = ReviewStore(tmp_path, inspect=True)
    assert [o.label for o in seen.objects(tmp_path / "a.png")] == ["bottle"]
    assert seen.read_only
    with pytest.raises(ReviewError):
        seen.add_object(tmp_path / "a.png", (1, 1, 5, 5), "bottle")
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    (tmp_path / PROJECT_NAME).write_text("{ broken")
    with pytest.raises(ReviewError, match="unreadable"):
        ReviewStore(tmp_path, inspect=True)
    assert (tmp_path / PROJECT_NAME).read_text() == "{ broken"
