"""A class picker when drawing, and polygon masks for the analyst's objects (issue 19, item 14):
P draws with clicks, Enter or a double-click closes, Esc cancels; vertices drag; the overlay
shows the polygon; the project keeps it and COCO exports it as segmentation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QGraphicsPolygonItem

from engine.classes import DEFAULT_CLASSES
from xray_gui.main_window import MainWindow
from xray_gui.review import PROJECT_NAME

from .conftest import open_and_wait
from .test_review_window import H, W, drag, fake_model, put_findings

PENTAGON = [(20.0, 12.0), (44.0, 10.0), (50.0, 30.0), (32.0, 44.0), (16.0, 32.0)]


@pytest.fixture
def reviewing(qtbot, window: MainWindow, scan_folder: Path) -> MainWindow:
    """The window on the first scan of `scan_folder`, its findings drawn at thresholds 0.5."""
    open_and_wait(qtbot, window, [scan_folder])
    fake_model(window)
    put_findings(window, window.queue.entries[0].path)
    return window


def point(window: MainWindow, x: float, y: float):
    """The viewer's widget position of image point (x, y)."""
    view = window.view
    return view.graphics_view.mapFromScene(view.view_box.mapViewToScene(QPointF(x, y)))


def click(qtbot, window: MainWindow, x: float, y: float, *, double: bool = False) -> None:
    """A left click on image point (x, y); a double-click as Qt delivers one: press, release,
    double-click, release."""
    viewport, pos = window.view.graphics_view.viewport(), point(window, x, y)
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=pos)
    if double:
        qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=pos)
        qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=pos)


def drag_held(qtbot, window: MainWindow, a: tuple, b: tuple) -> None:
    """A left-button drag from image point `a` to `b` whose moves carry the held button, paced
    as a hand moves (pyqtgraph drops moves that come faster than its rate limit)."""
    viewport = window.view.graphics_view.viewport()
    start, end = point(window, *a), point(window, *b)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    for i in range(1, 11):
        p = QPointF(start + (end - start) * (i / 10))
        move = QMouseEvent(
            QEvent.Type.MouseMove,
            p,
            QPointF(viewport.mapToGlobal(p)),
            Qt.MouseButton.NoButton,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(viewport, move)
        qtbot.wait(20)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)


def key(qtbot, window: MainWindow, k: Qt.Key) -> None:
    qtbot.keyClick(window.view.graphics_view, k)


def analyst_objects(window: MainWindow):
    store, path = window.review.session.store, window.review.session.current_path
    return [o for o in store.objects(path) if o.source == "analyst"]


def near(points, expected, tol: float = 1.0) -> bool:
    return len(points) == len(expected) and all(
        abs(x - ex) <= tol and abs(y - ey) <= tol
        for (x, y), (ex, ey) in zip(points, expected, strict=True)
    )


# ----- the class picker --------------------------------------------------------------------
def choose(window: MainWindow, label: str) -> None:
    """Pick `label` in the findings panel's class list, as a click on it does."""
    combo = window.review.panel.class_combo
    combo.activated.emit(combo.findText(label))


def test_the_picker_shows_the_last_class_and_changes_a_drawn_box_at_once(qtbot, reviewing):
    review, panel = reviewing.review, reviewing.review.panel
    assert [panel.class_combo.itemText(i) for i in range(panel.class_combo.count())] == list(
        DEFAULT_CLASSES
    )
    reviewing.actions["draw_box"].trigger()
    drag(qtbot, reviewing, (2.0, 2.0), (20.0, 9.0))
    (first,) = analyst_objects(reviewing)
    assert review.session.selected == first.id and panel.shown_class() == first.label == "bottle"
    choose(reviewing, "iron")  # at once, on the object just drawn
    assert analyst_objects(reviewing)[0].label == "iron" and panel.shown_class() == "iron"
    reviewing.actions["draw_box"].trigger()
    drag(qtbot, reviewing, (2.0, 44.0), (20.0, 58.0))
    assert [o.label for o in analyst_objects(reviewing)] == ["iron", "iron"]  # the last used
    review.select("m1")
    assert panel.shown_class() == "iron"
    review.select("m0")
    assert panel.shown_class() == "bottle"  # the selected object's class


def test_with_nothing_selected_the_picker_sets_the_class_of_the_next_drawing(qtbot, reviewing):
    review = reviewing.review
    review.select(None)
    qtbot.keyClick(reviewing.view, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert "Objects you draw now are toaster" in reviewing.statusBar().currentMessage()
    assert review.panel.shown_class() == "toaster"
    assert [o.label for o in review.objects()] == ["bottle", "iron", "mobile"]  # none changed
    reviewing.actions["draw_box"].trigger()
    drag(qtbot, reviewing, (2.0, 2.0), (20.0, 9.0))
    assert analyst_objects(reviewing)[0].label == "toaster"


def test_k_opens_the_class_list_and_a_typed_name_is_taken(qtbot, reviewing):
    panel = reviewing.review.panel
    reviewing.review.select("m1")
    key(qtbot, reviewing, Qt.Key.Key_K)
    popup = panel.class_combo.view()
    qtbot.waitUntil(popup.isVisible)
    qtbot.keyClicks(popup, "lap")
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not popup.isVisible())
    assert (
        reviewing.review.session.store.object(reviewing.review.session.current_path, "m1").label
        == "laptop"
    )


