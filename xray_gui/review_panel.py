"""The review dock: model and thresholds, the findings of the scan on screen, the bag decision.

A view only: it shows what it is given and emits what the analyst asks for; the Reviewer turns
requests into review-store actions. Action buttons are the window's QActions, so a button and
its keyboard shortcut are one and the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QSlider,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.colour import ANOMALY_RGB

if TYPE_CHECKING:
    from xray_gui.review import ReviewObject

NOTE_DELAY_MS = 300  # a note is saved in the project this long after the last keystroke
COLUMNS = ("id", "class", "score", "anomaly", "status")


class ThresholdSlider(QWidget):
    """A 0–1 slider in steps of 0.01 with its value beside it."""

    valueChanged = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 100)
        self.slider.setPageStep(5)
        self.label = QLabel("0.00")
        self.label.setMinimumWidth(32)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        self.slider.valueChanged.connect(self._changed)

    def value(self) -> float:
        return self.slider.value() / 100

    def set_value(self, value: float, *, quiet: bool = False) -> None:
        self.slider.blockSignals(quiet)
        self.slider.setValue(round(value * 100))
        self.label.setText(f"{self.slider.value() / 100:.2f}")
        self.slider.blockSignals(False)

    def _changed(self, raw: int) -> None:
        self.label.setText(f"{raw / 100:.2f}")
        self.valueChanged.emit(raw / 100)


class NoteEdit(QPlainTextEdit):
    """The bag note: Tab moves on and Esc hands the keyboard back to the scan, so the note never
    traps the analyst's keys; leaving it saves it."""

    escaped = Signal()
    left = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.Type.ShortcutOverride and e.key() == Qt.Key.Key_Escape:
            e.accept()  # Esc is ours here, not the window's "plain image" shortcut
            return True
        return super().event(e)

    def keyPressEvent(self, e) -> None:
        if e.key() == Qt.Key.Key_Escape:
            e.accept()
            self.escaped.emit()
            return
        super().keyPressEvent(e)

    def focusOutEvent(self, e) -> None:
        super().focusOutEvent(e)
        self.left.emit()


