"""Anomaly metrics of Gaus et al. (IJCNN 2019) Table II, computed by scikit-learn.

Stage 2 gives every object (or, as a baseline, every whole scan) an anomaly score, higher meaning
more anomalous; label 1 is anomalous (positive), label 0 benign. An item is flagged when
`score >= threshold`, the same convention as `sklearn.metrics.roc_curve`, so every threshold
returned here is a real operating point of the ROC curve.

- `anomaly_metrics` gives A, P, R, F1, TP %, FP % (the paper's columns) plus ROC AUC, average
  precision and the TPR at 1 % and 5 % FPR, for one threshold;
- `threshold_for_fpr` picks the operating threshold on the validation split for a target FP rate
  (the product goal is ≤ 5 % FP at ≥ 90 % TP); `threshold_for_benign` the threshold for a
  target FP rate from benign items alone (a site calibrating its alarm rate on its own cleared
  bags);
- `tpr_at_fpr` and `fpr_at_tpr` read single operating points off the ROC curve;
- `by_group` scores each kind of anomaly (its type, its visibility band) against all benign
  items: which concealments a classifier catches, not only how many.

`engine.classification.report` prints the paper's Table II from evaluated runs.

Equal scores cannot be split by a threshold: a group of tied items is flagged together or not at
all. The threshold searches never split a tie group and never exceed the target on the items
they were given, so a tie group that would push the FP rate over the target stays unflagged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    confusion_matrix,
    precision_recall_fscore_support,
    roc_auc_score,
    roc_curve,
)

__all__ = [
    "COVER_BANDS",
    "VISIBILITY_BANDS",
    "AnomalyMetrics",
    "anomaly_metrics",
    "by_group",
    "cover_band",
    "fpr_at_tpr",
    "threshold_for_benign",
    "threshold_for_fpr",
    "tpr_at_fpr",
    "visibility_band",
]

# rates are ratios of counts; allow for the rounding of k / n against a target such as 0.05
_RATE_EPS = 1e-9


@dataclass(frozen=True)
class AnomalyMetrics:
    """Binary anomaly metrics at one threshold; rates are fractions in [0, 1].

    `tp_rate` equals `recall` (the paper's TP %), `fp_rate` is FP / (FP + TN) (the paper's FP %).
    Undefined ratios (no flagged items, no items of a class) are 0, as with scikit-learn's
    `zero_division=0`; the ranking metrics (`roc_auc`, `average_precision`, `tpr_at_fpr_*`) are
    None when only one class is present. `confusion` is [[TN, FP], [FN, TP]].
    """

    n: int
    positives: int
    negatives: int
    threshold: float
    accuracy: float
    precision: float
    recall: float
    f1: float
    tp_rate: float
    fp_rate: float
    roc_auc: float | None
    average_precision: float | None
    tpr_at_fpr_1: float | None
    tpr_at_fpr_5: float | None
    confusion: tuple[tuple[int, int], tuple[int, int]]
    target_fpr: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain Python values only, so the record can be saved with the model as JSON."""
        d = asdict(self)
        d["confusion"] = [list(r) for r in self.confusion]
        return d


def _numpy(x: Any) -> np.ndarray:
    """A numpy array from a list, an array or a tensor on any device (half/bfloat16 widened)."""
    if hasattr(x, "detach"):
        x = x.detach()
        if x.is_floating_point():
            x = x.float()
        return np.asarray(x.cpu())
    return np.asarray(x)


def _check(labels: Any, scores: Any) -> tuple[np.ndarray, np.ndarray]:
    """Labels as int64 0/1 and scores as finite float64, both 1-D and of the same length."""
    y = _numpy(labels)
    s = _numpy(scores)
    if y.ndim != 1 or s.ndim != 1:
        raise ValueError(f"labels and scores must be 1-D, got shapes {y.shape} and {s.shape}")
    if len(y) != len(s):
        raise ValueError(f"{len(y)} labels but {len(s)} scores")
    if len(y) == 0:
        raise ValueError("no items: labels and scores are empty")
    try:
        s = s.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"scores must be real numbers, got dtype {s.dtype}") from None
    if not np.isfinite(s).all():
        bad = np.flatnonzero(~np.isfinite(s))
        raise ValueError(f"scores must be finite; {len(bad)} are not (first at index {bad[0]})")
    valid = np.isin(y, [0, 1]) if y.dtype.kind in "biuf" else np.zeros(len(y), dtype=bool)
    if not valid.all():
        found = sorted({str(v) for v in y[~valid].tolist()})[:5]
        raise ValueError(f"labels must be 0 (benign) or 1 (anomalous); found {', '.join(found)}")
    return y.astype(np.int64), s


