"""Model bundles: one file holding everything the pipeline needs to screen a scan.

A bundle carries the detector's weights and architecture, one or more anomaly classifiers
("judges", each for some detector classes or for all the rest), the class names, the detection
and anomaly thresholds, how objects are cropped and normalised, the figures the models reached,
and the versions that made it. Weights are stored in fp16 (half the size). It is written
atomically and read with `weights_only`, so a bundle from elsewhere cannot run code; a wrong or
corrupt file raises `BundleError` naming the file and the problem.

Several judges exist because one classifier for every host class learned here only where the
simulator puts cavities, while one per class learned toasters and phones within minutes: a
classifier trained with `data.categories=[...]` judges those classes in a bundle. Each judge's
anomaly score is re-centred so that its own operating threshold (chosen on validation data for
its target false-positive rate) lands at 0.5: one threshold then means the same for all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine import __version__
from engine.checkpoint import CheckpointError, load_checkpoint, rebuilding, save_checkpoint
from engine.errors import SetupError
from engine.io.files import one_line, quote_path

KIND = "bundle"
SUFFIX = ".xsb"  # X-ray screening bundle
CENTRE = 0.5  # every judge's operating threshold, after re-centring its scores
_CROP_KEYS = ("size", "margin", "mode", "masks", "align")
_EPS = 1e-6


class BundleError(CheckpointError):
    """A model bundle is missing, unreadable, or lacks what the pipeline needs."""


@dataclass
class Judge:
    """One anomaly classifier of a bundle and the detector classes it judges (None: the rest)."""

    model: torch.nn.Module
    categories: frozenset[str] | None
    threshold: float

    def scores(self, logits: torch.Tensor) -> torch.Tensor:
        """Anomaly scores from N×2 logits, re-centred so that `threshold` maps to 0.5."""
        from engine.classification.models import logit_margins

        return self.centred(logit_margins(logits))

    def centred(self, margins: torch.Tensor) -> torch.Tensor:
        """sigmoid(margin) is the classifier's probability; shifted so `threshold` is 0.5."""
        return torch.sigmoid(margins - _logit(self.threshold))


def _logit(p: float) -> float:
    p = min(max(float(p), _EPS), 1 - _EPS)
    return math.log(p / (1 - p))


def route(labels: Sequence[str], judges: Sequence[Judge]) -> list[list[int]]:
    """Per judge, the indices of the labels it judges: its own classes, or the rest."""
    named = set().union(*(j.categories for j in judges if j.categories is not None))
    return [
        [
            i
            for i, label in enumerate(labels)
            if (label in j.categories if j.categories is not None else label not in named)
        ]
        for j in judges
    ]


def _judged_margins(
    bundle: dict[str, Any],
    source: str | Path,
    device: torch.device,
    dtype: torch.dtype | None,
    views: int | None = None,
) -> tuple[list[Judge], list[tuple[np.ndarray, np.ndarray, list[int]]], Any]:
    """(judges, per judge (labels, logit margins, dataset indices), dataset) for the ground-truth
    objects of a COCO file whose classes the detector knows, cropped as the bundle crops; the
    judges asked with their recorded views or `views`."""
    from engine.classification.data import ObjectCrops
    from engine.classification.predict import predict_scores

    judges = build_judges(bundle, device, views)
    c = bundle["crops"]
    dataset = ObjectCrops(
        source,
        size=int(c["size"]),
        margin=float(c["margin"]),
        mode=c["mode"],
        masks=c["masks"],
        align=c["align"],
    )
    known = set(bundle["categories"])
    names = [item.category if item.category in known else "" for item in dataset.items]
    judged = []
    for judge, index in zip(judges, route(names, judges), strict=True):
        index = [i for i in index if names[i]]
        if not index:
            judged.append((np.zeros(0, np.int64), np.zeros(0), index))
            continue
        y, margins = predict_scores(
            judge.model,
            torch.utils.data.Subset(dataset, index),
            device,
            c["mode"],
            dtype=dtype,
            margins=True,
        )
        judged.append((y, margins, index))
    return judges, judged, dataset


