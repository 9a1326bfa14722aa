"""End-to-end screening time per 640×480 scan and where it goes: detect, crop, classify.

Uses the bundle given (`--model`, e.g. the demo model) or, without one, untrained models of the
demo's architectures; an untrained detector's findings are capped at `--objects` per scan so
the crop and classification stages see a realistic load. Also compares classifying all crops of
a scan in one batch with classifying them one by one, measured in the same run (with one of the
bundle's classifiers: a bundle with a classifier per class runs one batch per class present).

    .venv/bin/python benchmarks/pipeline.py [--model resources/models/demo.xsb] [--scans 8]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

from engine.classification.crops import MEAN, STD, crop_objects, normalise, scan_channels
from engine.io import load_scan
from engine.pipeline import Screener


def _untrained_bundle(crop_size: int) -> dict:
    """A bundle dict of random-weight models with the demo's architectures."""
    from engine.classification.models import build_from_architecture as build_classifier_arch
    from engine.detection.models import build_from_architecture as build_detector_arch

    det_arch = {
        "name": "maskrcnn_mobilenet_v3_large_fpn",
        "num_classes": 7,
        "norm": "bn",
        "min_size": 480,
        "max_size": 640,
        "box_score_thresh": 0.0,
    }
    cls_arch = {"name": "resnet18", "num_classes": 2, "input_size": crop_size}
    return {
        "kind": "bundle",
        "name": "untrained",
        "categories": ["bottle", "hairdryer", "iron", "toaster", "mobile", "laptop"],
        "detector": {"architecture": det_arch},
        "classifiers": [{"architecture": cls_arch, "categories": None, "threshold": 0.5}],
        "model": {
            "detector": build_detector_arch(det_arch).state_dict(),
            "classifiers": [build_classifier_arch(cls_arch).state_dict()],
        },
        "thresholds": {"detection": 0.0, "anomaly": 0.5},
        "crops": {"size": crop_size, "margin": 0.15, "mode": "rgb", "masks": False},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model bundle (default: untrained demo architectures)")
    parser.add_argument("--scans", type=int, default=8, help="simulated scans to screen")
    parser.add_argument("--objects", type=int, default=4, help="findings kept per scan (untrained)")
    parser.add_argument("--crop-size", type=int, default=112, help="crop side (untrained)")
    args = parser.parse_args(argv)

    from engine.synth.dataset import write_dataset

    tmp = tempfile.TemporaryDirectory()
    write_dataset(tmp.name, args.scans, seed=21, progress=False, workers=1)
    paths = sorted(Path(tmp.name, "images").glob("bag_??????.png"))
    if args.model:
        screener = Screener.from_bundle(args.model)
    else:
        screener = Screener(_untrained_bundle(args.crop_size))
        screener.detector.roi_heads.detections_per_img = args.objects
    scans = [load_scan(p) for p in paths]
    screener(scans[0])  # warm-up

    stages: dict[str, list[float]] = {"detect": [], "crop": [], "classify": [], "total": []}
    batched, single, objects = [], [], []
    for scan in scans:
        result = screener(scan)
        for key in stages:
            stages[key].append(result.timings.get(key, 0.0))
        objects.append(len(result.findings))
        if result.findings and screener.judges:
            classify = screener.judges[0].model  # the cost per crop is the same for every judge
            boxes = np.array([f.box_xyxy for f in result.findings])
            mode = screener.crops["mode"]
            crops = crop_objects(
                scan_channels(scan, mode),
                boxes,
                size=screener.crops["size"],
                margin=screener.crops["margin"],
                mode=mode,
            )
            x = normalise(crops, MEAN[mode], STD[mode]).contiguous(
                memory_format=torch.channels_last
            )
            with (
                torch.inference_mode(),
                torch.autocast("cpu", torch.bfloat16, enabled=screener.dtype is not None),
            ):
                t0 = time.perf_counter()
                classify(x)
                t1 = time.perf_counter()
                for i in range(len(x)):
                    classify(x[i : i + 1])
                t2 = time.perf_counter()
            batched.append((t1 - t0) * 1000)
            single.append((t2 - t1) * 1000)

    print(f"# pipeline — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"# {platform.platform()}, {os.cpu_count()} cores, torch {torch.__version__}; "
        f"model {screener.name}, {screener.device_name}"
    )
    print(
        f"# {len(scans)} simulated scans of 640×480 px (either way up), "
        f"{statistics.mean(objects):.1f} objects each\n"
    )
    print("| stage | median ms per scan |")
    print("|---|---:|")
    for key, values in stages.items():
        print(f"| {key} | {statistics.median(values):.0f} |")
    if batched:
        b, s = statistics.median(batched), statistics.median(single)
        print(
            f"\nclassifying a scan's crops: one batch {b:.0f} ms, one by one {s:.0f} ms "
            f"({s / b:.1f}× slower)"
        )
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
