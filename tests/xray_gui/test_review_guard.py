"""The window with a project it cannot simply write: held by another instance, taken over,
damaged, or exported after scans were deleted. Each is one banner line; the window carries on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

import xray_gui.export_dialog as export_dialog_module
import xray_gui.review.store as store_module
from xray_gui.main_window import MainWindow
from xray_gui.review import PROJECT_NAME, ReviewStore
from xray_gui.review.lock import lock_path

from .conftest import open_and_wait


def _second_window(qtbot, tmp_path: Path) -> MainWindow:
    win = MainWindow(QSettings(str(tmp_path / "second.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def _decisions(folder: Path) -> dict[str, str | None]:
    data = json.loads((folder / PROJECT_NAME).read_bytes())
    return {k: s["analyst"]["decision"] for k, s in data["scans"].items()}


def test_a_second_window_is_read_only_until_the_first_closes(qtbot, window, scan_folder, tmp_path):
    open_and_wait(qtbot, window, [scan_folder])
    window.actions["decide_clear"].trigger()
    second = _second_window(qtbot, tmp_path)
    open_and_wait(qtbot, second, [scan_folder])
    banner = second.error_banner.message()
    assert "in use by" in banner and "read-only" in banner and "\n" not in banner
    assert second.review.session.store.read_only
    saved = (scan_folder / PROJECT_NAME).read_bytes()
    second.actions["decide_search"].trigger()
    assert second.error_banner.message().startswith("Read-only:")
    assert (scan_folder / PROJECT_NAME).read_bytes() == saved
    with qtbot.waitSignal(second.scanShown, timeout=15_000):  # the window carries on
        second.review.next_unreviewed()
    assert second.review.session.current_path.endswith("bag_2.png")
    window.close()  # releases the project
    second.actions["decide_search"].trigger()
    assert not second.review.session.store.read_only
    decisions = _decisions(scan_folder)
    assert decisions == {"bag_1.png": "clear", "bag_2.png": "search"}  # both windows' work


def test_a_window_whose_project_was_taken_over_turns_read_only(qtbot, window, scan_folder):
    open_and_wait(qtbot, window, [scan_folder])
    lock = lock_path(scan_folder / PROJECT_NAME)
    owner = {"user": "carol", "host": "ws-9", "pid": 1, "since": "2025-03-01T09:12", "token": "0"}
    lock.write_text(json.dumps(owner))  # as a take-over by another host would leave it
    window.review.heartbeat()
    assert "taken over by carol on ws-9" in window.error_banner.message()
    window.actions["decide_clear"].trigger()
    assert window.error_banner.message().startswith("Read-only:")
    assert not (scan_folder / PROJECT_NAME).exists()  # never written over the new holder


def test_a_change_made_as_the_lock_is_lost_is_kept_aside(
    qtbot, window, scan_folder, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(store_module.platformdirs, "user_data_path", lambda app: tmp_path / app)
    open_and_wait(qtbot, window, [scan_folder])
    lock = lock_path(scan_folder / PROJECT_NAME)
    owner = {"user": "carol", "host": "ws-9", "pid": 1, "since": "2025-03-01T09:12", "token": "0"}
    lock.write_text(json.dumps(owner))
    window.actions["decide_suspect"].trigger()
    message = window.error_banner.message()
    assert "carol on ws-9" in message and "took it over" in message and "read-only" in message
    window.close()
    (kept,) = (tmp_path / "xray-gui" / "projects").glob("*-unsaved-*.json")
    assert str(kept) in capsys.readouterr().err
    assert ReviewStore(scan_folder, kept).decision(scan_folder / "bag_1.png") == "suspect"
    assert json.loads(lock.read_text())["user"] == "carol"


@pytest.mark.parametrize(
    "content",
    [
        b"[" * 100_000,
        b'{"format": "xray-review", "version": 1, "scans": {"bag_1.png": {"analyst": '
        b'{"added": {"a1": {"box": [1, 2, 30, 40], "label": 5}}}}}}',
    ],
    ids=["deeply nested", "label 5"],
)
def test_a_damaged_project_is_kept_aside_and_the_buttons_work(qtbot, window, scan_folder, content):
    (scan_folder / PROJECT_NAME).write_bytes(content)
    open_and_wait(qtbot, window, [scan_folder])
    (backup,) = scan_folder.glob(PROJECT_NAME + ".corrupt-*")
    assert backup.read_bytes() == content
    assert backup.name in window.error_banner.message()
    assert window.review.objects() == []
    window.actions["decide_suspect"].trigger()
    assert _decisions(scan_folder)["bag_1.png"] == "suspect"


def test_an_export_after_a_scan_was_deleted_names_it_and_the_window_stays(
    qtbot, window, scan_folder, tmp_path, monkeypatch
):
    open_and_wait(qtbot, window, [scan_folder])
    window.actions["decide_clear"].trigger()
    with qtbot.waitSignal(window.scanShown, timeout=15_000):
        window.review.next_unreviewed()
    window.actions["decide_clear"].trigger()
    (scan_folder / "bag_2.png").unlink()
    out = tmp_path / "export" / "yolo"

    class Dialog:  # the export dialog, answered
        def __init__(self, *args):
            pass

        def exec(self) -> bool:
            return True

        def choice(self):
            return "yolo", out, "reviewed"

    monkeypatch.setattr(export_dialog_module, "ExportDialog", Dialog)
    window.review.export_dialog()
    message = window.error_banner.message()
    assert message.startswith("Export failed: Nothing exported: 1 scan is no longer")
    assert '"bag_2.png"' in message and "\n" not in message
    assert not out.exists() and window.isVisible()
