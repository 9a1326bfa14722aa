"""DFL-CNN on VGG-16 (Wang, Morariu and Davis, CVPR 2018): the pure network and its loss.

Three streams share VGG-16's layers up to conv4_3 (its 10th convolution and ReLU): each conv4_3
position sees a 92×92 patch of the input, at stride 8 (56×56 positions for a 448 input).

- G-stream (global): pool4, conv5_1…conv5_3, pool5, then global average pooling and
  Linear(512, M). The paper keeps VGG's fully connected layers; average pooling and one linear
  layer work at any input size and drop 120 M parameters we could not train from few crops.
- P-stream (parts): a 1×1 convolution of k·M filters on conv4_3, the discriminative filter
  bank (k filters per class, class c owning filters c·k … c·k+k-1), global max pooling, and
  Linear(k·M, M). Each filter answers "is my part anywhere in the image?".
- Side branch: cross-channel average pooling of the k max-pooled responses of each class's
  group, giving M logits without parameters; it ties each group of filters to its class.

`forward` returns g + p + 0.1·side and `training_loss` CE(g) + CE(p) + 0.1·CE(side), the
paper's weighting. The filter bank's non-random initialisation lives in `init.py`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
import torchvision
from torch import nn

TRUNK_CONVS = 10  # conv1_1 … conv4_3
VGG16_CONVS = 13
FEATURE_CHANNELS = 512  # conv4_3 and conv5_3 channels


def _split_features(features: nn.Sequential) -> tuple[nn.Sequential, nn.Sequential]:
    """VGG-16 `features` cut after conv4_3's activation: (trunk, pool4 … pool5).

    Counting convolutions rather than indexing keeps plain VGG-16 and VGG-16-BN alike.
    """
    layers = list(features)
    convs = [i for i, layer in enumerate(layers) if isinstance(layer, nn.Conv2d)]
    if len(convs) != VGG16_CONVS:
        raise ValueError(f"expected VGG-16 features with 13 convolutions, got {len(convs)}")
    end = convs[TRUNK_CONVS - 1] + 1
    while end < len(layers) and not isinstance(layers[end], nn.Conv2d | nn.MaxPool2d):
        end += 1  # the conv4_3's batch norm and ReLU belong to the trunk
    return nn.Sequential(*layers[:end]), nn.Sequential(*layers[end:])


class DFLVGG16(nn.Module):
    """DFL-CNN with a VGG-16 trunk: G-stream, P-stream (filter bank) and side branch.

    Images are N×3×S×S (normalised as the VGG was trained); S need not equal `input_size`,
    which only tells the data pipeline what to feed (448 in the paper). conv4_3 features are
    N×512×S/8×S/8; every stream gives logits N×M.

    Args:
        num_classes: M, the number of classes.
        k: filters per class in the filter bank.
        input_size: square side the model expects, for the data pipeline.
        vgg: a torchvision VGG-16 or VGG-16-BN whose `features` are used (weights included,
            not copied); default a fresh `torchvision.models.vgg16(weights=None)`.
    """

    side_weight: float = 0.1  # the paper's weight of the side branch, in logits and loss

    def __init__(
        self,
        num_classes: int = 2,
        k: int = 10,
        *,
        input_size: int = 448,
        vgg: nn.Module | None = None,
    ) -> None:
        super().__init__()
        if num_classes < 1 or k < 1:
            raise ValueError(f"num_classes and k must be positive, got {num_classes} and {k}")
        if vgg is None:
            vgg = torchvision.models.vgg16(weights=None)
        self.shared, self.g_features = _split_features(vgg.features)
        self.k = k
        self.input_size = input_size
        self.reset_classifier(num_classes)

    def reset_classifier(self, num_classes: int) -> None:
        """Fresh filter bank and classifier layers for `num_classes` outputs, keeping k."""
        if num_classes < 1:
            raise ValueError(f"num_classes must be positive, got {num_classes}")
        ref = next(self.shared.parameters())
        kw = {"device": ref.device, "dtype": ref.dtype}
        self.num_classes = num_classes
        self.g_classifier = nn.Linear(FEATURE_CHANNELS, num_classes, **kw)
        self.filter_bank = nn.Conv2d(FEATURE_CHANNELS, self.k * num_classes, 1, **kw)
        self.part_classifier = nn.Linear(self.k * num_classes, num_classes, **kw)

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        """conv4_3 features (after ReLU), N×512×S/8×S/8, of images N×3×S×S."""
        return self.shared(x)

    def streams(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Logits (g, p, side) of the three streams, each N×M, for images N×3×S×S."""
        f4 = self.trunk(x)  # N×512×S/8×S/8
        f5 = self.g_features(f4)  # N×512×S/32×S/32 (after pool5)
        g = self.g_classifier(f5.mean(dim=(2, 3)))  # N×512 -> N×M
        responses = self.filter_bank(f4).amax(dim=(2, 3))  # N×kM×S/8×S/8 -> N×kM
        p = self.part_classifier(responses)  # N×M
        side = responses.view(-1, self.num_classes, self.k).mean(dim=2)  # N×M×k -> N×M
        return g, p, side

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits N×M for images N×3×S×S: g + p + 0.1·side."""
        g, p, side = self.streams(x)
        return g + p + self.side_weight * side

    def training_loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Scalar loss CE(g) + CE(p) + 0.1·CE(side) for images N×3×S×S and labels N (int64)."""
        g, p, side = self.streams(x)
        return (
            F.cross_entropy(g, y)
            + F.cross_entropy(p, y)
            + self.side_weight * F.cross_entropy(side, y)
        )
