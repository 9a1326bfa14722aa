"""StatsPanel draws the numbers it is given, copes with no data, and asks for a CSV export."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
from PySide6.QtCore import Qt

from xray_gui.stats_panel import EMPTY_TEXT, STATUS_ORDER, StatsPanel


@dataclass
class FakeStats:
    """Stand-in with the fields of `xray_gui.review.stats.ReviewStats`."""

    per_class: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    accepted_scores: np.ndarray = field(default_factory=lambda: np.zeros(0))
    rejected_scores: np.ndarray = field(default_factory=lambda: np.zeros(0))
    review_seconds: dict[str, float] = field(default_factory=dict)
    scans: int = 0
    reviewed: int = 0
    decisions: dict[str, int] = field(default_factory=dict)


def sample_stats() -> FakeStats:
    return FakeStats(
        per_class={"bottle": 3, "laptop": 1, "knife": 2},
        by_status={"rejected": 1, "pending": 4, "added": 1, "accepted": 2, "corrected": 1},
        accepted_scores=np.array([0.91, 0.97, 0.96, 1.0]),
        rejected_scores=np.array([0.12, 0.14]),
        review_seconds={"bag_1.png": 10.0, "bag_2.png": 14.0, "bag_10.png": 30.0},
        scans=12,
        reviewed=5,
        decisions={"clear": 3, "suspect": 1, "search": 1},
    )


@pytest.fixture
def panel(qtbot) -> StatsPanel:
    widget = StatsPanel()
    qtbot.addWidget(widget)
    widget.resize(500, 420)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def bar_heights(item) -> list[float]:
    return [float(h) for h in item.opts["height"]]


def test_draws_the_given_numbers(panel):
    panel.set_stats(sample_stats())
    assert panel.class_names == ["bottle", "laptop", "knife"]
    assert bar_heights(panel.class_bars) == [3, 1, 2]
    assert list(panel.class_bars.opts["x"]) == [0, 1, 2]
    ticks = panel.class_plot.getAxis("bottom")._tickLevels[0]
    assert [label for _, label in ticks] == ["bottle", "laptop", "knife"]
    # statuses in fixed order whatever the dict order
    assert STATUS_ORDER == ("pending", "accepted", "corrected", "added", "rejected")
    assert panel.status_counts == [4, 2, 1, 1, 1]
    assert bar_heights(panel.status_bars) == [4, 2, 1, 1, 1]
    status_ticks = panel.status_plot.getAxis("bottom")._tickLevels[0]
    assert [label for _, label in status_ticks] == ["pend.", "acc.", "corr.", "add.", "rej."]
    assert panel.accepted_hist.sum() == 4 and panel.accepted_hist[19] == 3  # 1.0 in last bin
    assert panel.accepted_hist[18] == 1
    assert panel.rejected_hist[2] == 2 and panel.rejected_hist.sum() == 2
    xs, ys = panel.rejected_curve.getData()
    assert len(xs) == 21 and list(ys) == list(panel.rejected_hist)
    assert panel.score_plot.viewRange()[1][0] == 0.0  # counts start at zero
    assert panel.review_times == [10.0, 14.0, 30.0]
    assert bar_heights(panel.time_bars) == [10.0, 14.0, 30.0]
    assert list(panel.time_bars.opts["x"]) == [1, 2, 3]
    assert panel.summary.text() == (
        "12 scans · 5 reviewed · clear 3 · suspect 1 · search 1 · median review 14 s"
    )
    assert panel.export_button.isEnabled()


def test_clear_and_empty_stats_show_empty_state(panel):
    panel.set_stats(sample_stats())
    panel.clear()
    assert panel.summary.text() == EMPTY_TEXT
    assert bar_heights(panel.class_bars) == [] and bar_heights(panel.time_bars) == []
    assert panel.status_counts == [0] * 5 and panel.accepted_hist.sum() == 0
    assert not panel.export_button.isEnabled()
    panel.set_stats(FakeStats())
    assert panel.summary.text() == EMPTY_TEXT
    assert panel.class_names == [] and panel.review_times == []
    assert panel.rejected_hist.shape == (20,) and panel.rejected_hist.sum() == 0
    panel.set_stats(FakeStats(scans=2))  # a project with nothing reviewed yet
    assert panel.summary.text() == "2 scans · 0 reviewed · clear 0 · suspect 0 · search 0"


def test_plots_are_static(panel):
    for plot in (panel.class_plot, panel.status_plot, panel.score_plot, panel.time_plot):
        assert plot.getViewBox().state["mouseEnabled"] == [False, False]
        assert not plot.getViewBox().menuEnabled()


def test_export_button_emits_signal(qtbot, panel):
    panel.set_stats(sample_stats())
    with qtbot.waitSignal(panel.exportCsvRequested, timeout=1000):
        qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
