"""Table II of the paper for our runs: A, P, R, F1, TP %, FP % of each anomaly classifier."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from engine.errors import DatasetError

COLUMNS = [
    "method",
    "input",
    "pre-localised",
    "A",
    "P",
    "R",
    "F1",
    "TP %",
    "FP %",
    "AUC",
    "TPR @ 5 % FPR",
    "FP % @ 90 % TP",
    "run",
]


def _load(path: Path) -> dict:
    try:
        result = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path}: not a readable evaluation JSON ({exc})") from None
    if not isinstance(result, dict) or "metrics" not in result:
        raise DatasetError(f"{path}: not an eval-classifier result (no metrics)")
    return result


def _two(value) -> str:
    return "–" if value is None else f"{value:.2f}"


def _pct(value) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def anomaly_table(paths: Sequence[Path]) -> tuple[list[str], list[list[str]]]:
    """Header and rows, dual-CNN (object) rows first, then whole-scan baselines."""
    results = sorted((_load(p) for p in paths), key=lambda r: (r.get("input") == "scan", r["run"]))
    rows = []
    for r in results:
        m = r["metrics"]
        whole = r.get("input") == "scan"
        rows.append(
            [
                r.get("method", "?"),
                "whole scan" if whole else r.get("input", "rgb"),
                "–" if whole else _crop_kind(r),
                _two(m.get("accuracy")),
                _two(m.get("precision")),
                _two(m.get("recall")),
                _two(m.get("f1")),
                _pct(m.get("tp_rate")),
                _pct(m.get("fp_rate")),
                _two(m.get("roc_auc")),
                _pct(m.get("tpr_at_fpr_5")),
                _pct(r.get("fp_rate_at_tp_90")),
                r.get("run", ""),
            ]
        )
    return list(COLUMNS), rows


def _crop_kind(result: dict) -> str:
    """How a judge's crops were cut: `box` or `mask` (outside blanked), `aligned` when turned."""
    kind = "mask" if result.get("masks") else "box"
    return f"{kind}, aligned" if result.get("align") else kind
