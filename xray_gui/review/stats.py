"""Review statistics: what was found, what the analyst kept, and how long it took (Qt-free).

The GUI plots these with pyqtgraph; `write_stats_csv` gives the same numbers to a spreadsheet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.io.write import atomic_write_bytes
from xray_gui.review.project import DECISIONS, STATUSES
from xray_gui.review.store import ReviewStore

CSV_COLUMNS = (
    "scan",
    "id",
    "source",
    "label",
    "status",
    "anomalous",
    "score",
    "anomaly_score",
    "decision",
    "review_seconds",
)


@dataclass
class ReviewStats:
    """Counts and score distributions over every scan of a store."""

    per_class: dict[str, int]  # objects by effective label, rejected ones left out
    by_status: dict[str, int]  # objects by review status (all of STATUSES, zeros included)
    accepted_scores: np.ndarray  # detector scores of model findings accepted or corrected
    rejected_scores: np.ndarray  # detector scores of model findings rejected
    review_seconds: dict[str, float]  # per scan key
    scans: int  # scans with a record
    reviewed: int  # scans with a decision
    decisions: dict[str, int]  # per decision (all of DECISIONS, zeros included)


def review_stats(
    store: ReviewStore,
    *,
    score_threshold: float = 0.0,
    anomaly_threshold: float | None = None,
    keys: Sequence[str] | None = None,
) -> ReviewStats:
    """The statistics of a store's current state (latest predictions).

    Pending model findings under `score_threshold` are left out, as the overlay leaves them out:
    the counts are of what the analyst was shown. `keys` are the scans to count (the GUI gives
    its queue's, so "3 of 24 reviewed" means the same here and in the Review tab); by default
    every scan with a record.
    """
    per_class = dict.fromkeys(store.categories, 0)
    by_status = dict.fromkeys(STATUSES, 0)
    decisions = dict.fromkeys(DECISIONS, 0)
    accepted: list[float] = []
    rejected: list[float] = []
    seconds: dict[str, float] = {}
    keys = store.scan_keys() if keys is None else list(dict.fromkeys(keys))
    for key in keys:
        for e in store._entries(key, score_threshold, anomaly_threshold):
            obj = e.obj
            if not obj.visible:
                continue
            by_status[obj.status] += 1
            if obj.status != "rejected":
                per_class[obj.label] = per_class.get(obj.label, 0) + 1
            if obj.source == "model" and obj.status in ("accepted", "corrected"):
                accepted.append(obj.score)
            elif obj.source == "model" and obj.status == "rejected":
                rejected.append(obj.score)
        seconds[key] = store.review_seconds(key)
        decision = store.decision(key)
        if decision is not None:
            decisions[decision] += 1
    return ReviewStats(
        per_class=per_class,
        by_status=by_status,
        accepted_scores=np.asarray(accepted, np.float64),
        rejected_scores=np.asarray(rejected, np.float64),
        review_seconds=seconds,
        scans=len(keys),
        reviewed=sum(decisions.values()),
        decisions=decisions,
    )


def write_stats_csv(store: ReviewStore, path: Path) -> Path:
    """One CSV row per object (a scan without objects gets one row with blank object fields)."""
    path = Path(path)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for key in store.scan_keys():
        scan = [store.decision(key) or "", round(store.review_seconds(key), 3)]
        entries = store._entries(key)
        for e in entries:
            o = e.obj
            score = "" if o.score is None else o.score
            anomaly = "" if o.anomaly_score is None else o.anomaly_score
            row = [key, o.id, o.source, o.label, o.status, int(o.anomalous), score, anomaly]
            writer.writerow(row + scan)
        if not entries:
            writer.writerow([key, "", "", "", "", "", "", "", *scan])
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buffer.getvalue().encode())
    return path
