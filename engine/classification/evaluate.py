"""Score a trained anomaly classifier: load it for inference, predict over a dataset.

Screening and calibration import this, never the training loop (models <- evaluate <- train).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from engine.checkpoint import load_checkpoint
from engine.classification.models import KIND, build_from_architecture, logit_margins
from engine.runtime import autocast, prepare_for_inference, resolve_device


def normaliser(mode: str):
    """A function normalising a batch for `mode` (the statistics crops.py defines)."""
    from engine.classification.crops import MEAN, STD, normalise

    return lambda batch: normalise(batch, MEAN[mode], STD[mode])


@torch.inference_mode()
def predict_scores(
    model: torch.nn.Module,
    dataset,
    device: torch.device,
    mode: str,
    *,
    batch_size: int = 32,
    dtype: torch.dtype | None = None,
    max_items: int | None = None,
    margins: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """(labels, anomaly probabilities) of the dataset's items, in order; with `margins`, the
    logit margins (anomalous minus benign) instead, whose sigmoid is the probability."""
    model = model.module if hasattr(model, "module") else model
    was_training = model.training
    model.eval()
    norm = normaliser(mode)
    n = len(dataset) if max_items is None else min(len(dataset), max_items)
    labels, scores = [], []
    for start in range(0, n, batch_size):
        items = [dataset[i] for i in range(start, min(start + batch_size, n))]
        x = norm(torch.stack([item[0] for item in items])).to(device)
        with autocast(device, dtype):
            logits = model(x)
        margin = logit_margins(logits)
        scores.append((margin if margins else torch.sigmoid(margin)).cpu())
        labels += [int(item[1]) for item in items]
    model.train(was_training)
    return np.asarray(labels), torch.cat(scores).numpy() if scores else np.zeros(0)


def load_classifier(path: str | Path, device: torch.device | str) -> tuple[torch.nn.Module, dict]:
    """A trained classifier (eval mode) and its checkpoint state, with a clear error if broken."""
    from engine.checkpoint import rebuilding

    device = resolve_device(device) if isinstance(device, str) else device
    state = load_checkpoint(path, kind=KIND)
    with rebuilding(f"{path}: does not rebuild into its classifier"):
        model = build_from_architecture(state["architecture"])
        model.load_state_dict(state["model"])
    return prepare_for_inference(model, device), state
