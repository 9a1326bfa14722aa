"""Improve a model bundle from analysts' reviews: fine-tune, compare on held-out bags, record.

The reviewed bags (COCO files exported from review projects: what the analyst accepted,
corrected or drew, with its class, mask and anomaly flag; a rejected finding is simply not
there, so its region becomes background, a hard negative for the detector) are split into a
training part and a held-out part: `held_out` of the bags (at least `min_held_out`), stratified
by the classes and anomaly flags each bag holds, with `seed` (`engine.data.split.stratify`).
The detector is fine-tuned from the bundle on the training part; a class's judge is fine-tuned
from the bundle's when the bundle has a judge for that class alone and the training part holds
at least `min_judge_objects` anomalous and as many benign objects of it; the others keep
theirs. The old and the new bundle are then screened on the held-out bags alone: box AP50
(pycocotools), false detections per bag and the judges' TP/FP on the reviewed objects. Nothing
is chosen on the held-out bags: the detector is its last checkpoint, a judge's threshold is set
on its training objects, so the comparison cannot favour the new model by selection. The new
bundle records its parent (path and SHA-256), the reviewed folders, counts, the rule and both
sets of figures under `lineage`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.data.split import image_labels, is_anomalous, load_coco, resolve_annotations
from engine.errors import EngineError
from engine.io.write import atomic_write_bytes

Progress = Callable[[str, float], None]  # (stage, share of the whole run done)


class ImproveError(EngineError, ValueError):
    """Why a model cannot be improved from these reviews, in one line."""


@dataclass(frozen=True)
class ImproveSettings:
    """How much review data is needed, how it is split, how long training may take."""

    min_bags: int = 30  # reviewed bags needed at all
    held_out: float = 0.2  # share of the bags kept for the old-vs-new comparison
    min_held_out: int = 6
    min_judge_objects: int = 10  # anomalous and benign objects of a class to retrain its judge
    minutes: float = 20.0  # training budget, detector and judges together
    detector_share: float = 0.7  # of the budget, when judges are retrained too
    seed: int = 0
    device: str = "auto"
    max_epochs: int = 12  # a small review set is seen at most this often
    # Backbone stages the detector's fine-tuning may change (None: all). Freezing all (0)
    # measured worse on benchmarks/improve.py (N = 100: AP50 31.7 against 36.8).
    trainable_backbone_layers: int | None = None
    # Simulated bags of the shipped domain mixed into the detector's fine-tuning (0: none), so
    # a small review set does not wash out what the model knew; only for models of the
    # simulator's six classes.
    replay_bags: int = 0
    lr_per_16: float = 0.01  # the detector's learning rate for a batch of 16 (its batch of 2
    # gets 2/16 of it); a fifth of it measured worse on benchmarks/improve.py (README)


@dataclass
class Prepared:
    """The reviewed bags merged, checked and split."""

    train: Path
    held_out: Path
    bags: int
    counts: dict[str, dict[str, int]]  # class -> {"benign": n, "anomalous": n}, training part
    sources: list[str]


def sha256(path: str | Path) -> str:
    """The file's SHA-256, so a record names exactly which bundle it came from."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def prepare(
    sources: Sequence[str | Path],
    categories: Sequence[str],
    work: Path,
    settings: ImproveSettings,
) -> Prepared:
    """Merge the reviewed COCO files, check their classes and size, split train/held-out."""
    from engine.data.merge import merge_coco
    from engine.data.split import stratify

    if not sources:
        raise ImproveError("no review data given")
    work.mkdir(parents=True, exist_ok=True)
    merged = work / "reviews.json"
    if len(sources) == 1:
        _copy_with_root(resolve_annotations(sources[0]), merged)
    else:
        merge_coco(sources, merged)
    coco = load_coco(merged)
    names = {c["id"]: c.get("name") for c in coco["categories"]}
    used = {names[a["category_id"]] for a in coco["annotations"]}
    unknown = sorted(str(n) for n in used - set(categories))
    if unknown:
        raise ImproveError(
            f"the reviews use classes the model does not know: {', '.join(unknown)} "
            f"(model classes: {', '.join(categories)})"
        )
    n = len(coco["images"])
    if n < settings.min_bags:
        raise ImproveError(f"{n} reviewed bags; at least {settings.min_bags} needed")
    held_share = max(settings.held_out, settings.min_held_out / n)
    assignment = stratify(image_labels(coco), (1 - held_share, held_share), settings.seed)
    parts = {}
    for j, name in enumerate(("train", "held_out")):
        ids = {im["id"] for im, k in zip(coco["images"], assignment, strict=True) if k == j}
        part = {
            **coco,
            "categories": [  # the model's classes, in its order, whatever the reviews used
                {"id": i, "name": c, "supercategory": "object"} for i, c in enumerate(categories, 1)
            ],
            "images": [im for im in coco["images"] if im["id"] in ids],
            "annotations": [
                dict(a, category_id=list(categories).index(names[a["category_id"]]) + 1)
                for a in coco["annotations"]
                if a["image_id"] in ids
            ],
        }
        parts[name] = work / f"{name}.json"
        atomic_write_bytes(parts[name], json.dumps(part).encode())
    train = load_coco(parts["train"])
    counts = {c: {"benign": 0, "anomalous": 0} for c in categories}
    for ann in train["annotations"]:
        state = "anomalous" if is_anomalous(ann) else "benign"
        counts[categories[ann["category_id"] - 1]][state] += 1
    return Prepared(parts["train"], parts["held_out"], n, counts, [str(s) for s in sources])


