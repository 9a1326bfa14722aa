"""Model ▸ Improve from reviews… and History…, with a fake engine command (no training here).

`fake_engine.py` stands in for `xray-engine improve`: it prints the engine's progress lines
and writes a fake NEW.xsb and NEW.json, or fails with the engine's one-line reason, or hangs
until it is killed. Loading a model is checked by what the window asks to load.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QProcess, Qt
from PySide6.QtWidgets import QDialog

from engine.synth.objects import CATEGORIES
from xray_gui.history_dialog import HistoryDialog
from xray_gui.improve_dialog import ImproveDialog
from xray_gui.main_window import MainWindow
from xray_gui.model_history import BUNDLE_NAME, LINEAGE_NAME, RUN_NAME, list_history
from xray_gui.review import PROJECT_NAME
from xray_gui.screening import ModelInfo

from .conftest import open_and_wait
from .test_model_history import make_run

FAKE = Path(__file__).with_name("fake_engine.py")
RUN_TIMEOUT_MS = 30_000


def fake(mode: str) -> list[str]:
    """The engine command prefix that runs the fake in `mode`."""
    return [sys.executable, str(FAKE), mode]


def run_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    path = tmp_path / "site.xsb"
    path.write_bytes(b"the model in use")
    return path


@pytest.fixture
def reviews(tmp_path: Path) -> Path:
    folder = tmp_path / "reviewed"
    folder.mkdir()
    (folder / PROJECT_NAME).write_text("{}")
    return folder


def make_dialog(qtbot, bundle: Path, reviews: Path, root: Path, mode: str) -> ImproveDialog:
    dialog = ImproveDialog(bundle, [reviews], root, device="cpu", minutes=7, engine=fake(mode))
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def run_to_end(qtbot, dialog: ImproveDialog) -> str:
    with qtbot.waitSignal(dialog.runEnded, timeout=RUN_TIMEOUT_MS) as ended:
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    return ended.args[0]


def wait_until_training(qtbot, dialog: ImproveDialog) -> None:
    qtbot.waitUntil(lambda: dialog.progress.value() == 5, timeout=RUN_TIMEOUT_MS)


def assert_gone(pid_file: Path) -> None:
    """The fake's process has ended (and was reaped)."""
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)


# ----- the dialog -------------------------------------------------------------------------------
def test_setup_shows_the_model_and_folders_and_starts_nothing(qtbot, bundle, reviews, tmp_path):
    root = tmp_path / "models"
    dialog = make_dialog(qtbot, bundle, reviews, root, "ok")
    assert dialog.start_button.isVisible() and not dialog.cancel_button.isVisible()
    assert str(reviews) in dialog.findChild(type(dialog.headline), "reviewFolders").text()
    assert dialog.minutes.value() == 7 and dialog.process is None and not root.exists()
    dialog.reject()
    assert dialog.result() == QDialog.DialogCode.Rejected


def test_a_run_that_succeeds_shows_old_against_new_and_uses_the_new_model_on_request(
    qtbot, bundle, reviews, tmp_path
):
    root = tmp_path / "models"
    dialog = make_dialog(qtbot, bundle, reviews, root, "ok")
    assert run_to_end(qtbot, dialog) == "done"
    (folder,) = run_folders(root)
    assert dialog.out == folder / BUNDLE_NAME and dialog.out.is_file()
    args = json.loads((root / "fake_args.json").read_text())
    assert args == [
        "improve",
        str(bundle),
        "--reviews",
        str(reviews),
        "--out",
        str(folder / BUNDLE_NAME),
        "--minutes",
        "7",
        "--work",
        str(folder / "work"),
        "--device",
        "cpu",
    ]
    assert dialog.progress.value() == 100
    table = dialog.table
    assert table.rowCount() == 4 and table.isVisible()
    assert (table.item(0, 0).text(), table.item(0, 1).text()) == ("41.2 %", "45.0 %")
    assert (table.item(1, 0).text(), table.item(1, 1).text()) == ("0.75", "0.50")
    assert table.item(2, 1).text().startswith("5 of 6") and table.item(3, 1).text()[:7] == "2 of 15"
    assert "is better on the 8 held-out bags" in dialog.headline.text()
    assert "judges retrained: bottle" in dialog.details.text()
    assert dialog.use_button.isVisible() and dialog.use_button.isDefault()
    assert not dialog.cancel_button.isVisible()
    # the bundle and its lineage are kept, the training run is dropped, the split stays
    assert (folder / LINEAGE_NAME).is_file() and (folder / "work" / "train.json").is_file()
    assert not (folder / "work" / "detector").exists()
    record = json.loads((folder / RUN_NAME).read_text())
    assert record["reviews"] == [str(reviews)] and record["better"] is True
    assert record["parent"] == str(bundle) and "finished" in record
    assert bundle.read_bytes() == b"the model in use"
    with qtbot.waitSignal(dialog.useModel) as used:
        qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    assert used.args == [str(folder / BUNDLE_NAME)]
    assert dialog.result() == QDialog.DialogCode.Accepted


