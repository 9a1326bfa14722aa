"""The one result object of the pipeline: `BagResult` with its `Finding`s (no torch needed).

The GUI draws it, the CLI writes it and the review store saves it, so it lives apart from the
models: reading results back never imports torch. Boxes are XYXY in scan pixels; masks bool H×W.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import cv2
import numpy as np

from engine.colour import ANOMALY_RGB, BENIGN_RGB
from engine.io import load_scan


@dataclass
class Finding:
    """One detected object: where, what, how sure, and whether it looks anomalous."""

    box_xyxy: tuple[float, float, float, float]
    label: str
    score: float  # detector confidence
    mask: np.ndarray | None = field(default=None, repr=False)  # bool H×W, Mask R-CNN only
    anomaly_score: float | None = None  # classifier probability of "anomalous"
    anomalous: bool = False

    def to_dict(self, *, with_mask: bool = True) -> dict:
        d = {
            "box_xyxy": [round(float(v), 2) for v in self.box_xyxy],
            "label": self.label,
            "score": round(float(self.score), 4),
            "anomaly_score": None if self.anomaly_score is None else round(self.anomaly_score, 4),
            "anomalous": bool(self.anomalous),
        }
        if with_mask and self.mask is not None:
            from pycocotools import mask as mask_utils

            rle = mask_utils.encode(np.asfortranarray(self.mask.astype(np.uint8)))
            d["mask_rle"] = {"size": rle["size"], "counts": rle["counts"].decode("ascii")}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Finding:
        mask = None
        if d.get("mask_rle"):
            from pycocotools import mask as mask_utils

            rle = {"size": d["mask_rle"]["size"], "counts": d["mask_rle"]["counts"].encode()}
            mask = mask_utils.decode(rle).astype(bool)
        return cls(
            tuple(d["box_xyxy"]),
            d["label"],
            d["score"],
            mask,
            d.get("anomaly_score"),
            bool(d.get("anomalous", False)),
        )


@dataclass
class BagResult:
    """Everything the pipeline found in one scan, with how long each stage took (ms)."""

    path: str
    image_size: tuple[int, int]  # (width, height)
    findings: list[Finding]
    timings: dict[str, float] = field(default_factory=dict)
    model: str = ""

    @property
    def anomalous(self) -> bool:
        return any(f.anomalous for f in self.findings)

    def to_dict(self, *, with_masks: bool = True) -> dict:
        return {
            "path": self.path,
            "image_size": list(self.image_size),
            "model": self.model,
            "anomalous": self.anomalous,
            "findings": [f.to_dict(with_mask=with_masks) for f in self.findings],
            "timings_ms": {k: round(v, 1) for k, v in self.timings.items()},
        }

    def to_json(self, *, with_masks: bool = True) -> str:
        return json.dumps(self.to_dict(with_masks=with_masks))

    @classmethod
    def from_dict(cls, d: dict) -> BagResult:
        return cls(
            d["path"],
            tuple(d["image_size"]),
            [Finding.from_dict(f) for f in d["findings"]],
            d.get("timings_ms", {}),
            d.get("model", ""),
        )

    def draw(self, image: np.ndarray | None = None) -> np.ndarray:
        """RGB image with findings drawn: anomalous ones outlined in red, the others in blue."""
        if image is None:
            image = load_scan(self.path).image
        out = image.copy()
        for f in sorted(self.findings, key=lambda f: f.anomalous):  # red on top
            colour = ANOMALY_RGB if f.anomalous else BENIGN_RGB
            x0, y0, x1, y1 = (round(float(v)) for v in f.box_xyxy)
            if f.mask is not None and f.mask.any():
                tint = out.copy()
                tint[f.mask] = colour
                out = cv2.addWeighted(tint, 0.25, out, 0.75, 0)
                contours, _ = cv2.findContours(
                    f.mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
                )
                cv2.drawContours(out, contours, -1, colour, 2 if f.anomalous else 1)
            cv2.rectangle(out, (x0, y0), (x1, y1), colour, 2 if f.anomalous else 1)
            text = f"{f.label} {f.score:.2f}"
            if f.anomaly_score is not None:
                text += f" a={f.anomaly_score:.2f}"
            cv2.putText(
                out, text, (x0 + 2, max(y0 - 4, 10)), cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour, 1
            )
        return out
