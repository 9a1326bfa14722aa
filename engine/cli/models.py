"""`xray-engine` commands on model bundles: `bundle`, `calibrate`, `improve`."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from engine.cli.common import split_file
from engine.errors import DatasetError, EngineError
from engine.io.files import one_line


def _cmd_bundle(args: argparse.Namespace) -> int:
    """One model file for the pipeline from a detector and classifier checkpoints."""
    from engine.bundle import make_bundle

    path = make_bundle(
        args.detector,
        args.classifier,
        args.out,
        name=args.name or "",
        detection_threshold=args.detection_threshold,
    )
    print(path)
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    """Re-place a bundle's anomaly thresholds for a target FP rate on the user's benign objects."""
    from engine.bundle import calibrate_bundle
    from engine.runtime import amp_dtype, resolve_device

    data = split_file(args.data, "val")
    device = resolve_device(args.device)
    records = calibrate_bundle(
        args.bundle,
        data,
        args.out,
        target_fpr=args.target_fpr,
        device=device,
        dtype=amp_dtype("auto", device),
    )
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


def _review_coco(folder: Path, out: Path) -> Path:
    """The reviewed bags of a scan folder's review project as COCO (the project is only read)."""
    from xray_gui.review.export import export_coco
    from xray_gui.review.store import PROJECT_NAME, ReviewStore

    if not folder.is_dir():
        raise DatasetError(f"{folder}: not a folder of reviewed scans")
    project = folder / PROJECT_NAME
    if not project.exists():
        fallback = ReviewStore.fallback_project_path(folder)
        if not fallback.exists():
            raise DatasetError(f"{folder}: no review project there (review it in xray-gui first)")
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
    except (EngineError, ReviewError, OSError) as exc:  # the run's work folder goes too
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


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's commands to the `xray-engine` parser."""
    bundle = sub.add_parser("bundle", help="one model file for the pipeline and the GUI")
    bundle.add_argument(
        "--detector",
        required=True,
        help="detector checkpoint (best.pt), or a bundle (.xsb): its detector, to give it judges",
    )
    bundle.add_argument(
        "--classifier",
        action="append",
        help="classifier checkpoint (best.pt), or a bundle (.xsb): its judges, to give them "
        "a new detector; repeat for one per class (data.categories)",
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