def test_a_model_that_is_not_better_is_said_so_and_close_is_the_default(
    qtbot, bundle, reviews, tmp_path
):
    dialog = make_dialog(qtbot, bundle, reviews, tmp_path / "models", "worse")
    assert run_to_end(qtbot, dialog) == "done"
    assert "not better" in dialog.headline.text()
    assert dialog.close_button.isDefault() and not dialog.use_button.isDefault()
    with qtbot.assertNotEmitted(dialog.useModel):
        qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert len(list_history(tmp_path / "models")) == 1  # kept: History… can still choose it


def test_a_failed_run_shows_the_engines_reason_and_leaves_nothing(qtbot, bundle, reviews, tmp_path):
    root = tmp_path / "models"
    dialog = make_dialog(qtbot, bundle, reviews, root, "fail")
    assert run_to_end(qtbot, dialog) == "failed"
    assert dialog.details.text() == "12 reviewed bags; at least 30 needed"
    assert "could not be improved" in dialog.headline.text()
    assert not dialog.use_button.isVisible() and dialog.close_button.isVisible()
    assert not dialog.table.isVisible()
    assert run_folders(root) == [] and list_history(root) == []
    assert bundle.read_bytes() == b"the model in use"


def test_an_engine_that_cannot_start_is_a_failure_too(qtbot, bundle, reviews, tmp_path):
    root = tmp_path / "models"
    dialog = ImproveDialog(bundle, [reviews], root, engine=[str(tmp_path / "no-such-engine")])
    qtbot.addWidget(dialog)
    dialog.show()
    assert run_to_end(qtbot, dialog) == "failed"
    assert dialog.details.text().startswith(f"could not start {tmp_path / 'no-such-engine'}")
    assert run_folders(root) == []


def test_progress_feeds_the_bar_and_the_time_left_and_cancel_kills_and_removes(
    qtbot, bundle, reviews, tmp_path
):
    root = tmp_path / "models"
    dialog = make_dialog(qtbot, bundle, reviews, root, "hang")
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert dialog.cancel_button.isVisible() and not dialog.close_button.isVisible()
    wait_until_training(qtbot, dialog)
    assert dialog.stage_label.text() == "Fine-tuning the detector…"
    dialog._show_time()
    assert "Elapsed" in dialog.time_label.text() and "min" in dialog.time_label.text()
    assert "left" in dialog.time_label.text()  # the rest of the 7-minute budget
    (folder,) = run_folders(root)
    assert (folder / "work" / "detector" / "last.pt").is_file()  # half-made output
    with qtbot.waitSignal(dialog.runEnded, timeout=RUN_TIMEOUT_MS) as ended:
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert ended.args == ["cancelled"]
    assert dialog.process.state() == QProcess.ProcessState.NotRunning
    assert_gone(root / "fake.pid")
    assert run_folders(root) == [] and not folder.exists()
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert bundle.read_bytes() == b"the model in use"


def test_escape_during_a_run_asks_before_stopping_it(qtbot, bundle, reviews, tmp_path, monkeypatch):
    root = tmp_path / "models"
    dialog = make_dialog(qtbot, bundle, reviews, root, "hang")
    answers = [False, True]
    monkeypatch.setattr(dialog, "confirm_stop", lambda: answers.pop(0))
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    wait_until_training(qtbot, dialog)
    dialog.reject()  # "no": the run goes on
    assert dialog.running() and dialog.isVisible()
    with qtbot.waitSignal(dialog.runEnded, timeout=RUN_TIMEOUT_MS):
        dialog.reject()  # "yes": stopped and removed
    assert run_folders(root) == []


# ----- in the window ----------------------------------------------------------------------------
def pretend_loaded(window: MainWindow, path: Path, name: str = "Site model") -> ModelInfo:
    """Tell the window a model is loaded (the screening thread has none: nothing is screened)."""
    info = ModelInfo(str(path), name, "CPU", tuple(CATEGORIES), 0.5, 0.5, True, 1)
    window.review._on_model_loaded(info)
    return info


@pytest.fixture
def improving(qtbot, window: MainWindow, scan_folder: Path, bundle: Path, tmp_path, monkeypatch):
    """The window with a model, a reviewed folder in the queue, models kept in tmp_path; what
    it is asked to load is recorded in `window.loaded`."""
    window.models.root = tmp_path / "models"
    open_and_wait(qtbot, window, [scan_folder])
    pretend_loaded(window, bundle)
    window.actions["decide_clear"].trigger()  # a review: the project is on disk
    assert (scan_folder / PROJECT_NAME).is_file()
    # the window's own saves (the thresholds, shortly after a model loads) come first
    qtbot.waitUntil(lambda: not window.review._thresholds_timer.isActive())
    window.loaded = []
    monkeypatch.setattr(window.review, "load_model", window.loaded.append)
    return window


