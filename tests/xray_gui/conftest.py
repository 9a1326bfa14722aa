"""GUI fixtures: a main window with settings isolated in a temporary INI file."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QSettings

from xray_gui.main_window import MainWindow

LOAD_TIMEOUT_MS = 15_000


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    return tmp_path / "settings.ini"


@pytest.fixture
def window(qtbot, settings_file: Path) -> MainWindow:
    win = MainWindow(QSettings(str(settings_file), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.resize(900, 600)
    win.show()
    qtbot.waitExposed(win)
    return win


def open_and_wait(qtbot, window: MainWindow, paths: list) -> None:
    """Open paths and wait until the first of them is on screen."""
    with qtbot.waitSignal(window.scanShown, timeout=LOAD_TIMEOUT_MS):
        window.open_paths(paths)


@pytest.fixture
def scan_folder(tmp_path: Path) -> Path:
    """Three small RGB PNG scans, distinct in colour, named so natural order is a, b, c."""
    folder = tmp_path / "scans"
    folder.mkdir()
    for i, name in enumerate(("bag_1.png", "bag_2.png", "bag_10.png")):
        image = np.full((60, 80, 3), 40 + 60 * i, np.uint8)
        image[10:30, 10:50] = (200, 120, 30)
        cv2.imwrite(str(folder / name), image)
    return folder
