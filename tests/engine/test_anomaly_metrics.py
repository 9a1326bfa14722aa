"""Anomaly metrics (Table II): hand-computed counts, ROC operating points, thresholds, ties, I/O."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from engine.evaluation.anomaly import (
    AnomalyMetrics,
    anomaly_metrics,
    by_group,
    cover_band,
    fpr_at_tpr,
    threshold_for_benign,
    threshold_for_fpr,
    tpr_at_fpr,
    visibility_band,
)

# scikit-learn must not warn (UndefinedMetricWarning) on any case we handle
pytestmark = pytest.mark.filterwarnings("error")

# at 0.5: anomalous 0.9, 0.6 flagged, 0.3, 0.2 missed; benign 0.7 flagged, 0.1, 0.4, 0.05 not
LABELS = [1, 1, 1, 0, 0, 0, 0, 1]
SCORES = [0.9, 0.6, 0.3, 0.7, 0.1, 0.4, 0.05, 0.2]
# the ROC of LABELS/SCORES by hand, thresholds falling: (threshold, FPR, TPR)
ROC = [
    (math.inf, 0.0, 0.0),
    (0.9, 0.0, 0.25),
    (0.7, 0.25, 0.25),
    (0.6, 0.25, 0.5),
    (0.4, 0.5, 0.5),
    (0.3, 0.5, 0.75),
    (0.2, 0.5, 1.0),
    (0.1, 0.75, 1.0),
    (0.05, 1.0, 1.0),
]


def _rates(labels: np.ndarray, scores: np.ndarray, threshold: float) -> tuple[float, float]:
    """(FPR, TPR) of flagging scores >= threshold, counted directly."""
    flagged = scores >= threshold
    return float(flagged[labels == 0].mean()), float(flagged[labels == 1].mean())


def _candidates(scores: np.ndarray) -> list[float]:
    """Every distinct threshold: each distinct score, and just above the highest."""
    return [*np.unique(scores).tolist(), float(np.nextafter(scores.max(), np.inf))]


def _validation(seed: int, n: int = 300, decimals: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Overlapping benign/anomalous scores, rounded so that many are tied."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < 0.3).astype(np.int64)
    scores = np.round(rng.normal(2.0 * labels, 1.0), decimals)
    return labels, scores


def test_hand_computed_confusion() -> None:
    m = anomaly_metrics(LABELS, SCORES, 0.5)
    assert m.confusion == ((3, 1), (2, 2))
    assert (m.n, m.positives, m.negatives) == (8, 4, 4)
    assert m.accuracy == pytest.approx(5 / 8, abs=1e-12)
    assert m.precision == pytest.approx(2 / 3, abs=1e-12)
    assert m.recall == m.tp_rate == pytest.approx(0.5, abs=1e-12)
    assert m.f1 == pytest.approx(4 / 7, abs=1e-12)
    assert m.fp_rate == pytest.approx(0.25, abs=1e-12)
    assert m.roc_auc == pytest.approx(11 / 16, abs=1e-12)  # 11 of 16 pairs ranked right
    assert m.tpr_at_fpr_1 == m.tpr_at_fpr_5 == pytest.approx(0.25)
    assert m.threshold == 0.5
    assert m.target_fpr is None


def test_threshold_is_inclusive() -> None:
    m = anomaly_metrics(LABELS, SCORES, 0.6)
    assert m.confusion == ((3, 1), (2, 2))  # 0.6 itself is flagged


def test_perfect_and_reversed_scores() -> None:
    labels = [0] * 200 + [1] * 20
    scores = np.r_[np.linspace(0.0, 0.4, 200), np.linspace(0.6, 1.0, 20)]
    perfect = anomaly_metrics(labels, scores, 0.5)
    assert perfect.roc_auc == 1.0
    assert perfect.average_precision == pytest.approx(1.0)  # a sum of recall steps
    assert perfect.tpr_at_fpr_1 == perfect.tpr_at_fpr_5 == 1.0
    assert perfect.accuracy == perfect.f1 == 1.0
    assert perfect.fp_rate == 0.0

    reversed_ = anomaly_metrics(labels, -scores, -0.5)
    assert reversed_.roc_auc == 0.0
    assert reversed_.tpr_at_fpr_1 == reversed_.tpr_at_fpr_5 == 0.0
    assert reversed_.accuracy == 0.0


@pytest.mark.parametrize("label", [0, 1])
def test_one_class_only(label: int) -> None:
    m = anomaly_metrics([label] * 5, [0.1, 0.2, 0.6, 0.7, 0.9], 0.5)
    assert m.roc_auc is None
    assert m.average_precision is None
    assert m.tpr_at_fpr_1 is None and m.tpr_at_fpr_5 is None
    assert m.accuracy == pytest.approx(0.4 if label == 0 else 0.6)
    if label == 0:
        assert m.confusion == ((2, 3), (0, 0))
        assert (m.precision, m.recall, m.f1, m.fp_rate) == (0.0, 0.0, 0.0, 0.6)
    else:
        assert m.confusion == ((0, 0), (2, 3))
        assert (m.precision, m.recall, m.fp_rate) == (1.0, 0.6, 0.0)
    assert tpr_at_fpr([label] * 3, [0.1, 0.2, 0.3], 0.05) is None
    assert fpr_at_tpr([label] * 3, [0.1, 0.2, 0.3], 0.9) is None


def test_operating_points_against_hand_roc() -> None:
    for target in [0.0, 0.01, 0.05, 0.25, 0.3, 0.5, 0.6, 0.75, 0.99, 1.0]:
        expected = max(tpr for _, fpr, tpr in ROC if fpr <= target)
        assert tpr_at_fpr(LABELS, SCORES, target) == expected, target
    for target in [0.0, 0.25, 0.3, 0.5, 0.6, 0.75, 0.9, 1.0]:
        expected = next(fpr for _, fpr, tpr in ROC if tpr >= target)
        assert fpr_at_tpr(LABELS, SCORES, target) == expected, target
    assert tpr_at_fpr(LABELS, SCORES, 0.25) == 0.5
    assert fpr_at_tpr(LABELS, SCORES, 0.9) == 0.5


def test_thresholds_against_hand_roc() -> None:
    assert threshold_for_fpr(LABELS, SCORES, 0.0) == 0.9
    assert threshold_for_fpr(LABELS, SCORES, 0.25) == 0.6  # not 0.7: same FPR, more flagged
    assert threshold_for_fpr(LABELS, SCORES, 0.3) == 0.6
    assert threshold_for_fpr(LABELS, SCORES, 0.5) == 0.2
    assert threshold_for_fpr(LABELS, SCORES, 1.0) == 0.05


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("target", [0.0, 0.01, 0.05, 0.1, 0.5])
def test_threshold_for_fpr_is_most_permissive(seed: int, target: float) -> None:
    labels, scores = _validation(seed)
    t = threshold_for_fpr(labels, scores, target)
    m = anomaly_metrics(labels, scores, t, target_fpr=target)
    assert m.fp_rate <= target
    assert m.target_fpr == target
    lower = scores[scores < t]
    if len(lower):  # the next distinct score down breaks the target
        assert anomaly_metrics(labels, scores, lower.max()).fp_rate > target
    # and it is the brute-force answer over every distinct threshold
    within = [c for c in _candidates(scores) if _rates(labels, scores, c)[0] <= target]
    assert t == min(within)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_operating_points_against_brute_force(seed: int) -> None:
    labels, scores = _validation(seed, n=120)
    points = [_rates(labels, scores, c) for c in _candidates(scores)]
    for target in [0.0, 0.01, 0.05, 0.2, 0.5, 0.9, 1.0]:
        expected = max(tpr for fpr, tpr in points if fpr <= target)
        assert tpr_at_fpr(labels, scores, target) == pytest.approx(expected, abs=1e-12)
        # candidates rise, so the last point reaching the TPR has the highest threshold
        fpr, _ = [(f, r) for f, r in points if r >= target][-1]
        assert fpr_at_tpr(labels, scores, target) == pytest.approx(fpr, abs=1e-12)


def test_ties_are_never_split() -> None:
    # ten benign, four anomalous; one tie group at 0.8 holds two benign and two anomalous
    labels = [0] * 10 + [1] * 4
    benign = [0.8, 0.8, 0.5, 0.4, 0.3, 0.3, 0.2, 0.1, 0.1, 0.0]
    scores = [*benign, 0.95, 0.8, 0.8, 0.3]
    # a budget of one FP cannot take half the group: the whole group stays unflagged
    t = threshold_for_fpr(labels, scores, 0.1)
    assert t == 0.95
    m = anomaly_metrics(labels, scores, t)
    assert (m.fp_rate, m.tp_rate) == (0.0, 0.25)
    # a budget of two FPs takes the group whole
    t = threshold_for_fpr(labels, scores, 0.2)
    assert t == 0.8
    assert anomaly_metrics(labels, scores, t).tp_rate == 0.75


def test_all_tied_flags_nothing_when_the_group_breaks_the_budget() -> None:
    labels, scores = [0, 1, 0, 1], [0.5] * 4
    t = threshold_for_fpr(labels, scores, 0.05)
    assert t > 0.5 and t == np.nextafter(0.5, 1.0)
    m = anomaly_metrics(labels, scores, t, target_fpr=0.05)
    assert m.confusion == ((2, 0), (2, 0))
    assert m.roc_auc == 0.5


def test_threshold_without_one_class() -> None:
    benign = [0.1, 0.7, 0.3]
    t = threshold_for_fpr([0, 0, 0], benign, 0.05)
    assert t == np.nextafter(0.7, 1.0)  # just above the highest benign score
    assert anomaly_metrics([0, 0, 0], benign, t).fp_rate == 0.0
    with pytest.raises(ValueError, match="no benign items"):
        threshold_for_fpr([1, 1], [0.2, 0.4], 0.05)


def test_inputs_as_list_numpy_and_tensor_agree() -> None:
    expected = anomaly_metrics(LABELS, SCORES, 0.5).to_dict()
    as_numpy = anomaly_metrics(np.array(LABELS), np.array(SCORES), np.float64(0.5))
    as_tensor = anomaly_metrics(
        torch.tensor(LABELS), torch.tensor(SCORES, dtype=torch.float64, requires_grad=True), 0.5
    )
    as_bool = anomaly_metrics(torch.tensor(LABELS, dtype=torch.bool), np.array(SCORES), 0.5)
    assert as_numpy.to_dict() == as_tensor.to_dict() == as_bool.to_dict() == expected
    # half precision is widened (scores exact in float16)
    half = torch.tensor([0.875, 0.5, 0.25, 0.75, 0.125, 0.375, 0.0625, 0.1875], dtype=torch.half)
    m = anomaly_metrics(torch.tensor(LABELS), half, 0.5)
    assert m.confusion == ((3, 1), (2, 2))
    assert threshold_for_fpr(torch.tensor(LABELS), half.bfloat16(), 0.25) == 0.5
    assert tpr_at_fpr(torch.tensor(LABELS), half, 0.25) == 0.5


@pytest.mark.parametrize(
    ("labels", "scores", "message"),
    [
        ([0, 1, 1], [0.1, 0.2], "3 labels but 2 scores"),
        ([0, 2], [0.1, 0.2], "labels must be 0 .* or 1 .*; found 2"),
        ([0, 0.5], [0.1, 0.2], "labels must be 0"),
        (["a", "b"], [0.1, 0.2], "labels must be 0"),
        ([0, 1], [0.1, float("nan")], "scores must be finite.*index 1"),
        ([0, 1], [math.inf, 0.2], "scores must be finite"),
        ([0, 1], ["x", "y"], "scores must be real numbers"),
        ([], [], "no items"),
        ([[0, 1]], [[0.1, 0.2]], "must be 1-D"),
    ],
)
def test_bad_inputs(labels: list, scores: list, message: str) -> None:
    for fn in (
        lambda: anomaly_metrics(labels, scores, 0.5),
        lambda: threshold_for_fpr(labels, scores),
        lambda: tpr_at_fpr(labels, scores, 0.05),
    ):
        with pytest.raises(ValueError, match=message):
            fn()


def test_bad_targets() -> None:
    with pytest.raises(ValueError, match="threshold is NaN"):
        anomaly_metrics(LABELS, SCORES, float("nan"))
    with pytest.raises(ValueError, match=r"target_fpr must be in \[0, 1\]"):
        threshold_for_fpr(LABELS, SCORES, 5.0)
    with pytest.raises(ValueError, match="fpr must be in"):
        tpr_at_fpr(LABELS, SCORES, 1.5)


def test_to_dict_is_json() -> None:
    m = anomaly_metrics(np.array(LABELS), torch.tensor(SCORES), 0.5, target_fpr=0.05)
    d = json.loads(json.dumps(m.to_dict(), allow_nan=False))
    assert d["confusion"] == [[3, 1], [2, 2]]
    assert d["target_fpr"] == 0.05
    assert d["threshold"] == 0.5
    assert AnomalyMetrics(**{**d, "confusion": tuple(map(tuple, d["confusion"]))}) == m
    none = anomaly_metrics([1, 1], [0.2, 0.9], 0.5).to_dict()
    assert json.loads(json.dumps(none, allow_nan=False))["roc_auc"] is None


def test_by_group_scores_each_kind_of_anomaly_against_all_benign_items() -> None:
    # benign 0.1 0.2 0.6; knives 0.7 0.3 (one above the threshold, one below the benign 0.6);
    # wires 0.9 (above everything); an anomaly of unknown kind 0.05 is left out of every group
    labels = [0, 0, 0, 1, 1, 1, 1]
    scores = [0.1, 0.2, 0.6, 0.7, 0.3, 0.9, 0.05]
    groups = [None, None, None, "knife", "knife", "wires", None]
    rows = by_group(labels, scores, 0.5, groups)
    assert list(rows) == ["knife", "wires"]
    assert rows["knife"]["n"] == 2 and rows["knife"]["tp_rate"] == 0.5
    # knife pairs: 0.7 beats all three benign, 0.3 beats two of three: AUC = 5 / 6
    assert rows["knife"]["roc_auc"] == pytest.approx(5 / 6)
    assert rows["wires"] == {"n": 1, "tp_rate": 1.0, "roc_auc": 1.0, "tpr_at_fpr_5": 1.0}
    assert list(by_group(labels, scores, 0.5, groups, order=["wires"])) == ["wires", "knife"]
    with pytest.raises(ValueError, match="7 labels but 2 groups"):
        by_group(labels, scores, 0.5, ["a", "b"])


def test_visibility_bands() -> None:
    assert [visibility_band(v) for v in (0.0, 2.99, 3.0, 9.9, 10.0, 55.0)] == [
        "< 3 σ",
        "< 3 σ",
        "3–10 σ",
        "3–10 σ",
        "≥ 10 σ",
        "≥ 10 σ",
    ]
    assert [visibility_band(v) for v in (None, float("nan"), "high", True)] == [None] * 4


def test_threshold_for_benign_uses_the_fp_budget_without_splitting_ties() -> None:
    scores = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    assert threshold_for_benign(scores, 0.1) == pytest.approx(0.95)  # flags 1.0 only
    assert threshold_for_benign(scores, 0.25) == pytest.approx(0.85)  # 2 of 10, not 2.5
    assert threshold_for_benign(scores, 0.0) > 1.0  # flags nothing
    assert threshold_for_benign(scores, 1.0) < 0.1  # flags everything
    # a tie at the budget's edge stays unflagged as a whole: 1 of 3 allowed, two share 0.9
    assert threshold_for_benign([0.9, 0.9, 0.2], 0.34) > 0.9
    for target in (0.0, 0.05, 0.1, 0.33, 0.5, 1.0):
        s = np.random.default_rng(0).normal(size=200)
        t = threshold_for_benign(s, target)
        assert (s >= t).mean() == math.floor(target * 200 + 1e-9) / 200  # the whole budget
        assert (s >= np.nextafter(t, -np.inf)).mean() <= target  # not on any score
    with pytest.raises(ValueError, match="target_fpr"):
        threshold_for_benign(scores, 1.2)


def test_cover_bands() -> None:
    assert [cover_band(c) for c in (0.0, 0.249, 0.25, 0.5, 0.74, 0.75, 1.0)] == [
        "< 25 %",
        "< 25 %",
        "25–50 %",
        "50–75 %",
        "50–75 %",
        "≥ 75 %",
        "≥ 75 %",
    ]
    assert [cover_band(c) for c in (None, float("nan"), "all", False)] == [None] * 4
