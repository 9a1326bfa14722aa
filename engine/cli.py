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


def _cmd_train_detector(args: argparse.Namespace) -> int:
    """Train a detector from a config and key=value overrides; --resume continues a run."""
    from engine.checkpoint import CheckpointError
    from engine.config import ConfigError, load_config
    from engine.detection.config import DetectionConfig
    from engine.detection.train import TrainingError, train_detector

    try:
        config = load_config(DetectionConfig, args.config, args.overrides)
        result = train_detector(config, resume=args.resume, progress=not args.quiet)
    except (ConfigError, CheckpointError, TrainingError, ValueError, KeyError) as exc:
        print(f"xray-engine train-detector: {exc}", file=sys.stderr)
        return 2
    summary = {
        "run": str(result.run_dir),
        "steps": result.iterations,
        "val_bbox_map": result.last_map,
        "best_val_bbox_map": result.best_map,
    }
    print(json.dumps(summary))
    return 0


def _cmd_eval_detector(args: argparse.Namespace) -> int:
    """Score a checkpoint on a COCO file; write the figures as JSON."""
    from datetime import UTC, datetime
    from pathlib import Path

    from engine.checkpoint import CheckpointError
    from engine.data import CocoDetection, resolve_annotations
    from engine.detection.evaluate import evaluate_detector, load_detector
    from engine.runtime import amp_dtype, resolve_device

    try:
        device = resolve_device(args.device)
        dtype = amp_dtype(args.amp, device)
        model, categories, state = load_detector(args.checkpoint, device)
        folder_test = Path(args.data) / "test.json"  # a split dataset folder: its test split
        data = folder_test if folder_test.is_file() else resolve_annotations(args.data)
        dataset = CocoDetection(data, categories=categories)
        result = evaluate_detector(
            model, dataset, device, max_images=args.max_images, dtype=dtype, progress=not args.quiet
        )
    except (CheckpointError, ValueError, KeyError, OSError) as exc:
        print(f"xray-engine eval-detector: {exc}", file=sys.stderr)
        return 2
    checkpoint = Path(args.checkpoint)
    result.update(
        run=checkpoint.parent.name,
        model=state["architecture"]["name"],
        checkpoint=str(checkpoint),
        steps=state.get("iteration"),
        device=str(device),
        amp=args.amp,
        date=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    out = Path(args.out) if args.out else checkpoint.parent / f"eval_{data.stem}.json"
    from engine.io.write import atomic_write_bytes

    atomic_write_bytes(out, json.dumps(result, indent=1).encode())
    from engine.evaluation import format_metrics

    print(format_metrics(result))
    print(out)
    return 0


def _cmd_report_detection(args: argparse.Namespace) -> int:
    """Table I for evaluated runs: Markdown on stdout, CSV to a file."""
    from pathlib import Path

    from engine.detection.report import csv_text, detection_table, find_results, markdown
    from engine.io.write import atomic_write_bytes

    try:
        header, rows = detection_table(find_results(args.runs))
    except ValueError as exc:
        print(f"xray-engine report-detection: {exc}", file=sys.stderr)
        return 2
    print(markdown(header, rows))
    atomic_write_bytes(Path(args.csv), csv_text(header, rows).encode())
    print(f"\n{args.csv}")
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

    train = sub.add_parser(
        "train-detector",
        help="train a detector on COCO data (configs/detection/)",
        description="Train a detector. Defaults are the paper's recipe (engine.detection.config); "
        "a --config file and KEY=VALUE overrides change them, e.g. data.train=DIR "
        "model.name=maskrcnn_resnet101_fpn solver.epochs=24. Writes runs/<name>/.",
    )
    train.add_argument("--config", help="YAML file of changes to the defaults")
    train.add_argument("--resume", action="store_true", help="continue runs/<name>/last.pt")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="dotted overrides")
    train.set_defaults(func=_cmd_train_detector)

    evaluate = sub.add_parser(
        "eval-detector",
        help="COCO mAP of a trained detector on a dataset",
        description="Run a checkpoint over a COCO file (a dataset folder means its test.json) "
        "and write bbox/segm mAP, AP50, AP75, per-class AP and ms per image as JSON.",
    )
    evaluate.add_argument("--checkpoint", required=True, help="runs/<name>/best.pt or last.pt")
    evaluate.add_argument("--data", required=True, help="COCO JSON or dataset folder")
    evaluate.add_argument(
        "--out", help="JSON file (default: eval_<data>.json beside the checkpoint)"
    )
    evaluate.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    evaluate.add_argument("--amp", default="auto", choices=["auto", "off", "bf16", "fp16"])
    evaluate.add_argument("--max-images", type=int, help="evaluate the first N images only")
    evaluate.add_argument("--quiet", action="store_true", help="no progress bar")
    evaluate.set_defaults(func=_cmd_eval_detector)

    report = sub.add_parser(
        "report-detection",
        help="Table I: per-class AP and mAP of evaluated runs",
        description="One row per evaluation (eval*.json in each run folder, or the files given).",
    )
    report.add_argument("runs", nargs="+", metavar="RUN", help="run folders or eval JSON files")
    report.add_argument("--csv", default="detection_report.csv", help="CSV file to write")
    report.set_defaults(func=_cmd_report_detection)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
