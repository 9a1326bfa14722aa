"""Crash safety: the application is killed with SIGKILL in the middle of a review; a new one
restores every action that was reported done before the kill."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from xray_gui.main_window import MainWindow
from xray_gui.review import ReviewStore

from .conftest import open_and_wait

pytestmark = pytest.mark.slow  # a real model, and a child application killed and restarted

# Runs in the child: the real window, a real model, actions through the window's QActions.
# Each action prints "DONE <n>" once the action's slot has returned (and so has saved).
CHILD = r"""
import os, sys, time
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
app = QApplication([])
from xray_gui.main_window import MainWindow
folder, bundle, ini = sys.argv[1:4]
w = MainWindow(QSettings(ini, QSettings.Format.IniFormat))
w.show()
done = []
w.review.resultShown.connect(lambda p: done.append(p))
w.review.load_model(bundle, "cpu")
while w.review.session.model is None:
    app.processEvents(); time.sleep(0.01)
w.open_paths([folder])
while not done:
    app.processEvents(); time.sleep(0.01)
r = w.review
r.panel.score_slider.set_value(0.0)
def draw(*box):
    w.actions["draw_box"].trigger()
    w.view.view_box.boxDrawn.emit(*box)
steps = [
    lambda: r.select_step(1),
    lambda: w.actions["accept"].trigger(),
    lambda: w.actions["reject"].trigger(),
    lambda: w.actions["label_toaster"].trigger(),
    lambda: w.actions["toggle_anomalous"].trigger(),
    lambda: draw(5.0, 6.0, 30.0, 28.0),
    lambda: w.actions["decide_suspect"].trigger(),
    lambda: (r.panel.note.setPlainText("look again"), r.panel.flush_note()),
]
for n, step in enumerate(steps, start=1):
    step()
    app.processEvents()
    print(f"DONE {n} {r.session.selected}", flush=True)
while True:  # keep running until killed
    app.processEvents(); time.sleep(0.01)
"""


def _copy_scans(tiny_coco: Path, folder: Path) -> Path:
    folder.mkdir()
    for path in sorted((tiny_coco / "images").glob("bag_00000[0-1]*.png")):
        shutil.copy(path, folder / path.name)
    return folder


@pytest.mark.parametrize("kill_after", [3, 8])
def test_sigkill_loses_nothing_done_before(qtbot, tiny_coco, tiny_bundle, tmp_path, kill_after):
    folder = _copy_scans(tiny_coco, tmp_path / "bags")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(folder), str(tiny_bundle), str(tmp_path / "s.ini")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    selected: dict[int, str] = {}
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            if line.startswith("DONE"):
                _, n, sel = line.split()
                selected[int(n)] = sel
                if int(n) == kill_after:
                    child.send_signal(signal.SIGKILL)  # mid-review: the child is still acting
                    break
    finally:
        child.kill()
        _, err = child.communicate(timeout=30)
    assert kill_after in selected, f"the child never got that far: {err[-2000:]}"

    # a new application on the same folder
    window = MainWindow(QSettings(str(tmp_path / "s2.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    open_and_wait(qtbot, window, [folder])
    store = window.review.session.store
    assert isinstance(store, ReviewStore)
    scan = str(window.queue.entries[0].path)
    assert store.has_prediction(scan)
    first = selected[1]  # accepted in step 2
    second = selected[2]  # rejected in step 3; steps 4–5 relabel and flag the next one
    assert store.object(scan, first).status in ("accepted", "corrected")
    assert store.object(scan, second).status == "rejected"
    if kill_after >= 8:
        restored = store.object(scan, selected[5])
        assert restored.label == "toaster" and restored.status == "corrected"
        added = store.object(scan, selected[6])
        assert added.source == "analyst" and added.box_xyxy == pytest.approx((5, 6, 30, 28))
        assert store.decision(scan) == "suspect"
        assert store.note(scan) == "look again"
    window.close()
