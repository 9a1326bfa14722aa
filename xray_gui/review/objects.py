"""A scan's objects as the overlay draws them: model findings merged with the analyst's word.

A pure function of one scan's record (see `project`), so the store, the exports and the
statistics all see the same merge.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class ReviewObject:
    """One object as the overlay draws it: a model finding merged with the analyst's word."""

    id: str  # "m0"… index into the latest prediction's findings; "a1"… drawn by the analyst
    box_xyxy: tuple[float, float, float, float]
    label: str
    anomalous: bool
    status: str  # pending | accepted | rejected | corrected | added
    source: str  # "model" | "analyst"
    score: float | None  # detector score; None for analyst objects
    anomaly_score: float | None
    mask: np.ndarray | None = field(default=None, repr=False, compare=False)  # bool H×W
    visible: bool = True  # False: a pending finding under the score threshold
    polygon: tuple[tuple[float, float], ...] | None = None  # an analyst's outline, image pixels


@dataclass
class Entry:
    """An object with the raw records behind it, for exports and statistics."""

    obj: ReviewObject
    finding: dict | None  # the stored finding (mask as RLE) of a model object
    record: dict | None  # the analyst's record of it


def merge_objects(
    scan: dict, score_threshold: float = 0.0, anomaly_threshold: float | None = None
) -> list[Entry]:
    """Model findings (m0…) with the analyst's verdicts, then the analyst's objects (a1…).

    Masks are left undecoded (`mask` None); the store fills them in for the overlay.
    """
    analyst = scan["analyst"]
    latest = scan["predictions"][-1] if scan["predictions"] else None
    out = []
    for i, f in enumerate(latest["result"]["findings"] if latest else []):
        rec = analyst["objects"].get(f"m{i}") or {}
        status = rec.get("status", "pending")
        if "anomalous" in rec:
            anomalous = bool(rec["anomalous"])
        elif anomaly_threshold is not None and f.get("anomaly_score") is not None:
            anomalous = f["anomaly_score"] >= anomaly_threshold
        else:
            anomalous = bool(f.get("anomalous", False))
        obj = ReviewObject(
            id=f"m{i}",
            box_xyxy=tuple(float(v) for v in rec.get("box", f["box_xyxy"])),
            label=rec.get("label", f["label"]),
            anomalous=anomalous,
            status=status,
            source="model",
            score=f["score"],
            anomaly_score=f.get("anomaly_score"),
            visible=not (status == "pending" and f["score"] < score_threshold),
        )
        out.append(Entry(obj, f, rec or None))
    for obj_id in sorted(analyst["added"], key=lambda k: int(k[1:])):
        rec = analyst["added"][obj_id]
        box = tuple(float(v) for v in rec["box"])
        obj = ReviewObject(
            id=obj_id,
            box_xyxy=box,
            label=rec["label"],
            anomalous=bool(rec["anomalous"]),
            status="added",
            source="analyst",
            score=None,
            anomaly_score=None,
            polygon=tuple((float(x), float(y)) for x, y in rec["polygon"])
            if rec.get("polygon")
            else None,
        )
        out.append(Entry(obj, None, rec))
    return out
