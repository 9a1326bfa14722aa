"""Screening and review end to end: a real bundle on a worker thread, the overlay, the review
actions with undo and redo, bag decisions, export and reload, and bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QSettings, Qt, QTimer

from engine.colour import ANOMALY_RGB, BENIGN_RGB
from xray_gui.main_window import MainWindow
from xray_gui.review import PROJECT_NAME, ReviewStore

from .conftest import open_and_wait

MODEL_TIMEOUT_MS = 60_000
SCREEN_TIMEOUT_MS = 60_000


@pytest.fixture
def scans(tiny_coco: Path, tmp_path: Path) -> Path:
    """Three simulated dual-energy scans (with their channel files) in a folder of their own."""
    folder = tmp_path / "bags"
    folder.mkdir()
    for path in sorted((tiny_coco / "images").glob("bag_00000[0-2]*.png")):
        shutil.copy(path, folder / path.name)
    return folder


@pytest.fixture
def loaded(qtbot, window: MainWindow, tiny_bundle: Path) -> MainWindow:
    """The window with the tiny bundle loaded on the CPU."""
    with qtbot.waitSignal(window.review.modelChanged, timeout=MODEL_TIMEOUT_MS):
        window.review.load_model(tiny_bundle, "cpu")
    return window


def open_and_screen(qtbot, window: MainWindow, paths: list) -> None:
    """Open paths and wait until the first scan's findings are drawn."""
    with qtbot.waitSignal(window.review.resultShown, timeout=SCREEN_TIMEOUT_MS):
        open_and_wait(qtbot, window, paths)


def current_store(window: MainWindow) -> ReviewStore:
    store = window.review.session.store
    assert store is not None
    return store


@pytest.mark.slow
def test_opening_a_folder_screens_it_and_draws_the_findings(qtbot, loaded, scans):
    review = loaded.review
    assert "cpu" in review.model_label.text().lower()
    assert "anomalies judged in every class" in review.panel.model_label.text()
    open_and_screen(qtbot, loaded, [scans])
    store = current_store(loaded)
    first = loaded.queue.entries[0].path
    assert store.has_prediction(first) and (scans / PROJECT_NAME).is_file()
    visible = [o for o in review.objects() if o.visible]
    assert visible, "the tiny detector keeps findings above the score floor"
    assert set(review.overlay.drawn) == {o.id for o in visible}
    assert review.panel.table.topLevelItemCount() == len(visible)
    assert review.overlay.mask_rgba is not None and review.overlay.mask_rgba[..., 3].any()
    assert "last scan" in review.model_label.text()
    # the next scans are screened ahead in the background, and the queue marks them
    qtbot.waitUntil(
        lambda: all(store.has_prediction(e.path) for e in loaded.queue.entries),
        timeout=SCREEN_TIMEOUT_MS,
    )
    loaded.queue_panel.refresh(loaded.queue)
    assert all(loaded.queue_panel.item(i).text().startswith("●") for i in range(3))


