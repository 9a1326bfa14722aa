"""`xray-engine`: the command line: scans, simulator, training, evaluation, screening."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from engine import __version__
from engine.errors import EngineError
from engine.io import DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE, ScanLoadError, load_scan, quote_path
from engine.io.files import one_line
from engine.io.load import LAYOUTS, MAX_PIXELS_ENV

DEBUG_ENV = "XRAY_ENGINE_DEBUG"  # set to 1: an unexpected error shows its traceback


def _split_file(data: str, split: str) -> Path:
    """A split dataset folder's `<split>.json` (test, val), else `data` itself."""
    chosen = Path(data) / f"{split}.json"
    return chosen if chosen.is_file() else Path(data)


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
            scan = load_scan(
                path,
                args.high,
                layout=args.layout,
                max_side=args.max_side,
                max_pixels=args.max_pixels,
            )
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
    if args.backgrounds is not None:
        return _synth_tip(args, config)
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


def _synth_tip(args: argparse.Namespace, config) -> int:
    """`synth --backgrounds`: simulated objects projected into real scans."""
    from engine.synth.projection import BackgroundError, write_tip_dataset

    if args.size is not None or args.n < 1:
        print(
            "xray-engine synth: need --n >= 1; --size does not go with --backgrounds "
            "(the images keep their backgrounds' sizes)",
            file=sys.stderr,
        )
        return 2

    def skipped(path: Path, why: str) -> None:
        print(f"xray-engine synth: skipped {path}: {why}", file=sys.stderr, flush=True)

    try:
        path = write_tip_dataset(
            args.out,
            args.n,
            args.backgrounds,
            args.seed,
            config=config,
            workers=max(1, args.workers),
            on_skip=skipped,
        )
    except (BackgroundError, FileNotFoundError) as exc:
        print(f"xray-engine synth: {exc}", file=sys.stderr)
        return 2
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
            resolve_annotations(args.dataset),
            fractions=fractions,
            seed=args.seed,
            out_dir=args.out,
            hold_out_designs=args.hold_out_designs,
            group_by=args.group_by,
        )
    except ValueError as exc:
        print(f"xray-engine split: {exc}", file=sys.stderr)
        return 2
    print(split_summary(paths))
    return 0


def _cmd_merge(args: argparse.Namespace) -> int:
    """Merge COCO files or dataset folders into one file (images stay where they are)."""
    from engine.data.merge import merge_coco
    from engine.data.split import split_summary

    try:
        out = merge_coco(args.sources, args.out)
    except (ValueError, OSError) as exc:
        print(f"xray-engine merge: {exc}", file=sys.stderr)
        return 2
    print(split_summary({"merged": out}))
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

    from engine.checkpoint import CheckpointError
    from engine.data import CocoDetection, resolve_annotations
    from engine.detection.evaluate import evaluate_detector, load_detector
    from engine.runtime import amp_dtype, resolve_device

    try:
        device = resolve_device(args.device)
        dtype = amp_dtype(args.amp, device)
        model, categories, state = load_detector(args.checkpoint, device)
        data = resolve_annotations(_split_file(args.data, "test"))
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

    data = _split_file(args.data, "test")
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
    from engine.detection.report import csv_text, find_results, markdown
    from engine.io.write import atomic_write_bytes

    try:
        header, rows = anomaly_table(find_results(args.runs))
    except ValueError as exc:
        print(f"xray-engine report-anomaly: {exc}", file=sys.stderr)
        return 2
    print(markdown(header, rows))
    atomic_write_bytes(Path(args.csv), csv_text(header, rows).encode())
    print(f"\n{args.csv}")
    return 0


