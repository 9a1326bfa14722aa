"""A classifier taught where the anomaly is: an anomaly logit per cell, pooled to the crop's.

From image-level labels alone, CNNs trained from scratch on a few thousand crops stayed at
chance here: a screw or a marzipan block inside a laptop covers 1–3 % of the crop and looks like
the object's own parts, so one bit per crop says too little about which pixels matter. The
simulator records each inserted item's mask (`attributes.anomaly_segmentation`), so every crop
also carries a per-cell target: is part of an inserted item here? That dense signal is what
segmentation networks learn from, and the crop's score is the mean of its top cells' logits
(multiple-instance pooling), so inference needs no map and fits the registry's head API:
`forward(x)` returns 2-class logits [0, z], whose softmax is sigmoid(z).

Crops without a recorded map (user data labelled per object) train the pooled score only.
"""

from __future__ import annotations

import torch
import torchvision
from torch import nn
from torch.nn import functional as F

from engine.classification.layers import from_scratch_batch_norm

UNKNOWN = -1.0  # a target map filled with this has no pixel labels: only its crop label counts
_TWO_CLASSES = "an anomaly map scores anomalous against benign: num_classes must be 2"


class AnomalyMapClassifier(nn.Module):
    """MobileNetV3-Large to stride 16 and a small convolutional head: N×h×w anomaly logits."""

    needs_anomaly_maps = True

    def __init__(self, num_classes: int = 2, input_size: int = 192, top_share: float = 1 / 64):
        super().__init__()
        if num_classes != 2:
            raise ValueError(_TWO_CLASSES)
        net = torchvision.models.mobilenet_v3_large(weights=None)
        self.features = net.features[:13]  # to stride 16 (112 channels); 32 is too coarse
        from_scratch_batch_norm(self.features)
        width = self.features[-1].out_channels
        self.head = nn.Sequential(
            nn.Conv2d(width, 128, 3, padding=1, bias=False),
            nn.BatchNorm2d(128),
            nn.Hardswish(),
            nn.Conv2d(128, 1, 1),
        )
        self.input_size = input_size
        self.num_classes = 2
        self.top_share = top_share

    def reset_classifier(self, num_classes: int) -> None:
        """A fresh last layer; the map scores one class against the other, so only 2."""
        if num_classes != 2:
            raise ValueError(_TWO_CLASSES)
        self.head[-1].reset_parameters()

    def anomaly_map(self, x: torch.Tensor) -> torch.Tensor:
        """Logits N×h×w, one per 16×16 px cell of the input."""
        return self.head(self.features(x))[:, 0]

    def pool(self, cells: torch.Tensor) -> torch.Tensor:
        """The crop's logit: the mean of its top `top_share` cells (at least one)."""
        flat = cells.flatten(1)
        k = max(1, round(flat.shape[1] * self.top_share))
        return flat.topk(k, dim=1).values.mean(dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits N×2 as [0, z]: softmax gives sigmoid(z), the anomaly probability."""
        z = self.pool(self.anomaly_map(x))
        return torch.stack([torch.zeros_like(z), z], dim=1)

    def training_loss(
        self, x: torch.Tensor, y: torch.Tensor, maps: torch.Tensor | None = None
    ) -> torch.Tensor:
        """BCE of the pooled logit against `y`, plus class-balanced BCE of each cell against
        whether an inserted item covers part of it (`maps` N×S×S in [0, 1], or UNKNOWN)."""
        cells = self.anomaly_map(x).float()
        loss = F.binary_cross_entropy_with_logits(self.pool(cells), y.float())
        if maps is None:
            return loss
        known = maps.flatten(1)[:, 0] != UNKNOWN
        if not known.any():
            return loss
        target = F.adaptive_max_pool2d(maps[known, None].float(), cells.shape[-2:])[:, 0]
        target = (target > 0.25).float()  # a cell a quarter-covered by the item counts
        per_cell = F.binary_cross_entropy_with_logits(cells[known], target, reduction="none")
        positive = target > 0
        negative_loss = per_cell[~positive].mean()
        if not positive.any():
            return loss + negative_loss
        return loss + 0.5 * (per_cell[positive].mean() + negative_loss)
