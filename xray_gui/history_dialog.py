"""Model ▸ History…: the models made from reviews and the one the app started with.

One row per model (date, name, parent, held-out AP50 and false detections per bag, better or
not); "Use this model" or a double-click switches to the chosen one, or back to an older one,
in one step (`useModel`). The model in use is marked and cannot be chosen again.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from xray_gui.model_history import HistoryEntry

COLUMNS = ("Date", "Name", "Parent", "AP50 (held out)", "False det./bag", "Better")


class HistoryDialog(QDialog):
    """List the models to switch to; emit `useModel(path)` for the chosen one."""

    useModel = Signal(str)

    def __init__(
        self,
        entries: Sequence[HistoryEntry],
        loaded: str | Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("historyDialog")
        self.setWindowTitle("Model history")
        self.entries = list(entries)
        self.loaded = _same_path_key(loaded)
        intro = QLabel(
            "Models made from reviews, newest first, and the model this session started with. "
            "Figures are on each run's held-out reviewed bags (the parent's in the tooltip)."
            if self.entries
            else "No model has been made from reviews yet (Model ▸ Improve from reviews…)."
        )
        intro.setWordWrap(True)
        self.table = QTableWidget(len(self.entries), len(COLUMNS))
        self.table.setObjectName("historyTable")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for row, entry in enumerate(self.entries):
            self._fill_row(row, entry)
        self.table.itemSelectionChanged.connect(self._update_button)
        self.table.cellDoubleClicked.connect(lambda row, _col: self.use_row(row))
        self.use_button = QPushButton("Use this model")
        self.use_button.clicked.connect(lambda: self.use_row(self.table.currentRow()))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.use_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(820, 360)
        in_use = self.loaded_row()
        self.table.selectRow(in_use if in_use is not None else 0)
        self._update_button()

    def _fill_row(self, row: int, entry: HistoryEntry) -> None:
        in_use = _same_path_key(entry.path) == self.loaded
        name = entry.name + (" (in use)" if in_use else "")
        if entry.started_with:
            name += " — started with"
        better = "—" if entry.better is None else ("yes" if entry.better else "no")
        cells = (
            entry.created.strftime("%Y-%m-%d %H:%M") if entry.created else "—",
            name,
            entry.parent or "—",
            _ap(entry.ap50),
            "—" if entry.false_per_bag is None else f"{entry.false_per_bag:.2f}",
            better,
        )
        tip = str(entry.path)
        if entry.better is not None:
            tip += (
                f"\nparent {entry.parent_path}"
                f"\nheld-out AP50 {_ap(entry.old_ap50)} → {_ap(entry.ap50)}, false detections "
                f"per bag {entry.old_false_per_bag:.2f} → {entry.false_per_bag:.2f}"
            )
        if entry.reviews:
            tip += "\nreviews: " + ", ".join(entry.reviews)
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(tip)
            if in_use:
                font = QFont(item.font())
                font.setBold(True)
                item.setFont(font)
            if col >= 3:
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            self.table.setItem(row, col, item)

    def loaded_row(self) -> int | None:
        """The row of the model in use, or None when it is not listed."""
        for row, entry in enumerate(self.entries):
            if _same_path_key(entry.path) == self.loaded:
                return row
        return None

    def _update_button(self) -> None:
        row = self.table.currentRow()
        self.use_button.setEnabled(0 <= row < len(self.entries) and row != self.loaded_row())

    def use_row(self, row: int) -> None:
        """Switch to the model of `row` (not the one in use) and close."""
        if not 0 <= row < len(self.entries) or row == self.loaded_row():
            return
        self.useModel.emit(str(self.entries[row].path))
        self.accept()


def _ap(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def _same_path_key(path: str | Path | None) -> str | None:
    return None if not path else os.path.normcase(os.path.abspath(path))
