"""The export dialog: which format, what to include, and where to write it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

FORMATS = {
    "coco": ("COCO JSON (masks, anomaly attributes, review status)", "annotations.json"),
    "voc": ("Pascal VOC XML (one file per scan)", "voc"),
    "yolo": ("YOLO text (labels/, classes.txt, anomalies.json)", "yolo"),
}


class ExportDialog(QDialog):
    """Choose format, scope and destination for exporting a folder's reviews."""

    def __init__(self, folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export reviewed annotations")
        self.folder = Path(folder)
        self.format = QComboBox()
        for key, (text, _) in FORMATS.items():
            self.format.addItem(text, key)
        self.reviewed_only = QRadioButton("Only what the analyst accepted, corrected or added")
        self.everything = QRadioButton("Everything, each object with its review status")
        self.reviewed_only.setChecked(True)
        self.destination = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        where = QHBoxLayout()
        where.addWidget(self.destination, 1)
        where.addWidget(browse)
        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow("Include", self.reviewed_only)
        form.addRow("", self.everything)
        form.addRow("Write to", where)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.format.currentIndexChanged.connect(self._default_destination)
        self._default_destination()

    def _default_destination(self) -> None:
        name = FORMATS[self.format.currentData()][1]
        self.destination.setText(str(self.folder / "export" / name))

    def _browse(self) -> None:
        if self.format.currentData() == "coco":
            path, _ = QFileDialog.getSaveFileName(
                self, "Export to", self.destination.text(), "COCO JSON (*.json)"
            )
        else:
            path = QFileDialog.getExistingDirectory(self, "Export to", str(self.folder))
        if path:
            self.destination.setText(path)

    def choice(self) -> tuple[str, Path, bool]:
        """(format key, destination, reviewed only)."""
        return (
            self.format.currentData(),
            Path(self.destination.text()).expanduser(),
            self.reviewed_only.isChecked(),
        )
