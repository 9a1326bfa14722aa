"""The Qt-free queue and pixel read-out."""

from __future__ import annotations

import numpy as np

from engine.phantom import render_test_piece
from xray_gui.readout import pixel_readout
from xray_gui.scan_queue import ScanQueue


def test_queue_adds_folders_once_and_steps(scan_folder):
    queue = ScanQueue()
    assert queue.add([scan_folder]) == [0, 1, 2]
    assert queue.add([scan_folder / "bag_2.png"]) == [1]  # already queued: just found
    assert len(queue) == 3
    queue.current = 0
    assert queue.step(1) == 1 and queue.step(-1) is None and queue.step(5) is None


def test_readout_names_channels_present():
    scan = render_test_piece(32, 24)
    text = pixel_readout(scan, scan.image, 3, 4)
    assert "x 3  y 4" in text and "T_low" in text and "T_high" in text and "Zeff" in text
    plain = type(scan)(scan.image, scan.meta)
    assert "T_low" not in pixel_readout(plain, plain.image, 3, 4)
    assert pixel_readout(scan, scan.image, 99, 4) == ""
    assert isinstance(np.asarray(scan.image).sum(), np.integer)
