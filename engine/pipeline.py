"""The dual-CNN pipeline: find the objects in a bag scan, then judge each one anomalous or not.

```python
screener = Screener.from_bundle("resources/models/demo.xsb", device="auto")
result = screener("bag.png")  # or a Scan
result.findings[0].box_xyxy, result.findings[0].anomalous
result.draw()  # RGB with anomalous objects outlined in red
```

`Screener` is stateful like segment-anything's predictor: models load once, then any number of
scans. Detection runs at the bundle's size; every object is cropped exactly as in training
(`engine.classification.crops.crop_objects`) and all crops go through the classifier in one
batch. A `BagResult` is the one result object the GUI draws, the CLI writes and the review store
saves. Boxes are XYXY in scan pixels; masks are bool H×W.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from engine.io import Scan, load_scan

ANOMALY_RGB = (230, 30, 30)
BENIGN_RGB = (40, 170, 220)


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


class Screener:
    """Detector + anomaly classifier from one model bundle; call it on scans."""

    def __init__(self, bundle: dict[str, Any], device: str = "auto") -> None:
        from engine.bundle import build_models
        from engine.runtime import amp_dtype, resolve_device

        self.device = resolve_device(device)
        self.bundle = bundle
        self.detector, self.classifier = build_models(bundle, self.device)
        self.categories: list[str] = list(bundle["categories"])
        self.crops: dict = dict(bundle["crops"])
        self.score_threshold = float(bundle["thresholds"]["detection"])
        self.anomaly_threshold = float(bundle["thresholds"]["anomaly"])
        self.dtype = amp_dtype("auto", self.device)
        self.name = str(bundle.get("name", ""))

    @classmethod
    def from_bundle(cls, path: str | Path, device: str = "auto") -> Screener:
        """Load a model bundle (one file); a wrong or corrupt file raises BundleError."""
        from engine.bundle import load_bundle

        return cls(load_bundle(path), device)

    @property
    def device_name(self) -> str:
        if self.device.type == "cuda":
            return f"{torch.cuda.get_device_name(self.device)} (CUDA)"
        return "CPU" + (" (bf16)" if self.dtype is not None else "")

    def __call__(self, scan: Scan | str | Path) -> BagResult:
        """Screen one scan: detection, cropping, one batched classification forward."""
        if not isinstance(scan, Scan):
            scan = load_scan(scan, companions=self.crops.get("mode") == "dual")
        return self.screen(scan)

    @torch.inference_mode()
    def screen(self, scan: Scan) -> BagResult:
        from engine.classification.crops import MEAN, STD, crop_objects, normalise, scan_channels

        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        image = torch.from_numpy(scan.image).permute(2, 0, 1).float().div_(255).to(self.device)
        with _autocast(self.device, self.dtype):
            out = self.detector([image])[0]
        keep = out["scores"].float() >= self.score_threshold
        boxes = out["boxes"][keep].float().cpu().numpy()
        labels = out["labels"][keep].cpu().numpy()
        scores = out["scores"][keep].float().cpu().numpy()
        masks = None
        if "masks" in out:
            masks = (out["masks"][keep][:, 0].float() > 0.5).cpu().numpy()
        t1 = time.perf_counter()
        timings["detect"] = (t1 - t0) * 1000
        probs = np.zeros(len(boxes), np.float32)
        if len(boxes) and self.classifier is not None:
            mode = self.crops["mode"]
            channels = scan_channels(scan, mode)
            crops = crop_objects(
                channels,
                boxes,
                size=int(self.crops["size"]),
                margin=float(self.crops["margin"]),
                masks=masks if self.crops.get("masks") else None,
                mode=mode,
            )
            t2 = time.perf_counter()
            timings["crop"] = (t2 - t1) * 1000
            x = normalise(crops, MEAN[mode], STD[mode]).to(self.device)
            if self.device.type == "cpu":
                x = x.contiguous(memory_format=torch.channels_last)
            with _autocast(self.device, self.dtype):
                logits = self.classifier(x)
            probs = torch.softmax(logits.float(), dim=1)[:, 1].cpu().numpy()
            timings["classify"] = (time.perf_counter() - t2) * 1000
        findings = [
            Finding(
                tuple(float(v) for v in boxes[i]),
                self.categories[int(labels[i]) - 1],
                float(scores[i]),
                None if masks is None else masks[i],
                float(probs[i]) if self.classifier is not None else None,
                bool(self.classifier is not None and probs[i] >= self.anomaly_threshold),
            )
            for i in range(len(boxes))
        ]
        timings["total"] = (time.perf_counter() - t0) * 1000
        return BagResult(scan.meta.path, (scan.width, scan.height), findings, timings, self.name)


def _autocast(device: torch.device, dtype):
    from engine.runtime import autocast

    return autocast(device, dtype)
