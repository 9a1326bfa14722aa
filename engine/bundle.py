"""Model bundles: one file holding everything the pipeline needs to screen a scan.

A bundle carries the detector's and the classifier's weights (fp16, half the size) and
architectures, the class names, the detection and anomaly thresholds, how objects are cropped
and normalised, the figures the models reached, and the versions that made it. It is written
atomically and read with `weights_only`, so a bundle from elsewhere cannot run code; a wrong or
corrupt file raises `BundleError` naming the file and the problem.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from engine import __version__
from engine.checkpoint import CheckpointError, load_checkpoint, rebuilding, save_checkpoint

KIND = "bundle"
SUFFIX = ".xsb"  # X-ray screening bundle


class BundleError(CheckpointError):
    """A model bundle is missing, unreadable, or lacks what the pipeline needs."""


def _half(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.half() if v.is_floating_point() else v for k, v in state.items()}


def _float(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.float() if v.is_floating_point() else v for k, v in state.items()}


def make_bundle(
    detector: str | Path,
    classifier: str | Path | None,
    out: str | Path,
    *,
    name: str = "",
    detection_threshold: float = 0.5,
    metrics: dict | None = None,
) -> Path:
    """Write a bundle from a detector checkpoint and (optionally) a classifier checkpoint."""
    from engine.classification.crops import MEAN, STD

    det = load_checkpoint(detector, kind="detector")
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
        "classifier": None,
        "model": {"detector": _half(det["model"]), "classifier": None},
        "thresholds": {"detection": float(detection_threshold), "anomaly": 0.5},
        "crops": {"size": 224, "margin": 0.15, "mode": "rgb", "masks": False},
        "metrics": metrics or {},
    }
    if classifier is not None:
        cls = load_checkpoint(classifier, kind="classifier")
        if cls.get("threshold") is None:
            raise BundleError(f"{classifier}: no operating threshold (was it evaluated?)")
        crops = {k: cls["crops"][k] for k in ("size", "margin", "mode", "masks")}
        if cls["crops"].get("whole_image"):
            raise BundleError(f"{classifier}: a whole-scan classifier cannot judge objects")
        bundle["classifier"] = {"architecture": cls["architecture"], "source": str(classifier)}
        bundle["model"]["classifier"] = _half(cls["model"])
        bundle["thresholds"].update(
            anomaly=float(cls["threshold"]), target_fpr=cls.get("target_fpr")
        )
        bundle["crops"] = crops
        bundle["metrics"].setdefault("classifier_validation", cls.get("val_metrics"))
    mode = bundle["crops"]["mode"]
    bundle["normalisation"] = {"mean": list(MEAN[mode]), "std": list(STD[mode])}
    return save_checkpoint(out, bundle)


def load_bundle(path: str | Path) -> dict[str, Any]:
    """Read and check a bundle; BundleError for anything the pipeline could not use."""
    try:
        bundle = load_checkpoint(path)
    except CheckpointError as exc:
        raise BundleError(str(exc)) from None
    if bundle.get("kind") != KIND:
        raise BundleError(
            f"{path}: a {bundle.get('kind', 'unknown')} checkpoint, not a model bundle "
            f"(make one with xray-engine bundle)"
        )
    for key in ("categories", "detector", "thresholds", "crops", "model"):
        if key not in bundle:
            raise BundleError(f"{path}: bundle without {key!r}")
    bundle["path"] = str(path)
    return bundle


def build_models(bundle: dict[str, Any], device: torch.device):
    """(detector, classifier or None) in eval mode on `device`, weights from the bundle."""
    from engine.classification.train import build_from_architecture as build_classifier_arch
    from engine.detection.evaluate import prepare_for_inference
    from engine.detection.train import build_from_architecture as build_detector_arch

    where = bundle.get("path", "bundle")
    with rebuilding(f"{where}: its models do not rebuild", BundleError):
        detector = build_detector_arch(bundle["detector"]["architecture"])
        detector.load_state_dict(_float(bundle["model"]["detector"]))
        classifier = None
        if bundle.get("classifier"):
            classifier = build_classifier_arch(bundle["classifier"]["architecture"])
            classifier.load_state_dict(_float(bundle["model"]["classifier"]))
    detector = prepare_for_inference(detector, device)
    if classifier is not None:
        classifier = prepare_for_inference(classifier, device)
    return detector, classifier