def test_the_model_menu_has_improve_and_history(window):
    actions = window.review.model_menu.actions()
    assert window.actions["improve_model"] in actions
    assert window.actions["model_history"] in actions
    assert window.actions["improve_model"].text() == "&Improve from reviews…"
    assert window.actions["model_history"].text() == "&History…"


def test_improve_needs_a_model_and_reviewed_folders(qtbot, window, scan_folder, bundle, tmp_path):
    window.models.root = tmp_path / "models"
    window.actions["improve_model"].trigger()
    assert window.models.dialog is None
    assert "Load a model first" in window.statusBar().currentMessage()
    open_and_wait(qtbot, window, [scan_folder])
    pretend_loaded(window, bundle)
    window.actions["improve_model"].trigger()  # the folder has no review yet
    assert window.models.dialog is None
    assert "review some bags first" in window.statusBar().currentMessage()
    assert not (tmp_path / "models").exists()


def test_improve_runs_on_the_queue_and_switches_only_when_asked(
    qtbot, improving, scan_folder, bundle
):
    window = improving
    window.models.engine = fake("ok")
    window.actions["improve_model"].trigger()
    dialog = window.models.dialog
    assert dialog is not None and dialog.bundle == bundle.resolve()
    assert dialog.reviews == [scan_folder.resolve()]
    project = (scan_folder / PROJECT_NAME).read_bytes()
    assert run_to_end(qtbot, dialog) == "done"
    assert window.loaded == []  # nothing switches on its own
    assert window.review.session.model.path == str(bundle)
    qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    (entry,) = list_history(window.models.root)
    assert window.loaded == [str(entry.path)]
    assert window.models.dialog is None
    assert (scan_folder / PROJECT_NAME).read_bytes() == project


def test_a_failed_run_keeps_the_model_and_the_reviews(qtbot, improving, scan_folder, bundle):
    window = improving
    window.models.engine = fake("fail")
    project = (scan_folder / PROJECT_NAME).read_bytes()
    window.actions["improve_model"].trigger()
    dialog = window.models.dialog
    assert run_to_end(qtbot, dialog) == "failed"
    assert "at least 30 needed" in dialog.details.text()
    dialog.reject()
    assert window.loaded == [] and window.review.session.model.path == str(bundle)
    assert (scan_folder / PROJECT_NAME).read_bytes() == project
    assert run_folders(window.models.root) == []


def test_one_run_at_a_time(qtbot, improving):
    window = improving
    window.models.engine = fake("hang")
    window.actions["improve_model"].trigger()
    dialog = window.models.dialog
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    window.actions["improve_model"].trigger()
    assert window.models.dialog is dialog
    with qtbot.waitSignal(dialog.runEnded, timeout=RUN_TIMEOUT_MS):
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)


def test_closing_the_window_stops_a_run_and_removes_it(qtbot, improving):
    window = improving
    window.models.engine = fake("hang")
    window.actions["improve_model"].trigger()
    dialog = window.models.dialog
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    wait_until_training(qtbot, dialog)
    window.close()
    assert run_folders(window.models.root) == []
    assert_gone(window.models.root / "fake.pid")


def test_history_lists_the_models_made_and_the_start_model_and_switches_in_one_step(
    qtbot, improving, bundle
):
    window = improving
    root = window.models.root
    older = make_run(root, "20261130-090000", better=False, parent=str(bundle))
    newer = make_run(root, "20261201-185021", parent=str(older / BUNDLE_NAME))
    dialog = window.models.history_dialog()
    assert isinstance(dialog, HistoryDialog)
    table = dialog.table
    assert table.rowCount() == 3
    rows = [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(3)]
    assert rows[0] == ["2026-12-01 18:50", "site+40 reviews", "site", "45.0 %", "0.50", "yes"]
    assert rows[1][0] == "2026-11-30 09:00" and rows[1][3:] == ["40.0 %", "0.88", "no"]
    assert rows[2][1] == "Site model (in use) — started with" and rows[2][3:] == ["—"] * 3
    assert "held-out AP50 41.2 % → 45.0 %" in table.item(0, 3).toolTip()
    assert table.currentRow() == 2 and not dialog.use_button.isEnabled()  # the one in use
    table.selectRow(1)
    assert dialog.use_button.isEnabled()
    qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    assert window.loaded == [str(older / BUNDLE_NAME)]
    assert dialog.result() == QDialog.DialogCode.Accepted
    # once on a newer model, History… rolls back to the start model the same way
    pretend_loaded(window, newer / BUNDLE_NAME, "site+40 reviews")
    again = window.models.history_dialog()
    assert again.table.currentRow() == 0 and "(in use)" in again.table.item(0, 1).text()
    again.use_row(2)
    assert window.loaded[-1] == str(bundle)


def test_history_with_nothing_made_yet_lists_the_start_model(qtbot, window, bundle, tmp_path):
    window.models.root = tmp_path / "models"
    pretend_loaded(window, bundle)
    dialog = window.models.history_dialog()
    assert dialog.table.rowCount() == 1 and "started with" in dialog.table.item(0, 1).text()
    assert not dialog.use_button.isEnabled()
