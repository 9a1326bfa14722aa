"""`xray-engine` commands of stage 2, the anomaly judges: train, evaluate, report."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from engine.cli.common import report, split_file


def _cmd_train_classifier(args: argparse.Namespace) -> int:
    """Train an anomaly classifier (or fit the benign-only scorer) from a config."""
    from engine.classification.config import ClassifierConfig
    from engine.classification.train import train_classifier
    from engine.config import load_config

    config = load_config(ClassifierConfig, args.config, args.overrides)
    result = train_classifier(config, resume=args.resume, progress=not args.quiet)
    summary = {
        "run": str(result.run_dir),
        "steps": result.iterations,
        "best_val_auc": result.best_auc,
        "threshold": result.threshold,
    }
    print(json.dumps(summary))
    return 0


def _cmd_eval_classifier(args: argparse.Namespace) -> int:
    """Score a classifier on a test split at its stored threshold (a bundle: each object by its
    class's judge, at the bundle's); write the figures as JSON."""
    from engine.bundle import SUFFIX
    from engine.classification.evaluate import evaluate_bundle_judges, evaluate_checkpoint
    from engine.io.write import atomic_write_bytes
    from engine.runtime import resolve_device

    data = split_file(args.data, "test")
    checkpoint = Path(args.checkpoint)
    device = resolve_device(args.device)
    if checkpoint.suffix == SUFFIX:
        result = evaluate_bundle_judges(checkpoint, data, device, views=args.views)
        default = checkpoint.with_name(f"{checkpoint.stem}_eval.json")
    else:
        result = evaluate_checkpoint(checkpoint, data, device, views=args.views)
        default = checkpoint.parent / f"eval_{data.stem}.json"
    out = Path(args.out) if args.out else default
    atomic_write_bytes(out, json.dumps(result, indent=1).encode())
    rows = [("all", result["metrics"]), *result.get("per_class", {}).items()]
    for name, m in rows:
        auc = "–" if m["roc_auc"] is None else f"{m['roc_auc']:.3f}"
        print(
            f"{name:10s} n {m['n']:5d}  A {m['accuracy']:.3f}  P {m['precision']:.3f}  "
            f"R {m['recall']:.3f}  F1 {m['f1']:.3f}  TP {100 * m['tp_rate']:5.1f} %  "
            f"FP {100 * m['fp_rate']:5.1f} %  AUC {auc}"
        )
    for key in ("per_anomaly_type", "per_visibility", "visible", "per_cover"):  # JSON's order
        if key in result:
            print(key.replace("_", " ") + ":")
            for name, g in result[key].items():
                auc = "–" if g["roc_auc"] is None else f"{g['roc_auc']:.3f}"
                print(f"  {name:14s} n {g['n']:4d}  TP {100 * g['tp_rate']:5.1f} %  AUC {auc}")
    print(out)
    return 0


def _cmd_report_anomaly(args: argparse.Namespace) -> int:
    """Table II for evaluated classifier runs: Markdown on stdout, CSV to a file."""
    from engine.classification.report import anomaly_table

    return report(anomaly_table, args.runs, args.csv)


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's commands to the `xray-engine` parser."""
    train_cls = sub.add_parser(
        "train-classifier",
        help="train an anomaly classifier on object crops (configs/classification/)",
        description="Train stage 2: data.train=DIR (a dataset folder: its train.json and "
        "val.json, or its annotations.json split 60/20/20 into the run; or benign/ anomalous/ "
        "crops); model.name=NAME: resnet18, resnet50, squeezenet1_1, vgg16, dfl_vgg16, "
        "mobilenet_v3_large, mobilenet_v3_map or patchcore; crops.mode=rgb|dual, "
        "crops.masks=true, data.whole_image=true for the baseline.",
    )
    train_cls.add_argument("--config", help="YAML file of changes to the defaults")
    train_cls.add_argument("--resume", action="store_true", help="continue runs/<name>/last.pt")
    train_cls.add_argument("--quiet", action="store_true", help="no progress bar")
    train_cls.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="dotted overrides")
    train_cls.set_defaults(func=_cmd_train_classifier)

    eval_cls = sub.add_parser(
        "eval-classifier",
        help="anomaly figures of a classifier on a test split, at its stored threshold",
    )
    eval_cls.add_argument(
        "--checkpoint",
        required=True,
        help="runs/<name>/best.pt, or a bundle (.xsb): its classifiers on ground-truth objects",
    )
    eval_cls.add_argument("--data", required=True, help="COCO JSON, split folder or crop tree")
    eval_cls.add_argument("--out", help="JSON file (default: eval_<data>.json beside it)")
    eval_cls.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    eval_cls.add_argument(
        "--views",
        type=int,
        choices=(1, 2, 4, 8),
        help="average this many flips and quarter turns of each crop instead of the run's "
        "model.views (a bundle: every judge's; ROC AUC is threshold-free, the stored thresholds "
        "were placed with the recorded views)",
    )
    eval_cls.set_defaults(func=_cmd_eval_classifier)

    report_a = sub.add_parser(
        "report-anomaly", help="Table II: A, P, R, F1, TP %%, FP %%, AUC of evaluated classifiers"
    )
    report_a.add_argument("runs", nargs="+", metavar="RUN", help="run folders or eval JSON files")
    report_a.add_argument("--csv", default="anomaly_report.csv", help="CSV file to write")
    report_a.set_defaults(func=_cmd_report_anomaly)
