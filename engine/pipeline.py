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
batch. A `BagResult` (`engine.results`, no torch) is the one result object the GUI draws, the
CLI writes and the review store saves. Boxes are XYXY in scan pixels; masks are bool H×W.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from engine.colour import ANOMALY_RGB, BENIGN_RGB
from engine.errors import EngineError
from engine.io import Scan, load_scan
from engine.results import BagResult, Finding

__all__ = ["ANOMALY_RGB", "BENIGN_RGB", "BagResult", "Finding", "Screener", "ScreeningError"]

MIN_DETECTOR_SIDE = 8  # px a side after the detector's resize: a thinner scan is refused


class ScreeningError(EngineError, ValueError):
    """A scan that loaded but cannot be screened (e.g. 1×5000 px); the message says why."""


class Screener:
    """Detector + anomaly classifiers ("judges") from one model bundle; call it on scans."""

    def __init__(self, bundle: dict[str, Any], device: str = "auto") -> None:
        from engine.bundle import build_models
        from engine.runtime import amp_dtype, resolve_device

        self.device = resolve_device(device)
        self.bundle = bundle
        self.detector, self.judges = build_models(bundle, self.device)
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

    @property
    def has_classifier(self) -> bool:
        """Whether the bundle judges objects anomalous at all (a detector-only bundle does not)."""
        return bool(self.judges)

    @property
    def judged_categories(self) -> tuple[str, ...]:
        """The detector classes that get an anomaly score, in the detector's order."""
        from engine.bundle import route

        judged = set().union(*route(self.categories, self.judges))
        return tuple(c for i, c in enumerate(self.categories) if i in judged)

    def __call__(self, scan: Scan | str | Path) -> BagResult:
        """Screen one scan: detection, cropping, one batched forward per judge present."""
        if not isinstance(scan, Scan):
            scan = load_scan(scan, companions=self.crops.get("mode") == "dual")
        return self.screen(scan)

    def detector_size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) a scan of this size has after the detector's resize (torchvision's
        rule: the short side to min_size unless the long side would pass max_size)."""
        arch = self.bundle["detector"]["architecture"]
        low, high = arch.get("min_size", 800), arch.get("max_size", 1333)
        low = low[-1] if isinstance(low, list | tuple) else low
        scale = min(low / max(1, min(width, height)), high / max(1, width, height))
        return int(width * scale), int(height * scale)

    @torch.inference_mode()
    def screen(self, scan: Scan) -> BagResult:
        from engine.bundle import route
        from engine.classification.crops import MEAN, STD, crop_objects, normalise, scan_channels

        seen = self.detector_size(scan.width, scan.height)
        if min(seen) < MIN_DETECTOR_SIDE:
            raise ScreeningError(
                f"scan is {scan.width}×{scan.height} px, too thin to screen: the detector would "
                f"see {seen[0]}×{seen[1]} px (at least {MIN_DETECTOR_SIDE} a side)"
            )
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
        names = [self.categories[int(label) - 1] for label in labels]
        probs: list[float | None] = [None] * len(boxes)
        routes = route(names, self.judges)
        wanted = sorted(set().union(*routes))  # objects of a class no judge covers: no crop
        if wanted:
            mode = self.crops["mode"]
            crops = crop_objects(
                scan_channels(scan, mode),
                boxes[wanted],
                size=int(self.crops["size"]),
                margin=float(self.crops["margin"]),
                masks=masks[wanted] if masks is not None and self.crops.get("masks") else None,
                mode=mode,
                orient=masks[wanted] if masks is not None and self.crops.get("align") else None,
            )
            t2 = time.perf_counter()
            timings["crop"] = (t2 - t1) * 1000
            x = normalise(crops, MEAN[mode], STD[mode]).to(self.device)
            if self.device.type == "cpu":
                x = x.contiguous(memory_format=torch.channels_last)
            row = {i: k for k, i in enumerate(wanted)}
            for judge, index in zip(self.judges, routes, strict=True):
                if index:
                    with _autocast(self.device, self.dtype):
                        logits = judge.model(x[[row[i] for i in index]])
                    for i, p in zip(index, judge.scores(logits).cpu().tolist(), strict=True):
                        probs[i] = p
            timings["classify"] = (time.perf_counter() - t2) * 1000
        findings = [
            Finding(
                tuple(float(v) for v in boxes[i]),
                names[i],
                float(scores[i]),
                None if masks is None else masks[i],
                probs[i],
                probs[i] is not None and probs[i] >= self.anomaly_threshold,
            )
            for i in range(len(boxes))
        ]
        timings["total"] = (time.perf_counter() - t0) * 1000
        return BagResult(scan.meta.path, (scan.width, scan.height), findings, timings, self.name)


def _autocast(device: torch.device, dtype):
    from engine.runtime import autocast

    return autocast(device, dtype)