def judge_objects(
    bundle: dict[str, Any],
    source: str | Path,
    device: torch.device,
    *,
    dtype: torch.dtype | None = None,
    views: int | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str], list[dict]]:
    """(labels, scores, class names, annotation attributes) of the ground-truth objects of a COCO
    file, each cropped as the bundle crops and scored by the judge of its class (re-centred, so
    0.5 is the operating point): the bundle's stage 2 on its own, without detection errors.
    `views`: every judge asked with this many test-time views instead of its recorded ones."""
    judges, judged, dataset = _judged_margins(bundle, source, device, dtype, views)
    labels, scores, classes, attributes = [], [], [], []
    for judge, (y, margins, index) in zip(judges, judged, strict=True):
        labels.append(y)
        scores.append(judge.centred(torch.from_numpy(margins)).numpy())
        classes += [dataset.items[i].category for i in index]
        attributes += [dataset.attributes(i) for i in index]
    if not classes:
        raise BundleError(f"{source}: no object of a class the bundle's classifiers judge")
    return np.concatenate(labels), np.concatenate(scores), classes, attributes


MIN_CALIBRATION_BENIGN = 20  # fewer benign objects cannot place a 5 % FP threshold at all


def calibrate_bundle(
    path: str | Path,
    source: str | Path,
    out: str | Path,
    *,
    target_fpr: float = 0.05,
    device: torch.device | str = "cpu",
    dtype: torch.dtype | None = None,
) -> list[dict[str, Any]]:
    """Re-place each judge's threshold so that `target_fpr` of the benign objects of its classes
    in `source` (a COCO file: a site's own cleared bags) are flagged; write the bundle to `out`.

    Only benign objects are needed; anomalous ones, where labelled, give the TP rate reached.
    A judge with fewer than MIN_CALIBRATION_BENIGN benign objects keeps its threshold. Returns
    one record per judge (also stored in the bundle as its `calibration`).
    """
    from engine.evaluation.anomaly import threshold_for_benign

    if not 0.0 <= target_fpr <= 1.0:
        raise SetupError(f"--target-fpr must be a share in [0, 1], got {target_fpr}")
    bundle = load_bundle(path)
    if not bundle["classifiers"]:
        raise BundleError(f"{path}: a detector-only bundle has no anomaly threshold to calibrate")
    _, judged, _ = _judged_margins(bundle, source, torch.device(device), dtype)
    records = []
    for info, (y, margins, _) in zip(bundle["classifiers"], judged, strict=True):
        benign, anomalous = margins[y == 0], margins[y == 1]
        record: dict[str, Any] = {
            "categories": info["categories"],
            "data": str(source),
            "benign": len(benign),
            "anomalous": len(anomalous),
            "target_fpr": float(target_fpr),
            "previous_threshold": float(info["threshold"]),
        }
        records.append(record)
        info["calibration"] = record
        if len(benign) < MIN_CALIBRATION_BENIGN:
            record["kept"] = f"{len(benign)} benign objects (at least {MIN_CALIBRATION_BENIGN})"
            continue
        cut = threshold_for_benign(benign, target_fpr)  # in logit margins
        info["threshold"] = float(torch.sigmoid(torch.tensor(cut, dtype=torch.float64)))
        info["target_fpr"] = float(target_fpr)
        cut = _logit(info["threshold"])  # the cut the pipeline applies (Judge.centred)
        record |= {
            "threshold": info["threshold"],
            "fp_rate": float((benign >= cut).mean()),
            "tp_rate": float((anomalous >= cut).mean()) if len(anomalous) else None,
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    bundle.pop("path", None)
    save_checkpoint(out, bundle)
    return records


def _half(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.half() if v.is_floating_point() else v for k, v in state.items()}


def _float(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.float() if v.is_floating_point() else v for k, v in state.items()}


def _detector_checkpoint(path: str | Path) -> dict[str, Any]:
    """A detector checkpoint, or what a bundle (.xsb) holds of its detector."""
    if Path(path).suffix != ".xsb":
        return load_checkpoint(path, kind="detector")
    bundle = load_bundle(path)
    return {
        "categories": bundle["categories"],
        "architecture": bundle["detector"]["architecture"],
        "model": _float(bundle["model"]["detector"]),
    }


def make_bundle(
    detector: str | Path,
    classifiers: str | Path | Sequence[str | Path] | None,
    out: str | Path,
    *,
    name: str = "",
    detection_threshold: float = 0.5,
    metrics: dict | None = None,
) -> Path:
    """Write a bundle from a detector checkpoint and any number of classifier checkpoints.

    A classifier trained on some classes (`data.categories`) judges those; at most one trained
    on all judges the classes no other claims. All must crop objects alike. `detector` may be a
    bundle (.xsb): its detector is taken, to give it other judges; a classifier may be one too:
    its judges are taken, to give them a new detector.
    """
    from engine.classification.crops import MEAN, STD

    det = _detector_checkpoint(detector)
    if classifiers is None:
        classifiers = []
    elif isinstance(classifiers, str | Path):
        classifiers = [classifiers]
    bundle: dict[str, Any] = {
        "kind": KIND,
        "name": name or Path(out).stem,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": {
            "engine": __version__,
            "torch": str(torch.__version__),  # a TorchVersion object would not load weights_only
            "torchvision": str(__import__("torchvision").__version__),
        },
        "categories": list(det["categories"]),
        "detector": {"architecture": det["architecture"], "source": str(detector)},
        "classifiers": [],
        "model": {"detector": _half(det["model"]), "classifiers": []},
        "thresholds": {"detection": float(detection_threshold), "anomaly": CENTRE},
        "crops": {"size": 224, "margin": 0.15, "mode": "rgb", "masks": False, "align": False},
        "metrics": metrics or {},
    }
    claimed: dict[str | None, str] = {}
    judges = [judge for path in classifiers for judge in _judges_of(path)]
    for i, (path, entry, weights, crops) in enumerate(judges):
        if i and crops != bundle["crops"]:
            raise BundleError(
                f"{path}: crops objects as {crops}, {judges[0][0]} as {bundle['crops']}; "
                f"the classifiers of one bundle must crop alike"
            )
        bundle["crops"] = crops
        for c in entry["categories"] or [None]:
            if c is not None and c not in bundle["categories"]:
                raise BundleError(f"{path}: judges {c!r}, which the detector does not find")
            if c in claimed:
                what = f"class {c!r}" if c else "all other classes"
                raise BundleError(f"{path} and {claimed[c]} both judge {what}")
            claimed[c] = str(path)
        bundle["classifiers"].append(entry)
        bundle["model"]["classifiers"].append(weights)
    mode = bundle["crops"]["mode"]
    bundle["normalisation"] = {"mean": list(MEAN[mode]), "std": list(STD[mode])}
    return save_checkpoint(out, bundle)


