"""Small widgets of the main window: the error banner, the open prompt and the queue panel."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from xray_gui.scan_queue import ScanQueue


class ErrorBanner(QFrame):
    """A dismissable red bar above the viewer: errors are shown, never raised at the analyst."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorBanner")
        self.setStyleSheet(
            "#errorBanner { background: #7a1f1f; border-radius: 3px; }"
            "#errorBanner QLabel { color: white; }"
        )
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.hide()

    def show_message(self, text: str) -> None:
        self.label.setText(text)
        self.show()

    def message(self) -> str:
        return self.label.text() if self.isVisible() else ""


class ElidedLabel(QLabel):
    """A one-line label that shortens its text with "…" to the room it gets, instead of pushing
    its neighbours out; the whole text is its tooltip, and `text()` gives it back whole."""

    def __init__(
        self,
        text: str = "",
        *,
        max_width: int | None = None,
        mode: Qt.TextElideMode = Qt.TextElideMode.ElideMiddle,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._full = ""
        self._mode = mode
        if max_width is not None:
            self.setMaximumWidth(max_width)
        self.setText(text)

    def setText(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self._elide()
        self.updateGeometry()

    def text(self) -> str:
        return self._full

    def sizeHint(self):
        hint = super().sizeHint()
        hint.setWidth(
            min(self.fontMetrics().horizontalAdvance(self._full) + 8, self.maximumWidth())
        )
        return hint

    def minimumSizeHint(self):
        hint = super().minimumSizeHint()
        hint.setWidth(min(40, self.sizeHint().width()))
        return hint

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        QLabel.setText(self, self.fontMetrics().elidedText(self._full, self._mode, self.width()))


class OpenPrompt(QWidget):
    """What the viewer area shows before any scan is open."""

    openFilesRequested = Signal()
    openFolderRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = QLabel("<h2>Open bag scans</h2>")
        hint = QLabel(
            "PNG, JPEG, BMP, TIFF, DICOM/DICOS, dual-energy pairs and side-by-side exports.<br>"
            "Drop files or a folder here, or:"
        )
        for label in (title, hint):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setWordWrap(True)
        files = QPushButton("Open files…  (Ctrl+O)")
        folder = QPushButton("Open folder…  (Ctrl+Shift+O)")
        files.clicked.connect(self.openFilesRequested)
        folder.clicked.connect(self.openFolderRequested)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(files)
        buttons.addWidget(folder)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(title)
        layout.addWidget(hint)
        layout.addLayout(buttons)
        layout.addStretch(2)


STATUS_MARKS = {"new": "", "screened": "● ", "reviewed": "✓ "}


class QueuePanel(QListWidget):
    """Lists the queue: failed scans red with the loader's message as tooltip, screened ones
    marked ●, reviewed ones ✓ (from `status_of`, set by whoever knows the reviews)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scanQueue")
        self.setAlternatingRowColors(True)
        self.status_of: Callable[[Path], str] | None = None

    def refresh(self, queue: ScanQueue) -> None:
        """Rebuild the list from the queue and select its current entry."""
        self.blockSignals(True)
        self.clear()
        for entry in queue.entries:
            mark = STATUS_MARKS.get(self.status_of(entry.path), "") if self.status_of else ""
            item = QListWidgetItem(mark + entry.path.name)
            item.setToolTip(entry.error or str(entry.path))
            if entry.error:
                item.setForeground(QBrush(QColor(200, 60, 60)))
                item.setText(f"⚠ {entry.path.name}")
            self.addItem(item)
        if 0 <= queue.current < self.count():
            self.setCurrentRow(queue.current)
        self.blockSignals(False)