def test_a_class_the_model_does_not_know_is_named_so_in_the_picker(qtbot, reviewing):
    review = reviewing.review
    fake_model(reviewing, name="other")  # the same classes: bottle … laptop
    store = review.session.store
    store.use_classes(["gun", *DEFAULT_CLASSES])
    store.set_label(review.session.current_path, "m1", "gun")
    review.refresh()
    review.select("m1")
    assert review.panel.shown_class() == ""
    assert review.panel.class_combo.placeholderText() == "gun (not the model's)"


# ----- polygons ----------------------------------------------------------------------------
def test_p_then_clicks_then_enter_draws_a_polygon(qtbot, reviewing):
    review = reviewing.review
    key(qtbot, reviewing, Qt.Key.Key_P)
    assert reviewing.view.polygon_mode() and review.overlay.roi is None
    for x, y in PENTAGON:
        click(qtbot, reviewing, x, y)
    assert near(reviewing.view.sketch.points, PENTAGON)
    key(qtbot, reviewing, Qt.Key.Key_Return)
    assert not reviewing.view.polygon_mode()
    (obj,) = analyst_objects(reviewing)
    assert near(obj.polygon, PENTAGON) and obj.label == "bottle"
    xs, ys = [p[0] for p in obj.polygon], [p[1] for p in obj.polygon]
    assert obj.box_xyxy == (min(xs), min(ys), max(xs), max(ys))
    assert review.session.selected == obj.id
    assert near(review.overlay.vertices(), obj.polygon)  # a handle on each vertex
    shape = review.overlay.drawn[obj.id].shape
    assert isinstance(shape, QGraphicsPolygonItem) and shape.isVisible()
    assert shape.polygon().count() == len(PENTAGON)


def test_a_double_click_closes_backspace_takes_back_and_esc_cancels(qtbot, reviewing):
    key(qtbot, reviewing, Qt.Key.Key_P)
    click(qtbot, reviewing, 5.0, 5.0)
    click(qtbot, reviewing, 9.0, 9.0)  # a slip
    key(qtbot, reviewing, Qt.Key.Key_Backspace)
    click(qtbot, reviewing, 30.0, 5.0)
    key(qtbot, reviewing, Qt.Key.Key_Return)  # two points: not yet a polygon
    assert reviewing.view.polygon_mode() and "three points" in (
        reviewing.statusBar().currentMessage()
    )
    click(qtbot, reviewing, 30.0, 25.0, double=True)
    (obj,) = analyst_objects(reviewing)
    assert near(obj.polygon, [(5, 5), (30, 5), (30, 25)])
    key(qtbot, reviewing, Qt.Key.Key_P)
    click(qtbot, reviewing, 60.0, 40.0)
    click(qtbot, reviewing, 70.0, 40.0)
    key(qtbot, reviewing, Qt.Key.Key_Escape)
    assert not reviewing.view.polygon_mode() and reviewing.view.sketch.points == []
    assert len(analyst_objects(reviewing)) == 1
    assert reviewing.current_function == "plain"


def test_a_click_on_the_first_vertex_closes_the_polygon(qtbot, reviewing):
    key(qtbot, reviewing, Qt.Key.Key_P)
    for x, y in [(10.0, 10.0), (40.0, 12.0), (30.0, 40.0), (10.5, 10.5)]:  # back at the start
        click(qtbot, reviewing, x, y)
    assert not reviewing.view.polygon_mode()
    (obj,) = analyst_objects(reviewing)
    assert near(obj.polygon, [(10, 10), (40, 12), (30, 40)])


def test_clicks_in_polygon_mode_never_grab_the_selected_box(qtbot, reviewing):
    review = reviewing.review
    store, path = review.session.store, review.session.current_path
    review.select("m0")
    before = store.object(path, "m0")
    key(qtbot, reviewing, Qt.Key.Key_P)
    for x, y in [(15.0, 12.0), (45.0, 12.0), (30.0, 28.0)]:  # inside the selected box
        click(qtbot, reviewing, x, y)
    key(qtbot, reviewing, Qt.Key.Key_Return)
    assert store.object(path, "m0") == before
    assert len(analyst_objects(reviewing)) == 1


