"""Review statistics on a hand-built review, and the per-object CSV."""

from __future__ import annotations

import csv

import numpy as np

from xray_gui.review import ReviewStore, review_stats, write_stats_csv


def _review(store: ReviewStore) -> ReviewStore:
    store.accept("bag_1.png", "m0")  # bottle 0.9
    store.set_label("bag_1.png", "m1", "toaster")  # iron 0.6 -> toaster, corrected
    store.reject("bag_1.png", "m2")  # laptop 0.2
    store.add_object("bag_1.png", (1, 1, 9, 9), "mobile")
    store.set_decision("bag_1.png", "suspect")
    store.reject("bag_2.png", "m0")  # bottle 0.9
    store.set_decision("bag_2.png", "clear")
    store.add_review_time("bag_1.png", 12.5)
    store.add_review_time("bag_2.png", 3.0)
    return store


def test_review_stats_count_a_hand_built_review(store):
    stats = review_stats(_review(store))
    assert stats.scans == 3 and stats.reviewed == 2
    assert stats.decisions == {"clear": 1, "suspect": 1, "search": 0}
    assert stats.by_status == {
        "pending": 5,  # bag_2: m1, m2; bag_10: m0, m1, m2
        "accepted": 1,
        "rejected": 2,
        "corrected": 1,
        "added": 1,
    }
    assert stats.per_class == {
        "bottle": 2,  # bag_1 m0, bag_10 m0 (bag_2's rejected)
        "hairdryer": 0,
        "iron": 2,  # bag_2 m1, bag_10 m1 (bag_1's relabelled)
        "toaster": 1,
        "mobile": 1,
        "laptop": 2,  # bag_2 m2, bag_10 m2 (bag_1's rejected)
    }
    np.testing.assert_allclose(np.sort(stats.accepted_scores), [0.6, 0.9])
    np.testing.assert_allclose(np.sort(stats.rejected_scores), [0.2, 0.9])
    assert stats.review_seconds == {"bag_1.png": 12.5, "bag_2.png": 3.0, "bag_10.png": 0.0}


def test_stats_csv_has_one_row_per_object(store, scan_dir, tmp_path):
    _review(store)
    store.set_decision(scan_dir / "empty.png", "clear")  # a scan without objects
    path = write_stats_csv(store, tmp_path / "stats" / "review.csv")
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 3 + 4 + 3 + 1
    first = rows[0]
    assert first == {
        "scan": "bag_1.png",
        "id": "m0",
        "source": "model",
        "label": "bottle",
        "status": "accepted",
        "anomalous": "1",
        "score": "0.9",
        "anomaly_score": "0.8",
        "decision": "suspect",
        "review_seconds": "12.5",
    }
    added = next(r for r in rows if r["id"] == "a1")
    assert (added["source"], added["score"], added["status"]) == ("analyst", "", "added")
    assert rows[-1]["scan"] == "empty.png" and rows[-1]["id"] == ""
