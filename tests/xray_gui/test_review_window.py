"""The review in the window without a model: findings come from the project file (or are put
there by hand), so each defect an analyst met (issue 19) is checked in seconds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt

from engine.pipeline import BagResult, Finding
from xray_gui.main_window import MainWindow
from xray_gui.review import PROJECT_NAME, ReviewStore
from xray_gui.screening import ModelInfo

from .conftest import LOAD_TIMEOUT_MS, open_and_wait

W, H = 80, 60  # the size of the scans of `scan_folder`


def findings_of(path: Path, *, total_ms: float = 5.0) -> BagResult:
    """m0 an anomalous bottle (with a mask), m1 an iron, m2 a weak phone that looks anomalous."""
    mask = np.zeros((H, W), bool)
    mask[12:28, 12:48] = True
    findings = [
        Finding((10.0, 10.0, 50.0, 30.0), "bottle", 0.9, mask, 0.8, True),
        Finding((55.0, 35.0, 75.0, 55.0), "iron", 0.6, None, 0.2, False),
        Finding((5.0, 40.0, 30.0, 58.0), "mobile", 0.085, None, 0.9, True),
    ]
    return BagResult(str(path), (W, H), findings, {"total": total_ms}, "demo-v1")


def put_findings(window: MainWindow, path: Path | str, **kw) -> None:
    """Store a prediction for `path` as the screening thread would, and redraw."""
    store = window.review.session.store_for(path)
    store.set_prediction(path, findings_of(Path(path), **kw), device="CPU")
    window.review.refresh()


def fake_model(
    window: MainWindow, score: float = 0.5, anomaly: float = 0.5, *, name: str = "fake"
) -> ModelInfo:
    """Tell the window a model is loaded (nothing is screened: the thread has no screener)."""
    from engine.synth.objects import CATEGORIES

    info = ModelInfo(f"{name}.xsb", name, "CPU", tuple(CATEGORIES), score, anomaly, True, 1)
    window.review._on_model_loaded(info)
    return info


@pytest.fixture
def reviewing(qtbot, window: MainWindow, scan_folder: Path) -> MainWindow:
    """The window on the first scan of `scan_folder`, its findings drawn at thresholds 0.5."""
    open_and_wait(qtbot, window, [scan_folder])
    fake_model(window)
    put_findings(window, window.queue.entries[0].path)
    return window


def current(window: MainWindow) -> tuple[ReviewStore, str]:
    return window.review.session.store, window.review.session.current_path


def _widget_point(window: MainWindow, x: float, y: float):
    view = window.view
    return view.graphics_view.mapFromScene(view.view_box.mapViewToScene(QPointF(x, y)))


def drag(qtbot, window: MainWindow, a: tuple[float, float], b: tuple[float, float]) -> None:
    """A real left-button drag on the viewer from image point `a` to `b`."""
    viewport = window.view.graphics_view.viewport()
    start, end = _widget_point(window, *a), _widget_point(window, *b)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    for i in range(1, 11):
        t = i / 10
        point = start + (end - start) * t
        qtbot.mouseMove(viewport, pos=point)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)


# ----- 1. draw mode draws, boxes stay on the image, Esc leaves draw mode --------------------
def test_drawing_over_the_selected_finding_draws_a_new_box(qtbot, reviewing):
    review = reviewing.review
    store, path = current(reviewing)
    review.select("m1")
    reviewing.actions["accept"].trigger()
    review.select("m0")
    reviewing.actions["accept"].trigger()  # nothing pending above 0.5: m0 stays selected
    assert review.session.selected == "m0" and review.overlay.roi is not None
    before = store.object(path, "m0")
    qtbot.keyClick(reviewing.view, Qt.Key.Key_B)
    assert reviewing.view.draw_mode()
    drag(qtbot, reviewing, (20.0, 15.0), (45.0, 28.0))  # inside the selected box
    after = store.object(path, "m0")
    assert (after.box_xyxy, after.status) == (before.box_xyxy, "accepted")
    added = [o for o in store.objects(path) if o.source == "analyst"]
    assert len(added) == 1
    assert added[0].box_xyxy == pytest.approx((20, 15, 45, 28), abs=1.0)
    assert not reviewing.view.draw_mode()


def test_a_drawn_box_off_the_image_is_clipped_to_it(qtbot, reviewing):
    store, path = current(reviewing)
    reviewing.actions["draw_box"].trigger()
    drag(qtbot, reviewing, (60.0, 40.0), (95.0, 70.0))
    (added,) = [o for o in store.objects(path) if o.source == "analyst"]
    x0, y0, x1, y1 = added.box_xyxy
    assert x1 <= W and y1 <= H and x0 == pytest.approx(60, abs=1) and y0 == pytest.approx(40, abs=1)


def test_a_moved_box_never_leaves_the_image(qtbot, reviewing):
    review = reviewing.review
    store, path = current(reviewing)
    review.select("m0")
    review.overlay.roi.setPos((70.0, 50.0), finish=True)  # 40×20: would end at x 110, y 70
    x0, y0, x1, y1 = store.object(path, "m0").box_xyxy
    assert 0 <= x0 < x1 <= W and 0 <= y0 < y1 <= H
    assert (x1 - x0, y1 - y0) == pytest.approx((40, 20))  # moved, not squashed
    review.overlay.roi.setSize((500.0, 500.0), finish=True)
    x0, y0, x1, y1 = store.object(path, "m0").box_xyxy
    assert 0 <= x0 < x1 <= W and 0 <= y0 < y1 <= H


def test_escape_leaves_draw_mode(qtbot, reviewing):
    qtbot.keyClick(reviewing.view, Qt.Key.Key_B)
    assert reviewing.view.draw_mode()
    qtbot.keyClick(reviewing.view, Qt.Key.Key_Escape)
    assert not reviewing.view.draw_mode()
    assert not reviewing.actions["draw_box"].isChecked()


# ----- 3. the note field lets the keyboard go -----------------------------------------------
def test_escape_and_tab_leave_the_note(qtbot, reviewing):
    panel = reviewing.review.panel
    reviewing.actions["edit_note"].trigger()
    qtbot.waitUntil(panel.note.hasFocus, timeout=2000)
    qtbot.keyClicks(panel.note, "ok")
    qtbot.keyClick(panel.note, Qt.Key.Key_Escape)
    assert not panel.note.hasFocus() and reviewing.view.hasFocus()
    assert panel.note.toPlainText() == "ok"
    with qtbot.waitSignal(reviewing.scanShown, timeout=LOAD_TIMEOUT_MS):
        qtbot.keyClick(reviewing.view, Qt.Key.Key_D)  # D moves on again, it does not type
    assert panel.note.toPlainText() == ""
    reviewing.actions["edit_note"].trigger()
    qtbot.waitUntil(panel.note.hasFocus, timeout=2000)
    qtbot.keyClick(panel.note, Qt.Key.Key_Tab)
    assert not panel.note.hasFocus() and "\t" not in panel.note.toPlainText()


# ----- 4. a note survives a crash -----------------------------------------------------------
def test_each_keystroke_of_a_note_is_on_disk_at_once(qtbot, reviewing):
    store, path = current(reviewing)
    panel = reviewing.review.panel
    qtbot.keyClicks(panel.note, "knife")  # no pause, no action: as if killed right after
    store.close()  # what a new instance sees (the lock of the killed one is ignored)
    assert ReviewStore(store.folder).note(path) == "knife"


# ----- 2. a restart shows the findings at the thresholds they were reviewed with ------------
def test_after_a_restart_stored_findings_show_at_the_thresholds_in_force(
    qtbot, reviewing, settings_file, scan_folder
):
    review = reviewing.review
    review.panel.score_slider.set_value(0.7)
    review.panel.anomaly_slider.set_value(0.6)
    assert set(review.overlay.drawn) == {"m0"}
    reviewing.close()
    again = MainWindow(QSettings(str(settings_file), QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    again.show()
    open_and_wait(qtbot, again, [scan_folder])  # no model: it loads later, or never
    assert again.review.panel.thresholds() == pytest.approx((0.7, 0.6))
    assert set(again.review.overlay.drawn) == {"m0"}
    fake_model(again)  # the same model, loaded later: the analyst's thresholds stay
    assert again.review.panel.thresholds() == pytest.approx((0.7, 0.6))
    fake_model(again, 0.4, 0.3, name="other")  # another model: its own operating points
    assert again.review.panel.thresholds() == pytest.approx((0.4, 0.3))
    again.close()


def test_a_new_project_shows_findings_at_the_screening_model_s_thresholds(
    qtbot, window, scan_folder
):
    first = scan_folder / "bag_1.png"
    store = ReviewStore(scan_folder)
    store.set_prediction(
        first, findings_of(first), device="CPU", score_threshold=0.5, anomaly_threshold=0.5
    )
    store.close()
    open_and_wait(qtbot, window, [scan_folder])
    assert window.review.panel.thresholds() == pytest.approx((0.5, 0.5))
    assert set(window.review.overlay.drawn) == {"m0", "m1"}


# ----- 12. a bag is anomalous at the thresholds in force ------------------------------------
def test_a_stored_bag_is_anomalous_only_through_findings_above_the_threshold(scan_folder):
    first = scan_folder / "bag_1.png"
    result = findings_of(first)
    result.findings[0].anomalous, result.findings[0].anomaly_score = False, 0.1  # benign bottle
    store = ReviewStore(scan_folder)
    store.set_prediction(first, result, score_threshold=0.5, anomaly_threshold=0.5)
    assert not store.anomalous(first)
    assert store.anomalous(first, score_threshold=0.05)
    store.close()
    saved = json.loads((scan_folder / PROJECT_NAME).read_bytes())
    assert saved["scans"]["bag_1.png"]["predictions"][-1]["result"]["anomalous"] is False


# ----- 11. a scan that fails to open is the scan on screen ----------------------------------
def test_a_scan_that_fails_to_open_is_what_the_window_acts_on(qtbot, reviewing, scan_folder):
    (scan_folder / "bag_3.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    reviewing.open_paths([scan_folder])  # the new file joins the queue
    bad = reviewing.queue.index_of(scan_folder / "bag_3.png")
    with qtbot.waitSignal(reviewing.scanFailed, timeout=LOAD_TIMEOUT_MS):
        reviewing.show_index(bad)
    assert reviewing.queue.current == bad and reviewing.queue_panel.currentRow() == bad
    assert reviewing.current_scan is None and reviewing.review.session.current_path is None
    assert not reviewing.view.has_image() and reviewing.review.overlay.drawn == {}
    for name in ("accept", "draw_box", "decide_clear", "edit_note"):
        assert not reviewing.actions[name].isEnabled(), name
    assert "bag_3.png" in reviewing.scan_label.text()
    with qtbot.waitSignal(reviewing.scanShown, timeout=LOAD_TIMEOUT_MS):
        reviewing.actions["previous"].trigger()  # and the analyst moves on from it
    assert reviewing.queue.current == bad - 1 and reviewing.review.session.current_path is not None
    assert reviewing.stack.currentWidget() is reviewing.view


# ----- 8. "everything" exports what was on screen --------------------------------------------
def test_exporting_everything_writes_what_was_shown(reviewing, tmp_path):
    review = reviewing.review
    review.panel.score_slider.set_value(0.5)
    assert set(review.overlay.drawn) == {"m0", "m1"}
    shown = json.loads(review.export("coco", tmp_path / "s.json", reviewed_only=False).read_bytes())
    assert [a["attributes"]["score"] for a in shown["annotations"]] == [0.9, 0.6]
    every = review.export("coco", tmp_path / "e.json", reviewed_only=False, include_hidden=True)
    assert len(json.loads(every.read_bytes())["annotations"]) == 3


# ----- 10. the export dialog remembers, and writes beside the scans, not among them ----------
def test_the_export_dialog_remembers_its_choices(qtbot, reviewing, scan_folder, tmp_path):
    from xray_gui.export_dialog import ExportDialog

    dialog = ExportDialog(scan_folder, reviewing.settings)
    qtbot.addWidget(dialog)
    assert not Path(dialog.destination.text()).is_relative_to(scan_folder)
    dialog.format.setCurrentIndex(dialog.format.findData("yolo"))
    dialog.shown.setChecked(True)
    dialog.destination.setText(str(tmp_path / "exports" / "mine"))
    dialog.accept()
    again = ExportDialog(scan_folder, reviewing.settings)
    qtbot.addWidget(again)
    fmt, destination, scope = again.choice()
    assert (fmt, scope) == ("yolo", "shown")
    assert destination.parent == tmp_path / "exports"
    again.format.setCurrentIndex(again.format.findData("coco"))
    assert Path(again.destination.text()).parent == tmp_path / "exports"
    assert again.destination.text().endswith(".json")


# ----- 5. the status bar speaks of the scan and the object on screen now --------------------
def test_the_hover_readout_follows_the_scan(qtbot, window, test_piece_files, scan_folder):
    open_and_wait(qtbot, window, [test_piece_files, scan_folder])
    window.view.pixelHovered.emit(5, 7)
    assert "T_low" in window.readout_label.text()
    with qtbot.waitSignal(window.scanShown, timeout=LOAD_TIMEOUT_MS):
        window.actions["next"].trigger()  # an RGB scan: no transmissions, no Zeff
    assert "T_low" not in window.readout_label.text()
    assert "Zeff" not in window.readout_label.text()


def test_the_selection_text_follows_each_action(qtbot, reviewing):
    review, bar = reviewing.review, reviewing.statusBar()
    review.select("m0")
    assert "pending (model, m0)" in bar.currentMessage()
    reviewing.actions["toggle_anomalous"].trigger()
    assert "benign · corrected (model, m0)" in bar.currentMessage()
    reviewing.actions["accept"].trigger()  # the next pending one is selected and described
    assert "pending (model, m1)" in bar.currentMessage()
    reviewing.actions["reject"].trigger()  # none pending left: m1 stays selected
    assert "rejected (model, m1)" in bar.currentMessage()
    reviewing.actions["draw_box"].trigger()
    reviewing.view.view_box.boxDrawn.emit(60.0, 5.0, 75.0, 20.0)
    assert "(analyst, a1)" in bar.currentMessage()
    reviewing.actions["delete_object"].trigger()
    assert "a1" not in bar.currentMessage() and "pending" not in bar.currentMessage()


def test_the_scan_time_is_the_time_of_the_scan_on_screen(qtbot, reviewing):
    label = reviewing.review.model_label
    put_findings(reviewing, reviewing.queue.entries[1].path, total_ms=42.0)
    with qtbot.waitSignal(reviewing.scanShown, timeout=LOAD_TIMEOUT_MS):
        reviewing.actions["next"].trigger()
    assert "42 ms" in label.text()
    with qtbot.waitSignal(reviewing.scanShown, timeout=LOAD_TIMEOUT_MS):
        reviewing.actions["next"].trigger()  # not screened yet
    assert " ms" not in label.text()
    with qtbot.waitSignal(reviewing.scanShown, timeout=LOAD_TIMEOUT_MS):
        reviewing.show_index(0)
    assert "5 ms" in label.text()


def test_the_readout_fits_the_status_bar_at_1280_px(qtbot, reviewing, test_piece_files):
    reviewing.resize(1280, 800)
    open_and_wait(qtbot, reviewing, [test_piece_files])
    put_findings(reviewing, test_piece_files)
    reviewing.review.model_label.setText("screening-model-with-a-long-name · NVIDIA H200 (CUDA)")
    reviewing.statusBar().clearMessage()  # a message hides the read-out while it shows
    reviewing.view.pixelHovered.emit(20, 20)  # inside the bottle
    qtbot.wait(50)
    label = reviewing.readout_label
    assert label.isVisible()
    text = label.text()
    assert "Zeff" in text and "bottle" in text
    assert label.width() >= label.fontMetrics().horizontalAdvance(text)


# ----- 6. the queue marks what the project holds, from the start ----------------------------
def test_the_queue_marks_reviewed_and_screened_scans_at_once(qtbot, window, scan_folder):
    store = ReviewStore(scan_folder)
    store.set_decision(scan_folder / "bag_1.png", "clear")
    store.set_prediction(scan_folder / "bag_2.png", findings_of(scan_folder / "bag_2.png"))
    store.close()
    open_and_wait(qtbot, window, [scan_folder])
    texts = [window.queue_panel.item(i).text() for i in range(window.queue_panel.count())]
    assert texts == ["✓ bag_1.png", "● bag_2.png", "bag_10.png"]


# ----- 9. statistics agree with the Review tab, and count active time only ------------------
def test_statistics_and_the_review_tab_count_the_same_scans(qtbot, window, scan_folder):
    store = ReviewStore(scan_folder)
    store.set_decision(scan_folder / "bag_1.png", "clear")
    store.set_decision(scan_folder / "gone.png", "search")  # reviewed once, deleted since
    store.set_prediction(scan_folder / "bag_2.png", findings_of(scan_folder / "bag_2.png"))
    store.close()
    open_and_wait(qtbot, window, [scan_folder])
    review = window.review
    review.stats_dock.show()
    review.stats_dock.raise_()
    review._refresh_stats()
    assert review.panel.progress_label.text() == "1 of 3 scans reviewed"
    assert review.stats.summary.text().startswith("1 of 3 scans reviewed · clear 1 · suspect 0")


def test_review_time_counts_active_time_only(qtbot, window, scan_folder):
    now = [1000.0]
    review = window.review
    review.session.activity.clock = lambda: now[0]
    fake_model(window)
    open_and_wait(qtbot, window, [scan_folder])  # not screened: waiting for the model
    first = window.queue.entries[0].path
    viewport = window.view.graphics_view.viewport()
    now[0] += 20.0
    qtbot.mouseMove(viewport, viewport.rect().center())  # waiting: does not count
    store = review.session.store
    review._on_screened(str(first), findings_of(first), review.session.model.generation)
    now[0] += 4.0
    qtbot.mouseMove(viewport, viewport.rect().center() + QPoint(5, 5))  # 4 s of work
    now[0] += 300.0  # gone for coffee
    qtbot.mouseMove(viewport, viewport.rect().center())
    now[0] += 2.0
    with qtbot.waitSignal(window.scanShown, timeout=LOAD_TIMEOUT_MS):
        window.actions["next"].trigger()
    seconds = store.review_seconds(first)
    assert 6.0 <= seconds <= 6.0 + review.session.activity.idle_after


# ----- 7. an overlay that reads on any scan and under any image function --------------------
def test_labels_are_white_on_the_object_colour_and_never_overlap(qtbot, reviewing):
    from engine.colour import ANOMALY_RGB

    store, path = current(reviewing)
    for dx in (1.0, 2.0, 3.0):  # three boxes from nearly the same corner as m0's
        store.add_object(path, (10.0 + dx, 10.0 + dx, 40.0, 28.0), "bottle")
    reviewing.review.refresh()
    qtbot.wait(20)
    overlay = reviewing.review.overlay
    m0 = overlay.drawn["m0"]
    assert m0.text.text.brush().color().getRgb()[:3] == (255, 255, 255)
    assert m0.text.brush().color().getRgb()[:3] == ANOMALY_RGB
    rects = [overlay.label_rect(obj_id) for obj_id in overlay.drawn]
    assert len(rects) == 5  # m0, m1 and the three drawn boxes (m2 is under 0.5)
    for i, a in enumerate(rects):
        for b in rects[i + 1 :]:
            assert not a.intersects(b), (a, b)


def test_the_selected_box_keeps_its_colour(qtbot, reviewing):
    from engine.colour import ANOMALY_RGB

    review = reviewing.review
    overlay = review.overlay
    unselected = overlay.drawn["m0"].rect.pen().widthF()
    review.select("m0")
    assert overlay.roi.pen.color().getRgb()[:3] == ANOMALY_RGB
    assert overlay.drawn["m0"].colour == ANOMALY_RGB
    assert overlay.drawn["m0"].rect.pen().widthF() > unselected
    assert overlay.drawn["m0"].rect.pen().color().getRgb()[:3] == ANOMALY_RGB


def test_boxes_have_a_dark_edge_that_shows_on_blue_and_green(reviewing):
    drawn = reviewing.review.overlay.drawn["m1"]  # benign: light blue
    halo = drawn.halo.pen()
    assert halo.color().lightness() < 60 and halo.widthF() > drawn.rect.pen().widthF()


def test_the_overlay_hides_on_a_key_and_fades_on_a_slider(qtbot, reviewing):
    overlay = reviewing.review.overlay
    qtbot.keyClick(reviewing.view, Qt.Key.Key_V)
    assert not overlay.layer.isVisible() and not overlay.mask_item.isVisible()
    qtbot.keyClick(reviewing.view, Qt.Key.Key_V)
    assert overlay.layer.isVisible() and overlay.mask_item.isVisible()
    reviewing.review.panel.opacity_slider.set_value(0.4)
    assert overlay.layer.opacity() == pytest.approx(0.4)
    assert overlay.mask_item.opacity() == pytest.approx(0.4)


def test_masks_are_outlined_under_the_material_functions(qtbot, reviewing):
    overlay = reviewing.review.overlay
    assert overlay.mask_rgba[20, 30, 3] > 0  # filled on the plain image
    reviewing.imageShown.emit("organic")
    assert overlay.mask_rgba[20, 30, 3] == 0  # the object shows through
    assert overlay.mask_rgba[12, 30, 3] > 0 and overlay.mask_rgba[20, 12, 3] > 0  # its edge
    reviewing.imageShown.emit("plain")
    assert overlay.mask_rgba[20, 30, 3] > 0


def test_a_model_still_loading_is_said_so_while_stored_findings_show(qtbot, window, scan_folder):
    review = window.review
    review.session.model_pending, review._pending_name = True, "site.xsb"  # as load_model leaves it
    open_and_wait(qtbot, window, [scan_folder])
    assert review.model_label.text() == "Loading model site.xsb…"
