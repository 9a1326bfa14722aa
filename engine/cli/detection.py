"""`xray-engine` commands of stage 1, the detector: train, evaluate, report."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from engine.cli.common import report


def _cmd_train_detector(args: argparse.Namespace) -> int:
    """Train a detector from a config and key=value overrides; --resume continues a run."""
    from engine.config import load_config
    from engine.detection.config import DetectionConfig
    from engine.detection.train import train_detector

    config = load_config(DetectionConfig, args.config, args.overrides)
    result = train_detector(config, resume=args.resume, progress=not args.quiet)
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

    from engine.data import CocoDetection, resolve_split
    from engine.detection.evaluate import evaluate_detector, load_detector
    from engine.evaluation import format_metrics
    from engine.io.write import atomic_write_bytes
    from engine.runtime import amp_dtype, resolve_device

    device = resolve_device(args.device)
    dtype = amp_dtype(args.amp, device)
    model, categories, state = load_detector(args.checkpoint, device)
    data = resolve_split(args.data, "test")
    dataset = CocoDetection(data, categories=categories)
    result = evaluate_detector(
        model, dataset, device, max_images=args.max_images, dtype=dtype, progress=not args.quiet
    )
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
    atomic_write_bytes(out, json.dumps(result, indent=1).encode())
    print(format_metrics(result))
    print(out)
    return 0


def _cmd_report_detection(args: argparse.Namespace) -> int:
    """Table I for evaluated runs: Markdown on stdout, CSV to a file."""
    from engine.detection.report import detection_table

    return report(detection_table, args.runs, args.csv)


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's commands to the `xray-engine` parser."""
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
