"""Write one judge of a model bundle as a classifier checkpoint, to bundle it again elsewhere.

`make demo-model` keeps a judge of the previous demo model where it beats the newly trained one
on validation (resources/models/README.md); `xray-engine bundle` takes checkpoints, so the judge
is taken out of the old bundle first. Its weights are the bundle's (fp16, widened to fp32).

    .venv/bin/python scripts/extract_judge.py runs/demo-v1.xsb toaster runs/v1_judge_toaster.pt
"""

from __future__ import annotations

import argparse
import sys

from engine.bundle import BundleError, _float, load_bundle
from engine.checkpoint import save_checkpoint


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle")
    parser.add_argument("category", help="the class whose own judge to extract")
    parser.add_argument("out", help="classifier checkpoint to write (.pt)")
    args = parser.parse_args(argv)
    try:
        bundle = load_bundle(args.bundle)
    except BundleError as exc:
        print(f"extract_judge: {exc}", file=sys.stderr)
        return 2
    for info, weights in zip(bundle["classifiers"], bundle["model"]["classifiers"], strict=True):
        if list(info.get("categories") or []) == [args.category]:
            save_checkpoint(
                args.out,
                {
                    "kind": "classifier",
                    "architecture": info["architecture"],
                    "model": _float(weights),
                    "threshold": info["threshold"],
                    "target_fpr": info.get("target_fpr"),
                    "val_metrics": info.get("validation"),
                    "crops": {**bundle["crops"], "whole_image": False},
                    "config": {"data": {"categories": [args.category]}},
                    "source": f"{args.bundle} ({info.get('source')})",
                },
            )
            print(args.out)
            return 0
    print(f"extract_judge: {args.bundle} has no judge of {args.category!r} alone", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
