"""Small pieces the classifier models share (kept apart so that models and anomaly_map do not
import each other)."""

from __future__ import annotations

from torch import nn


def from_scratch_batch_norm(net: nn.Module) -> None:
    """BN momentum 0.1 everywhere: MobileNetV3's 0.01 suits fine-tuning, but from scratch its
    running statistics lag so far behind the weights that eval outputs are constant."""
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = 0.1
