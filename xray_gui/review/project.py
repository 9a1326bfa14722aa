"""The review project file: its layout, defaults, validation, reading and encoding.

A project is `{"format": "xray-review", "version": 1, "folder", "categories", "scans": {key:
scan}}`; each scan is `{"predictions": [...], "analyst": {...}, "log": [...]}`. Predictions
(`{"model", "device", "at", "score_floor", "result": BagResult.to_dict()}`) are only ever
appended; the analyst record holds `objects` (verdicts and corrections of model findings by id:
`status`, `label`, `anomalous`, `box`, `by`, `at`), `added` (objects drawn by the analyst:
`box`, `label`, `anomalous`, `by`, `at`), `next_added`, `decision`, `decision_by`,
`decision_at`, `note` and `review_seconds`.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FORMAT = "xray-review"
VERSION = 1
DECISIONS = ("clear", "suspect", "search")
STATUSES = ("pending", "accepted", "rejected", "corrected", "added")
OBJECT_ID = re.compile(r"([ma])(\d+)")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def empty_analyst() -> dict:
    return {
        "objects": {},
        "added": {},
        "next_added": 1,
        "decision": None,
        "decision_by": None,
        "decision_at": None,
        "note": "",
        "review_seconds": 0.0,
    }


def snapshot(analyst: dict) -> dict:
    """The undoable part of an analyst record (review time and the id counter only grow)."""
    return {
        k: copy.deepcopy(v) for k, v in analyst.items() if k not in ("review_seconds", "next_added")
    }


def natural_key(key: str) -> list:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", key)]


def normalise_box(box_xyxy: Sequence[float]) -> list[float]:
    """`box_xyxy` as x0 < x1, y0 < y1, rounded like the model's; ValueError when not a box."""
    try:
        values = [float(v) for v in box_xyxy]
    except (TypeError, ValueError):
        raise ValueError(f"a box needs four numbers x0, y0, x1, y1, got {box_xyxy!r}") from None
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise ValueError(f"a box needs four finite numbers x0, y0, x1, y1, got {box_xyxy!r}")
    x0, x1 = sorted(values[0::2])
    y0, y1 = sorted(values[1::2])
    if x1 - x0 <= 0 or y1 - y0 <= 0:
        raise ValueError(f"box {values} has no area")
    return [round(v, 2) for v in (x0, y0, x1, y1)]


def check_project(data: Any) -> dict[str, dict]:
    """The scans of a parsed project file, filled with defaults; ValueError when malformed."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError("not an xray-review project file")
    if data.get("version") != VERSION:
        raise ValueError(f"project version {data.get('version')!r}, this app reads {VERSION}")
    scans = data.get("scans")
    if not isinstance(scans, dict):
        raise ValueError("'scans' is not an object")
    out = {}
    for key, scan in scans.items():
        if not isinstance(scan, dict) or not isinstance(scan.get("predictions", []), list):
            raise ValueError(f"scan {key!r} is malformed")
        for p in scan.get("predictions", []):
            findings = p["result"]["findings"]
            for f in findings:
                if len(f["box_xyxy"]) != 4 or not isinstance(f["label"], str):
                    raise ValueError(f"scan {key!r} has a malformed finding")
                float(f["score"])
        analyst = {**empty_analyst(), **scan.get("analyst", {})}
        if not isinstance(analyst["objects"], dict) or not isinstance(analyst["added"], dict):
            raise ValueError(f"scan {key!r} has a malformed analyst record")
        if analyst["decision"] not in (None, *DECISIONS) or not isinstance(analyst["note"], str):
            raise ValueError(f"scan {key!r} has a malformed decision or note")
        for obj_id, rec in analyst["objects"].items():
            if not OBJECT_ID.fullmatch(obj_id) or not isinstance(rec, dict):
                raise ValueError(f"scan {key!r} has a malformed record of {obj_id!r}")
            if rec.get("status", "pending") not in STATUSES:
                raise ValueError(f"scan {key!r}: {obj_id} has status {rec['status']!r}")
        for obj_id, rec in analyst["added"].items():
            if not OBJECT_ID.fullmatch(obj_id) or len(rec["box"]) != 4 or "label" not in rec:
                raise ValueError(f"scan {key!r} has a malformed object {obj_id!r}")
            rec.setdefault("anomalous", False)
            analyst["next_added"] = max(int(analyst["next_added"]), int(obj_id[1:]) + 1)
        analyst["review_seconds"] = float(analyst["review_seconds"])
        log = scan.get("log", [])
        if not isinstance(log, list):
            raise ValueError(f"scan {key!r} has a malformed log")
        out[key] = {"predictions": scan.get("predictions", []), "analyst": analyst, "log": log}
    return out


def read_project(path: Path) -> tuple[dict[str, dict], list[str]]:
    """(scans, categories) of a project file; ValueError saying why when it cannot be used."""
    try:
        data = json.loads(path.read_bytes())
        return check_project(data), [c for c in data.get("categories", []) if isinstance(c, str)]
    except OSError as exc:
        raise ValueError(exc.strerror or str(exc)) from exc
    except (UnicodeDecodeError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ValueError(str(exc) or type(exc).__name__) from exc


def back_up(path: Path) -> Path:
    """Rename an unusable project file to `<name>.corrupt-<time>` beside it; OSError if not."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backup = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while backup.exists():
        n += 1
        backup = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    os.replace(path, backup)
    return backup


def encode_project(head: dict, scans: dict[str, dict], fragments: dict[str, str]) -> bytes:
    """Compact JSON of a project; `fragments` caches each scan's JSON (drop a key on change)."""
    parts = []
    for key, scan in scans.items():
        fragment = fragments.get(key)
        if fragment is None:
            fragment = fragments[key] = json.dumps(scan, separators=(",", ":"), ensure_ascii=False)
        parts.append(f"{json.dumps(key, ensure_ascii=False)}:{fragment}")
    text = json.dumps(head, separators=(",", ":"), ensure_ascii=False)[:-1]
    return (text + ',"scans":{' + ",".join(parts) + "}}").encode()
