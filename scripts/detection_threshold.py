"""Choose a bundle's detection threshold: false detections on real benign bags against recall.

Screens real benign bags (backgrounds kept out of training, e.g. those of a projection split's
val.json; never the evaluation list) and labelled validation images at a low score floor, then
prints, per threshold, the false detections per benign bag (classes that such bags do not hold)
and the recall of the labelled objects (a detection of the right class at box IoU >= 0.5).

    .venv/bin/python scripts/detection_threshold.py --model runs/demo-v2.xsb \
        --benign-split runs/demo-v2-tip/val.json --val runs/demo-v2/val.json [--max-val 150]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from engine.data.split import image_root
from engine.improve import match_findings
from engine.io import load_scan
from engine.pipeline import Screener

RARE = ("laptop", "mobile", "iron", "toaster", "hairdryer")
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--benign-split", required=True, help="projection split: its backgrounds")
    parser.add_argument("--backgrounds-dir", default="../shared/data/sixray_benign")
    parser.add_argument("--val", required=True, help="labelled COCO file for recall")
    parser.add_argument("--max-val", type=int, default=150)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)

    bundle = Screener.from_bundle(args.model, args.device).bundle
    screener = Screener({**bundle, "thresholds": {**bundle["thresholds"], "detection": 0.05}})
    split = json.loads(Path(args.benign_split).read_text())
    names = sorted({im["background"] for im in split["images"]})
    false_scores: list[float] = []
    for name in tqdm(names, desc="benign", leave=False):
        result = screener(load_scan(Path(args.backgrounds_dir) / name))
        false_scores += [f.score for f in result.findings if f.label in RARE]
    val_path = Path(args.val)
    coco = json.loads(val_path.read_text())
    root = image_root(val_path, coco)
    cats = [c["name"] for c in coco["categories"]]
    truth: dict[int, list[dict]] = {}
    for ann in coco["annotations"]:
        truth.setdefault(ann["image_id"], []).append(ann)
    hits = {t: 0 for t in THRESHOLDS}
    objects = 0
    for image in tqdm(coco["images"][: args.max_val], desc="val", leave=False):
        result = screener(load_scan(root / image["file_name"]))
        anns = truth.get(image["id"], [])
        objects += len(anns)
        for t in THRESHOLDS:
            kept = [f for f in result.findings if f.score >= t]
            hits[t] += sum(m is not None for m in match_findings(kept, anns, cats, 0.5))
    scores = np.asarray(false_scores)
    print(f"# {args.model}: {len(names)} benign bags, {objects} labelled objects")
    print("| threshold | false detections / benign bag | recall (IoU 0.5) |")
    print("|---|---|---|")
    for t in THRESHOLDS:
        print(f"| {t:.2f} | {(scores >= t).sum() / len(names):.2f} | {hits[t] / objects:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
