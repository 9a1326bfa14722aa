"""A stand-in for `xray-engine improve` in GUI tests: no model, no training, stdlib only.

Run as `python fake_engine.py MODE improve BUNDLE --reviews DIR ... --out NEW.xsb [...]`:
  ok       progress lines, a training run in --work, NEW.xsb and NEW.json (better), exit 0
  worse    the same, the new model not better
  fail     a progress line, a warning, the engine's one-line reason, exit 2
  hang     progress to 5 %, a half-made training run, then waits to be killed
It leaves its argv and pid in the folder above the run's (the models folder) for the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def lineage_record(*, better: bool = True, parent: str = "/models/site.xsb") -> dict:
    """A lineage as the engine writes it (fields the GUI reads, figures made up)."""

    def figures(ap50: float, false_per_bag: float, tp: int, fp: int) -> dict:
        return {
            "bags": 8,
            "objects": 21,
            "AP50": ap50,
            "mAP": ap50 / 2,
            "false_detections_per_bag": false_per_bag,
            "anomaly": {
                "tp": tp,
                "fn": 6 - tp,
                "fp": fp,
                "tn": 15 - fp,
                "tp_rate": tp / 6,
                "fp_rate": fp / 15,
            },
        }

    return {
        "parent": {"path": parent, "sha256": "0" * 64, "name": "site"},
        "sources": ["/work/review_0.json"],
        "bags": 40,
        "split": {"rule": "stratified", "train": 32, "held_out": 8},
        "counts": {"bottle": {"benign": 12, "anomalous": 11}},
        "retrained_judges": ["bottle"],
        "settings": {"minutes": 20.0},
        "figures": {
            "old": figures(0.412, 0.75, 4, 3),
            "new": figures(0.45, 0.5, 5, 2) if better else figures(0.40, 0.875, 4, 3),
        },
        "better": better,
    }


def say(share: float, stage: str) -> None:
    print(f"[{100 * share:3.0f} %] {stage}", file=sys.stderr, flush=True)


def main() -> int:
    mode = sys.argv[1]
    parser = argparse.ArgumentParser()
    parser.add_argument("command")
    parser.add_argument("bundle")
    parser.add_argument("--reviews", action="append", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--work")
    parser.add_argument("--minutes")
    parser.add_argument("--device")
    args = parser.parse_args(sys.argv[2:])
    out = Path(args.out)
    work = Path(args.work) if args.work else out.with_name(out.stem + ".work")
    models = out.parent.parent
    (models / "fake_args.json").write_text(json.dumps(sys.argv[2:]))
    (models / "fake.pid").write_text(str(os.getpid()))
    say(0.0, "preparing the reviewed bags")
    if mode == "fail":
        print("UserWarning: something harmless", file=sys.stderr)
        print("xray-engine improve: 12 reviewed bags; at least 30 needed", file=sys.stderr)
        return 2
    work.mkdir(parents=True, exist_ok=True)
    (work / "train.json").write_text("{}")
    run = work / "detector"
    run.mkdir()
    (run / "last.pt").write_bytes(b"\0" * 1024)
    say(0.05, "fine-tuning the detector")
    if mode == "hang":
        time.sleep(120)
        return 0
    time.sleep(0.2)
    say(0.85, "comparing old and new on the held-out bags")
    say(0.93, "comparing old and new on the held-out bags")
    lineage = lineage_record(better=mode != "worse", parent=args.bundle)
    out.write_bytes(b"not a real bundle")
    out.with_suffix(".json").write_text(json.dumps(lineage, indent=1))
    say(1.0, "done")
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
