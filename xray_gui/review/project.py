"""The review project file: its layout, defaults, validation, reading and encoding.

A project is `{"format": "xray-review", "version": 2, "folder", "categories", "thresholds",
"scans": {key: scan}}`; `thresholds` (`{"score", "anomaly", "model"}`, optional) are the
detection and anomaly thresholds last in force, and the model they were set under. Each scan is
`{"predictions": [...], "analyst": {...}, "log": [...]}`. Predictions (`{"model", "device",
"at", "score_floor", "score_threshold", "anomaly_threshold", "result": BagResult.to_dict()}`,
the two thresholds the model's operating points, optional) are only ever appended; the
analyst record holds `objects` (verdicts and corrections of model findings by id: `status`,
`label`, `anomalous`, `box`, `by`, `at`), `added` (objects drawn by the analyst: `box`, `label`,
`anomalous`, `by`, `at`, and `polygon` `[[x, y], ...]` for an object drawn as a polygon, its box
then the polygon's bounding box), `next_added`, `decision`, `decision_by`, `decision_at`, `note`
and `review_seconds`. Version 2 added `polygon`; version 1 files (no polygons) read as they are
and are written as version 2 at their next save.

Reading refuses, before parsing, what is not a regular file (a FIFO would hang the read), a
file over `MAX_PROJECT_BYTES`, and JSON nested deeper than `MAX_DEPTH` (the parser recurses);
then every field is checked for its type. Any of these makes the file unusable as a whole.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import stat
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "xray-review"
VERSION = 2  # written; 2 added the analyst's polygons
READABLE_VERSIONS = (1, 2)
MAX_VERTICES = 2000  # a polygon with more is damage, not an outline drawn by hand
DECISIONS = ("clear", "suspect", "search")
STATUSES = ("pending", "accepted", "rejected", "corrected", "added")
OBJECT_ID = re.compile(r"([ma])([0-9]+)")
MODEL_ID = re.compile(r"m[0-9]+")
ANALYST_ID = re.compile(r"a[0-9]+")


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


def check_classes(names: Sequence[str]) -> list[str]:
    """`names` as a list of distinct, non-empty class names; ValueError saying what is wrong."""
    if isinstance(names, str):
        raise ValueError(f"classes must be a list of names, not the string {names!r}")
    out = list(names)
    bad = [n for n in out if not isinstance(n, str) or not n.strip()]
    if bad:
        raise ValueError(f"a class name must be non-empty text, not {_short(bad[0])}")
    if len(set(out)) != len(out):
        raise ValueError(f"classes repeat a name: {_short(out)}")
    return out


def normalise_polygon(
    points: Sequence[Sequence[float]], size: tuple[float, float] | None = None
) -> list[list[float]]:
    """`points` as `[[x, y], ...]` rounded like boxes, clipped to a (width, height) image when
    `size` is given, repeats dropped; ValueError unless at least three points enclose an area."""
    try:
        pairs = [(float(x), float(y)) for x, y in points]
    except (TypeError, ValueError):
        raise ValueError(f"a polygon needs [x, y] points, got {_short(points)}") from None
    if not all(math.isfinite(v) for p in pairs for v in p):
        raise ValueError(f"a polygon needs finite points, got {_short(points)}")
    if size is not None:
        w, h = size
        pairs = [(min(max(x, 0.0), w), min(max(y, 0.0), h)) for x, y in pairs]
    out: list[list[float]] = []
    for x, y in pairs:
        point = [round(x, 2), round(y, 2)]
        if not out or point != out[-1]:
            out.append(point)
    if len(out) > 1 and out[0] == out[-1]:
        out.pop()
    if len(out) > MAX_VERTICES:
        raise ValueError(f"a polygon has at most {MAX_VERTICES} points, got {len(out)}")
    if len(out) < 3 or polygon_area(out) <= 0:
        raise ValueError("a polygon needs at least three points that enclose an area")
    return out


def polygon_area(points: Sequence[Sequence[float]]) -> float:
    """The area a closed polygon encloses (shoelace formula)."""
    twice = sum(
        x0 * y1 - x1 * y0
        for (x0, y0), (x1, y1) in zip(points, [*points[1:], points[0]], strict=True)
    )
    return abs(twice) / 2


def polygon_box(points: Sequence[Sequence[float]]) -> list[float]:
    """The polygon's bounding box, x0, y0, x1, y1."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return [min(xs), min(ys), max(xs), max(ys)]


