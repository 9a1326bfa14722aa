"""Table I of the paper for our runs: per-class AP and mAP of each evaluated detector."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

from engine.errors import DatasetError

EVAL_GLOB = "eval*.json"


def find_results(paths: Sequence[str | Path]) -> list[Path]:
    """Evaluation JSON files: given directly, or found in run folders (`eval*.json`)."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            hits = sorted(p.glob(EVAL_GLOB))
            if not hits:
                raise DatasetError(
                    f"{p}: no {EVAL_GLOB} in this run folder (run eval-detector first)"
                )
            found += hits
        elif p.is_file():
            found.append(p)
        else:
            raise DatasetError(f"{p}: no such evaluation file or run folder")
    return found


def _load(path: Path) -> dict:
    try:
        result = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path}: not a readable evaluation JSON ({exc})") from None
    if not isinstance(result, dict) or "bbox" not in result:
        raise DatasetError(f"{path}: not an eval-detector result (no bbox figures)")
    return result


def detection_table(paths: Sequence[Path]) -> tuple[list[str], list[list[str]]]:
    """Header and rows: run, model, per-class box AP, box mAP, AP50, AP75, mask mAP, ms/image.

    The class columns are the evaluated models' own classes, in the order the results name them.
    """
    results = [(p, _load(p)) for p in paths]
    classes: list[str] = []
    for _, r in results:
        classes += [c for c in r["bbox"].get("per_class", {}) if c not in classes]
    header = ["run", "model", *classes, "mAP", "AP50", "AP75", "mask mAP", "ms/image"]
    rows = []
    for path, r in results:
        box, segm = r["bbox"], r.get("segm") or {}
        per_class = box.get("per_class", {})
        rows.append(
            [
                r.get("run", path.parent.name),
                r.get("model", "?"),
                *(_pct(per_class.get(c)) for c in classes),
                _pct(box.get("mAP")),
                _pct(box.get("AP50")),
                _pct(box.get("AP75")),
                _pct(segm.get("mAP")),
                f"{r['ms_per_image']:.0f}" if r.get("ms_per_image") is not None else "",
            ]
        )
    return header, rows


def _pct(value) -> str:
    """AP as the paper prints it: percent with one decimal; empty when undefined."""
    return "" if value is None else f"{100 * value:.1f}"


def markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()
