"""Score a trained anomaly classifier: load it for inference, evaluate it on a split.

Imports run one way: models <- predict <- bundle <- evaluate <- train; never the training loop.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from engine.checkpoint import load_checkpoint
from engine.classification.models import (
    KIND,
    build_from_architecture,
    recorded_views,
    views_of,
)
from engine.classification.predict import predict_scores
from engine.runtime import prepare_for_inference, resolve_device


def load_classifier(
    path: str | Path, device: torch.device | str, *, views: int | None = None
) -> tuple[torch.nn.Module, dict]:
    """A trained classifier (eval mode), asked with its recorded test-time views or `views`, and
    its checkpoint state, with a clear error if broken."""
    from engine.checkpoint import rebuilding

    device = resolve_device(device) if isinstance(device, str) else device
    state = load_checkpoint(path, kind=KIND)
    with rebuilding(f"{path}: does not rebuild into its classifier"):
        model = build_from_architecture(state["architecture"])
        model.load_state_dict(state["model"])
    model = prepare_for_inference(model, device)
    return recorded_views(model, state["architecture"], state["crops"], views), state


def evaluate_checkpoint(
    checkpoint: str | Path, data: Path, device: torch.device, *, views: int | None = None
) -> dict:
    """A classifier checkpoint on a split at its stored threshold: the paper's figures, ROC AUC,
    FP rate at 90 % TP and, where annotations record them, figures per anomaly type, visibility
    band and cover band and for the anomalies that show (`anomaly_groups`; the `eval-classifier`
    JSON). `views` overrides the test-time views the run was validated with; the threshold
    stays the one placed with those."""
    from engine.classification.config import ClassifierConfig
    from engine.classification.data import make_dataset
    from engine.config import from_dict
    from engine.evaluation.anomaly import anomaly_metrics, fpr_at_tpr
    from engine.runtime import amp_dtype

    model, state = load_classifier(checkpoint, device, views=views)
    trained_views = views_of(state["architecture"])
    config = from_dict(ClassifierConfig, state["config"])
    dataset = make_dataset(data, config, int(state["crops"]["size"]), train=False)
    labels, scores = predict_scores(  # one pass: workers read the crops, none held in memory
        model,
        dataset,
        device,
        config.crops.mode,
        dtype=amp_dtype("auto", device),
        num_workers=config.data.num_workers,
    )
    threshold = state["threshold"]
    attributes = getattr(dataset, "attributes", None)  # object crops only
    items = None if attributes is None else [attributes(i) for i in range(len(dataset))]
    checkpoint = Path(checkpoint)
    return {
        "run": checkpoint.parent.name,
        "method": state["architecture"]["name"],
        "input": "scan" if state["crops"].get("whole_image") else state["crops"]["mode"],
        "views": views_of(state["architecture"], views),
        "threshold_views": trained_views,  # the views the stored threshold was placed with
        "masks": bool(state["crops"].get("masks")),
        "align": bool(state["crops"].get("align")),
        "checkpoint": str(checkpoint),
        "data": str(data),
        "metrics": anomaly_metrics(labels, scores, threshold).to_dict(),
        "fp_rate_at_tp_90": fpr_at_tpr(labels, scores, 0.9),
        **anomaly_groups(labels, scores, threshold, items),
        "date": _now(),
    }


def evaluate_bundle_judges(
    bundle_path: str | Path, data: Path, device: torch.device, *, views: int | None = None
) -> dict:
    """A bundle's judges on the ground-truth objects, each judged by its class's: pooled and
    per-class figures at the bundle's anomaly threshold (the `eval-classifier` JSON). `views`
    asks every judge with that many test-time views instead of its recorded ones; the
    thresholds stay those calibrated with the recorded views (ROC AUC does not use them)."""
    from engine.bundle import BundleError, judge_objects, load_bundle
    from engine.evaluation.anomaly import anomaly_metrics, fpr_at_tpr
    from engine.runtime import amp_dtype

    bundle = load_bundle(bundle_path)
    if not bundle["classifiers"]:
        raise BundleError(f"{bundle_path}: a detector-only bundle judges no anomalies")
    labels, scores, classes, attributes = judge_objects(
        bundle, data, device, dtype=amp_dtype("auto", device), views=views
    )
    threshold = float(bundle["thresholds"]["anomaly"])
    classes = np.asarray(classes)
    rows = {"all": np.ones(len(classes), bool)} | {c: classes == c for c in dict.fromkeys(classes)}
    figures = {
        name: anomaly_metrics(labels[keep], scores[keep], threshold).to_dict()
        | {"fp_rate_at_tp_90": fpr_at_tpr(labels[keep], scores[keep], 0.9)}
        for name, keep in rows.items()
    }
    return {
        "bundle": str(bundle_path),
        "data": str(data),
        "classifiers": [
            {
                "method": c["architecture"]["name"],
                "categories": c["categories"],
                "views": views_of(c["architecture"], views),
                "threshold_views": views_of(c["architecture"]),
            }
            for c in bundle["classifiers"]
        ],
        "metrics": figures.pop("all"),
        "per_class": figures,
        **anomaly_groups(labels, scores, threshold, attributes),
        "date": _now(),
    }


def anomaly_groups(labels, scores, threshold: float, attributes: list[dict] | None) -> dict:
    """Figures per anomaly type, visibility band and cover band, and for every anomaly of 3 σ
    and over together (`visible`), where the annotations record them (the simulator does): each
    group of anomalies against all benign objects."""
    from engine.evaluation.anomaly import (
        COVER_BANDS,
        VISIBILITY_BANDS,
        by_group,
        cover_band,
        visibility_band,
    )

    if not attributes:
        return {}
    bands = [visibility_band(a.get("anomaly_visibility")) for a in attributes]
    faint, shown = VISIBILITY_BANDS[0][1], f"≥ {VISIBILITY_BANDS[0][0]:g} σ"
    groups = {
        "per_anomaly_type": [a.get("anomaly_type") for a in attributes],
        "per_visibility": bands,
        # all the anomalies that show (3 σ and over) together: what a judge can be asked to find
        "visible": [None if b is None or b == faint else shown for b in bands],
        "per_cover": [cover_band(a.get("anomaly_cover")) for a in attributes],
    }
    bands = [name for _, name in (*VISIBILITY_BANDS, *COVER_BANDS)]
    return {
        key: by_group(labels, scores, threshold, names, bands)
        for key, names in groups.items()
        if any(name is not None for name, label in zip(names, labels, strict=True) if label)
    }


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="seconds")