def fit_polygon(
    points: Sequence[Sequence[float]], old_box: Sequence[float], new_box: Sequence[float]
) -> list[list[float]]:
    """`points` moved and scaled as their box `old_box` became `new_box` (a resized object)."""
    ox0, oy0, ox1, oy1 = old_box
    nx0, ny0, nx1, ny1 = new_box
    sx = (nx1 - nx0) / (ox1 - ox0) if ox1 > ox0 else 1.0
    sy = (ny1 - ny0) / (oy1 - oy0) if oy1 > oy0 else 1.0
    return normalise_polygon([(nx0 + (x - ox0) * sx, ny0 + (y - oy0) * sy) for x, y in points])


MAX_PROJECT_BYTES = 256 * 2**20  # a bigger file is refused before it is read
MAX_DEPTH = 64  # a project nests about 10 levels; deeper is damage (or an attack on the parser)
_NOT_STRUCTURE = bytes(sorted(set(range(256)) - set(b'[]{}"')))
_STEP = np.zeros(256, np.int8)
_STEP[list(b"[{")], _STEP[list(b"]}")] = 1, -1
_CHUNK = 1 << 22  # bytes per step of the depth count (bounded memory)


def check_project(data: Any) -> dict[str, dict]:
    """The scans of a parsed project file, filled with defaults; ValueError when malformed.

    Every field the store, the overlay and the exports read is checked for its type here, so a
    hand-edited or damaged record is refused as a whole file and never reaches the overlay.
    """
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError("not an xray-review project file")
    if data.get("version") not in READABLE_VERSIONS:
        readable = " and ".join(map(str, READABLE_VERSIONS))
        raise ValueError(
            f"project version {_short(data.get('version'))}, this app reads {readable}"
        )
    if not isinstance(data.get("categories", []), list):
        raise ValueError("'categories' is not a list")
    scans = data.get("scans")
    if not isinstance(scans, dict):
        raise ValueError("'scans' is not an object")
    out = {}
    for key, scan in scans.items():
        try:
            out[key] = _check_scan(scan)
        except ValueError as exc:
            raise ValueError(f"scan {_short(key)}: {exc}") from None
    return out


def _check_scan(scan: Any) -> dict:
    if not isinstance(scan, dict):
        raise ValueError("is not an object")
    predictions = scan.get("predictions", [])
    if not isinstance(predictions, list):
        raise ValueError("'predictions' is not a list")
    for p in predictions:
        _check_prediction(p)
    analyst = scan.get("analyst", {})
    if not isinstance(analyst, dict):
        raise ValueError("'analyst' is not an object")
    analyst = {**empty_analyst(), **analyst}
    _check_analyst(analyst)
    log = scan.get("log", [])
    if not isinstance(log, list) or not all(isinstance(e, dict) for e in log):
        raise ValueError("'log' is not a list of entries")
    return {"predictions": predictions, "analyst": analyst, "log": log}