class ReviewPanel(QWidget):
    """Model line, the two threshold sliders, the findings table, decision and note."""

    thresholdsChanged = Signal(float, float)  # score threshold, anomaly threshold
    anomalyMoved = Signal(float)  # the analyst moved the anomaly slider (just before the above)
    opacityChanged = Signal(float)  # the findings overlay's opacity, 0–1
    objectSelected = Signal(str)  # object id
    classChosen = Signal(str)  # a class picked in the class picker
    noteEdited = Signal(str)  # the note after a pause in typing (or on leaving it)
    noteTyped = Signal(str)  # the note after every keystroke
    noteEscaped = Signal()  # Esc in the note: the keyboard goes back to the scan

    def __init__(self, actions: dict[str, QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reviewPanel")
        self.model_label = QLabel("No model loaded")
        self.model_label.setWordWrap(True)
        self.score_slider = ThresholdSlider()
        self.anomaly_slider = ThresholdSlider()
        self.score_slider.setToolTip("Hide the model's findings scored below this")
        self.anomaly_slider.setToolTip("Call a finding anomalous from this anomaly score on")
        self.score_slider.valueChanged.connect(self._thresholds_moved)
        self.anomaly_slider.valueChanged.connect(self._anomaly_moved)
        self.opacity_slider = ThresholdSlider()
        self.opacity_slider.set_value(1.0, quiet=True)
        self.opacity_slider.setToolTip(
            "Fade the findings to see the scan under them (V hides them)"
        )
        self.opacity_slider.valueChanged.connect(self.opacityChanged)
        model_box = QGroupBox("Model")
        form = QFormLayout(model_box)
        form.addRow(self.model_label)
        form.addRow("Detection ≥", self.score_slider)
        form.addRow("Anomaly ≥", self.anomaly_slider)
        form.addRow("Overlay", self.opacity_slider)

        self.table = QTreeWidget()
        self.table.setObjectName("findingsTable")
        self.table.setHeaderLabels([c.title() for c in COLUMNS])
        self.table.setRootIsDecorated(False)
        self.table.setUniformRowHeights(True)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the window's actions
        self.table.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.header().setStretchLastSection(False)
        self.table.itemSelectionChanged.connect(self._on_table_selection)
        self.class_combo = QComboBox()
        self.class_combo.setObjectName("classPicker")
        self.class_combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the window
        self.class_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.class_combo.setToolTip(
            "The class of the selected object, and of the objects you draw next (K opens it)"
        )
        self.class_combo.activated.connect(
            lambda i: self.classChosen.emit(self.class_combo.itemText(i))
        )
        class_row = QFormLayout()
        class_row.addRow("Class", self.class_combo)
        findings_box = QGroupBox("Findings")
        findings_layout = QVBoxLayout(findings_box)
        findings_layout.addWidget(self.table, 1)
        findings_layout.addLayout(class_row)
        findings_layout.addLayout(
            _button_grid(
                actions,
                [
                    "accept",
                    "reject",
                    "toggle_anomalous",
                    "draw_box",
                    "draw_polygon",
                    "zoom_selection",
                    "delete_object",
                    "undo",
                    "redo",
                ],
            )
        )

        self.decision_label = QLabel("Decision: none")
        self.progress_label = QLabel("")
        self.note = NoteEdit()
        self.note.setObjectName("bagNote")
        self.note.setPlaceholderText("Note on this bag (saved as you type; Esc: back to the scan)")
        self.note.setMaximumHeight(70)
        self._note_timer = QTimer(self, singleShot=True, interval=NOTE_DELAY_MS)
        self._note_timer.timeout.connect(self._send_note)
        self.note.textChanged.connect(self._on_note_changed)
        self.note.escaped.connect(self._on_note_escaped)
        self.note.left.connect(self.flush_note)
        bag_box = QGroupBox("Bag")
        bag_layout = QVBoxLayout(bag_box)
        bag_layout.addWidget(self.decision_label)
        bag_layout.addLayout(
            _button_grid(actions, ["decide_clear", "decide_suspect", "decide_search"], 3)
        )
        bag_layout.addWidget(self.note)
        bag_layout.addLayout(_button_grid(actions, ["next_unreviewed"], 1))
        bag_layout.addWidget(self.progress_label)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(model_box)
        layout.addWidget(findings_box, 1)
        layout.addWidget(bag_box)
        self._ids: list[str] = []

    # ----- thresholds ---------------------------------------------------------------------
    def thresholds(self) -> tuple[float, float]:
        return self.score_slider.value(), self.anomaly_slider.value()

    def set_thresholds(self, score: float, anomaly: float) -> None:
        """Move both sliders without emitting: the caller redraws once."""
        self.score_slider.set_value(score, quiet=True)
        self.anomaly_slider.set_value(anomaly, quiet=True)

    def _thresholds_moved(self, _value: float) -> None:
        self.thresholdsChanged.emit(*self.thresholds())

    def _anomaly_moved(self, value: float) -> None:
        self.anomalyMoved.emit(value)
        self._thresholds_moved(value)

    # ----- findings -----------------------------------------------------------------------
    def show_objects(self, objects: Sequence[ReviewObject], selected: str | None) -> None:
        """Fill the table with the objects drawn now and select `selected`."""
        self.table.blockSignals(True)
        self.table.clear()
        self._ids = []
        red = QBrush(QColor(*ANOMALY_RGB))
        grey = QBrush(QColor(140, 140, 140))
        for obj in objects:
            if not obj.visible:
                continue
            item = QTreeWidgetItem(
                [
                    obj.id,
                    obj.label,
                    "" if obj.score is None else f"{obj.score:.2f}",
                    "" if obj.anomaly_score is None else f"{obj.anomaly_score:.2f}",
                    obj.status,
                ]
            )
            brush = grey if obj.status == "rejected" else red if obj.anomalous else None
            if brush is not None:
                for col in range(len(COLUMNS)):
                    item.setForeground(col, brush)
            self.table.addTopLevelItem(item)
            self._ids.append(obj.id)
            if obj.id == selected:
                item.setSelected(True)
                self.table.setCurrentItem(item)
        self.table.blockSignals(False)

    # ----- class picker -------------------------------------------------------------------
    def set_classes(self, names: Sequence[str]) -> None:
        """The classes the picker offers (the model's), in its order."""
        names = list(names)
        if names == [self.class_combo.itemText(i) for i in range(self.class_combo.count())]:
            return
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        self.class_combo.addItems(names)
        self.class_combo.blockSignals(False)

    def show_class(self, label: str) -> None:
        """Show `label` in the picker: the selected object's class, or the next drawn one's; a
        class the model does not know is named as such."""
        index = self.class_combo.findText(label, Qt.MatchFlag.MatchExactly)
        self.class_combo.blockSignals(True)
        self.class_combo.setCurrentIndex(index)
        self.class_combo.setPlaceholderText("" if index >= 0 else f"{label} (not the model's)")
        self.class_combo.blockSignals(False)

    def shown_class(self) -> str:
        """The class the picker shows ("" when the object's class is not among its classes)."""
        return self.class_combo.currentText()

    def selected_id(self) -> str | None:
        items = self.table.selectedItems()
        return items[0].text(0) if items else None

    def _on_table_selection(self) -> None:
        chosen = self.selected_id()
        self.objectSelected.emit(chosen or "")

    # ----- bag ----------------------------------------------------------------------------
    def show_bag(self, decision: str | None, note: str, progress: str) -> None:
        """Show a bag's decision and note; the caller flushes a note being typed first (it read
        `note` from the store, so flushing here would put the stale text back)."""
        self.decision_label.setText(f"Decision: {decision or 'none'}")
        self.note.blockSignals(True)
        if self.note.toPlainText() != note:
            self.note.setPlainText(note)
        self.note.blockSignals(False)
        self.progress_label.setText(progress)

    def flush_note(self) -> None:
        """Send a note still waiting for its delay now (before the scan changes, on close)."""
        if self._note_timer.isActive():
            self._note_timer.stop()
            self._send_note()

    def _send_note(self) -> None:
        self.noteEdited.emit(self.note.toPlainText())

    def _on_note_changed(self) -> None:
        self.noteTyped.emit(self.note.toPlainText())
        self._note_timer.start()

    def _on_note_escaped(self) -> None:
        self.flush_note()
        self.noteEscaped.emit()


def _button_grid(actions: dict[str, QAction], names: list[str], columns: int = 3) -> QGridLayout:
    grid = QGridLayout()
    for i, name in enumerate(names):
        button = QToolButton()
        button.setDefaultAction(actions[name])
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        grid.addWidget(button, i // columns, i % columns)
    return grid