def _copy_with_root(source: Path, out: Path) -> None:
    """One COCO file copied beside the others, its images still found (`info.image_root`)."""
    from engine.data.split import image_root

    coco = load_coco(source)
    coco["info"] = {**(coco.get("info") or {}), "image_root": str(image_root(source, coco))}
    atomic_write_bytes(out, json.dumps(coco).encode())


def judged_classes(counts: dict[str, dict[str, int]], minimum: int) -> list[str]:
    """The classes with enough reviewed anomalous and benign objects to retrain their judge."""
    return [c for c, n in counts.items() if min(n["benign"], n["anomalous"]) >= minimum]


def finetune_detector(
    bundle: dict,
    bundle_path: Path,
    data: Prepared,
    work: Path,
    settings: ImproveSettings,
    minutes: float,
) -> Path:
    """Fine-tune the bundle's detector on the training part; returns the last checkpoint."""
    from engine.detection.config import (
        DataConfig,
        DetectionConfig,
        ModelConfig,
        RunConfig,
        SolverConfig,
    )
    from engine.detection.train import train_detector

    arch = bundle["detector"]["architecture"]
    short = int(arch.get("min_size", 480))
    model = ModelConfig(
        name=arch["name"],
        norm=arch.get("norm"),
        min_size=short,
        max_size=int(arch.get("max_size", 640)),
        init_from=str(bundle_path),
        trainable_backbone_layers=settings.trainable_backbone_layers,
        **{
            k: int(arch[k])
            for k in ("rpn_batch_size_per_image", "box_batch_size_per_image")
            if k in arch
        },
        **(
            {"box_detections_per_img": arch["box_detections_per_img"]}
            if "box_detections_per_img" in arch
            else {}
        ),
    )
    train = _with_replay(data.train, bundle["categories"], work, settings)
    images = len(load_coco(train)["images"])
    config = DetectionConfig(
        data=DataConfig(
            train=str(train),
            val=str(data.train),  # monitoring only; nothing is chosen by it
            categories=tuple(bundle["categories"]),
            min_sizes=(short,),
            max_size=model.max_size,
            num_workers=0,
            val_max_images=min(images, 8),
        ),
        model=model,
        solver=SolverConfig(
            batch_size=2,
            lr_per_16=settings.lr_per_16,
            epochs=settings.max_epochs,
            max_minutes=minutes,
            warmup_iters=min(50, max(1, images // 4)),
        ),
        run=RunConfig(
            out=str(work),
            name="detector",
            seed=settings.seed,
            device=settings.device,
            eval_every=settings.max_epochs,
            checkpoint_every=50,
        ),
    )
    result = train_detector(config, progress=False)
    return result.run_dir / "last.pt"


REPLAY_SEED = 90_210  # never a seed the demo model was trained on


def _with_replay(train: Path, categories: Sequence[str], work: Path, settings) -> Path:
    """The reviewed training bags plus `settings.replay_bags` simulated bags of the shipped
    model's domain (simulator v2.2's bags); the reviews alone for a model of other classes."""
    from engine.data.merge import merge_coco
    from engine.synth.dataset import SIM_V2_2_CONFIG, write_dataset
    from engine.synth.objects import CATEGORIES

    if not settings.replay_bags or set(categories) != set(CATEGORIES):
        return train
    seed = REPLAY_SEED + settings.seed
    # another count or seed: other bags; simulator v2.2's, which the demo model was trained on
    replay = work / f"replay-v2.2-{settings.replay_bags}-{seed}"
    if not (replay / "annotations.json").is_file():
        write_dataset(replay, settings.replay_bags, seed, config=SIM_V2_2_CONFIG, progress=False)
    return merge_coco([train, replay / "annotations.json"], work / "train_replay.json")


def finetune_judge(
    bundle_path: Path,
    category: str,
    data: Prepared,
    work: Path,
    settings: ImproveSettings,
    minutes: float,
    arch: dict,
    crops: dict,
) -> Path:
    """Fine-tune the bundle's judge of `category` on its reviewed objects; returns best.pt."""
    from engine.bundle import crop_settings
    from engine.classification.config import (
        ClassifierConfig,
        ClassifierDataConfig,
        ClassifierModelConfig,
        ClassifierRunConfig,
        ClassifierSolverConfig,
        CropConfig,
    )
    from engine.classification.models import views_of
    from engine.classification.train import train_classifier

    config = ClassifierConfig(
        crops=CropConfig(**crop_settings(crops)),
        data=ClassifierDataConfig(
            train=str(data.train),
            val=str(data.train),  # the threshold is set on training objects, not held-out ones
            categories=(category,),
            num_workers=0,
        ),
        model=ClassifierModelConfig(
            name=arch["name"],
            input_size=arch.get("input_size"),
            init_from=str(bundle_path),
            views=views_of(arch),
        ),
        solver=ClassifierSolverConfig(
            batch_size=16, lr=1e-4, epochs=settings.max_epochs, max_minutes=minutes, warmup_iters=10
        ),
        run=ClassifierRunConfig(
            out=str(work), name=f"judge_{category}", seed=settings.seed, device=settings.device
        ),
    )
    return train_classifier(config, progress=False).run_dir / "last.pt"


def new_bundle(bundle: dict, detector: Path, judges: dict[str, Path], lineage: dict) -> dict:
    """The old bundle with the new detector's and judges' weights, and the lineage record."""
    from engine.bundle import _half
    from engine.checkpoint import load_checkpoint

    out = {k: v for k, v in bundle.items() if k != "path"}
    out["model"] = {
        "detector": _half(load_checkpoint(detector, kind="detector")["model"]),
        "classifiers": list(bundle["model"]["classifiers"]),
    }
    out["classifiers"] = [dict(c) for c in bundle["classifiers"]]
    for category, path in judges.items():
        saved = load_checkpoint(path, kind="classifier")
        k = _judge_of(bundle, category)
        out["model"]["classifiers"][k] = _half(saved["model"])
        out["classifiers"][k].update(
            threshold=float(saved["threshold"]),
            source=str(path),
            validation=saved.get("val_metrics"),
        )
    out["created"] = datetime.now(UTC).isoformat(timespec="seconds")
    out["lineage"] = lineage
    return out


# ----- the old-vs-new comparison ----------------------------------------------------------------
def compare(
    bundle: dict, coco_path: Path, device: str = "auto", iou: float = 0.5
) -> dict[str, Any]:
    """Screen the held-out bags with `bundle`: box AP50, false detections per bag, judge TP/FP.

    AP50 ranks every detection down to a 0.05 score floor; false detections and the judges'
    figures count what the analyst is shown, at the bundle's own detection threshold. A
    detection is true when it overlaps a reviewed object of its class with IoU >= `iou`.
    """
    from engine.data.split import image_root
    from engine.evaluation.coco import evaluate_coco
    from engine.io import load_scan
    from engine.pipeline import Screener

    coco = load_coco(coco_path)
    root = image_root(coco_path, coco)
    shown = float(bundle["thresholds"]["detection"])
    floor = min(shown, 0.05)
    screener = Screener(
        {**bundle, "thresholds": {**bundle["thresholds"], "detection": floor}}, device
    )
    names = [c["name"] for c in coco["categories"]]
    truth: dict[int, list[dict]] = {im["id"]: [] for im in coco["images"]}
    for ann in coco["annotations"]:
        truth[ann["image_id"]].append(ann)
    detections, false_dets = [], 0
    tp = fn = fp = tn = 0
    for image in coco["images"]:
        result = screener(load_scan(root / image["file_name"]))
        for f in result.findings:
            x0, y0, x1, y1 = f.box_xyxy
            detections.append(
                {
                    "image_id": image["id"],
                    "category_id": names.index(f.label) + 1,
                    "bbox": [x0, y0, x1 - x0, y1 - y0],
                    "score": f.score,
                }
            )
        kept = [f for f in result.findings if f.score >= shown]
        matched = match_findings(kept, truth[image["id"]], names, iou)
        false_dets += sum(m is None for m in matched)
        for f, ann in zip(kept, matched, strict=True):
            if ann is None or f.anomaly_score is None:
                continue
            anomalous = is_anomalous(ann)
            tp += anomalous and f.anomalous
            fn += anomalous and not f.anomalous
            fp += not anomalous and f.anomalous
            tn += not anomalous and not f.anomalous
    n = max(len(coco["images"]), 1)
    ap = evaluate_coco(coco, detections, iou_types=("bbox",)) if coco["annotations"] else None
    return {
        "bags": len(coco["images"]),
        "objects": len(coco["annotations"]),
        "AP50": None if ap is None else ap["bbox"]["AP50"],
        "mAP": None if ap is None else ap["bbox"]["mAP"],
        "false_detections_per_bag": false_dets / n,
        "anomaly": {
            "tp": tp,
            "fn": fn,
            "fp": fp,
            "tn": tn,
            "tp_rate": tp / (tp + fn) if tp + fn else None,
            "fp_rate": fp / (fp + tn) if fp + tn else None,
        },
    }


def match_findings(findings, anns: list[dict], names: list[str], iou: float) -> list[dict | None]:
    """Greedy, by score: each finding's reviewed object of its class at IoU >= `iou`, or None."""
    free = list(anns)
    out: list[dict | None] = [None] * len(findings)
    for i in sorted(range(len(findings)), key=lambda i: -findings[i].score):
        f = findings[i]
        best, best_iou = None, iou
        for ann in free:
            if names[ann["category_id"] - 1] != f.label:
                continue
            x, y, w, h = ann["bbox"]
            v = box_iou(f.box_xyxy, (x, y, x + w, y + h))
            if v >= best_iou:
                best, best_iou = ann, v
        if best is not None:
            free.remove(best)
            out[i] = best
    return out


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two xyxy boxes."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def judgement(old: dict, new: dict) -> str:
    """How the new model compares on the held-out bags, counting only changes beyond what
    chance moves on a set this small: AP50 by at least 1/√objects (two standard errors of a
    share measured on that many objects), false detections by at least 2√n + 1 of the n the
    model with more of them made over all held-out bags.

    "better": AP50 no lower and no more false detections, and a real gain on one of them;
    "trade-off": a real gain on one, but the other worse (the analyst decides); "worse": a
    real loss and no real gain; "unclear": no change beyond chance, or no AP50 to compare.

    Any gain at all was once "better", and on 6 held-out bags (15 objects) a model 1.9 points
    better there was 5.7 worse on 60 others (benchmarks/improve.py, N = 25 with replay)."""
    if old["AP50"] is None or new["AP50"] is None:
        return "unclear"
    objects, bags = max(int(new.get("objects") or 1), 1), max(int(new.get("bags") or 1), 1)
    ap = new["AP50"] - old["AP50"]
    old_fd, new_fd = old["false_detections_per_bag"] * bags, new["false_detections_per_bag"] * bags
    ap_noise = 1 / math.sqrt(objects) - 1e-9
    fd_noise = 2 * math.sqrt(max(old_fd, new_fd)) + 1 - 1e-9
    ap_up, ap_down = ap >= ap_noise, -ap >= ap_noise
    fd_down, fd_up = old_fd - new_fd >= fd_noise, new_fd - old_fd >= fd_noise
    no_worse = (  # per bag, as `better` always compared them
        ap >= -1e-9 and new["false_detections_per_bag"] <= old["false_detections_per_bag"] + 1e-9
    )
    gained, lost = ap_up or fd_down, ap_down or fd_up
    if gained:
        return "better" if no_worse else "trade-off"
    return "worse" if lost else "unclear"


def better(old: dict, new: dict) -> bool:
    """Whether the new model is offered as better (`judgement` is "better")."""
    return judgement(old, new) == "better"


# ----- the whole run ----------------------------------------------------------------------------
def _clear_earlier_runs(work: Path) -> None:
    """Remove the training runs an earlier improve left in `work` (kept for a look after a
    failure): a new run starts afresh instead of refusing to overwrite them."""
    import shutil

    if not work.is_dir():
        return
    for run in [work / "detector", *work.glob("judge_*")]:
        if run.is_dir() and (run / "config.yaml").exists():  # a run of ours, not user files
            shutil.rmtree(run)


def improve(
    bundle_path: str | Path,
    sources: Sequence[str | Path],
    out: str | Path,
    work: str | Path,
    settings: ImproveSettings = ImproveSettings(),
    progress: Progress | None = None,
    source_names: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Fine-tune `bundle_path` on the reviewed bags of `sources`, write `out`; returns lineage.

    `work` holds the split files and training runs (kept, so a failed run can be looked at).
    The bundle at `bundle_path` and the review data are only read. Raises ImproveError when
    the reviews cannot improve this model (too few bags, unknown classes). `source_names` says
    where each source came from in the record (e.g. the reviewed scan folders).
    """
    from engine.bundle import load_bundle, save_checkpoint

    say = progress or (lambda stage, done: None)
    bundle_path, out, work = Path(bundle_path), Path(out), Path(work)
    bundle = load_bundle(bundle_path)
    _clear_earlier_runs(work)
    parent_sha = sha256(bundle_path)  # before training: the file the run started from
    say("preparing the reviewed bags", 0.0)
    data = prepare(sources, list(bundle["categories"]), work, settings)
    judged = [
        c
        for c in judged_classes(data.counts, settings.min_judge_objects)
        if _judge_of(bundle, c) is not None
    ]
    share = settings.detector_share if judged else 1.0
    say("fine-tuning the detector", 0.05)
    detector = finetune_detector(
        bundle, bundle_path, data, work, settings, settings.minutes * share
    )
    judges: dict[str, Path] = {}
    for i, category in enumerate(judged):
        say(
            f"fine-tuning the {category} judge",
            0.05 + 0.8 * share + 0.8 * (1 - share) * i / len(judged),
        )
        k = _judge_of(bundle, category)
        minutes = settings.minutes * (1 - share) / len(judged)
        judges[category] = finetune_judge(
            bundle_path,
            category,
            data,
            work,
            settings,
            minutes,
            bundle["classifiers"][k]["architecture"],
            bundle["crops"],
        )
    say("comparing old and new on the held-out bags", 0.85)
    lineage = {
        "parent": {
            "path": str(bundle_path.resolve()),
            "sha256": parent_sha,
            "name": bundle.get("name", ""),
        },
        "sources": list(source_names) if source_names else data.sources,
        "bags": data.bags,
        "split": {
            "rule": f"stratified by class and anomaly, {settings.held_out:.0%} held out "
            f"(at least {settings.min_held_out} bags), seed {settings.seed}",
            "train": len(load_coco(data.train)["images"]),
            "held_out": len(load_coco(data.held_out)["images"]),
        },
        "counts": data.counts,
        "retrained_judges": sorted(judges),
        "settings": asdict(settings),
    }
    candidate = new_bundle(bundle, detector, judges, lineage)
    old = compare(bundle, data.held_out, settings.device)
    say("comparing old and new on the held-out bags", 0.93)
    new = compare(candidate, data.held_out, settings.device)
    lineage["figures"] = {"old": old, "new": new}
    lineage["judgement"] = judgement(old, new)
    lineage["better"] = lineage["judgement"] == "better"
    candidate["lineage"] = lineage
    candidate["name"] = f"{bundle.get('name') or bundle_path.stem}+{data.bags} reviews"
    save_checkpoint(out, candidate)
    atomic_write_bytes(out.with_suffix(".json"), json.dumps(lineage, indent=1).encode())
    say("done", 1.0)
    return lineage


def _judge_of(bundle: dict, category: str) -> int | None:
    """The index of the classifier that judges `category` alone, or None.

    A judge of several classes (or of "all the rest") is kept as it is: fine-tuned on one
    class's reviews, it would change what it says about the others.
    """
    for j, c in enumerate(bundle["classifiers"]):
        if list(c.get("categories") or []) == [category]:
            return j
    return None