def _check_prediction(p: Any) -> None:
    if not isinstance(p, dict) or not isinstance(p.get("result"), dict):
        raise ValueError("a prediction has no result")
    if not all(_optional_str(p.get(k)) for k in ("model", "device", "at")):
        raise ValueError("a prediction's model, device or time is not text")
    if not _is_number(p.get("score_floor", 0.0)):
        raise ValueError("a prediction's score floor is not a number")
    if not all(p.get(k) is None or _is_number(p[k]) for k in THRESHOLD_KEYS):
        raise ValueError("a prediction's thresholds are not numbers")
    result = p["result"]
    size = result.get("image_size")
    if not (isinstance(size, list) and len(size) == 2 and all(_is_count(v) for v in size)):
        raise ValueError("a prediction's image size is not [width, height]")
    if not isinstance(result.get("path"), str) or not _optional_str(result.get("model")):
        raise ValueError("a prediction's path or model is not text")
    if not isinstance(result.get("timings_ms", {}), dict):
        raise ValueError("a prediction's timings are not an object")
    findings = result.get("findings")
    if not isinstance(findings, list):
        raise ValueError("a prediction's findings are not a list")
    for f in findings:
        if not (
            isinstance(f, dict)
            and _is_box(f.get("box_xyxy"))
            and isinstance(f.get("label"), str)
            and _is_number(f.get("score"))
            and (f.get("anomaly_score") is None or _is_number(f["anomaly_score"]))
            and isinstance(f.get("anomalous", False), bool)
        ):
            raise ValueError("a finding is malformed (box, label, score or anomaly)")
        rle = f.get("mask_rle")
        if rle is not None and not (
            isinstance(rle, dict)
            and rle.get("size") == [size[1], size[0]]
            and isinstance(rle.get("counts"), str)
        ):
            raise ValueError("a finding's mask does not fit its image")


def _check_analyst(a: dict) -> None:
    if not isinstance(a["objects"], dict) or not isinstance(a["added"], dict):
        raise ValueError("the analyst record is malformed")
    for obj_id, rec in a["objects"].items():
        if not (MODEL_ID.fullmatch(obj_id) and isinstance(rec, dict)):
            raise ValueError(f"the record of {_short(obj_id)} is malformed")
        if rec.get("status", "pending") not in STATUSES:
            raise ValueError(f"{obj_id} has status {_short(rec['status'])}")
        if not (
            isinstance(rec.get("label", ""), str)
            and ("box" not in rec or _is_box(rec["box"]))
            and isinstance(rec.get("anomalous", False), bool)
            and _optional_str(rec.get("by"))
            and _optional_str(rec.get("at"))
        ):
            raise ValueError(f"the record of {obj_id} is malformed (label, box, flag or analyst)")
    for obj_id, rec in a["added"].items():
        if not (
            ANALYST_ID.fullmatch(obj_id)
            and isinstance(rec, dict)
            and _is_box(rec.get("box"))
            and isinstance(rec.get("label"), str)
            and isinstance(rec.setdefault("anomalous", False), bool)
            and ("polygon" not in rec or _is_polygon(rec["polygon"]))
            and _optional_str(rec.get("by"))
            and _optional_str(rec.get("at"))
        ):
            raise ValueError(
                f"the object {_short(obj_id)} is malformed (box, polygon, label or flag)"
            )
    if not _is_count(a["next_added"]):
        raise ValueError("the analyst's object counter is not a positive whole number")
    for obj_id in a["added"]:
        a["next_added"] = max(a["next_added"], int(obj_id[1:]) + 1)
    if a["decision"] not in (None, *DECISIONS) or not isinstance(a["note"], str):
        raise ValueError("the decision or note is malformed")
    if not (_optional_str(a["decision_by"]) and _optional_str(a["decision_at"])):
        raise ValueError("the decision's analyst or time is not text")
    if not _is_number(a["review_seconds"]) or a["review_seconds"] < 0:
        raise ValueError("the review time is not a number of seconds")
    a["review_seconds"] = float(a["review_seconds"])


THRESHOLD_KEYS = ("score_threshold", "anomaly_threshold")


