"""Issue item 16: reviews are signed with the analyst's name, asked once and kept in the
settings, changeable from the Review menu, never asked for when headless."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox

import xray_gui.reviewer as reviewer_module
from xray_gui.analyst_dialog import ANALYST_KEY, AnalystDialog, headless
from xray_gui.main_window import MainWindow
from xray_gui.review.analyst import login_name

from .conftest import open_and_wait


def _answer(qtbot, reply: Callable[[AnalystDialog], None]) -> list[BaseException]:
    """Reply to the next modal dialog with `reply`; it is closed whatever happens (a failure
    is given back, never left as a dialog nobody answers)."""
    errors: list[BaseException] = []

    def run() -> None:
        dialog = QApplication.activeModalWidget()
        try:
            assert isinstance(dialog, AnalystDialog), dialog
            reply(dialog)
        except BaseException as exc:  # re-raised by the test, after the dialog is gone
            errors.append(exc)
        finally:
            if dialog is not None and dialog.isVisible():
                dialog.reject()

    QTimer.singleShot(0, run)
    return errors


def _ok(qtbot, dialog: AnalystDialog) -> None:
    button = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_a_blank_name_is_refused_with_a_message(qtbot):
    dialog = AnalystDialog("", first_start=True)
    qtbot.addWidget(dialog)
    dialog.show()
    for blank in ("", "    "):
        dialog.name_edit.setText(blank)
        _ok(qtbot, dialog)
        assert dialog.isVisible() and dialog.name() == ""
        assert dialog.message.isVisible() and "Enter a name" in dialog.message.text()
    qtbot.keyClicks(dialog.name_edit, "  Ana Silva ")
    assert not dialog.message.isVisible()  # typing again hides the message
    _ok(qtbot, dialog)
    assert not dialog.isVisible() and dialog.result() == AnalystDialog.DialogCode.Accepted
    assert dialog.name() == "Ana Silva"


def test_decisions_are_signed_with_the_name_and_it_is_kept(
    qtbot, window, scan_folder, settings_file
):
    assert window.review.analyst is None  # nothing kept: the login signs, as before
    open_and_wait(qtbot, window, [scan_folder])
    store = window.review.session.store
    first, second = (str(e.path) for e in window.queue.entries[:2])
    window.actions["decide_clear"].trigger()
    assert store.history(first)[-1]["by"] == login_name()
    assert window.review.set_analyst("  Ana   Silva ")
    window.actions["decide_suspect"].trigger()  # the project opened before: it signs anew
    assert store.history(first)[-1]["by"] == "Ana Silva"
    assert not window.review.set_analyst("   ")
    assert "Enter a name" in window.statusBar().currentMessage()
    assert QSettings(str(settings_file), QSettings.Format.IniFormat).value(ANALYST_KEY) == (
        "Ana Silva"
    )
    assert "Ana Silva" in window.actions["analyst_name"].toolTip()
    window.close()

    again = MainWindow(QSettings(str(settings_file), QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    assert again.review.analyst == "Ana Silva"
    assert not again.review.ask_analyst_at_first_start()  # a name is kept: no dialog
    again.show()
    open_and_wait(qtbot, again, [scan_folder])
    again.show_index(1)
    qtbot.waitUntil(lambda: again.review.session.current_path == second, timeout=15_000)
    again.actions["decide_search"].trigger()
    out = again.review.export("coco", Path(settings_file).parent / "export.json")
    coco = json.loads(out.read_text())
    assert coco["info"]["exported_by"] == "Ana Silva"
    assert {i["review"]["reviewed_by"] for i in coco["images"]} == {"Ana Silva"}
    again.close()


def test_the_review_menu_changes_the_name(qtbot, window):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Review")
    assert window.actions["analyst_name"] in menu.actions()

    def reply(dialog: AnalystDialog) -> None:
        dialog.name_edit.setText(" ")
        _ok(qtbot, dialog)
        assert dialog.isVisible() and "Enter a name" in dialog.message.text()
        dialog.name_edit.setText("Bo Chen")
        _ok(qtbot, dialog)

    errors = _answer(qtbot, reply)
    window.actions["analyst_name"].trigger()
    assert not errors, errors
    assert window.review.analyst == "Bo Chen"


def test_the_first_start_asks_once_and_never_when_headless(qtbot, window, monkeypatch):
    assert headless()  # the tests run offscreen
    monkeypatch.setattr(AnalystDialog, "exec", lambda self: pytest.fail("a dialog when headless"))
    assert not window.review.ask_analyst_at_first_start()
    monkeypatch.undo()

    monkeypatch.setattr(reviewer_module, "headless", lambda: False)  # a screen, say
    errors = _answer(qtbot, lambda dialog: dialog.reject())
    assert not window.review.ask_analyst_at_first_start()  # cancelled: the login signs
    assert not errors, errors
    assert window.review.analyst is None and window.review.signature() == login_name()
    assert "Analyst name" in window.statusBar().currentMessage()

    def reply(dialog: AnalystDialog) -> None:
        dialog.name_edit.setText("Ana")
        _ok(qtbot, dialog)

    errors = _answer(qtbot, reply)
    assert window.review.ask_analyst_at_first_start()
    assert not errors, errors
    assert window.review.analyst == "Ana"
    monkeypatch.setattr(AnalystDialog, "exec", lambda self: pytest.fail("asked twice"))
    assert not window.review.ask_analyst_at_first_start()
