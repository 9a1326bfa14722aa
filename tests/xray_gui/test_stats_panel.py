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


def bar_lengths(item) -> list[float]:
    """Lengths of horizontal bars (the class plot lists classes down its side)."""
    return [float(w) for w in item.opts["width"]]


def test_draws_the_given_numbers(panel):
    panel.set_stats(sample_stats())
    assert panel.class_names == ["bottle", "laptop", "knife"]
    assert bar_lengths(panel.class_bars) == [3, 1, 2]
    assert list(panel.class_bars.opts["y"]) == [0, 1, 2]
    ticks = panel.class_plot.getAxis("left")._tickLevels[0]
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
        "5 of 12 scans reviewed · clear 3 · suspect 1 · search 1 · median review 14 s"
    )
    assert panel.export_button.isEnabled()


def test_clear_and_empty_stats_show_empty_state(panel):
    panel.set_stats(sample_stats())
    panel.clear()
    assert panel.summary.text() == EMPTY_TEXT
    assert bar_lengths(panel.class_bars) == [] and bar_heights(panel.time_bars) == []
    assert panel.status_counts == [0] * 5 and panel.accepted_hist.sum() == 0
    assert not panel.export_button.isEnabled()
    panel.set_stats(FakeStats())
    assert panel.summary.text() == EMPTY_TEXT
    assert panel.class_names == [] and panel.review_times == []
    assert panel.rejected_hist.shape == (20,) and panel.rejected_hist.sum() == 0
    panel.set_stats(FakeStats(scans=2))  # a project with nothing reviewed yet
    assert panel.summary.text() == "0 of 2 scans reviewed · clear 0 · suspect 0 · search 0"


def test_plots_are_static(panel):
    for plot in (panel.class_plot, panel.status_plot, panel.score_plot, panel.time_plot):
        assert plot.getViewBox().state["mouseEnabled"] == [False, False]
        assert not plot.getViewBox().menuEnabled()


def test_export_button_emits_signal(qtbot, panel):
    panel.set_stats(sample_stats())
    with qtbot.waitSignal(panel.exportCsvRequested, timeout=1000):
        qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)


def test_class_names_never_run_together(qtbot):
    """Ten classes with long names in a dock-narrow panel: each name has its own line."""
    from PySide6.QtCore import QPointF

    widget = StatsPanel()
    qtbot.addWidget(widget)
    widget.resize(270, 700)
    widget.show()
    qtbot.waitExposed(widget)
    names = [f"{n}_{i}" for i, n in enumerate(["hairdryer", "explosive", "toaster"] * 4)][:10]
    widget.set_stats(FakeStats(per_class=dict.fromkeys(names, 2), scans=3))
    qtbot.wait(20)
    plot = widget.class_plot
    (axis_name,) = [
        side
        for side in ("left", "bottom")
        if [t for _, t in (plot.getAxis(side)._tickLevels or [[]])[0]] == names
    ]
    box = plot.getViewBox()
    step = box.mapViewToDevice(QPointF(1, 1)) - box.mapViewToDevice(QPointF(0, 0))
    metrics = widget.fontMetrics()
    if axis_name == "bottom":  # names side by side: each needs its width
        assert abs(step.x()) >= max(metrics.horizontalAdvance(n) for n in names)
    else:  # names one under another: each needs a line
        assert abs(step.y()) >= metrics.height()
        label_room = plot.getAxis("left").width()
        assert label_room >= max(metrics.horizontalAdvance(n) for n in names)