def test_a_polygon_off_the_image_is_clipped_to_it(qtbot, reviewing):
    reviewing.view.zoom_by(0.5)  # room round the scan to click in
    key(qtbot, reviewing, Qt.Key.Key_P)
    for x, y in [(60.0, 40.0), (95.0, 45.0), (70.0, 75.0)]:
        click(qtbot, reviewing, x, y)
    key(qtbot, reviewing, Qt.Key.Key_Return)
    (obj,) = analyst_objects(reviewing)
    assert all(0 <= x <= W and 0 <= y <= H for x, y in obj.polygon)
    assert obj.box_xyxy[2] <= W and obj.box_xyxy[3] <= H


def _polygon(window: MainWindow) -> str:
    """An analyst polygon on the scan on screen, selected; its id."""
    review = window.review
    obj_id = review.session.store.add_polygon(review.session.current_path, PENTAGON, "iron")
    review.refresh()
    review.select(obj_id)
    return obj_id


def test_dragging_a_vertex_moves_it_and_the_box_follows(qtbot, reviewing):
    review = reviewing.review
    store, path = review.session.store, review.session.current_path
    obj_id = _polygon(reviewing)
    drag_held(qtbot, reviewing, PENTAGON[2], (58.0, 36.0))
    qtbot.waitUntil(lambda: store.object(path, obj_id).polygon[2] != PENTAGON[2])
    obj = store.object(path, obj_id)
    assert near(obj.polygon, [*PENTAGON[:2], (58.0, 36.0), *PENTAGON[3:]], tol=1.5)
    assert obj.box_xyxy[2] == pytest.approx(58, abs=1.5) and obj.status == "added"
    assert near(review.overlay.vertices(), obj.polygon)  # the handles are where the store says
    reviewing.actions["undo"].trigger()
    assert store.object(path, obj_id).polygon == tuple(PENTAGON)
    assert near(review.overlay.vertices(), PENTAGON)


def test_a_click_on_an_edge_adds_a_vertex_and_removing_one_takes_it_away(qtbot, reviewing):
    review = reviewing.review
    store, path = review.session.store, review.session.current_path
    obj_id = _polygon(reviewing)
    roi = review.overlay.vertex_roi
    roi.segmentClicked(roi.segments[1], pos=QPointF(32.0, 11.0))  # a click on the top edge
    qtbot.waitUntil(lambda: len(store.object(path, obj_id).polygon) == 6)
    assert store.object(path, obj_id).polygon[1] == (32.0, 11.0)
    roi = review.overlay.vertex_roi
    roi.removeHandle(roi.getHandles()[1])  # as its "Remove handle" menu entry
    qtbot.waitUntil(lambda: len(store.object(path, obj_id).polygon) == 5)
    for _ in range(2):  # down to three vertices, then one more is refused
        roi = review.overlay.vertex_roi
        roi.removeHandle(roi.getHandles()[0])
        qtbot.wait(50)
    assert len(store.object(path, obj_id).polygon) == 3
    roi = review.overlay.vertex_roi
    roi.removeHandle(roi.getHandles()[0])
    qtbot.waitUntil(lambda: "three points" in reviewing.statusBar().currentMessage())
    assert len(store.object(path, obj_id).polygon) == 3
    assert len(review.overlay.vertices()) == 3  # the handles show the polygon kept


def test_a_polygon_dragged_past_the_edge_stays_on_the_image_whole(qtbot, reviewing):
    review = reviewing.review
    store, path = review.session.store, review.session.current_path
    obj_id = _polygon(reviewing)
    review.overlay.vertex_roi.setPos((40.0, 0.0), finish=True)  # would end at x 90
    qtbot.waitUntil(lambda: store.object(path, obj_id).polygon != tuple(PENTAGON))
    obj = store.object(path, obj_id)
    xs = [p[0] for p in obj.polygon]
    assert max(xs) == pytest.approx(W) and max(xs) - min(xs) == pytest.approx(34)  # not squashed


def test_a_polygon_is_outlined_under_the_material_functions(qtbot, reviewing):
    obj_id = _polygon(reviewing)
    shape = reviewing.review.overlay.drawn[obj_id].shape
    assert shape.brush().style() != Qt.BrushStyle.NoBrush
    reviewing.toggle_function("organic")
    qtbot.waitUntil(lambda: reviewing.review.overlay.mask_style == "outline")
    assert shape.brush().style() == Qt.BrushStyle.NoBrush and shape.isVisible()


def test_the_polygon_is_saved_and_exported_as_segmentation(qtbot, reviewing, scan_folder, tmp_path):
    obj_id = _polygon(reviewing)
    reviewing.actions["decide_suspect"].trigger()
    saved = json.loads((scan_folder / PROJECT_NAME).read_bytes())
    polygon = saved["scans"]["bag_1.png"]["analyst"]["added"][obj_id]["polygon"]
    assert polygon == [list(p) for p in PENTAGON]
    coco = json.loads(reviewing.review.export("coco", tmp_path / "out.json").read_bytes())
    (mine,) = [a for a in coco["annotations"] if a["attributes"]["source"] == "analyst"]
    assert mine["segmentation"] == [[v for p in PENTAGON for v in p]]
