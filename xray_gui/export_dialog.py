"""The export dialog: which format, what to include, and where to write it.

It remembers the format, the scope and the folder exports go to (in the window's settings), and
by default writes beside the scan folder, never into it: an export is not a scan.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QButtonGroup,
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
SCOPES = ("reviewed", "shown", "all")


class ExportDialog(QDialog):
    """Choose format, scope and destination for exporting a folder's reviews."""

    def __init__(
        self,
        folder: Path,
        settings: QSettings | None = None,
        parent: QWidget | None = None,
        thresholds: tuple[float, float | None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export reviewed annotations")
        self.folder = Path(folder)
        self.settings = settings
        self.format = QComboBox()
        for key, (text, _) in FORMATS.items():
            self.format.addItem(text, key)
        at = f" (detection ≥ {thresholds[0]:.2f})" if thresholds else ""
        self.reviewed_only = QRadioButton("Only what the analyst accepted, corrected or added")
        self.shown = QRadioButton(f"What was shown{at}, each object with its review status")
        self.everything = QRadioButton("Everything the model found, hidden findings included")
        self.scope = QButtonGroup(self)
        for button in (self.reviewed_only, self.shown, self.everything):
            self.scope.addButton(button)
        self.destination = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        where = QHBoxLayout()
        where.addWidget(self.destination, 1)
        where.addWidget(browse)
        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow("Include", self.reviewed_only)
        form.addRow("", self.shown)
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

        fmt = self._setting("export/format", "coco")
        self.format.setCurrentIndex(max(self.format.findData(fmt), 0))
        scope = self._setting("export/scope", "reviewed")
        button = {"shown": self.shown, "all": self.everything}.get(scope, self.reviewed_only)
        button.setChecked(True)
        self.format.currentIndexChanged.connect(self._default_destination)
        self._default_destination()

    def _setting(self, key: str, default: str) -> str:
        value = self.settings.value(key, default) if self.settings is not None else default
        return str(value or default)

    def export_folder(self) -> Path:
        """Where exports go: the folder used last time, else beside the scan folder."""
        return Path(self._setting("export/folder", str(self.folder.parent)))

    def _default_destination(self) -> None:
        name = FORMATS[self.format.currentData()][1]
        self.destination.setText(str(self.export_folder() / f"{self.folder.name}-{name}"))

    def _browse(self) -> None:
        if self.format.currentData() == "coco":
            path, _ = QFileDialog.getSaveFileName(
                self, "Export to", self.destination.text(), "COCO JSON (*.json)"
            )
        else:
            path = QFileDialog.getExistingDirectory(self, "Export to", str(self.export_folder()))
        if path:
            self.destination.setText(path)

    def choice(self) -> tuple[str, Path, str]:
        """(format key, destination, scope: "reviewed", "shown" or "all")."""
        scope = (
            "shown"
            if self.shown.isChecked()
            else "all"
            if self.everything.isChecked()
            else "reviewed"
        )
        return self.format.currentData(), Path(self.destination.text()).expanduser(), scope

    def accept(self) -> None:
        """Remember the format, the scope and the folder for next time."""
        fmt, destination, scope = self.choice()
        if self.settings is not None:
            self.settings.setValue("export/format", fmt)
            self.settings.setValue("export/scope", scope)
            self.settings.setValue("export/folder", str(destination.parent))
        super().accept()
