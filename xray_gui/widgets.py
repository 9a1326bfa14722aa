"""Small widgets of the main window: the error banner, the open prompt, the queue and its filter."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
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

from engine.colour import ANOMALY_RGB
from xray_gui.scan_queue import QUEUE_FILTERS, ScanQueue


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
ALARM_ROLE = Qt.ItemDataRole.UserRole + 1  # True on a queue row whose bag alarms
ALARM_RGB = ANOMALY_RGB  # the overlay's colour of an anomalous finding
ERROR_RGB = (200, 60, 60)


class QueuePanel(QListWidget):
    """Lists the queue: failed scans red with the loader's message as tooltip, screened ones
    marked ●, reviewed ones ✓, alarming ones red with a red disc (from the queue's `marks_of`,
    set by whoever knows the reviews); rows the queue's filter hides are hidden, and
    `filter_box` (placed above the list by the window) chooses the filter and shows the counts."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scanQueue")
        self.setAlternatingRowColors(True)
        self.setIconSize(QSize(10, 10))
        self.filter_box = QueueFilterBox()
        self._alarm_icon = _disc_icon(QColor(*ALARM_RGB))
        self._blank_icon = _disc_icon(QColor(0, 0, 0, 0))  # keeps every name at one indent

    def refresh(self, queue: ScanQueue) -> None:
        """Rebuild the list from the queue, hide what its filter hides, select its current entry
        and update the filter box's counts."""
        marks = [queue.marks(i) for i in range(len(queue))]
        self.blockSignals(True)
        self.clear()
        for i, entry in enumerate(queue.entries):
            item = QListWidgetItem(STATUS_MARKS.get(marks[i].status, "") + entry.path.name)
            item.setToolTip(entry.error or str(entry.path))
            alarm = marks[i].alarm and not entry.error
            item.setData(ALARM_ROLE, alarm)
            item.setIcon(self._alarm_icon if alarm else self._blank_icon)
            if entry.error:
                item.setForeground(QBrush(QColor(*ERROR_RGB)))
                item.setText(f"⚠ {entry.path.name}")
            elif alarm:
                item.setForeground(QBrush(QColor(*ALARM_RGB)))
                font = item.font()
                font.setBold(True)
                item.setFont(font)
                item.setToolTip(
                    f"Alarm: an anomalous finding at the thresholds in force\n{entry.path}"
                )
            self.addItem(item)
            item.setHidden(not queue.shown(i, marks[i]))
        if 0 <= queue.current < self.count():
            self.setCurrentRow(queue.current)
        self.blockSignals(False)
        self.filter_box.show_counts(queue.counts(marks), queue.filter)

    def is_alarm(self, row: int) -> bool:
        """Whether row `row` is marked as an alarm."""
        item = self.item(row)
        return bool(item is not None and item.data(ALARM_ROLE))


class QueueFilterBox(QComboBox):
    """Which scans the queue shows (all / unreviewed / alarms / decided), each with its count."""

    filterChosen = Signal(str)  # a name of QUEUE_FILTERS, chosen by the analyst

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("queueFilter")
        self.setToolTip("Which scans the queue shows; A / D and Next unreviewed follow it")
        for name, title in QUEUE_FILTERS.items():
            self.addItem(title, name)
        self.activated.connect(lambda i: self.filterChosen.emit(self.itemData(i)))

    def show_counts(self, counts: dict[str, int], current: str) -> None:
        """Title each filter with how many scans it passes, and show `current` as chosen."""
        for i in range(self.count()):
            name = self.itemData(i)
            self.setItemText(i, f"{QUEUE_FILTERS[name]} ({counts.get(name, 0)})")
            if name == current:
                self.setCurrentIndex(i)

    def chosen(self) -> str:
        return self.itemData(self.currentIndex())


def _disc_icon(colour: QColor, size: int = 10) -> QIcon:
    """A filled disc of `colour` (transparent: a blank of the same size)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    painter.drawEllipse(1, 1, size - 2, size - 2)
    painter.end()
    return QIcon(pixmap)
