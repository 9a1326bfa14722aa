"""Model ▸ Improve from reviews… and Model ▸ History…: the window's side of improved models.

Starts the improve dialog on the model loaded now and the reviewed folders of the queue,
lists the history, and loads the model the analyst chooses the way Model ▸ Load model… does
(on the screening thread). It remembers the first model of the session, so History… can
always go back to it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from xray_gui.history_dialog import HistoryDialog
from xray_gui.improve_dialog import ImproveDialog
from xray_gui.model_history import (
    list_history,
    models_root,
    queue_folders,
    reviewed_folders,
    with_start_model,
)
from xray_gui.screening import ModelInfo

if TYPE_CHECKING:
    from xray_gui.main_window import MainWindow

MINUTES_KEY = "improve/minutes"  # the training budget chosen last time


class ImprovedModels(QObject):
    """The Model menu's improve and history actions, and the dialog of a run in progress."""

    def __init__(self, window: MainWindow, root: Path | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.root = root  # None: the user data folder's models/
        self.engine: list[str] | None = None  # None: xray-engine (tests give a fake)
        self.dialog: ImproveDialog | None = None
        self.history: HistoryDialog | None = None
        self.started_with: ModelInfo | None = window.review.session.model
        a = window._action
        a(
            "improve_model",
            "&Improve from reviews…",
            self.improve_dialog,
            tip="Fine-tune the model on the reviewed bags of the queue's folders",
        )
        a(
            "model_history",
            "&History…",
            self.history_dialog,
            tip="Switch to a model made from reviews, or back to an earlier one",
        )
        menu = window.review.model_menu
        menu.addSeparator()
        menu.addAction(window.actions["improve_model"])
        menu.addAction(window.actions["model_history"])
        window.review.modelChanged.connect(self._on_model_changed)

    def models_folder(self) -> Path:
        """Where this window keeps models made from reviews."""
        return self.root if self.root is not None else models_root()

    def _on_model_changed(self, info: ModelInfo) -> None:
        if self.started_with is None:
            self.started_with = info

    def _say(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 6000)

    # ----- improve ------------------------------------------------------------------------
    def improve_dialog(self) -> ImproveDialog | None:
        """Open the improve dialog on the model in use and the queue's reviewed folders."""
        if self.dialog is not None:  # one run at a time: show the one there is
            self.dialog.show()
            self.dialog.raise_()
            return self.dialog
        review = self.window.review
        if review.session.model is None or review.session.model_pending:
            self._say("Load a model first (Ctrl+M): it is the one the reviews improve")
            return None
        review.panel.flush_note()  # the run reads the projects from disk
        folders = reviewed_folders(queue_folders(e.path for e in self.window.queue.entries))
        if not folders:
            self._say("No folder in the queue has reviews yet: review some bags first")
            return None
        settings = self.window.settings
        dialog = ImproveDialog(
            review.session.model.path,
            folders,
            self.models_folder(),
            device=review.device,
            minutes=int(settings.value(MINUTES_KEY, 20) or 20),
            engine=self.engine,
            parent=self.window,
        )
        dialog.useModel.connect(self.use_model)
        dialog.start_button.clicked.connect(
            lambda: settings.setValue(MINUTES_KEY, dialog.minutes.value())
        )
        dialog.finished.connect(lambda _r: self._forget(dialog))
        self.dialog = dialog
        dialog.show()  # not modal: the analyst keeps reviewing while it trains
        return dialog

    def _forget(self, dialog: ImproveDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()

    # ----- history ------------------------------------------------------------------------
    def history_entries(self):
        """The models to list: those made from reviews, and the one the session started with."""
        start = self.started_with
        return with_start_model(
            list_history(self.models_folder()),
            start.path if start else None,
            start.name if start else "",
        )

    def history_dialog(self) -> HistoryDialog:
        """Open Model ▸ History…."""
        model = self.window.review.session.model
        dialog = HistoryDialog(self.history_entries(), model.path if model else None, self.window)
        dialog.useModel.connect(self.use_model)
        dialog.finished.connect(lambda _r: dialog.deleteLater())
        self.history = dialog
        dialog.open()
        return dialog

    # ----- switching ----------------------------------------------------------------------
    def use_model(self, path: str) -> None:
        """Load `path` as the model in use, as Model ▸ Load model… does."""
        self.window.review.load_model(path)
        self._say(f"Loading {Path(path).parent.name}/{Path(path).name}…")

    def shutdown(self) -> None:
        """The window closes: a run in progress is stopped and its folder removed."""
        if self.dialog is not None and self.dialog.running():
            self.dialog.stop_now()