def check_thresholds(value: Any) -> dict | None:
    """The project's thresholds in force, `{"score", "anomaly", "model"}`, or None; ValueError
    when malformed (`anomaly` and `model` may be None)."""
    if value is None:
        return None
    if not (
        isinstance(value, dict)
        and _is_number(value.get("score"))
        and (value.get("anomaly") is None or _is_number(value["anomaly"]))
        and _optional_str(value.get("model"))
    ):
        raise ValueError("'thresholds' is malformed")
    return {"score": value["score"], "anomaly": value.get("anomaly"), "model": value.get("model")}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _is_box(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 4 and all(_is_number(v) for v in value)


def _is_polygon(value: Any) -> bool:
    return (
        isinstance(value, list)
        and 3 <= len(value) <= MAX_VERTICES
        and all(isinstance(p, list) and len(p) == 2 and all(map(_is_number, p)) for p in value)
    )


def _optional_str(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _short(value: Any) -> str:
    """A value for a one-line message: repr, at most 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def nesting_depth(data: bytes) -> int:
    """How deep arrays and objects nest in JSON text, counted without parsing (no recursion)."""
    text = data.replace(b"\\\\", b"").replace(b'\\"', b"")  # now every quote delimits a string
    text = text.translate(None, _NOT_STRUCTURE)  # brackets and quotes only
    depth = deepest = quotes = 0
    for start in range(0, len(text), _CHUNK):
        codes = np.frombuffer(text, np.uint8, count=min(_CHUNK, len(text) - start), offset=start)
        seen = np.cumsum(codes == 34, dtype=np.int64) + quotes  # quotes up to here
        outside = (seen & 1) == 0  # brackets inside strings do not count
        running = np.cumsum(_STEP[codes] * outside, dtype=np.int64) + depth
        deepest = max(deepest, int(running.max()))
        depth, quotes = int(running[-1]), int(seen[-1])
    return deepest


def read_regular_file(path: Path, limit: int) -> bytes:
    """The bytes of `path`; ValueError for a FIFO, device or folder, or above `limit` bytes.

    The type and size come from `stat` before the file is opened, and again from the open file
    (opened non-blocking, so a FIFO swapped in meanwhile cannot hang the read).
    """
    st = os.stat(path)
    _check_regular(st, limit)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    with os.fdopen(os.open(path, flags), "rb") as f:
        _check_regular(os.fstat(f.fileno()), limit)
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"larger than {limit} bytes")
    return data


def _check_regular(st: os.stat_result, limit: int) -> None:
    if not stat.S_ISREG(st.st_mode):
        kind = (
            "a folder"
            if stat.S_ISDIR(st.st_mode)
            else "a FIFO"
            if stat.S_ISFIFO(st.st_mode)
            else "a device"
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
            else "a socket"
            if stat.S_ISSOCK(st.st_mode)
            else "not a file"
        )
        raise ValueError(f"not a regular file but {kind}")
    if st.st_size > limit:
        raise ValueError(f"{st.st_size} bytes, more than the {limit} a project may have")


def read_project(path: Path) -> tuple[dict[str, dict], list[str], dict | None]:
    """(scans, categories, thresholds) of a project file; ValueError saying why when it cannot
    be used."""
    try:
        raw = read_regular_file(path, MAX_PROJECT_BYTES)
        depth = nesting_depth(raw)
        if depth > MAX_DEPTH:
            raise ValueError(f"nested {depth} levels deep, more than {MAX_DEPTH}")
        data = json.loads(raw)
        scans = check_project(data)
        names = [c for c in data.get("categories", []) if isinstance(c, str)]
        return scans, names, check_thresholds(data.get("thresholds"))
    except OSError as exc:
        raise ValueError(exc.strerror or str(exc)) from exc
    except RecursionError as exc:
        raise ValueError("nested too deeply to read") from exc
    except (UnicodeDecodeError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ValueError(str(exc) or type(exc).__name__) from exc


def remove_orphans(project_path: Path) -> list[Path]:
    """Delete the temporary files of saves that were killed (`.<name>.XXXXXXXX.tmp`).

    Only call this while holding the project's lock: another instance's save in flight looks
    the same. Returns what was removed.
    """
    pattern = re.compile(re.escape(f".{project_path.name}.") + r"[a-z0-9_]{8}\.tmp")
    removed = []
    try:
        candidates = list(project_path.parent.iterdir())
    except OSError:
        return removed
    for candidate in candidates:
        if pattern.fullmatch(candidate.name) and candidate.is_file() and not candidate.is_symlink():
            try:
                candidate.unlink()
                removed.append(candidate)
            except OSError:
                pass  # not ours to delete: left as it is
    return removed


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
