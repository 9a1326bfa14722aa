"""The class keys: the classes in force (the loaded model's) as window actions, Ctrl+1…9 for the
first nine and the Class menu holding them all, remade whenever the classes change.

A model trained on a site's own classes brings its own names, any number of them; the actions
follow it, so relabelling, the class of a drawn object, the statistics and the exports all speak
the model's classes. A review project that uses classes the model does not know keeps them as
they are, and `unknown_classes_message` says which.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

KEYED = 9  # Ctrl+1…Ctrl+9; the classes after these are in the menu's "More classes"


def action_name(label: str) -> str:
    """The name of a class's action in the window's actions, e.g. "label_bottle"."""
    return f"label_{label}"


def menu_text(label: str) -> str:
    """`label` for a menu: a literal "&" is not a mnemonic."""
    return label.replace("&", "&&")


class ClassKeys(QObject):
    """One action per class in the window's actions and in `menu`; `chosen` names the class."""

    chosen = Signal(str)

    def __init__(
        self,
        actions: dict[str, QAction],
        make_action: Callable[..., QAction],
        menu: QMenu,
        leading: Sequence[QAction] = (),
    ) -> None:
        """`make_action(name, text, slot, shortcut, tip=...)` adds an action to the window (its
        `_action`); `leading` actions stay at the top of the menu, above the classes."""
        super().__init__(menu)
        self._actions = actions
        self._make_action = make_action
        self.menu = menu
        self._leading = list(leading)
        self.names: list[str] = []
        self.more: QMenu | None = None  # the classes after the ninth
        self._enabled = True

    def set_classes(self, names: Sequence[str]) -> bool:
        """Offer these classes (in this order); False when they are the ones offered already."""
        names = list(names)
        if names == self.names:
            return False
        for old in self.names:
            action = self._actions.pop(action_name(old), None)
            if action is not None:
                action.parent().removeAction(action)
                action.deleteLater()
        self.menu.clear()
        if self.more is not None:
            self.more.deleteLater()
            self.more = None
        for action in self._leading:
            self.menu.addAction(action)
        if self._leading:
            self.menu.addSeparator()
        for i, name in enumerate(names, start=1):
            action = self._make_action(
                action_name(name),
                f"Class: {menu_text(name)}",
                lambda _=False, n=name: self.chosen.emit(n),
                f"Ctrl+{i}" if i <= KEYED else None,
                tip=f"Class {name}: for the selected object, and the objects drawn next",
            )
            action.setEnabled(self._enabled)
            if i <= KEYED:
                self.menu.addAction(action)
            else:
                if self.more is None:
                    self.more = self.menu.addMenu(f"More classes ({len(names) - KEYED})")
                self.more.addAction(action)
        self.names = names
        return True

    def set_enabled(self, on: bool) -> None:
        self._enabled = bool(on)
        for name in self.names:
            self._actions[action_name(name)].setEnabled(self._enabled)

    def keys_text(self) -> str:
        """How the keys read in a hint, e.g. "Ctrl+1…6" or "Ctrl+1…9 (and Review ▸ Class)"."""
        n = len(self.names)
        if n == 0:
            return "Review ▸ Class"
        keys = "Ctrl+1" if n == 1 else f"Ctrl+1…{min(n, KEYED)}"
        return keys if n <= KEYED else f"{keys} (more in Review ▸ Class)"


def unknown_classes_message(where: str, model: str, unknown: Mapping[str, int]) -> str:
    """One line for the analyst: the project's classes the model does not know, and what then."""
    listed = ", ".join(
        f"{name} ({n} object{'' if n == 1 else 's'})" for name, n in list(unknown.items())[:8]
    )
    if len(unknown) > 8:
        listed += f" and {len(unknown) - 8} more"
    return (
        f"The review in {where} uses classes the model {model} does not know: {listed}. "
        "They keep their labels, and exports list them after the model's classes; "
        "relabel them with the model's classes (Review ▸ Class) to train this model on them."
    )