def _both_classes(y: np.ndarray) -> bool:
    return bool(y.any() and not y.all())


def _above(scores: np.ndarray) -> float:
    """The threshold just above every score: flags nothing."""
    return float(np.nextafter(scores.max(), np.inf))


def _roc(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every operating point (no collinear point dropped), thresholds decreasing."""
    return roc_curve(y, s, drop_intermediate=False)


def _check_rate(name: str, rate: float) -> None:
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {rate}")


def anomaly_metrics(
    labels: Any, scores: Any, threshold: float, *, target_fpr: float | None = None
) -> AnomalyMetrics:
    """Metrics of flagging `scores >= threshold`; `target_fpr` records what it was chosen for.

    `labels` (0 benign, 1 anomalous) and `scores` may be lists, numpy arrays or tensors.
    """
    y, s = _check(labels, scores)
    threshold = float(threshold)
    if math.isnan(threshold):
        raise ValueError("threshold is NaN")
    pred = (s >= threshold).astype(np.int64)
    (tn, fp), (fn, tp) = confusion_matrix(y, pred, labels=[0, 1]).tolist()
    precision, recall, f1, _ = precision_recall_fscore_support(
        y, pred, labels=[0, 1], pos_label=1, average="binary", zero_division=0
    )
    ranked = _both_classes(y)
    return AnomalyMetrics(
        n=len(y),
        positives=tp + fn,
        negatives=tn + fp,
        threshold=threshold,
        accuracy=float(accuracy_score(y, pred)),
        precision=float(precision),
        recall=float(recall),
        f1=float(f1),
        tp_rate=float(recall),
        fp_rate=fp / (fp + tn) if fp + tn else 0.0,
        roc_auc=float(roc_auc_score(y, s)) if ranked else None,
        average_precision=float(average_precision_score(y, s)) if ranked else None,
        tpr_at_fpr_1=tpr_at_fpr(y, s, 0.01),
        tpr_at_fpr_5=tpr_at_fpr(y, s, 0.05),
        confusion=((int(tn), int(fp)), (int(fn), int(tp))),
        target_fpr=None if target_fpr is None else float(target_fpr),
    )


def by_group(
    labels: Any,
    scores: Any,
    threshold: float,
    groups: Sequence[str | None],
    order: Sequence[str] = (),
) -> dict[str, dict[str, Any]]:
    """Each group of anomalous items against every benign item: how many anomalies, the share
    flagged at `threshold` (TP %), ROC AUC and TPR at 5 % FPR. `groups` names each item's group
    (an anomaly type, say); benign items and anomalies without a group (None) name none. Groups
    come in `order`, then the rest alphabetically."""
    y, s = _check(labels, scores)
    if len(groups) != len(y):
        raise ValueError(f"{len(y)} labels but {len(groups)} groups")
    names = np.asarray([None if g is None else str(g) for g in groups], dtype=object)
    benign = y == 0
    out = {}
    present = {g for g, label in zip(names, y, strict=True) if label and g is not None}
    rank = {name: i for i, name in enumerate(order)}
    for name in sorted(present, key=lambda g: (rank.get(g, len(rank)), g)):
        keep = benign | ((y == 1) & (names == name))
        m = anomaly_metrics(y[keep], s[keep], threshold)
        out[name] = {
            "n": m.positives,
            "tp_rate": m.tp_rate,
            "roc_auc": m.roc_auc,
            "tpr_at_fpr_5": m.tpr_at_fpr_5,
        }
    return out


VISIBILITY_BANDS = ((3.0, "< 3 σ"), (10.0, "3–10 σ"), (math.inf, "≥ 10 σ"))


def _band(value: float | None, bands: tuple[tuple[float, str], ...]) -> str | None:
    """The name of the first of `bands` ((upper bound, name), rising) that `value` lies under;
    None when `value` is not a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return next(name for upper, name in bands if value < upper)


def visibility_band(visibility: float | None) -> str | None:
    """The band of an anomaly's visibility (mean |Δ ln T_high| over its mask in noise σ, as the
    simulator records it): faint, clear or plain; None when unknown."""
    return _band(visibility, VISIBILITY_BANDS)


COVER_BANDS = ((0.25, "< 25 %"), (0.5, "25–50 %"), (0.75, "50–75 %"), (math.inf, "≥ 75 %"))


def cover_band(cover: float | None) -> str | None:
    """The band of an anomaly's cover (the share of its pixels that other dense contents
    overlap, as the simulator records it), in quarters; None when unknown."""
    return _band(cover, COVER_BANDS)


def tpr_at_fpr(labels: Any, scores: Any, fpr: float) -> float | None:
    """The highest TPR of a real operating point with FPR ≤ `fpr`; None with one class only."""
    _check_rate("fpr", fpr)
    y, s = _check(labels, scores)
    if not _both_classes(y):
        return None
    fprs, tprs, _ = _roc(y, s)
    return float(tprs[fprs <= fpr + _RATE_EPS].max())


def fpr_at_tpr(labels: Any, scores: Any, tpr: float) -> float | None:
    """The FPR of the first operating point (highest threshold) with TPR ≥ `tpr`; None likewise."""
    _check_rate("tpr", tpr)
    y, s = _check(labels, scores)
    if not _both_classes(y):
        return None
    fprs, tprs, _ = _roc(y, s)
    return float(fprs[np.argmax(tprs >= tpr - _RATE_EPS)])


def threshold_for_fpr(labels: Any, scores: Any, target_fpr: float = 0.05) -> float:
    """The most permissive threshold whose FP rate on these (validation) items is ≤ `target_fpr`.

    It is the lowest such threshold, so it flags as many anomalous items as the FP budget allows
    (and uses that budget fully). It is one of the scores, or just above the highest score
    when even the top-scoring group breaks the target. Tied items are flagged together: a tie
    group that would take the FP rate over the target stays unflagged, with every anomalous item
    in it. Without anomalous items it is just above the highest benign score (flags nothing);
    without benign items there is no FP rate to control and it raises ValueError.
    """
    _check_rate("target_fpr", target_fpr)
    y, s = _check(labels, scores)
    if y.all():
        raise ValueError("no benign items: the FP rate is undefined, cannot choose a threshold")
    if not y.any():
        return _above(s)
    fprs, _, thresholds = _roc(y, s)
    # fprs grow as thresholds fall: the last point within the budget is the lowest threshold
    i = int(np.flatnonzero(fprs <= target_fpr + _RATE_EPS)[-1])
    return _above(s) if np.isinf(thresholds[i]) else float(thresholds[i])


def threshold_for_benign(scores: Any, target_fpr: float = 0.05) -> float:
    """The lowest threshold flagging at most `target_fpr` of these benign items' scores.

    It lies halfway between the highest score the budget cannot include and the next score above
    it (so float rounding elsewhere cannot move an item across it), or just below the lowest
    score when the budget includes them all. Tied scores are flagged together or not at all.
    """
    _check_rate("target_fpr", target_fpr)
    _, s = _check(np.zeros(len(_numpy(scores)), np.int64), scores)
    s = np.sort(s)[::-1]
    allowed = math.floor(target_fpr * len(s) + _RATE_EPS)
    if allowed >= len(s):
        return float(s[-1] - max(1e-6, abs(s[-1]) * 1e-6))
    barred = s[allowed]  # flagging it (and its ties) would break the budget
    higher = s[s > barred]
    if len(higher):
        return float((barred + higher[-1]) / 2)
    return float(barred + max(1e-6, abs(barred) * 1e-6))
