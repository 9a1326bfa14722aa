"""The Qt-free queue (its marks and filters) and pixel read-out."""

from __future__ import annotations

import numpy as np
import pytest

from engine.phantom import render_test_piece
from xray_gui.readout import pixel_readout
from xray_gui.scan_queue import BagMarks, ScanQueue


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


def _queue_with_marks(scan_folder, marks: dict[str, BagMarks]) -> ScanQueue:
    queue = ScanQueue()
    queue.add([scan_folder])  # bag_1, bag_2, bag_10
    queue.marks_of = lambda path: marks.get(path.name, BagMarks())
    return queue


def test_stepping_moves_among_the_scans_the_filter_shows(scan_folder):
    queue = _queue_with_marks(
        scan_folder,
        {"bag_1.png": BagMarks("reviewed"), "bag_10.png": BagMarks("screened", alarm=True)},
    )
    queue.current = 0
    queue.set_filter("alarms")
    assert queue.step(1) == 2 and queue.step(-1) is None  # bag_2 does not alarm
    assert [queue.shown(i) for i in range(3)] == [True, False, True]  # bag_1 is on screen
    queue.current = 2
    assert queue.step(1) is None and queue.step(-1) is None and not queue.shown(0)
    queue.set_filter("unreviewed")
    assert queue.step(-1) == 1 and queue.step(-2) is None
    queue.set_filter("decided")
    assert queue.step(-1) == 0
    with pytest.raises(ValueError, match="unknown queue filter"):
        queue.set_filter("starred")


def test_next_unreviewed_and_the_counts_follow_the_filter(scan_folder):
    queue = _queue_with_marks(
        scan_folder,
        {
            "bag_1.png": BagMarks("reviewed", alarm=True),
            "bag_2.png": BagMarks("screened"),
            "bag_10.png": BagMarks("screened", alarm=True),
        },
    )
    queue.current = 0
    assert queue.next_unreviewed() == 1
    queue.set_filter("alarms")
    assert queue.next_unreviewed() == 2  # bag_2 is unreviewed but not an alarm
    queue.set_filter("decided")
    assert queue.next_unreviewed() is None
    assert queue.counts() == {"all": 3, "unreviewed": 2, "alarms": 2, "decided": 1}
    queue.marks_of = None  # nobody knows the reviews: every scan is new
    assert queue.counts() == {"all": 3, "unreviewed": 3, "alarms": 0, "decided": 0}


def test_ordering_by_a_key_puts_the_highest_first_and_the_unkeyed_last(scan_folder):
    queue = ScanQueue()
    queue.add([scan_folder])  # bag_1, bag_2, bag_10
    queue.current = 0  # bag_1 on screen
    key = {"bag_1.png": None, "bag_2.png": 0.2, "bag_10.png": 0.9}
    queue.order_by(lambda path: key[path.name])
    assert [e.path.name for e in queue.entries] == ["bag_10.png", "bag_2.png", "bag_1.png"]
    assert queue.current_entry.path.name == "bag_1.png"  # still on screen, now last
    queue.order_as_added()
    assert [e.path.name for e in queue.entries] == ["bag_1.png", "bag_2.png", "bag_10.png"]
    assert queue.current == 0
    queue.add([scan_folder / "bag_2.png"])  # queuing again keeps the order
    assert [e.added for e in queue.entries] == [0, 1, 2]