def _cmd_bundle(args: argparse.Namespace) -> int:
    """One model file for the pipeline from a detector and classifier checkpoints."""
    from engine.bundle import make_bundle
    from engine.checkpoint import CheckpointError

    try:
        path = make_bundle(
            args.detector,
            args.classifier,
            args.out,
            name=args.name or "",
            detection_threshold=args.detection_threshold,
        )
    except (CheckpointError, ValueError, KeyError, OSError) as exc:
        print(f"xray-engine bundle: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


def _review_coco(folder: Path, out: Path) -> Path:
    """The reviewed bags of a scan folder's review project as COCO (the project is only read)."""
    from xray_gui.review.export import export_coco
    from xray_gui.review.store import PROJECT_NAME, ReviewStore

    if not folder.is_dir():
        raise ValueError(f"{folder}: not a folder of reviewed scans")
    project = folder / PROJECT_NAME
    if not project.exists():
        fallback = ReviewStore.fallback_project_path(folder)
        if not fallback.exists():
            raise ValueError(f"{folder}: no review project there (review it in xray-gui first)")
        project = fallback
    store = ReviewStore(folder, project, inspect=True)
    return export_coco(store, out, reviewed_only=True)


def _cmd_improve(args: argparse.Namespace) -> int:
    """Fine-tune a bundle on reviewed bags, compare old and new on held-out bags, write it."""
    from engine.improve import ImproveSettings, improve
    from xray_gui.review.store import ReviewError

    out = Path(args.out)
    if out.suffix != ".xsb":
        print(f"xray-engine improve: {out}: the new bundle must be an .xsb file", file=sys.stderr)
        return 2
    work = Path(args.work) if args.work else out.with_name(out.stem + ".work")
    settings = ImproveSettings(
        min_bags=args.min_bags,
        min_judge_objects=args.min_judge_objects,
        minutes=args.minutes,
        seed=args.seed,
        device=args.device,
    )

    def say(stage: str, done: float) -> None:
        if not args.quiet:
            print(f"[{100 * done:3.0f} %] {stage}", file=sys.stderr, flush=True)

    made = not work.exists()  # a work folder this run made is removed again if the run fails
    try:
        work.mkdir(parents=True, exist_ok=True)
        sources = [
            _review_coco(Path(d), work / f"review_{i}.json") for i, d in enumerate(args.reviews)
        ]
        folders = [str(Path(d).resolve()) for d in args.reviews]
        lineage = improve(args.bundle, sources, out, work, settings, say, folders)
    except (EngineError, ReviewError, ValueError, OSError) as exc:
        said = f"{exc.strerror}: {exc.filename or work}" if isinstance(exc, OSError) else exc
        print(f"xray-engine improve: {one_line(said, 400)}", file=sys.stderr)
        if made:
            shutil.rmtree(work, ignore_errors=True)
        return 2
    old, new = lineage["figures"]["old"], lineage["figures"]["new"]
    print(f"held-out bags: {old['bags']} ({old['objects']} reviewed objects)")
    for name, f in (("old", old), ("new", new)):
        ap = "n/a" if f["AP50"] is None else f"{100 * f['AP50']:.1f}"
        a = f["anomaly"]
        print(
            f"{name}: AP50 {ap}, false detections/bag {f['false_detections_per_bag']:.2f}, "
            f"anomaly TP {a['tp']}/{a['tp'] + a['fn']} FP {a['fp']}/{a['fp'] + a['tn']}"
        )
    print(f"new model {'better' if lineage['better'] else 'NOT better'} on the held-out bags")
    print(out)
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    """Re-place a bundle's anomaly thresholds for a target FP rate on the user's benign objects."""
    from engine.bundle import calibrate_bundle
    from engine.checkpoint import CheckpointError
    from engine.runtime import amp_dtype, resolve_device

    data = _split_file(args.data, "val")
    try:
        device = resolve_device(args.device)
        records = calibrate_bundle(
            args.bundle,
            data,
            args.out,
            target_fpr=args.target_fpr,
            device=device,
            dtype=amp_dtype("auto", device),
        )
    except (CheckpointError, ValueError, KeyError, OSError) as exc:
        print(f"xray-engine calibrate: {exc}", file=sys.stderr)
        return 2
    for r in records:
        judged = ", ".join(r["categories"]) if r["categories"] else "all other classes"
        if "kept" in r:
            print(f"{judged}: threshold {r['previous_threshold']:.4f} kept: {r['kept']}")
            continue
        tp = "" if r["tp_rate"] is None else f", TP {100 * r['tp_rate']:.1f} %"
        print(
            f"{judged}: threshold {r['previous_threshold']:.4f} -> {r['threshold']:.4f} "
            f"(FP {100 * r['fp_rate']:.1f} % of {r['benign']} benign{tp})"
        )
    print(args.out)
    return 0


def _cmd_screen(args: argparse.Namespace) -> int:
    """Screen scans with a bundle: results.jsonl, one line per scan written as soon as it is
    screened, and annotated PNGs. A scan that cannot be read or screened, for whatever reason,
    is reported on one line and recorded with its error; the others go on."""
    from tqdm import tqdm

    from engine.bundle import BundleError
    from engine.pipeline import Screener

    out = Path(args.out)
    try:
        (out / "annotated").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(
            f"xray-engine screen: cannot write to {quote_path(out)}: {_os_error(exc)}",
            file=sys.stderr,
        )
        return 2
    paths = _screen_inputs(args.inputs)
    if not paths:
        shown = ", ".join(quote_path(p) for p in args.inputs[:3])
        print(f"xray-engine screen: no scans in {shown}", file=sys.stderr)
        return 2
    try:
        screener = Screener.from_bundle(args.model, device=args.device)
    except (BundleError, ValueError) as exc:
        print(f"xray-engine screen: {one_line(exc, 400)}", file=sys.stderr)
        return 2
    try:
        results = _JsonLines(out / "results.jsonl")
    except OSError as exc:
        where = quote_path(out / "results.jsonl")
        print(f"xray-engine screen: cannot write {where}: {_os_error(exc)}", file=sys.stderr)
        return 2
    failed, names = 0, set()
    with results:
        for path in tqdm(paths, desc="screen", unit="scan", disable=args.quiet):
            record = _screen_one(screener, path, out, names, args)
            if "error" in record:
                failed += 1
                tqdm.write(f"skipped: {quote_path(path)}: {record['error']}", file=sys.stderr)
            try:
                results.append(record)
            except OSError as exc:
                where = quote_path(results.path)
                print(
                    f"xray-engine screen: cannot write {where}: {_os_error(exc)}", file=sys.stderr
                )
                return 2
    print(f"{len(paths) - failed} screened, {failed} skipped: {out / 'results.jsonl'}")
    return 0


def _screen_inputs(inputs: Sequence[str]) -> list[Path]:
    """The scans of folders (as listed by list_scans) and files, in the order given."""
    from engine.io import list_scans

    paths: list[Path] = []
    for item in map(Path, inputs):
        try:
            paths += list_scans(item) if item.is_dir() else [item]
        except OSError:
            paths.append(item)  # an unreadable folder: load_scan reports it as that scan
    return paths


def _screen_one(screener, path: Path, out: Path, names: set[str], args) -> dict:
    """Load, screen and draw one scan; its results.jsonl record, with `error` when it failed."""
    from engine.io.write import atomic_write_bytes, encode_png
    from engine.pipeline import ScreeningError

    try:
        scan = load_scan(
            path, companions=screener.crops.get("mode") == "dual", max_pixels=args.max_pixels
        )
        result = screener(scan)
        image = encode_png(result.draw(scan.image))
    except ScanLoadError as exc:
        return {"path": str(path), "error": exc.problem}
    except ScreeningError as exc:
        return {"path": str(path), "error": one_line(exc, 300)}
    except MemoryError:
        return {"path": str(path), "error": "not enough memory to screen this scan"}
    except Exception as exc:  # one scan's failure, whatever it is, never ends the run
        problem = f"screening failed ({type(exc).__name__}: {one_line(exc, 200)})"
        return {"path": str(path), "error": problem}
    record = result.to_dict(with_masks=args.masks)
    name = _annotated_name(path, names)
    try:
        atomic_write_bytes(out / "annotated" / name, image)
        record["annotated"] = f"annotated/{name}"
    except OSError as exc:
        record["annotated_error"] = f"cannot write annotated/{name}: {_os_error(exc)}"
    return record


def _annotated_name(path: Path, taken: set[str]) -> str:
    """`a.png` for a.png, `a.jpg.png` for a.jpg, `a-2.png` for a second a.png: never reused."""
    base = path.stem if path.suffix.lower() == ".png" else path.name
    name, n = f"{base}.png", 1
    while name.lower() in taken:
        n += 1
        name = f"{base}-{n}.png"
    taken.add(name.lower())
    return name


class _JsonLines:
    """A JSON Lines file written line by line: each line in one write and flushed to the OS at
    once, so a run that crashes keeps every line written before, and no line half-written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
        self._fd = os.open(path, flags, 0o666)

    def append(self, record: dict) -> None:
        data = memoryview((json.dumps(record) + "\n").encode())
        while data:
            data = data[os.write(self._fd, data) :]

    def __enter__(self) -> _JsonLines:
        return self

    def __exit__(self, *exc) -> None:
        os.close(self._fd)


def _os_error(exc: OSError) -> str:
    return one_line(exc.strerror or exc, 200)


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text[:40]!r}")
    return value


def _max_pixels_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-pixels",
        type=_positive_int,
        metavar="N",
        help="refuse images of more than N pixels, read from the header before decoding "
        f"(default: ${MAX_PIXELS_ENV}, else {DEFAULT_MAX_PIXELS:_})",
    )


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
    _max_pixels_option(info)
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
        "--backgrounds",
        metavar="DIR_OR_LIST",
        help="project simulated objects into these real scans instead (threat image "
        "projection): a folder of images, or a list file of names (relative to the list's "
        "folder, else to sixray_benign/ beside it); writes DIR/images/tip_NNNNNN.png",
    )
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
    split.add_argument(
        "--hold-out-designs",
        type=int,
        default=0,
        metavar="N",
        help="keep N product designs of each class out of train/val/test: their images go to "
        "test_unseen_designs.json, a new-product-model test (default: 0)",
    )
    split.add_argument(
        "--group-by",
        metavar="FIELD",
        help="keep images that share this image field in one split, e.g. `background` for "
        "objects projected into real scans (fractions then count groups)",
    )
    split.set_defaults(func=_cmd_split)

    merge = sub.add_parser(
        "merge",
        help="one COCO file from several datasets (images stay in place)",
        description="Renumber images and annotations, match categories by name and rewrite "
        "image paths relative to the merged file. Split each dataset first if you want to keep "
        "their test splits apart: merge the train files, and the val files.",
    )
    merge.add_argument("sources", nargs="+", metavar="SOURCE", help="COCO files or dataset dirs")
    merge.add_argument("--out", required=True, help="merged COCO JSON to write")
    merge.set_defaults(func=_cmd_merge)

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

    train_cls = sub.add_parser(
        "train-classifier",
        help="train an anomaly classifier on object crops (configs/classification/)",
        description="Train stage 2: data.train=DIR (a split dataset, or benign/ anomalous/ "
        "crops), model.name=resnet18|resnet50|squeezenet1_1|vgg16|dfl_vgg16|patchcore, "
        "crops.mode=rgb|dual, crops.masks=true, data.whole_image=true for the baseline.",
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

    bundle = sub.add_parser("bundle", help="one model file for the pipeline and the GUI")
    bundle.add_argument("--detector", required=True, help="detector checkpoint (best.pt)")
    bundle.add_argument(
        "--classifier",
        action="append",
        help="classifier checkpoint (best.pt); repeat for one per class (data.categories)",
    )
    bundle.add_argument("--out", required=True, help="bundle file to write (.xsb)")
    bundle.add_argument("--name", help="name shown in the GUI (default: the file's stem)")
    bundle.add_argument("--detection-threshold", type=float, default=0.5, help="min score")
    bundle.set_defaults(func=_cmd_bundle)

    calibrate = sub.add_parser(
        "calibrate",
        help="set a bundle's anomaly thresholds for a target FP rate on your own benign objects",
        description="Each classifier's threshold is re-placed so that --target-fpr of the benign "
        "objects of its classes in DATA are flagged (anomalous objects, where labelled, give the "
        "TP rate reached); a classifier with too few benign objects keeps its threshold.",
    )
    calibrate.add_argument("bundle", help="model bundle (.xsb)")
    calibrate.add_argument("--data", required=True, help="COCO JSON, or a split folder (val.json)")
    calibrate.add_argument("--out", required=True, help="calibrated bundle to write (.xsb)")
    calibrate.add_argument("--target-fpr", type=float, default=0.05, help="benign share flagged")
    calibrate.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    calibrate.set_defaults(func=_cmd_calibrate)

    imp = sub.add_parser(
        "improve",
        help="fine-tune a bundle on analysts' reviews; compare old and new on held-out bags",
        description="Reads the review projects of the scan folders given (never changes them), "
        "keeps 20 %% of the reviewed bags (at least 6, stratified, seeded) for the comparison, "
        "fine-tunes the detector and the judges of classes with enough reviewed anomalous and "
        "benign objects on the rest, and writes the new bundle with its parent, data and "
        "figures (also OUT.json). Exit 2 with one line when the reviews cannot be used.",
    )
    imp.add_argument("bundle", help="the model bundle the reviews were made with (.xsb)")
    imp.add_argument(
        "--reviews",
        action="append",
        required=True,
        metavar="DIR",
        help="a reviewed scan folder (repeatable)",
    )
    imp.add_argument("--out", required=True, help="new bundle to write (.xsb)")
    imp.add_argument("--minutes", type=float, default=20.0, help="training budget (default 20)")
    imp.add_argument("--min-bags", type=int, default=30, help="reviewed bags needed (default 30)")
    imp.add_argument(
        "--min-judge-objects",
        type=int,
        default=10,
        metavar="N",
        help="reviewed anomalous and benign objects of a class to retrain its judge (default 10)",
    )
    imp.add_argument("--seed", type=int, default=0, help="split and training seed")
    imp.add_argument("--work", help="folder for splits and runs (default: OUT's stem + .work)")
    imp.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    imp.add_argument("--quiet", action="store_true", help="no progress lines")
    imp.set_defaults(func=_cmd_improve)

    screen = sub.add_parser(
        "screen",
        help="screen scans with a model bundle: results.jsonl and annotated PNGs",
        description="Folders or files. OUT/results.jsonl gets one line per scan as soon as it "
        "is screened (a scan that cannot be read or screened gets its error there and one line "
        "on stderr, and the run goes on; exit 0); OUT/annotated/ gets a PNG per scan (a.png, "
        "a.jpg.png, ...). Exit 2 when the model or OUT cannot be used.",
    )
    screen.add_argument("inputs", nargs="+", metavar="INPUT", help="scan files or folders")
    screen.add_argument("--model", required=True, help="model bundle (.xsb)")
    screen.add_argument("--out", required=True, help="output folder")
    screen.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    screen.add_argument("--masks", action="store_true", help="write instance masks (RLE)")
    screen.add_argument("--quiet", action="store_true", help="no progress bar")
    _max_pixels_option(screen)
    screen.set_defaults(func=_cmd_screen)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command. An error no command expected is still one line on stderr (exit 1); set
    XRAY_ENGINE_DEBUG=1 to see its traceback instead."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print(f"xray-engine {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `xray-engine info *.png | head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except EngineError as exc:  # bad input or set-up: the message says what, exit 2
        print(f"xray-engine {args.command}: {one_line(exc, 400)}", file=sys.stderr)
        return 2
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            raise
        print(
            f"xray-engine {args.command}: unexpected {type(exc).__name__}: {one_line(exc, 300)} "
            f"({DEBUG_ENV}=1 shows where)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
