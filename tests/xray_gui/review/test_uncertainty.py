"""Uncertainty of a bag for the review queue's order: near a threshold is uncertain."""

from __future__ import annotations

import pytest

from engine.results import BagResult, Finding
from xray_gui.review.uncertainty import bag_uncertainty, finding_uncertainty, margin


def _finding(score: float, anomaly: float | None = None) -> Finding:
    return Finding((0, 0, 10, 10), "laptop", score, anomaly_score=anomaly)


def test_margin_is_a_share_of_the_room_on_each_side():
    assert margin(0.7, 0.7) == 0.0
    assert margin(0.35, 0.7) == pytest.approx(0.5)  # half-way down to 0
    assert margin(0.85, 0.7) == pytest.approx(0.5)  # half-way up to 1
    assert margin(1.0, 0.7) == pytest.approx(1.0) and margin(0.0, 0.7) == pytest.approx(1.0)
    assert margin(0.5, 1.0) == pytest.approx(0.5) and margin(1.0, 1.0) == 1.0


def test_a_finding_is_uncertain_near_either_threshold():
    assert finding_uncertainty(_finding(0.7), 0.7, 0.5) == pytest.approx(1.0)
    assert finding_uncertainty(_finding(0.99), 0.7, 0.5) < 0.1
    sure_box_unsure_judge = finding_uncertainty(_finding(0.99, 0.5), 0.7, 0.5)
    assert sure_box_unsure_judge == pytest.approx(1.0)
    assert finding_uncertainty(_finding(0.99, 0.02), 0.7, 0.5) < 0.1
    # far under the detection threshold, an undecided judge hardly counts: it is not shown
    assert finding_uncertainty(_finding(0.07, 0.5), 0.7, 0.5) < 0.15


def test_bags_rank_by_their_least_certain_finding():
    sure = BagResult("a.png", (10, 10), [_finding(0.99, 0.01), _finding(0.02)])
    unsure = BagResult("b.png", (10, 10), [_finding(0.99, 0.01), _finding(0.68)])
    empty = BagResult("c.png", (10, 10), [])
    u = {r.path: bag_uncertainty(r, 0.7, 0.5) for r in (sure, unsure, empty)}
    assert u["b.png"] > u["a.png"] > u["c.png"] == 0.0
    assert bag_uncertainty(None, 0.7, 0.5) is None
