"""A benign-only anomaly scorer: PatchCore-style nearest-neighbour distances of patch features.

A real adversary brings anomalies nobody trained on, so beside the supervised classifiers this
one learns only what benign objects look like (Roth et al., "Towards Total Recall in Industrial
Anomaly Detection", CVPR 2022): locally averaged patch features of benign crops fill a memory
bank (thinned by a greedy k-centre coreset), and a crop's anomaly score is the largest distance
of any of its patches to its nearest benign patch. No anomaly label is ever used.

The features come from the detector's FPN (levels at stride 8 and 16): trained to find objects,
never told which are anomalous, it is the only network here that knows X-ray objects and is
still benign-only (no ImageNet weights can be downloaded). Scores are standardised by the
distances of held-out benign crops and returned as two logits [0, z], so the scorer fits the
classifier API (softmax → a monotone anomaly probability).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn
from torch.nn import functional as F

FEATURE_DIM = 128  # random projection of the 2×256 FPN channels


class PatchCore(nn.Module):
    """Memory bank of benign patch features on a frozen detector FPN."""

    def __init__(
        self, backbone: nn.Module, *, bank_size: int = 0, input_size: int = 224, seed: int = 0
    ):
        super().__init__()
        self.backbone = backbone.eval().requires_grad_(False)
        self.input_size = input_size
        generator = torch.Generator().manual_seed(seed)
        projection = torch.randn(2 * backbone.out_channels, FEATURE_DIM, generator=generator)
        self.register_buffer("projection", projection / FEATURE_DIM**0.5)
        self.register_buffer("bank", torch.zeros(bank_size, FEATURE_DIM))
        self.register_buffer("centre", torch.zeros(()))
        self.register_buffer("scale", torch.ones(()))

    def train(self, mode: bool = True) -> PatchCore:
        super().train(mode)
        self.backbone.eval()  # frozen: batch statistics never change
        return self

    def patches(self, x: torch.Tensor) -> torch.Tensor:
        """Patch features N×P×FEATURE_DIM of images N×3×S×S (FPN levels 1 and 2, 3×3 means)."""
        features = self.backbone(x)
        mid, deep = features["1"], features["2"]
        deep = F.interpolate(deep, size=mid.shape[-2:], mode="bilinear", align_corners=False)
        f = torch.cat([mid, deep], dim=1).float()
        f = F.avg_pool2d(f, 3, stride=1, padding=1)  # locally aware: a patch and its neighbours
        f = f.flatten(2).transpose(1, 2)  # N×P×C
        return f @ self.projection

    def distances(self, x: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
        """Per image, the largest nearest-benign-patch distance of its patches."""
        if len(self.bank) == 0:
            raise RuntimeError("PatchCore has an empty memory bank: fit it on benign crops first")
        p = self.patches(x)
        n, count, dim = p.shape
        flat = p.reshape(-1, dim)
        nearest = torch.cat(
            [
                torch.cdist(flat[i : i + chunk], self.bank).min(dim=1).values
                for i in range(0, len(flat), chunk)
            ]
        )
        return nearest.reshape(n, count).max(dim=1).values

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Two logits per image, [0, standardised score]: softmax gives P(anomalous)."""
        z = (self.distances(x) - self.centre) / self.scale
        return torch.stack([torch.zeros_like(z), z], dim=1)

    @torch.no_grad()
    def fit(
        self,
        benign: Iterable[torch.Tensor],
        held_out: Iterable[torch.Tensor],
        *,
        coreset: float = 0.1,
        max_bank: int = 20000,
        seed: int = 0,
    ) -> dict:
        """Fill the memory bank from benign batches, then standardise on held-out benign ones."""
        feats = torch.cat([self.patches(x).reshape(-1, FEATURE_DIM) for x in benign])
        target = max(1, min(max_bank, int(len(feats) * coreset)))
        keep = greedy_coreset(feats, target, seed=seed)
        self.bank = feats[keep].contiguous()
        scores = torch.cat([self.distances(x) for x in held_out])
        self.centre = scores.mean()
        self.scale = scores.std().clamp_min(1e-6) if len(scores) > 1 else torch.ones(())
        return {"patches": len(feats), "bank": len(self.bank), "held_out": len(scores)}


def greedy_coreset(
    features: torch.Tensor, size: int, *, seed: int = 0, dim: int = 64
) -> torch.Tensor:
    """Indices of a k-centre coreset: each pick is the point farthest from those picked so far.

    Distances are computed in a random 64-d projection, as PatchCore does, to keep it fast.
    """
    n = len(features)
    if size >= n:
        return torch.arange(n)
    generator = torch.Generator().manual_seed(seed)
    if features.shape[1] > dim:
        features = features @ torch.randn(features.shape[1], dim, generator=generator)
    chosen = [int(torch.randint(n, (1,), generator=generator))]
    nearest = torch.cdist(features, features[chosen]).squeeze(1)
    for _ in range(size - 1):
        pick = int(nearest.argmax())
        chosen.append(pick)
        nearest = torch.minimum(
            nearest, torch.cdist(features, features[pick : pick + 1]).squeeze(1)
        )
    return torch.tensor(chosen)
