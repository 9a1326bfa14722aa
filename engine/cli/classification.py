"""`xray-engine` commands of stage 2, the anomaly judges: train, evaluate, report."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine.cli.common import report, split_file


def _cmd_train_classifier(args: argparse.Namespace) -> int:
    """Train an anomaly classifier (or fit the benign-only scorer) from a config."""
    from engine.checkpoint import CheckpointError
    from engine.classification.config import ClassifierConfig
    from engine.classification.train import TrainingError, train_classifier
    from engine.config import ConfigError, load_config

    try:
        config = load_config(ClassifierConfig, args.config, args.overrides)
        result = train_classifier(config, resume=args.resume, progress=not args.quiet)
    except (ConfigError, CheckpointError, TrainingError, ValueError, KeyError, OSError) as exc:
        print(f"xray-engine train-classifier: {exc}", file=sys.stderr)
        return 2
    summary = {
        "run": str(result.run_dir),
        "steps": result.iterations,
        "best_val_auc": result.best_auc,
        "threshold": result.threshold,
    }
    print(json.dumps(summary))
    return 0


def _cmd_eval_classifier(args: argparse.Namespace) -> int:
    """Score a classifier on a test split at its stored threshold; write the figures as JSON."""
    from datetime import UTC, datetime

    from engine.bundle import SUFFIX
    from engine.checkpoint import CheckpointError
    from engine.classification.config import ClassifierConfig
    from engine.classification.evaluate import load_classifier, predict_scores
    from engine.classification.train import make_dataset
    from engine.config import from_dict
    from engine.evaluation.anomaly import anomaly_metrics, fpr_at_tpr
    from engine.io.write import atomic_write_bytes
    from engine.runtime import amp_dtype, resolve_device

    data = split_file(args.data, "test")
    if Path(args.checkpoint).suffix == SUFFIX:
        return _eval_bundle_classifiers(args, data)
    try:
        device = resolve_device(args.device)
        model, state = load_classifier(args.checkpoint, device)
        config = from_dict(ClassifierConfig, state["config"])
        dataset = make_dataset(data, config, int(state["crops"]["size"]), train=False)
        labels, scores = predict_scores(
            model, dataset, device, config.crops.mode, dtype=amp_dtype("auto", device)
        )
        metrics = anomaly_metrics(labels, scores, state["threshold"])
        attributes = getattr(dataset, "attributes", None)  # object crops only
        groups = _anomaly_groups(
            labels,
            scores,
            state["threshold"],
            None if attributes is None else [attributes(i) for i in range(len(dataset))],
        )
    except (CheckpointError, ValueError, KeyError, OSError) as exc:
        print(f"xray-engine eval-classifier: {exc}", file=sys.stderr)
        return 2
    checkpoint = Path(args.checkpoint)
    result = {
        "run": checkpoint.parent.name,
        "method": state["architecture"]["name"],
        "input": "scan" if state["crops"].get("whole_image") else state["crops"]["mode"],
        "masks": bool(state["crops"].get("masks")),
        "checkpoint": str(checkpoint),
        "data": str(data),
        "metrics": metrics.to_dict(),
        "fp_rate_at_tp_90": fpr_at_tpr(labels, scores, 0.9),
        **groups,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    out = Path(args.out) if args.out else checkpoint.parent / f"eval_{data.stem}.json"
    atomic_write_bytes(out, json.dumps(result, indent=1).encode())
    m = metrics
    print(
        f"A {m.accuracy:.3f}  P {m.precision:.3f}  R {m.recall:.3f}  F1 {m.f1:.3f}  "
        f"TP {100 * m.tp_rate:.1f} %  FP {100 * m.fp_rate:.1f} %  AUC {m.roc_auc}"
    )
    _print_groups(groups)
    print(out)
    return 0


def _anomaly_groups(labels, scores, threshold: float, attributes: list[dict] | None) -> dict:
    """Figures per anomaly type and per visibility band, where the annotations record them (the
    simulator does): each group of anomalies against all benign objects."""
    from engine.evaluation.anomaly import VISIBILITY_BANDS, by_group, visibility_band

    if not attributes:
        return {}
    groups = {
        "per_anomaly_type": [a.get("anomaly_type") for a in attributes],
        "per_visibility": [visibility_band(a.get("anomaly_visibility")) for a in attributes],
    }
    bands = [name for _, name in VISIBILITY_BANDS]
    return {
        key: by_group(labels, scores, threshold, names, bands)
        for key, names in groups.items()
        if any(name is not None for name, label in zip(names, labels, strict=True) if label)
    }


def _print_groups(groups: dict) -> None:
    for key, rows in groups.items():
        print(key.replace("_", " ") + ":")
        for name, g in rows.items():
            auc = "–" if g["roc_auc"] is None else f"{g['roc_auc']:.3f}"
            print(f"  {name:12s} n {g['n']:4d}  TP {100 * g['tp_rate']:5.1f} %  AUC {auc}")


def _eval_bundle_classifiers(args: argparse.Namespace, data) -> int:
    """A bundle's classifiers on the ground-truth objects, each object judged by its class's:
    pooled and per-class figures at the bundle's anomaly threshold, as JSON."""
    from datetime import UTC, datetime

    import numpy as np

    from engine.bundle import BundleError, judge_objects, load_bundle
    from engine.evaluation.anomaly import anomaly_metrics, fpr_at_tpr
    from engine.io.write import atomic_write_bytes
    from engine.runtime import amp_dtype, resolve_device

    try:
        device = resolve_device(args.device)
        bundle = load_bundle(args.checkpoint)
        if not bundle["classifiers"]:
            raise BundleError(f"{args.checkpoint}: a detector-only bundle judges no anomalies")
        labels, scores, classes, attributes = judge_objects(
            bundle, data, device, dtype=amp_dtype("auto", device)
        )
    except (BundleError, ValueError, KeyError, OSError) as exc:
        print(f"xray-engine eval-classifier: {exc}", file=sys.stderr)
        return 2
    threshold = float(bundle["thresholds"]["anomaly"])
    classes = np.asarray(classes)
    rows = {"all": np.ones(len(classes), bool)} | {c: classes == c for c in dict.fromkeys(classes)}
    figures = {
        name: anomaly_metrics(labels[keep], scores[keep], threshold).to_dict()
        | {"fp_rate_at_tp_90": fpr_at_tpr(labels[keep], scores[keep], 0.9)}
        for name, keep in rows.items()
    }
    groups = _anomaly_groups(labels, scores, threshold, attributes)
    checkpoint = Path(args.checkpoint)
    result = {
        "bundle": str(checkpoint),
        "data": str(data),
        "classifiers": [
            {"method": c["architecture"]["name"], "categories": c["categories"]}
            for c in bundle["classifiers"]
        ],
        "metrics": figures.pop("all"),
        "per_class": figures,
        **groups,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    out = Path(args.out) if args.out else checkpoint.with_name(f"{checkpoint.stem}_eval.json")
    atomic_write_bytes(out, json.dumps(result, indent=1).encode())
    for name, m in [("all", result["metrics"]), *figures.items()]:
        auc = "–" if m["roc_auc"] is None else f"{m['roc_auc']:.3f}"
        print(
            f"{name:10s} n {m['n']:5d}  A {m['accuracy']:.3f}  TP {100 * m['tp_rate']:5.1f} %  "
            f"FP {100 * m['fp_rate']:5.1f} %  AUC {auc}"
        )
    _print_groups(groups)
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
    eval_cls.set_defaults(func=_cmd_eval_classifier)

    report_a = sub.add_parser(
        "report-anomaly", help="Table II: A, P, R, F1, TP %%, FP %%, AUC of evaluated classifiers"
    )
    report_a.add_argument("runs", nargs="+", metavar="RUN", help="run folders or eval JSON files")
    report_a.add_argument("--csv", default="anomaly_report.csv", help="CSV file to write")
    report_a.set_defaults(func=_cmd_report_anomaly)