def _judges_of(path: str | Path) -> list[tuple[str | Path, dict, dict, dict]]:
    """(source, bundle entry, half-precision weights, crops) of a classifier checkpoint, or of
    each judge of a bundle (.xsb), which keep their thresholds until calibrated again."""
    if Path(path).suffix == ".xsb":
        bundle = load_bundle(path)
        if not bundle["classifiers"]:
            raise BundleError(f"{path}: a bundle without judges has none to give")
        crops = crop_settings(bundle["crops"])
        return [
            (path, {**entry, "source": f"{path}#{k}"}, weights, crops)
            for k, (entry, weights) in enumerate(
                zip(bundle["classifiers"], bundle["model"]["classifiers"], strict=True)
            )
        ]
    cls = load_checkpoint(path, kind="classifier")
    if cls.get("threshold") is None:
        raise BundleError(f"{path}: no operating threshold (was it evaluated?)")
    if cls["crops"].get("whole_image"):
        raise BundleError(f"{path}: a whole-scan classifier cannot judge objects")
    categories = (cls.get("config", {}).get("data") or {}).get("categories")
    entry = {
        "architecture": cls["architecture"],
        "source": str(path),
        "categories": list(categories) if categories else None,
        "threshold": float(cls["threshold"]),
        "target_fpr": cls.get("target_fpr"),
        "validation": cls.get("val_metrics"),
    }
    return [(path, entry, _half(cls["model"]), crop_settings(cls["crops"]))]


