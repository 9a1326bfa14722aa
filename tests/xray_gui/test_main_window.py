"""The main window driven through its real actions, signals and worker thread."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDropEvent

from engine.enhance import IMAGE_FUNCTIONS
from xray_gui.main_window import FUNCTION_KEYS, MainWindow

from .conftest import LOAD_TIMEOUT_MS, open_and_wait


def test_empty_window_prompts_to_open(window):
    assert window.stack.currentWidget() is window.prompt
    assert window.current_scan is None
    assert not window.view.has_image()


def test_open_dual_energy_scan_shows_image_and_readout(qtbot, window, test_piece_files):
    open_and_wait(qtbot, window, [test_piece_files])
    assert window.stack.currentWidget() is window.view
    scan = window.current_scan
    assert scan is not None and scan.has_dual_energy and scan.zeff is not None
    assert window.view.image_item.image.shape == scan.image.shape
    assert "160×120" in window.scan_label.text()
    qtbot.wait(50)  # let the view settle at its size: the first scan must open fitted
    rect = window.view.view_box.viewRect()
    assert rect.left() <= 0 and rect.top() <= 0 and rect.right() >= 160 and rect.bottom() >= 120
    assert min(rect.width() / 160, rect.height() / 120) < 1.1
    window.view.pixelHovered.emit(5, 7)
    text = window.readout_label.text()
    r, g, b = scan.image[7, 5]
    assert "x 5  y 7" in text and f"RGB {r} {g} {b}" in text
    assert f"T_low {scan.low[7, 5]:.3f}" in text
    assert f"T_high {scan.high[7, 5]:.3f}" in text and "Zeff" in text
    window.view.pixelHovered.emit(-1, -1)
    assert window.readout_label.text() == ""


def test_hover_maps_scene_to_image_pixels(qtbot, window, test_piece_files):
    open_and_wait(qtbot, window, [test_piece_files])
    view = window.view
    scene_pos = view.view_box.mapViewToScene(QPointF(10.5, 20.5))
    assert view.image_pixel_at(scene_pos) == (10, 20)
    outside = view.view_box.mapViewToScene(QPointF(-5, -5))
    assert view.image_pixel_at(outside) is None


def test_zoom_one_to_one_and_fit(qtbot, window, test_piece_files):
    open_and_wait(qtbot, window, [test_piece_files])
    view = window.view
    window.actions["one_to_one"].trigger()
    assert view.zoom() == pytest.approx(1.0, rel=0.02)
    window.actions["zoom_in"].trigger()
    assert view.zoom() == pytest.approx(1.25, rel=0.02)
    window.actions["fit"].trigger()
    rect = view.view_box.viewRect()
    assert rect.left() <= 0 and rect.top() <= 0
    assert rect.right() >= 160 and rect.bottom() >= 120
    assert min(rect.width() / 160, rect.height() / 120) < 1.1  # fills the window, not tiny


def test_wheel_zooms_around_cursor(qtbot, window, test_piece_files):
    open_and_wait(qtbot, window, [test_piece_files])
    view = window.view
    before = view.zoom()
    anchor = QPointF(40.0, 30.0)
    anchor_scene = view.view_box.mapViewToScene(anchor)
    view.view_box.scaleBy(s=(0.5, 0.5), center=anchor)  # what a wheel step does in pyqtgraph
    assert view.zoom() == pytest.approx(before * 2, rel=0.02)
    after_scene = view.view_box.mapViewToScene(anchor)
    assert (after_scene - anchor_scene).manhattanLength() < 1.0


def test_next_and_previous_walk_the_queue_in_natural_order(qtbot, window, scan_folder):
    open_and_wait(qtbot, window, [scan_folder])
    assert [e.path.name for e in window.queue.entries] == ["bag_1.png", "bag_2.png", "bag_10.png"]
    assert window.actions["next"].shortcut().toString() == "D"
    assert window.actions["previous"].shortcut().toString() == "A"
    with qtbot.waitSignal(window.scanShown, timeout=LOAD_TIMEOUT_MS) as shown:
        window.actions["next"].trigger()
    assert Path(shown.args[0]).name == "bag_2.png"
    assert window.queue_panel.currentRow() == 1
    with qtbot.waitSignal(window.scanShown, timeout=LOAD_TIMEOUT_MS) as shown:
        window.actions["previous"].trigger()
    assert Path(shown.args[0]).name == "bag_1.png"
    window.actions["previous"].trigger()  # at the start: stays
    assert window.queue.current == 0


def test_keyboard_shortcut_moves_to_next_scan(qtbot, window, scan_folder):
    open_and_wait(qtbot, window, [scan_folder])
    window.activateWindow()
    window.view.setFocus()
    with qtbot.waitSignal(window.scanShown, timeout=LOAD_TIMEOUT_MS) as shown:
        qtbot.keyClick(window.view, Qt.Key.Key_D)
    assert Path(shown.args[0]).name == "bag_2.png"


@pytest.mark.parametrize("name", list(FUNCTION_KEYS))
def test_each_image_function_toggles_on_and_off(qtbot, window, test_piece_files, name):
    open_and_wait(qtbot, window, [test_piece_files])
    plain = window.current_scan.image
    action = window.actions[f"fn_{name}"]
    with qtbot.waitSignal(window.imageShown, timeout=LOAD_TIMEOUT_MS) as shown:
        action.trigger()
    assert shown.args == [name]
    assert action.isChecked() and window.current_function == name
    assert not np.array_equal(window.view.image_item.image, plain)
    with qtbot.waitSignal(window.imageShown, timeout=LOAD_TIMEOUT_MS) as shown:
        action.trigger()
    assert shown.args == ["plain"]
    assert not action.isChecked() and window.current_function == "plain"
    assert np.array_equal(window.view.image_item.image, plain)


def test_escape_returns_to_plain_and_new_scan_starts_plain(qtbot, window, scan_folder):
    open_and_wait(qtbot, window, [scan_folder])
    with qtbot.waitSignal(window.imageShown, timeout=LOAD_TIMEOUT_MS):
        window.actions["fn_negative"].trigger()
    assert window.actions["plain"].shortcut().toString() == "Esc"
    window.actions["plain"].trigger()
    assert window.current_function == "plain"
    with qtbot.waitSignal(window.imageShown, timeout=LOAD_TIMEOUT_MS):
        window.actions["fn_negative"].trigger()
    with qtbot.waitSignal(window.scanShown, timeout=LOAD_TIMEOUT_MS):
        window.actions["next"].trigger()
    assert window.current_function == "plain"
    assert np.array_equal(window.view.image_item.image, window.current_scan.image)


def test_bad_file_shows_error_and_is_what_the_window_shows(
    qtbot, window, test_piece_files, tmp_path
):
    open_and_wait(qtbot, window, [test_piece_files])
    bad = tmp_path / "notes.png"
    bad.write_text("this is not an image\n")
    with qtbot.waitSignal(window.scanFailed, timeout=LOAD_TIMEOUT_MS) as failed:
        window.open_paths([bad])
    assert failed.args[0] == str(bad)
    assert window.isVisible()
    # the queue, the viewer and the status bar agree: the broken file is on screen, not the
    # previous scan (which the actions would otherwise act on, unseen)
    assert window.current_scan is None and not window.view.has_image()
    assert window.stack.currentWidget() is window.failed_page
    assert "notes.png" in window.failed_page.text() and "notes.png" in window.scan_label.text()
    message = window.error_banner.message()
    assert str(bad) in message and "text" in message
    entry = window.queue.entries[window.queue.index_of(bad)]
    assert entry.error is not None
    assert window.queue_panel.item(window.queue.index_of(bad)).text().startswith("⚠")


def test_truncated_jpeg_in_queue_does_not_stop_navigation(qtbot, window, scan_folder):
    _, data = cv2.imencode(".jpg", np.zeros((50, 50, 3), np.uint8))
    (scan_folder / "bag_3.jpg").write_bytes(data.tobytes()[:200])
    open_and_wait(qtbot, window, [scan_folder])
    names = [e.path.name for e in window.queue.entries]
    with qtbot.waitSignal(window.scanFailed, timeout=LOAD_TIMEOUT_MS):
        window.show_index(names.index("bag_3.jpg"))
    with qtbot.waitSignal(window.scanShown, timeout=LOAD_TIMEOUT_MS):
        window.actions["next"].trigger()
    assert window.current_scan is not None


def test_shortcuts_are_unique_and_listed_in_help(window):
    keys = [a.shortcut().toString() for a in window.actions.values() if not a.shortcut().isEmpty()]
    assert len(keys) == len(set(keys)), keys
    listed = dict(window.shortcut_table())
    for name, key in FUNCTION_KEYS.items():
        assert listed[key] == IMAGE_FUNCTIONS[name].title
    for key in ("A", "D", "F", "1", "Ctrl+O", "F1"):
        assert key in listed


def test_recent_files_and_window_layout_are_remembered(qtbot, settings_file, test_piece_files):
    settings = QSettings(str(settings_file), QSettings.Format.IniFormat)
    first = MainWindow(settings)
    qtbot.addWidget(first)
    first.resize(700, 500)
    first.show()
    open_and_wait(qtbot, first, [test_piece_files])
    first.close()
    again = MainWindow(QSettings(str(settings_file), QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    assert again.recent_files()[0] == str(test_piece_files)
    assert (again.width(), again.height()) == (700, 500)


def test_drop_files_opens_them(qtbot, window, scan_folder):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(scan_folder / "bag_2.png"))])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(window.scanShown, timeout=LOAD_TIMEOUT_MS) as shown:
        window.dropEvent(event)
    assert Path(shown.args[0]).name == "bag_2.png"


def test_real_sample_folder_opens(qtbot, window, shared_data):
    open_and_wait(qtbot, window, [shared_data / "sixray"])
    assert len(window.queue) == 14  # masks are not queued
    assert window.current_scan.width > 0


def test_screenshot_command_renders_window(tmp_path, test_piece_files):
    out = tmp_path / "shot.png"
    env_settings = {"XRAY_GUI_SETTINGS": str(tmp_path / "s.ini"), "QT_QPA_PLATFORM": "offscreen"}
    cmd = [
        sys.executable,
        "-m",
        "xray_gui.app",
        "--screenshot",
        str(out),
        "--size",
        "800x600",
        str(test_piece_files),
    ]
    import os

    done = subprocess.run(
        cmd, env={**os.environ, **env_settings}, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    shot = cv2.imread(str(out))
    assert shot.shape[:2] == (600, 800)
    bad = tmp_path / "empty.png"
    bad.write_bytes(b"")
    failed = subprocess.run(
        [*cmd[:-1], str(bad)],
        env={**os.environ, **env_settings},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert failed.returncode == 2 and "empty" in failed.stderr


@pytest.mark.slow  # trains the session's tiny bundle when no other test has
def test_screenshot_waits_for_the_models_findings_screened_or_stored(
    qapp, tmp_path, monkeypatch, tiny_bundle, scan_folder
):
    """The first run screens the scan; the second finds the findings the project kept (no
    screening is asked, so it must not wait for one) and both pictures show them."""
    from xray_gui import app
    from xray_gui.review.store import ReviewStore

    monkeypatch.setenv("XRAY_GUI_SETTINGS", str(tmp_path / "s.ini"))
    monkeypatch.setattr(app, "SCREENSHOT_WAIT_S", 30)  # the old wait ran into this on run two
    scan = scan_folder / "bag_1.png"
    shots = []
    for run in (1, 2):
        out = tmp_path / f"shot{run}.png"
        argv = ["--screenshot", str(out), "--size", "800x600", "--model", str(tiny_bundle)]
        assert app.main([*argv, "--device", "cpu", str(scan)]) == 0
        assert ReviewStore.for_folder(scan_folder).has_prediction(scan)
        shots.append(cv2.imread(str(out)))
    panel = [shot[:, 500:].astype(int) for shot in shots]  # model line and findings table
    assert (np.abs(panel[0] - panel[1]).max(axis=2) > 16).mean() < 0.01


def test_screenshot_with_an_unknown_image_function_is_a_usage_error(capsys, test_piece_files):
    from xray_gui import app

    with pytest.raises(SystemExit) as stopped:
        app.main(["--screenshot", "out.png", "--function", "nosuch", str(test_piece_files)])
    assert stopped.value.code == 2
    assert "invalid choice: 'nosuch'" in capsys.readouterr().err
