"""`xray-engine`: the command line of the engine: scan info, the simulator, dataset splits."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from engine import __version__
from engine.io import DEFAULT_MAX_SIDE, ScanLoadError, load_scan
from engine.io.load import LAYOUTS


def _cmd_info(args: argparse.Namespace) -> int:
    """Print one JSON object per scan; bad files get a one-line message on stderr and exit 2."""
    status = 0
    if args.high is not None and len(args.paths) != 1:
        print(
            "xray-engine info: --high pairs with exactly one PATH (the low channel)",
            file=sys.stderr,
        )
        return 2
    for path in args.paths:
        try:
            scan = load_scan(path, args.high, layout=args.layout, max_side=args.max_side)
        except ScanLoadError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 2
            continue
        print(json.dumps(scan.describe()), flush=True)
    return status


def _cmd_synth(args: argparse.Namespace) -> int:
    """Write a simulated dataset: scans and a COCO JSON with anomaly attributes."""
    from dataclasses import replace

    from engine.config import ConfigError, load_config
    from engine.synth.dataset import SynthConfig, write_dataset

    try:
        config = load_config(SynthConfig, args.config, args.overrides)
    except ConfigError as exc:
        print(f"xray-engine synth: {exc}", file=sys.stderr)
        return 2
    if args.size is not None:
        try:
            width, height = (int(v) for v in args.size.lower().split("x"))
        except ValueError:
            print(f"xray-engine synth: --size must be WxH, not {args.size!r}", file=sys.stderr)
            return 2
        # Keep the bag's physical size: a smaller image means a coarser pixel.
        pitch = config.bag.pitch_cm * max(640 / width, 480 / height, 1.0)
        bag = replace(config.bag, width=width, height=height, pitch_cm=pitch)
        config = replace(config, bag=bag)
    if args.n < 1 or config.bag.width < 32 or config.bag.height < 32:
        print("xray-engine synth: need --n >= 1 and a size of at least 32x32", file=sys.stderr)
        return 2
    try:
        path = write_dataset(
            args.out, args.n, args.seed, config=config, workers=max(1, args.workers)
        )
    except OSError as exc:
        print(f"xray-engine synth: cannot write to {args.out}: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


def _cmd_split(args: argparse.Namespace) -> int:
    """Write stratified train/val/test COCO files beside a dataset's annotations."""
    from engine.data import resolve_annotations, split_coco, split_summary

    try:
        fractions = tuple(float(f) for f in args.fractions.split(","))
        paths = split_coco(
            resolve_annotations(args.dataset), fractions=fractions, seed=args.seed, out_dir=args.out
        )
    except ValueError as exc:
        print(f"xray-engine split: {exc}", file=sys.stderr)
        return 2
    print(split_summary(paths))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xray-engine", description="X-ray screening engine: scans, models, evaluation."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    info = sub.add_parser("info", help="describe scans as JSON (format, size, channels)")
    info.add_argument("paths", nargs="+", metavar="PATH", help="scan files")
    info.add_argument("--high", metavar="PATH", help="high-energy file pairing with PATH (low)")
    info.add_argument(
        "--layout",
        choices=LAYOUTS,
        default="auto",
        help="side-by-side [low | high] export or single image (default: auto)",
    )
    info.add_argument(
        "--max-side",
        type=int,
        default=DEFAULT_MAX_SIDE,
        help=f"refuse images larger than this a side (default: {DEFAULT_MAX_SIDE})",
    )
    info.set_defaults(func=_cmd_info)

    synth = sub.add_parser(
        "synth",
        help="simulate dual-energy bag scans with COCO ground truth",
        description="Simulate bags: DIR/images/bag_NNNNNN.png with _low/_high/_zeff channels "
        "and DIR/annotations.json. The same seed and config give identical files.",
    )
    synth.add_argument("--out", required=True, help="output folder")
    synth.add_argument("--n", type=int, required=True, help="number of bags")
    synth.add_argument("--seed", type=int, default=0, help="dataset seed (default: 0)")
    synth.add_argument("--size", help="image size WxH (default: 640x480, or the config's)")
    synth.add_argument("--workers", type=int, default=1, help="processes (default: 1)")
    synth.add_argument("--config", help="YAML file of changes to the defaults (configs/synth/)")
    synth.add_argument(
        "overrides",
        nargs="*",
        metavar="KEY=VALUE",
        help="dotted overrides applied after --config, e.g. bag.max_objects=2 kvp=[140]",
    )
    synth.set_defaults(func=_cmd_synth)

    split = sub.add_parser(
        "split",
        help="stratified train/val/test COCO files for a dataset",
        description="Write train.json, val.json and test.json beside DIR/annotations.json (or a "
        "COCO file), each with the same mix of classes and anomalies.",
    )
    split.add_argument("dataset", metavar="DIR", help="dataset folder or COCO JSON file")
    split.add_argument("--fractions", default="0.6,0.2,0.2", help="train,val,test shares")
    split.add_argument("--seed", type=int, default=0, help="split seed (default: 0)")
    split.add_argument("--out", help="folder for the split files (default: beside the input)")
    split.set_defaults(func=_cmd_split)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