def crop_settings(crops: dict[str, Any]) -> dict[str, Any]:
    """How a bundle or classifier crops objects; `align` is False where made before it existed."""
    return {k: crops.get(k, False) if k == "align" else crops[k] for k in _CROP_KEYS}


def load_bundle(path: str | Path) -> dict[str, Any]:
    """Read and check a bundle; BundleError for anything the pipeline could not use."""
    try:
        bundle = load_checkpoint(path)
    except CheckpointError as exc:
        raise BundleError(str(exc)) from None
    where = quote_path(path)
    if bundle.get("kind") != KIND:
        kind = one_line(bundle.get("kind", "unknown"), 40)
        raise BundleError(
            f"{where}: a {kind} checkpoint, not a model bundle (make one with xray-engine bundle)"
        )
    for key in ("categories", "detector", "classifiers", "thresholds", "crops", "model"):
        if key not in bundle:
            raise BundleError(f"{where}: bundle without {key!r} (rebuild it: xray-engine bundle)")
    check_bundle_fields(bundle, where)
    if len(bundle["classifiers"]) != len(bundle["model"]["classifiers"]):
        raise BundleError(f"{where}: classifier weights and descriptions do not match")
    bundle["path"] = str(path)
    return bundle


def check_bundle_fields(bundle: dict[str, Any], where: str) -> None:
    """Raise BundleError naming the file and the field when a field has the wrong type or an
    impossible value: the pipeline then never meets a `None` or a "high" where it wants a number."""

    def bad(field: str, value: Any, expected: str) -> BundleError:
        return BundleError(f"{where}: field {field!r} is {_shown(value)}, expected {expected}")

    def mapping(field: str, value: Any) -> dict:
        if not isinstance(value, dict):
            raise bad(field, value, "a mapping")
        return value

    def names(field: str, value: Any, *, empty: bool = False) -> list[str]:
        if not isinstance(value, list | tuple) or not (value or empty):
            raise bad(field, value, "a list of class names")
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item:
                raise bad(f"{field}[{i}]", item, "a class name")
        if len(set(value)) != len(value):
            raise bad(field, value, "class names without repeats")
        return list(value)

    def fraction(field: str, value: Any) -> None:
        if not _is_number(value) or not 0.0 <= value <= 1.0:
            raise bad(field, value, "a number from 0 to 1")

    def state(field: str, value: Any) -> None:
        mapping(field, value)
        for key, tensor in value.items():
            name = f"{field}.{key}" if isinstance(key, str) else f"{field}[{_shown(key)}]"
            if not isinstance(key, str) or not isinstance(tensor, torch.Tensor):
                raise bad(one_line(name, 80), tensor, "a named weight tensor")

    if not isinstance(bundle.get("name", ""), str):
        raise bad("name", bundle["name"], "text")
    categories = names("categories", bundle["categories"])
    detector = mapping("detector", bundle["detector"])
    arch = mapping("detector.architecture", detector.get("architecture"))
    if not isinstance(arch.get("name"), str):
        raise bad("detector.architecture.name", arch.get("name"), "a detector name")
    classes = arch.get("num_classes")
    if not isinstance(classes, int) or isinstance(classes, bool) or classes != len(categories) + 1:
        expected = f"{len(categories) + 1} (the {len(categories)} categories and the background)"
        raise bad("detector.architecture.num_classes", classes, expected)
    thresholds = mapping("thresholds", bundle["thresholds"])
    for key in ("detection", "anomaly"):
        fraction(f"thresholds.{key}", thresholds.get(key))
    crops = mapping("crops", bundle["crops"])
    size = crops.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise bad("crops.size", size, "a whole number of pixels")
    if not _is_number(crops.get("margin")) or crops["margin"] < 0:
        raise bad("crops.margin", crops.get("margin"), "a number of at least 0")
    if crops.get("mode") not in ("rgb", "dual"):
        raise bad("crops.mode", crops.get("mode"), "'rgb' or 'dual'")
    for key in ("masks", "align"):
        if not isinstance(crops.get(key, False), bool):
            raise bad(f"crops.{key}", crops.get(key), "true or false")
    crops.setdefault("align", False)  # bundles made before crops could be aligned
    if not isinstance(bundle["classifiers"], list):
        raise bad("classifiers", bundle["classifiers"], "a list")
    for i, info in enumerate(bundle["classifiers"]):
        mapping(f"classifiers[{i}]", info)
        judge_arch = mapping(f"classifiers[{i}].architecture", info.get("architecture"))
        if not isinstance(judge_arch.get("name"), str):
            raise bad(f"classifiers[{i}].architecture.name", judge_arch.get("name"), "a name")
        if info.get("categories") is not None:
            names(f"classifiers[{i}].categories", info["categories"])
        fraction(f"classifiers[{i}].threshold", info.get("threshold"))
    model = mapping("model", bundle["model"])
    state("model.detector", model.get("detector"))
    if not isinstance(model.get("classifiers"), list):
        raise bad("model.classifiers", model.get("classifiers"), "a list of weights")
    for i, weights in enumerate(model["classifiers"]):
        state(f"model.classifiers[{i}]", weights)


