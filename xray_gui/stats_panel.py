"""StatsPanel: review statistics (classes, statuses, score histograms, review time) as plots."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

if TYPE_CHECKING:
    from xray_gui.review.stats import ReviewStats

# Same axis order as the scan view, so importing this module first changes nothing there.
pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)

EMPTY_TEXT = "No review data yet"
STATUS_ORDER = ("pending", "accepted", "corrected", "added", "rejected")
STATUS_COLOURS = ("#9e9e9e", "#4caf50", "#2196f3", "#00bcd4", "#e53935")
STATUS_TICKS = ("pend.", "acc.", "corr.", "add.", "rej.")  # full names overlap in a small plot
DECISION_ORDER = ("clear", "suspect", "search")
SCORE_EDGES = np.linspace(0.0, 1.0, 21)  # 20 shared bins for accepted and rejected scores
ACCEPTED_COLOUR, REJECTED_COLOUR = "#4caf50", "#e53935"
BAR_WIDTH = 0.6


def _bars(colour: str) -> pg.BarGraphItem:
    """An empty one-colour bar item, filled later by `_set_bars`."""
    return pg.BarGraphItem(x=np.zeros(0), height=np.zeros(0), width=BAR_WIDTH, brush=colour)


def _set_bars(item: pg.BarGraphItem, heights: list, start: int = 0) -> None:
    """Bars at x = start, start + 1, ... with `heights`."""
    x = np.arange(start, start + len(heights), dtype=float)
    item.setOpts(x=x, height=np.asarray(heights, dtype=float), width=BAR_WIDTH)


class StatsPanel(QWidget):
    """Review statistics for a dock: a summary line, four small plots and an "Export CSV…" button.

    The window owns the data and the file dialog: it calls `set_stats` when the review changes
    and answers `exportCsvRequested`.
    """

    exportCsvRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel(EMPTY_TEXT)
        self.summary.setWordWrap(True)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("Save the review statistics as a CSV file")
        self.export_button.clicked.connect(self.exportCsvRequested)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(pg.mkColor(40, 40, 40))
        self.graphics.setMinimumSize(260, 640)

        # One column: the dock is narrow, and class names and scan numbers need the width.
        self.class_plot = self._plot(0, 0, "Findings per class", "")
        self.status_plot = self._plot(1, 0, "Findings by status", "objects")
        self.score_plot = self._plot(2, 0, "Detector score", "findings")
        self.time_plot = self._plot(3, 0, "Review time per bag", "seconds")
        self.time_plot.setLabel("bottom", "scan")
        self.time_plot.setToolTip("Seconds the analyst spent on each scan")
        self.status_plot.setToolTip(", ".join(STATUS_ORDER))

        # classes down the side, one line each: side by side, long names ran together
        self.class_bars = pg.BarGraphItem(
            x0=np.zeros(0), y=np.zeros(0), width=np.zeros(0), height=BAR_WIDTH, brush="#ffb300"
        )
        self.class_plot.addItem(self.class_bars)
        self.class_plot.setLabel("left", "")
        self.class_plot.setLabel("bottom", "objects")
        self.class_plot.getViewBox().invertY(True)  # the first class on top
        n = len(STATUS_ORDER)
        self.status_bars = pg.BarGraphItem(
            x=np.arange(n),
            height=np.zeros(n),
            width=BAR_WIDTH,
            brushes=[pg.mkBrush(c) for c in STATUS_COLOURS],
        )
        self.status_plot.addItem(self.status_bars)
        self.status_plot.getAxis("bottom").setTicks([list(enumerate(STATUS_TICKS))])
        legend = self.score_plot.addLegend()
        legend.anchor((0.5, 0), (0.5, 0), offset=(0, 2))  # mid-scores are the emptiest
        self.accepted_curve = self._step_curve("accepted", ACCEPTED_COLOUR)
        self.rejected_curve = self._step_curve("rejected", REJECTED_COLOUR)
        self.score_plot.setXRange(0.0, 1.0, padding=0.02)
        self.time_bars = _bars("#7e57c2")
        self.time_plot.addItem(self.time_bars)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.graphics, 1)
        layout.addLayout(buttons)
        self.clear()

    def _plot(self, row: int, col: int, title: str, y_label: str, colspan: int = 1) -> pg.PlotItem:
        """A small static plot: no mouse pan/zoom, no context menu, no auto-range button."""
        plot = self.graphics.addPlot(row=row, col=col, colspan=colspan, title=title)
        plot.setMouseEnabled(False, False)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setLabel("left", y_label)
        return plot

    def _step_curve(self, name: str, colour: str) -> pg.PlotDataItem:
        """A histogram drawn as a step outline, named in the legend."""
        curve = pg.PlotDataItem(name=name, pen=pg.mkPen(colour, width=2), stepMode="center")
        self.score_plot.addItem(curve)
        return curve

    def clear(self) -> None:
        """Show the empty state: no bars, no curves, the "No review data yet" line."""
        self.class_names: list[str] = []
        self.class_counts: list[int] = []
        self.status_counts: list[int] = [0] * len(STATUS_ORDER)
        self.accepted_hist = np.zeros(len(SCORE_EDGES) - 1, dtype=int)
        self.rejected_hist = np.zeros(len(SCORE_EDGES) - 1, dtype=int)
        self.review_keys: list[str] = []
        self.review_times: list[float] = []
        self._redraw()
        self.summary.setText(EMPTY_TEXT)
        self.export_button.setEnabled(False)

    def set_stats(self, stats: ReviewStats) -> None:
        """Redraw every plot and the summary line from `stats`."""
        self.class_names = list(stats.per_class)
        self.class_counts = [int(n) for n in stats.per_class.values()]
        self.status_counts = [int(stats.by_status.get(s, 0)) for s in STATUS_ORDER]
        self.accepted_hist = self._histogram(stats.accepted_scores)
        self.rejected_hist = self._histogram(stats.rejected_scores)
        self.review_keys = list(stats.review_seconds)
        self.review_times = [float(v) for v in stats.review_seconds.values()]
        self._redraw()
        self.summary.setText(self._summary_text(stats))
        self.export_button.setEnabled(stats.scans > 0)

    @staticmethod
    def _histogram(scores: np.ndarray) -> np.ndarray:
        """Counts of `scores` on the shared bins; out-of-range scores land in the end bins."""
        values = np.clip(np.asarray(scores, dtype=float).ravel(), 0.0, 1.0)
        return np.histogram(values, bins=SCORE_EDGES)[0]

    def _summary_text(self, stats: ReviewStats) -> str:
        """E.g. "5 of 12 scans reviewed · clear 3 · suspect 1 · search 1 · median review 14 s",
        worded as the Review tab words it."""
        if stats.scans <= 0:
            return EMPTY_TEXT
        parts = [
            f"{stats.reviewed} of {stats.scans} scan{'' if stats.scans == 1 else 's'} reviewed"
        ]
        parts += [f"{d} {int(stats.decisions.get(d, 0))}" for d in DECISION_ORDER]
        if self.review_times:
            parts.append(f"median review {float(np.median(self.review_times)):.0f} s")
        return " · ".join(parts)

    def _redraw(self) -> None:
        """Push the stored numbers into the plot items."""
        n = len(self.class_counts)
        self.class_bars.setOpts(
            x0=np.zeros(n),
            y=np.arange(n, dtype=float),
            width=np.asarray(self.class_counts, dtype=float),
            height=BAR_WIDTH,
        )
        axis = self.class_plot.getAxis("left")
        axis.setTicks([list(enumerate(self.class_names))])
        metrics = QFontMetrics(axis.style.get("tickFont") or self.font())
        widest = max((metrics.horizontalAdvance(c) for c in self.class_names), default=20)
        axis.setWidth(widest + 12)
        self.class_plot.setYRange(-0.5, max(n, 1) - 0.5, padding=0.05)
        self.class_plot.setXRange(0.0, max(max(self.class_counts, default=0), 1) * 1.05, padding=0)
        # a line per class: the plot grows with the number of classes
        class_height = 60 + max(n, 3) * (metrics.height() + 4)
        self.class_plot.setMinimumHeight(class_height)
        self.graphics.setMinimumHeight(max(640, 3 * 160 + class_height))
        _set_bars(self.status_bars, self.status_counts)
        self.accepted_curve.setData(SCORE_EDGES, self.accepted_hist)
        self.rejected_curve.setData(SCORE_EDGES, self.rejected_hist)
        top = max(int(self.accepted_hist.max()), int(self.rejected_hist.max()), 1)
        self.score_plot.setYRange(0.0, top * 1.6, padding=0)  # head-room for the legend
        _set_bars(self.time_bars, self.review_times, start=1)  # scans numbered from 1
        step = max(1, int(np.ceil(len(self.review_times) / 12)))  # whole scan numbers only
        self.time_plot.getAxis("bottom").setTickSpacing(step, step)
        bars = ((self.status_plot, 0, self.status_counts), (self.time_plot, 1, self.review_times))
        for plot, start, heights in bars:
            n = max(len(heights), 1)
            plot.setXRange(start - 0.5, start + n - 0.5, padding=0.05)
            plot.setYRange(0.0, max(max(heights, default=0), 1) * 1.05, padding=0)
