"""Simulated datasets: scans on disk and one COCO JSON of exact ground truth.

Each bag i of a dataset with seed S is drawn from `numpy.random.default_rng([S, i])`, so the
files do not depend on how many worker processes made them. Images are written as
`images/bag_NNNNNN.png` plus `_low`, `_high` (16-bit) and `_zeff` channel files; annotations
carry the anomaly attributes the classifiers train on.
"""

from __future__ import annotations

import json
import multiprocessing
from dataclasses import asdict
from pathlib import Path

import numpy as np
from pycocotools import mask as mask_utils

from engine.io.write import atomic_write_bytes, save_scan
from engine.synth.bag import Bag, BagConfig, anomaly_visibility, compose_bag
from engine.synth.objects import CATEGORIES
from engine.synth.scanner import Scanner, ScannerConfig

ANNOTATIONS = "annotations.json"
_scanner: Scanner | None = None  # one per worker process: building it takes ~2 s


def _rle(mask: np.ndarray) -> dict:
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle["counts"] = rle["counts"].decode("ascii")
    return rle


def _bbox(mask: np.ndarray) -> list[float]:
    rows, cols = np.nonzero(mask)
    x0, y0 = int(cols.min()), int(rows.min())
    return [float(x0), float(y0), float(cols.max() - x0 + 1), float(rows.max() - y0 + 1)]


def bag_annotations(bag: Bag, image_id: int) -> list[dict]:
    """COCO annotations (ids left to the caller) for the objects of one bag."""
    out = []
    for obj in bag.objects:
        anomaly = obj.anomaly_mask if obj.anomalous and obj.anomaly_mask is not None else None
        out.append(
            {
                "image_id": image_id,
                "category_id": CATEGORIES.index(obj.category) + 1,
                "bbox": _bbox(obj.mask),
                "segmentation": _rle(obj.mask),
                "area": float(obj.mask.sum()),
                "iscrowd": 0,
                "attributes": {
                    "anomalous": bool(obj.anomalous),
                    "anomaly_type": obj.anomaly_type,
                    "anomaly_bbox": _bbox(anomaly)
                    if anomaly is not None and anomaly.any()
                    else None,
                    "anomaly_segmentation": _rle(anomaly) if anomaly is not None else None,
                    "anomaly_visibility": obj.anomaly_visibility,
                },
            }
        )
    return out


def _make_one(job: tuple[Path, int, int, BagConfig, ScannerConfig]) -> tuple[dict, list[dict]]:
    """Compose, render and save bag `index`; returns its image record and annotations."""
    global _scanner
    out, seed, index, bag_config, scanner_config = job
    if _scanner is None or _scanner.config != scanner_config:
        _scanner = Scanner(scanner_config)
    rng = np.random.default_rng([seed, index])
    bag = compose_bag(rng, bag_config)
    anomaly_visibility(bag, _scanner)
    name = f"bag_{index:06d}"
    scan = _scanner.scan(bag.canvas.maps, rng, name=name)
    save_scan(scan, out / "images" / name)
    image = {
        "id": index + 1,
        "file_name": f"images/{name}.png",
        "width": scan.width,
        "height": scan.height,
        "seed": [seed, index],
        "scanner": scanner_config.to_dict(),
        "channels": {r: f"images/{name}_{r}.png" for r in ("low", "high", "zeff")},
    }
    return image, bag_annotations(bag, index + 1)


def write_dataset(
    out: str | Path,
    n: int,
    seed: int = 0,
    *,
    bag_config: BagConfig | None = None,
    scanner_config: ScannerConfig | None = None,
    workers: int = 1,
    progress: bool = True,
) -> Path:
    """Write `n` simulated bags and `annotations.json` under `out`; returns the JSON's path."""
    out = Path(out)
    (out / "images").mkdir(parents=True, exist_ok=True)
    bag_config = bag_config or BagConfig()
    scanner_config = scanner_config or ScannerConfig()
    jobs = [(out, seed, i, bag_config, scanner_config) for i in range(n)]
    results: list[tuple[dict, list[dict]]]
    from tqdm import tqdm

    bar = tqdm(total=n, desc="synth", unit="bag", disable=not progress)
    if workers > 1:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            results = []
            for r in pool.imap(_make_one, jobs, chunksize=1):
                results.append(r)
                bar.update()
    else:
        results = []
        for job in jobs:
            results.append(_make_one(job))
            bar.update()
    bar.close()
    images, annotations = [], []
    for image, anns in results:
        images.append(image)
        for ann in anns:
            annotations.append({"id": len(annotations) + 1, **ann})
    coco = {
        "info": {
            "description": "engine.synth simulated dual-energy X-ray bags",
            "seed": seed,
            "bag_config": asdict(bag_config),
        },
        "categories": [
            {"id": i + 1, "name": c, "supercategory": "object"} for i, c in enumerate(CATEGORIES)
        ],
        "images": images,
        "annotations": annotations,
    }
    path = out / ANNOTATIONS
    atomic_write_bytes(path, json.dumps(coco, indent=1).encode())
    return path