def _is_number(value: Any) -> bool:
    """A finite int or float, and not a bool (True is not a threshold)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _shown(value: Any) -> str:
    """A value as a message shows it: its repr, cut short; a tensor by its shape."""
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    return one_line(repr(value), 60)


def build_models(bundle: dict[str, Any], device: torch.device) -> tuple[torch.nn.Module, list]:
    """(detector, judges) in eval mode on `device`, weights from the bundle."""
    from engine.detection.models import build_from_architecture as build_detector_arch
    from engine.runtime import prepare_for_inference

    where = bundle.get("path", "bundle")
    with rebuilding(f"{where}: its models do not rebuild", BundleError):
        detector = build_detector_arch(bundle["detector"]["architecture"])
        detector.load_state_dict(_float(bundle["model"]["detector"]))
    return prepare_for_inference(detector, device), build_judges(bundle, device)


def build_judges(
    bundle: dict[str, Any], device: torch.device, views: int | None = None
) -> list[Judge]:
    """The bundle's anomaly classifiers in eval mode on `device`, with what each judges, each
    asked with its recorded test-time views or `views` (thresholds stay as calibrated)."""
    from engine.classification.models import build_from_architecture as build_classifier_arch
    from engine.classification.models import recorded_views
    from engine.config import ConfigError
    from engine.runtime import prepare_for_inference

    where = bundle.get("path", "bundle")
    models = []
    with rebuilding(f"{where}: its classifiers do not rebuild", BundleError):
        for info, state in zip(bundle["classifiers"], bundle["model"]["classifiers"], strict=True):
            model = build_classifier_arch(info["architecture"])
            model.load_state_dict(_float(state))
            models.append(model)
    judges = []
    for info, model in zip(bundle["classifiers"], models, strict=True):
        classes = None if info.get("categories") is None else frozenset(info["categories"])
        try:
            asked = recorded_views(
                prepare_for_inference(model, device), info["architecture"], bundle["crops"], views
            )
        except ConfigError as e:  # e.g. `--views 8` for a patchcore judge
            judged = "every class" if classes is None else ", ".join(sorted(classes))
            asked_for = "its recorded views" if views is None else f"{views} views"
            raise BundleError(f"{where}: the judge of {judged} cannot take {asked_for}: {e}") from e
        judges.append(Judge(asked, classes, float(info["threshold"])))
    return judges
