"""Anomaly scores of a classifier over a dataset: what screening, calibration, evaluation and
training's validation share (no evaluation or training code here)."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Subset

from engine.classification.models import logit_margins
from engine.runtime import autocast


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
    num_workers: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """(labels, anomaly probabilities) of the dataset's items, in order; with `margins`, the
    logit margins (anomalous minus benign) instead, whose sigmoid is the probability.
    `num_workers` processes read the items, for a one-pass evaluation that holds none in memory."""
    model = model.module if hasattr(model, "module") else model
    was_training = model.training
    model.eval()
    norm = normaliser(mode)
    n = len(dataset) if max_items is None else min(len(dataset), max_items)
    if num_workers > 0:
        batches = DataLoader(
            Subset(dataset, range(n)),
            batch_size=batch_size,
            num_workers=num_workers,
            collate_fn=list,
        )
    else:
        batches = (
            [dataset[i] for i in range(start, min(start + batch_size, n))]
            for start in range(0, n, batch_size)
        )
    labels, scores = [], []
    for items in batches:
        x = norm(torch.stack([item[0] for item in items])).to(device)
        with autocast(device, dtype):
            logits = model(x)
        margin = logit_margins(logits)
        scores.append((margin if margins else torch.sigmoid(margin)).cpu())
        labels += [int(item[1]) for item in items]
    model.train(was_training)
    return np.asarray(labels), torch.cat(scores).numpy() if scores else np.zeros(0)
