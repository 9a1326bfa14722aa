"""Issue item 17: redo on Ctrl+Shift+Z and Ctrl+Y beside Undo, across scans as undo goes; and
Z zooms the view to the selected finding."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton

from xray_gui.main_window import MainWindow
from xray_gui.viewer.scan_view import MAX_ZOOM

from .conftest import LOAD_TIMEOUT_MS, open_and_wait
from .test_review_window import current, fake_model, put_findings

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def reviewing(qtbot, window: MainWindow, scan_folder) -> MainWindow:
    """The window on the first scan of `scan_folder`, its findings drawn at thresholds 0.5."""
    open_and_wait(qtbot, window, [scan_folder])
    fake_model(window)
    put_findings(window, window.queue.entries[0].path)
    return window


def _key(qtbot, window: MainWindow, key: Qt.Key, modifiers=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(window.view, key, modifiers)


def test_redo_on_both_keys_only_while_there_is_something_to_redo(qtbot, reviewing):
    store, path = current(reviewing)
    redo = reviewing.actions["redo"]
    assert not redo.isEnabled()
    reviewing.review.select("m0")
    reviewing.actions["reject"].trigger()
    _key(qtbot, reviewing, Qt.Key.Key_Z, CTRL)
    assert store.object(path, "m0").status == "pending" and redo.isEnabled()
    _key(qtbot, reviewing, Qt.Key.Key_Y, CTRL)
    assert store.object(path, "m0").status == "rejected" and not redo.isEnabled()
    _key(qtbot, reviewing, Qt.Key.Key_Z, CTRL)
    _key(qtbot, reviewing, Qt.Key.Key_Z, CTRL | SHIFT)
    assert store.object(path, "m0").status == "rejected"
    _key(qtbot, reviewing, Qt.Key.Key_Z, CTRL)
    assert redo.isEnabled()
    reviewing.review.select("m1")
    reviewing.actions["accept"].trigger()  # a new edit: what was undone cannot come back
    assert not redo.isEnabled() and not store.can_redo()
    _key(qtbot, reviewing, Qt.Key.Key_Y, CTRL)
    assert store.object(path, "m0").status == "pending"


def test_redo_sits_beside_undo_and_help_lists_both_keys(reviewing):
    review = reviewing.review
    buttons = [b.defaultAction() for b in review.panel.findChildren(QToolButton)]
    names = [a.objectName() for a in buttons if a is not None]
    assert names.index("redo") == names.index("undo") + 1
    menu = next(a.menu() for a in reviewing.menuBar().actions() if a.text() == "&Review")
    listed = [a.objectName() for a in menu.actions()]
    assert listed.index("redo") == listed.index("undo") + 1
    table = dict((text, key) for key, text in reviewing.shortcut_table())
    assert table["Redo"] == "Ctrl+Shift+Z, Ctrl+Y" and table["Zoom to finding"] == "Z"
    keys = [k.toString() for a in reviewing.actions.values() for k in a.shortcuts()]
    assert len(keys) == len(set(keys)), keys


def test_redo_goes_back_to_the_scan_of_the_action(qtbot, reviewing):
    window, store = reviewing, reviewing.review.session.store
    paths = [str(e.path) for e in window.queue.entries]

    def go(index: int) -> None:
        window.show_index(index)
        qtbot.waitUntil(lambda: window.review.session.current_path == paths[index], timeout=15_000)

    window.actions["decide_clear"].trigger()
    go(1)
    window.actions["decide_suspect"].trigger()
    window.actions["undo"].trigger()
    window.actions["undo"].trigger()  # the first scan's decision: the window goes there
    qtbot.waitUntil(lambda: window.queue.current == 0, timeout=LOAD_TIMEOUT_MS)
    go(2)
    _key(qtbot, window, Qt.Key.Key_Y, CTRL)
    qtbot.waitUntil(lambda: window.review.session.current_path == paths[0], timeout=LOAD_TIMEOUT_MS)
    assert store.decision(paths[0]) == "clear" and window.actions["decide_clear"].isChecked()
    _key(qtbot, window, Qt.Key.Key_Y, CTRL)
    qtbot.waitUntil(lambda: window.review.session.current_path == paths[1], timeout=LOAD_TIMEOUT_MS)
    assert store.decision(paths[1]) == "suspect" and not window.actions["redo"].isEnabled()


def test_undo_right_after_typing_a_note_takes_the_note_back_and_can_redo_it(qtbot, reviewing):
    store, path = current(reviewing)
    panel = reviewing.review.panel
    reviewing.actions["decide_clear"].trigger()
    qtbot.keyClicks(panel.note, "check the bottle")
    reviewing.actions["undo"].trigger()  # the Undo button, before the note's pause is over
    assert store.note(path) == "" and panel.note.toPlainText() == ""
    assert store.decision(path) == "clear"
    assert reviewing.actions["redo"].isEnabled()
    reviewing.actions["redo"].trigger()
    assert store.note(path) == "check the bottle" == panel.note.toPlainText()


def test_z_zooms_to_the_selected_finding(qtbot, reviewing):
    view = reviewing.view
    whole = view.view_box.viewRect()
    _key(qtbot, reviewing, Qt.Key.Key_Z)  # nothing selected: said so, the view stays
    assert "Select a finding" in reviewing.statusBar().currentMessage()
    assert view.view_box.viewRect() == whole
    reviewing.review.select("m1")  # (55, 35, 75, 55) on the 80×60 scan
    _key(qtbot, reviewing, Qt.Key.Key_Z)
    rect = view.view_box.viewRect()
    assert rect.left() <= 53 and rect.right() >= 77 and rect.top() <= 33 and rect.bottom() >= 57
    assert rect.width() < whole.width() * 0.6 and rect.height() < whole.height() * 0.6
    assert rect.center().x() == pytest.approx(65, abs=0.5)
    assert rect.center().y() == pytest.approx(45, abs=0.5)
    assert view.zoom() > 1.5 * (view.view_box.width() / whole.width())
    view.fit_box((20.0, 20.0, 20.5, 20.5))  # a speck: no closer than the closest zoom
    assert view.zoom() <= MAX_ZOOM * 1.01
    view_menu = next(a.menu() for a in reviewing.menuBar().actions() if a.text() == "&View")
    names = [a.objectName() for a in view_menu.actions()]
    assert names.index("zoom_selection") == names.index("zoom_out") + 1
