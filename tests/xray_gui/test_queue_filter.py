"""Issue item 15: bags that alarm are red in the scan queue (at the thresholds in force, and
after a restart from the project alone), and a filter chooses which scans the queue shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from engine.colour import ANOMALY_RGB
from xray_gui.main_window import MainWindow
from xray_gui.review import ReviewStore

from .conftest import LOAD_TIMEOUT_MS, open_and_wait
from .test_review_window import fake_model, findings_of

NAMES = ("bag_1.png", "bag_2.png", "bag_10.png")  # the queue's order


def _project(folder: Path) -> None:
    """bag_1 decided clear; bag_2 screened with an anomalous bottle; bag_10 screened benign at
    0.5 (only its weak mobile, scored 0.085, looks anomalous); reviewed at 0.5 / 0.5."""
    bag_1, bag_2, bag_10 = (folder / name for name in NAMES)
    store = ReviewStore(folder)
    store.set_decision(bag_1, "clear")
    store.set_prediction(bag_2, findings_of(bag_2), score_threshold=0.5, anomaly_threshold=0.5)
    benign = findings_of(bag_10)
    benign.findings[0].anomalous, benign.findings[0].anomaly_score = False, 0.1
    store.set_prediction(bag_10, benign, score_threshold=0.5, anomaly_threshold=0.5)
    store.set_thresholds(0.5, 0.5, model="demo-v1")
    store.close()


def _alarms(window: MainWindow) -> list[bool]:
    return [window.queue_panel.is_alarm(i) for i in range(window.queue_panel.count())]


def _shown(window: MainWindow) -> list[str]:
    panel = window.queue_panel
    return [panel.item(i).text() for i in range(panel.count()) if not panel.isRowHidden(i)]


def _filter_texts(window: MainWindow) -> list[str]:
    box = window.queue_panel.filter_box
    return [box.itemText(i) for i in range(box.count())]


def _choose(window: MainWindow, name: str) -> None:
    """Pick a filter in the combo box as the analyst does (its `activated` signal)."""
    box = window.queue_panel.filter_box
    index = box.findData(name)
    box.setCurrentIndex(index)
    box.activated.emit(index)


@pytest.fixture
def marked(qtbot, window: MainWindow, scan_folder: Path) -> MainWindow:
    """A fresh window (a restart: no model) on a folder whose project holds `_project`."""
    _project(scan_folder)
    open_and_wait(qtbot, window, [scan_folder])
    return window


def test_a_bag_that_alarms_is_red_in_the_queue_after_a_restart(marked):
    assert _alarms(marked) == [False, True, False]  # at the project's 0.5 / 0.5, not at 0
    item = marked.queue_panel.item(1)
    assert item.text() == "● bag_2.png"  # the ● and ✓ marks stay as they were
    assert item.foreground().color().getRgb()[:3] == ANOMALY_RGB
    assert not item.icon().isNull() and "Alarm" in item.toolTip()
    assert marked.queue_panel.item(0).text() == "✓ bag_1.png"


def test_alarms_follow_the_thresholds_and_the_analyst(qtbot, marked, scan_folder):
    review = marked.review
    review.panel.score_slider.set_value(0.05)  # the weak mobile of bag_10 is shown now
    assert _alarms(marked) == [False, True, True]
    review.panel.anomaly_slider.set_value(0.95)  # and nothing is anomalous enough
    assert _alarms(marked) == [False, False, False]
    review.panel.anomaly_slider.set_value(0.5)
    review.panel.score_slider.set_value(0.5)
    with qtbot.waitSignal(marked.scanShown, timeout=LOAD_TIMEOUT_MS):
        marked.show_index(1)
    review.select("m0")
    marked.actions["reject"].trigger()  # the bottle was a false alarm
    assert _alarms(marked) == [False, False, False]
    marked.actions["undo"].trigger()
    assert _alarms(marked) == [False, True, False]
    marked.close()
    again = MainWindow(QSettings(str(marked.settings.fileName()), QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    again.show()
    open_and_wait(qtbot, again, [scan_folder])
    assert _alarms(again) == [False, True, False]
    again.close()


def test_a_freshly_screened_bag_is_marked_at_once(qtbot, window, scan_folder):
    open_and_wait(qtbot, window, [scan_folder])
    info = fake_model(window)
    bag_10 = str(window.queue.entries[2].path)
    window.review._on_screened(bag_10, findings_of(Path(bag_10)), info.generation)
    assert _alarms(window) == [False, False, True]
    assert _filter_texts(window) == ["All (3)", "Unreviewed (3)", "Alarms (1)", "Decided (0)"]


def test_the_filter_hides_rows_and_keeps_the_scan_on_screen(qtbot, marked):
    assert _filter_texts(marked) == ["All (3)", "Unreviewed (2)", "Alarms (1)", "Decided (1)"]
    _choose(marked, "alarms")
    assert marked.queue.filter == "alarms"
    assert _shown(marked) == ["✓ bag_1.png", "● bag_2.png"]  # bag_1 is on screen
    with qtbot.waitSignal(marked.scanShown, timeout=LOAD_TIMEOUT_MS):
        marked.actions["next"].trigger()
    assert marked.queue.current == 1 and _shown(marked) == ["● bag_2.png"]
    marked.actions["next"].trigger()  # bag_10 does not alarm: nothing after bag_2
    assert marked.queue.current == 1
    assert "End of queue" in marked.statusBar().currentMessage()
    marked.actions["previous"].trigger()
    assert marked.queue.current == 1 and "alarms" in marked.statusBar().currentMessage()
    _choose(marked, "decided")
    assert _shown(marked) == ["✓ bag_1.png", "● bag_2.png"]
    with qtbot.waitSignal(marked.scanShown, timeout=LOAD_TIMEOUT_MS):
        marked.actions["previous"].trigger()
    assert marked.queue.current == 0
    _choose(marked, "all")
    assert _shown(marked) == ["✓ bag_1.png", "● bag_2.png", "● bag_10.png"]


def test_next_unreviewed_follows_the_filter(qtbot, marked):
    _choose(marked, "alarms")
    with qtbot.waitSignal(marked.scanShown, timeout=LOAD_TIMEOUT_MS):
        marked.actions["next_unreviewed"].trigger()
    assert marked.queue.current == 1
    marked.actions["decide_suspect"].trigger()
    marked.actions["next_unreviewed"].trigger()  # bag_10 is unreviewed, but no alarm
    assert marked.queue.current == 1
    assert "No unreviewed scan among the alarms" in marked.statusBar().currentMessage()
    _choose(marked, "unreviewed")
    assert _shown(marked) == ["✓ bag_2.png", "● bag_10.png"]  # bag_2 stays: it is on screen
    with qtbot.waitSignal(marked.scanShown, timeout=LOAD_TIMEOUT_MS):
        marked.actions["next_unreviewed"].trigger()
    assert marked.queue.current == 2


def test_the_counts_stay_true_under_a_filter(qtbot, marked):
    _choose(marked, "unreviewed")
    review = marked.review
    assert review.panel.progress_label.text() == "1 of 3 scans reviewed"
    marked.actions["decide_clear"].trigger()  # bag_1 again: its decision taken back
    assert _filter_texts(marked) == ["All (3)", "Unreviewed (3)", "Alarms (1)", "Decided (0)"]
    assert review.panel.progress_label.text() == "0 of 3 scans reviewed"
    with qtbot.waitSignal(marked.scanShown, timeout=LOAD_TIMEOUT_MS):
        marked.show_index(2)
    marked.actions["decide_search"].trigger()
    assert _filter_texts(marked) == ["All (3)", "Unreviewed (2)", "Alarms (1)", "Decided (1)"]
    assert review.panel.progress_label.text() == "1 of 3 scans reviewed"
    assert _shown(marked) == ["bag_1.png", "● bag_2.png", "✓ bag_10.png"]
    marked.actions["undo"].trigger()
    assert _filter_texts(marked)[3] == "Decided (0)"


def test_the_queue_orders_by_uncertainty_and_back(qtbot, marked):
    """bag_10's weak mobile (0.085) sits nearer 0.5 than anything of bag_2; bag_1 was never
    screened, so it goes last; the order survives a filter change, and goes back as opened."""
    marked.review.panel.score_slider.set_value(0.1)  # the mobile now sits just under it
    marked.actions["order_uncertainty"].trigger()
    names = [e.path.name for e in marked.queue.entries]
    assert names[-1] == "bag_1.png" and set(names[:2]) == {"bag_2.png", "bag_10.png"}
    u = {
        n: marked.review.session.uncertainty(marked.queue.entries[i].path)
        for i, n in enumerate(names)
    }
    assert u["bag_1.png"] is None and u[names[0]] >= u[names[1]]
    assert [t.lstrip("●✓ ") for t in _shown(marked)] == names  # the list shows the new order
    assert "uncertainty" in marked.statusBar().currentMessage()
    marked.actions["order_added"].trigger()
    assert [e.path.name for e in marked.queue.entries] == list(NAMES)