@pytest.mark.slow
def test_sliders_refilter_the_overlay_without_running_the_model(qtbot, loaded, scans, monkeypatch):
    review = loaded.review
    open_and_screen(qtbot, loaded, [scans])
    calls = []
    original = review.screening._screen
    monkeypatch.setattr(review.screening, "_screen", lambda *a: (calls.append(a), original(*a)))
    review.screening.want([])  # nothing ahead: any model call now would be the sliders'
    scores = sorted(o.score for o in review.objects())
    cut = scores[len(scores) // 2]
    review.panel.score_slider.set_value(0.0)
    everything = len(review.overlay.drawn)
    review.panel.score_slider.set_value(cut)
    kept = {o.id for o in review.objects() if o.score >= round(cut, 2)}
    assert set(review.overlay.drawn) == kept and len(kept) < everything
    review.panel.anomaly_slider.set_value(0.0)
    assert all(d.colour == ANOMALY_RGB for d in review.overlay.drawn.values())
    review.panel.anomaly_slider.set_value(1.0)
    assert all(d.colour == BENIGN_RGB for d in review.overlay.drawn.values())
    qtbot.wait(50)
    assert calls == []


@pytest.mark.slow
def test_review_actions_with_undo_and_redo(qtbot, loaded, scans):
    review = loaded.review
    actions = loaded.actions
    open_and_screen(qtbot, loaded, [scans])
    review.panel.score_slider.set_value(0.0)
    path = str(loaded.queue.entries[0].path)
    store = current_store(loaded)

    # select by clicking on the scan, where the smallest box is
    target = min(review.objects(), key=lambda o: _area(o.box_xyxy))
    x0, y0, x1, y1 = target.box_xyxy
    _click_image(qtbot, loaded, (x0 + x1) / 2, (y0 + y1) / 2)
    assert review.session.selected == target.id

    qtbot.keyClick(loaded.view, Qt.Key.Key_Y)  # accept; the next pending one gets selected
    assert store.object(path, target.id).status == "accepted"
    second = review.session.selected
    assert second is not None and second != target.id
    actions["reject"].trigger()
    assert store.object(path, second).status == "rejected"
    review.select(target.id)
    actions["label_laptop"].trigger()
    assert store.object(path, target.id).label == "laptop"
    before = store.object(path, target.id).anomalous
    actions["toggle_anomalous"].trigger()
    assert store.object(path, target.id).anomalous is not before
    drawn = review.overlay.drawn[target.id]
    assert drawn.colour == (ANOMALY_RGB if not before else BENIGN_RGB)

    # move and resize the selected box with its handles
    roi = review.overlay.roi
    assert roi is not None
    roi.setPos((2.0, 3.0), finish=True)
    moved = store.object(path, target.id)
    assert moved.box_xyxy[:2] == pytest.approx((2.0, 3.0)) and moved.status == "corrected"

    # draw a box for a missed object
    actions["draw_box"].trigger()
    assert loaded.view.draw_mode()
    loaded.view.view_box.boxDrawn.emit(10.0, 12.0, 40.0, 30.0)
    assert not loaded.view.draw_mode()
    added = review.session.selected
    assert added and added.startswith("a")
    assert store.object(path, added).box_xyxy == pytest.approx((10, 12, 40, 30))
    actions["label_bottle"].trigger()
    actions["delete_object"].trigger()
    assert added not in {o.id for o in store.objects(path)}

    # every action undoes, in reverse order, and redoes
    done = [o for o in store.history(path) if o["action"] not in ("undo", "redo")]
    for _ in done:
        actions["undo"].trigger()
    assert not store.can_undo()
    assert all(o.status == "pending" for o in store.objects(path))
    for _ in done:
        actions["redo"].trigger()
    assert store.object(path, target.id).box_xyxy[:2] == pytest.approx((2.0, 3.0))
    assert store.object(path, second).status == "rejected"
    assert added not in {o.id for o in store.objects(path)}


@pytest.mark.slow
def test_decisions_notes_and_next_unreviewed(qtbot, loaded, scans):
    review = loaded.review
    open_and_screen(qtbot, loaded, [scans])
    store = current_store(loaded)
    first = loaded.queue.entries[0].path
    loaded.actions["decide_suspect"].trigger()
    assert store.decision(first) == "suspect" and loaded.actions["decide_suspect"].isChecked()
    review.panel.note.setPlainText("laptop looks thick")
    review.panel.flush_note()
    assert store.note(first) == "laptop looks thick"
    with qtbot.waitSignal(loaded.scanShown, timeout=15_000):
        loaded.actions["next_unreviewed"].trigger()
    assert loaded.queue.current == 1
    loaded.actions["decide_clear"].trigger()
    with qtbot.waitSignal(loaded.scanShown, timeout=15_000):
        loaded.actions["next_unreviewed"].trigger()
    assert loaded.queue.current == 2
    assert review.panel.note.toPlainText() == ""
    # undo reaches back across scans: the window goes to the scan the action was on
    loaded.actions["undo"].trigger()  # the clear decision of the second scan
    qtbot.waitUntil(lambda: loaded.queue.current == 1, timeout=15_000)
    assert store.decision(loaded.queue.entries[1].path) is None


@pytest.mark.slow
def test_export_reloads_as_a_training_set(qtbot, loaded, scans, tmp_path):
    from engine.data.coco import CocoDetection

    review = loaded.review
    open_and_screen(qtbot, loaded, [scans])
    review.panel.score_slider.set_value(0.0)
    path = str(loaded.queue.entries[0].path)
    store = current_store(loaded)
    review.select_step(1)
    kept = review.session.selected
    loaded.actions["accept"].trigger()
    loaded.actions["reject"].trigger()
    loaded.actions["decide_search"].trigger()
    out = review.export("coco", tmp_path / "export" / "reviewed.json")
    data = CocoDetection(out)
    assert len(data) == 1  # only the reviewed scan
    _, target = data[0]
    assert len(target["boxes"]) == 1
    box = store.object(path, kept).box_xyxy
    assert target["boxes"][0].tolist() == pytest.approx(list(box), abs=1.0)
    everything = json.loads(
        review.export("coco", tmp_path / "all.json", reviewed_only=False).read_text()
    )
    statuses = {a["attributes"]["review_status"] for a in everything["annotations"]}
    assert {"accepted", "rejected", "pending"} <= statuses
    assert (review.export("voc", tmp_path / "voc") / f"{Path(path).stem}.xml").is_file()
    assert (review.export("yolo", tmp_path / "yolo") / "classes.txt").is_file()


@pytest.mark.slow
def test_reopening_the_folder_restores_every_action(
    qtbot, loaded, scans, settings_file, tiny_bundle
):
    review = loaded.review
    open_and_screen(qtbot, loaded, [scans])
    review.panel.score_slider.set_value(0.0)
    path = str(loaded.queue.entries[0].path)
    review.select_step(1)
    accepted = review.session.selected
    loaded.actions["accept"].trigger()
    loaded.actions["decide_clear"].trigger()
    before = [(o.id, o.status, o.label, o.box_xyxy) for o in review.objects()]
    loaded.close()

    again = MainWindow(QSettings(str(settings_file), QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    again.show()
    # no model needed: the project file holds the findings and the decisions
    open_and_wait(qtbot, again, [scans])
    store = current_store(again)
    assert store.object(path, accepted).status == "accepted"
    assert store.decision(path) == "clear"
    assert [(o.id, o.status, o.label, o.box_xyxy) for o in store.objects(path)] == before
    assert set(again.review.overlay.drawn) >= {accepted}
    again.close()


def test_a_missing_or_broken_bundle_leaves_the_viewer_working(qtbot, window, scans, tmp_path):
    broken = tmp_path / "broken.xsb"
    broken.write_bytes(b"not a bundle")
    for bundle in (tmp_path / "none.xsb", broken):
        with qtbot.waitSignal(window.review.modelFailed, timeout=MODEL_TIMEOUT_MS):
            window.review.load_model(bundle, "cpu")
        assert "Could not load the model" in window.error_banner.message()
        assert str(bundle) in window.error_banner.message()
    assert window.review.session.model is None
    open_and_wait(qtbot, window, [scans])
    assert window.view.has_image() and window.review.overlay.drawn == {}


@pytest.mark.slow
def test_a_corrupt_scan_is_reported_and_the_rest_screened(qtbot, loaded, scans):
    (scans / "bag_000000a.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")  # second in order
    open_and_screen(qtbot, loaded, [scans])
    qtbot.waitUntil(lambda: loaded.queue.entries[1].error is not None, timeout=SCREEN_TIMEOUT_MS)
    store = current_store(loaded)
    qtbot.waitUntil(lambda: store.has_prediction(loaded.queue.entries[2].path), timeout=60_000)
    with qtbot.waitSignal(loaded.scanFailed, timeout=15_000):
        loaded.show_index(1)
    assert (
        loaded.review.session.current_path is None
    )  # the broken scan is on screen: nothing to review
    assert "Could not" in loaded.error_banner.message()


def test_a_corrupt_project_file_is_kept_as_a_backup(qtbot, window, scans):
    (scans / PROJECT_NAME).write_text('{"format": "xray-review", "scans": {', encoding="utf-8")
    open_and_wait(qtbot, window, [scans])
    backups = list(scans.glob(PROJECT_NAME + ".corrupt-*"))
    assert len(backups) == 1 and backups[0].read_text().startswith('{"format"')
    assert backups[0].name in window.error_banner.message()


def test_a_read_only_folder_keeps_reviews_elsewhere(qtbot, window, scans, tmp_path, monkeypatch):
    # tests may run as root, which writes anywhere: make the folder read-only by decree
    monkeypatch.setattr(ReviewStore, "writable", lambda self: self.project_path.parent != scans)
    fallback = tmp_path / "elsewhere" / "bags.json"
    monkeypatch.setattr(ReviewStore, "fallback_project_path", staticmethod(lambda folder: fallback))
    open_and_wait(qtbot, window, [scans])
    assert (
        "read-only" in window.error_banner.message()
        and str(fallback) in window.error_banner.message()
    )
    window.actions["decide_clear"].trigger()
    assert not (scans / PROJECT_NAME).exists()
    assert json.loads(fallback.read_text())["format"] == "xray-review"


@pytest.mark.slow
def test_the_gui_thread_never_stalls_while_screening(qtbot, loaded, scans, monkeypatch):
    """Each screening waits, in its worker, for the GUI thread's timer to fire: it can only
    finish if the GUI's event loop keeps running meanwhile (on the GUI thread it would wait
    out its 10 s and fail). How long the GUI's own work takes is benchmarks/gui_latency.py's
    to measure, not a test's."""
    import threading

    from engine.pipeline import Screener

    screened_on: list[str] = []
    served: list[bool] = []  # whether the GUI's timer fired while that screening ran
    waiting: list[threading.Event] = []
    screen = Screener.screen

    def recording(self, scan):
        screened_on.append(threading.current_thread().name)
        fired = threading.Event()
        waiting.append(fired)
        served.append(fired.wait(timeout=10))
        return screen(self, scan)

    def tick() -> None:
        for fired in list(waiting):
            fired.set()

    monkeypatch.setattr(Screener, "screen", recording)
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    timer.start()
    open_and_screen(qtbot, loaded, [scans])
    store = current_store(loaded)
    qtbot.waitUntil(
        lambda: all(store.has_prediction(e.path) for e in loaded.queue.entries),
        timeout=SCREEN_TIMEOUT_MS,
    )
    timer.stop()
    assert screened_on and threading.main_thread().name not in screened_on  # never the GUI's
    assert served and all(served), "a screening ran while the GUI's event loop stood still"


def _area(box) -> float:
    return (box[2] - box[0]) * (box[3] - box[1])


def _click_image(qtbot, window: MainWindow, x: float, y: float) -> None:
    """A real left click on the viewer at image pixel (x, y)."""
    view = window.view
    scene = view.view_box.mapViewToScene(QPointF(x, y))
    point = view.graphics_view.mapFromScene(scene)
    qtbot.mouseClick(view.graphics_view.viewport(), Qt.MouseButton.LeftButton, pos=point)


@pytest.mark.slow
def test_hover_names_the_object_under_the_cursor(qtbot, loaded, scans):
    open_and_screen(qtbot, loaded, [scans])
    review = loaded.review
    obj = next(iter(review.overlay.drawn.values())).obj
    x = int((obj.box_xyxy[0] + obj.box_xyxy[2]) / 2)
    y = int((obj.box_xyxy[1] + obj.box_xyxy[3]) / 2)
    loaded.view.pixelHovered.emit(x, y)
    assert review.hover_text(x, y) in loaded.readout_label.text()
    assert np.isfinite(obj.score)


@pytest.mark.slow
def test_a_full_disk_is_reported_and_the_saved_project_stays_intact(
    qtbot, loaded, scans, monkeypatch
):
    import xray_gui.review.store as store_module

    open_and_screen(qtbot, loaded, [scans])
    review = loaded.review
    review.panel.score_slider.set_value(0.0)
    project = scans / PROJECT_NAME
    saved = project.read_bytes()

    def full(path, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store_module, "atomic_write_bytes", full)
    review.select_step(1)
    loaded.actions["accept"].trigger()
    assert "No space left on device" in loaded.error_banner.message()
    assert project.read_bytes() == saved
    assert loaded.view.has_image()  # the window carries on
    monkeypatch.undo()  # space again: the next action saves both
    loaded.actions["decide_clear"].trigger()
    again = ReviewStore(scans)
    first = str(loaded.queue.entries[0].path)
    assert again.decision(first) == "clear"
    assert any(o.status == "accepted" for o in again.objects(first))


def test_a_typed_note_is_saved_after_a_pause_and_before_any_action(qtbot, window, scans):
    open_and_wait(qtbot, window, [scans])
    panel, store = window.review.panel, current_store(window)
    first = window.queue.entries[0].path
    qtbot.keyClicks(panel.note, "knife in side pocket")
    qtbot.waitUntil(lambda: store.note(first) == "knife in side pocket", timeout=3000)
    qtbot.keyClicks(panel.note, ", check")
    window.actions["decide_suspect"].trigger()  # within the pause: the note goes first
    assert store.note(first) == "knife in side pocket, check"
    assert panel.note.toPlainText() == "knife in side pocket, check"
    assert [h["action"] for h in store.history(first)][-2:] == ["note", "decision"]


def test_a_scan_has_one_key_however_it_is_opened(qtbot, window, scans, monkeypatch):
    monkeypatch.chdir(scans.parent)
    open_and_wait(qtbot, window, [Path(scans.name)])  # a relative path, as typed on a command line
    window.actions["decide_clear"].trigger()
    store = current_store(window)
    link = scans.parent / "linked"
    link.symlink_to(scans)
    name = window.queue.entries[0].path.name
    assert store.key(scans / name) == store.key(link / name) == name
    assert store.decision(scans.resolve() / name) == "clear"
