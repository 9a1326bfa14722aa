"""What a model raises on real benign bags: false detections per bag by class, false alarms.

Every bag in the list is cleared (nothing hidden), and laptops, phones, irons, toasters and
hairdryers are rare in them, so each such detection above the bundle's threshold counts as a
false detection. Bottles are common in real bags, so bottle detections are reported apart (look
before you count them). A bag with any finding judged anomalous is a false anomaly alarm.
Several bundles given with `--model` are measured in the same run, on the same bags.

    .venv/bin/python benchmarks/real_benign.py --model resources/models/demo.xsb \
        [--model runs/new.xsb] [--list ../shared/data/sixray_benign_eval.txt] [--json out.json]

The default list is the 40-bag evaluation set: measure on it, never choose a model by it. For
choices during development use backgrounds that were kept out of training (e.g. the test split
of a projection dataset grouped by background: `--from-split DIR/test.json`).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

from engine.io import load_scan
from engine.pipeline import Screener
from engine.synth.projection import list_backgrounds

RARE = ("laptop", "mobile", "iron", "toaster", "hairdryer")  # any such finding is false here
DEFAULT_LIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "sixray_benign_eval.txt"


def _bags(args: argparse.Namespace) -> list[Path]:
    """The bags to screen: a list file or folder, or the backgrounds of a projection split."""
    if args.from_split:
        split = Path(args.from_split)
        names = sorted({im["background"] for im in json.loads(split.read_text())["images"]})
        folder = Path(args.backgrounds_dir)
        return [folder / name for name in names]
    return list_backgrounds(args.list)


def measure(model: str, bags: list[Path], device: str) -> dict:
    """Screen every bag with one bundle and count what it raised."""
    screener = Screener.from_bundle(model, device)
    per_class: Counter[str] = Counter()
    alarms, alarm_classes, failed = 0, Counter(), []
    for path in tqdm(bags, desc=Path(model).name, unit="bag", leave=False):
        try:
            result = screener(load_scan(path))
        except Exception as exc:  # a bad file is reported, the rest still count
            failed.append(f"{path.name}: {exc}")
            continue
        per_class.update(f.label for f in result.findings)
        flagged = [f.label for f in result.findings if f.anomalous]
        alarms += bool(flagged)
        alarm_classes.update(set(flagged))
    n = len(bags) - len(failed)
    return {
        "model": model,
        "bags": n,
        "failed": failed,
        "false_detections_per_bag": sum(per_class[c] for c in RARE) / max(n, 1),
        "per_class_per_bag": {c: per_class[c] / max(n, 1) for c in (*RARE, "bottle")},
        "bottle_per_bag": per_class["bottle"] / max(n, 1),
        "alarm_share": alarms / max(n, 1),
        "alarms_by_class": dict(alarm_classes),
        "threshold": screener.score_threshold,
        "device": screener.device_name,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", required=True, help="bundle (repeatable)")
    parser.add_argument("--list", default=str(DEFAULT_LIST), help="list file or folder of scans")
    parser.add_argument("--from-split", help="screen the backgrounds of this projection split")
    parser.add_argument(
        "--backgrounds-dir",
        default=str(DEFAULT_LIST.parent / "sixray_benign"),
        help="folder of the backgrounds named by --from-split",
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)
    try:
        bags = _bags(args)
    except (OSError, ValueError, KeyError) as exc:
        print(f"real_benign: {exc}", file=sys.stderr)
        return 2
    rows = [measure(m, bags, args.device) for m in args.model]
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    print(f"# real benign bags: {len(bags)} from {args.from_split or args.list}")
    print(f"# {when}, {platform.processor() or platform.machine()}, {rows[0]['device']}")
    head = "| model | bags | false det./bag | " + " | ".join(RARE) + " | bottle | alarmed |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for r in rows:
        cells = [f"{r['per_class_per_bag'][c]:.2f}" for c in (*RARE, "bottle")]
        print(
            f"| {Path(r['model']).name} | {r['bags']} | {r['false_detections_per_bag']:.2f} | "
            + " | ".join(cells)
            + f" | {100 * r['alarm_share']:.0f} % |"
        )
        for line in r["failed"]:
            print(f"  failed: {line}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
