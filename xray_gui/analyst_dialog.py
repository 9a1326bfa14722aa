"""The analyst's name: who signs the decisions and the audit log, kept in the settings.

Asked once at first start (never when headless, never with a name already kept) and from
Review ▸ Analyst name…; a blank name is refused with a message, and the dialog stays open.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from xray_gui.review.analyst import MAX_ANALYST_CHARS, check_analyst_name

ANALYST_KEY = "analyst/name"  # the settings key of the name reviews are signed with
HEADLESS_PLATFORMS = ("offscreen", "minimal")  # nobody there to answer a dialog


def kept_analyst(settings: QSettings) -> str | None:
    """The analyst's name kept in `settings`; None when none (or no valid one) is."""
    try:
        return check_analyst_name(str(settings.value(ANALYST_KEY, "") or ""))
    except ValueError:
        return None


def keep_analyst(settings: QSettings, name: str) -> str:
    """Keep `name`, checked, in `settings` and give it back; ValueError (saying why) if no name."""
    name = check_analyst_name(name)
    settings.setValue(ANALYST_KEY, name)
    settings.sync()
    return name


def headless() -> bool:
    """Whether the application runs without a screen (offscreen, tests): never ask there."""
    return QGuiApplication.platformName() in HEADLESS_PLATFORMS


class AnalystDialog(QDialog):
    """Ask for the analyst's name; `name()` gives it, checked, once the dialog is accepted."""

    def __init__(
        self, current: str = "", parent: QWidget | None = None, *, first_start: bool = False
    ) -> None:
        super().__init__(parent)
        self.setObjectName("analystDialog")
        self.setWindowTitle("Analyst name")
        intro = QLabel(
            "Who is reviewing? Your decisions and every change you make are signed with this "
            "name. Review ▸ Analyst name… changes it later."
            if first_start
            else "Decisions and changes from now on are signed with this name."
        )
        intro.setWordWrap(True)
        self.name_edit = QLineEdit(current)
        self.name_edit.setObjectName("analystName")
        self.name_edit.setMaxLength(MAX_ANALYST_CHARS + 1)  # one more: too long is said so
        self.name_edit.setPlaceholderText("e.g. Ana Silva")
        self.name_edit.selectAll()
        self.message = QLabel()
        self.message.setObjectName("analystMessage")
        self.message.setStyleSheet("color: #c83c3c;")
        self.message.setWordWrap(True)
        self.message.hide()
        self.name_edit.textEdited.connect(lambda _t: self.message.hide())
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.name_edit)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self._name = ""

    def name(self) -> str:
        """The accepted name ("" until the dialog is accepted)."""
        return self._name

    def accept(self) -> None:
        """Close with the name, or stay open saying why the name is refused."""
        try:
            self._name = check_analyst_name(self.name_edit.text())
        except ValueError as exc:
            self.message.setText(str(exc))
            self.message.show()
            self.name_edit.setFocus()
            return
        super().accept()
