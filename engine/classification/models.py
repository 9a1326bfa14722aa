"""The classifier registry of stage 2: the paper's ResNet-18/50, SqueezeNet 1.1, VGG-16 and
DFL-CNN (`dfl_vgg16`), and beyond it MobileNetV3-Large, the anomaly-map MobileNetV3
(`mobilenet_v3_map`) and the benign-only PatchCore scorer (`patchcore`); `list_classifiers()`.

`build_classifier("resnet18", num_classes=2)`; every model answers `forward(x) -> logits`,
`reset_classifier(num_classes)` and `input_size` (timm's one head API), and may define
`training_loss(x, y)` (DFL-CNN's three streams). Weights load only from a file the user gives
or from the local torch cache (`weights="imagenet"`); from scratch, VGG-16 gets batch norm,
without which it does not train from random weights on a few thousand crops.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torchvision
from torch import nn

from engine.classification.layers import from_scratch_batch_norm
from engine.registry import Registry

CLASSIFIERS = Registry("classifier", 2)


def logit_margins(logits: torch.Tensor) -> torch.Tensor:
    """Per row of N×2 logits, anomalous minus benign in float32: its sigmoid is the anomaly
    probability (the softmax's second column), and shifting it moves the operating point."""
    logits = logits.float()
    return logits[:, 1] - logits[:, 0]


KIND = "classifier"  # the checkpoint kind of a trained classifier


def build_from_architecture(arch: dict, **extra: Any) -> nn.Module:
    """A classifier of the shape a checkpoint's `architecture` recorded (weights not loaded);
    its `views` are how it is asked, not its shape (`with_views`)."""
    return CLASSIFIERS.build_from_architecture(
        {k: v for k, v in arch.items() if k != "views"}, **extra
    )


VIEWS = (1, 2, 4, 8)  # test-time views a judge may average (model.views)


def check_views(views: int, *, name: str = "", align: bool = False) -> None:
    """Raise ConfigError unless a judge of `name` on crops turned along their masks (`align`)
    can be asked with `views`: patchcore scores patches, aligned crops train on flips only."""
    from engine.config import ConfigError

    if views not in VIEWS:
        raise ConfigError(f"model.views must be one of {VIEWS}, not {views}")
    if views != 1 and name == "patchcore":
        raise ConfigError("model.views must be 1 for patchcore, which scores patches")
    if views > 4 and align:
        raise ConfigError(
            "model.views is at most 4 with crops.align: aligned crops are flipped and half-turned"
            " in training, never quarter-turned"
        )


class ViewMean(nn.Module):
    """A judge that scores the mean logits of `views` flipped or turned copies of each square
    crop: view k is k // 2 quarter turns (half turns for aligned crops, `quarter=False`),
    mirrored when k is odd; 2 views are the crop and its mirror, 8 every one training augments
    with. A steadier score for `views` times the compute."""

    def __init__(self, net: nn.Module, views: int, *, quarter: bool = True) -> None:
        super().__init__()
        check_views(views, align=not quarter)
        self.net = net
        self.views = views
        self.turn = 1 if quarter else 2  # quarter turns per step
        self.input_size = getattr(net, "input_size", None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            return self.net(x)
        total = 0
        for k in range(self.views):
            view = torch.rot90(x, self.turn * (k // 2), (2, 3))
            total = total + self.net(torch.flip(view, (3,)) if k % 2 else view).float()
        return total / self.views


def views_of(architecture: dict, views: int | None = None) -> int:
    """The test-time views a judge is asked with: `views`, else those its `architecture`
    records (1 when it records none)."""
    return views or int(architecture.get("views", 1))


def recorded_views(
    model: nn.Module, architecture: dict, crops: dict, views: int | None = None
) -> nn.Module:
    """`model` asked with the test-time views its checkpoint's `architecture` records (or
    `views`), checked against its kind and its `crops` (aligned ones turn by halves)."""
    align = bool(crops.get("align"))
    views = views_of(architecture, views)
    check_views(views, name=architecture["name"], align=align)
    return with_views(model, views, align=align)


def with_views(model: nn.Module, views: int, *, align: bool = False) -> nn.Module:
    """`model` asked with `views` test-time views (ViewMean), in the model's mode; 1: itself.
    `align`: the crops were turned along their masks, so views turn by halves only."""
    if views == 1:
        return model
    return ViewMean(model, views, quarter=not align).train(model.training)


def register_classifier(name: str) -> Callable:
    """Decorator adding a builder to the registry under `name` (`CLASSIFIERS.register`)."""
    return CLASSIFIERS.register(name)


def list_classifiers() -> list[str]:
    """Names `build_classifier` accepts, sorted."""
    return CLASSIFIERS.names()


def build_classifier(name: str, num_classes: int = 2, **kwargs: Any) -> nn.Module:
    """A classifier by registered name; None-valued keywords are dropped (timm's trick).

    Keywords: weights (path, or "imagenet" for the local torch cache), input_size (square
    side the model is fed; 224, DFL-CNN 448), batch_norm (VGG), k (DFL filters per class).
    """
    return CLASSIFIERS.build(name, num_classes, **kwargs)


def _load_imagenet(model: nn.Module, weights: str | Path, arch: str) -> None:
    """Load an ImageNet checkpoint (a file, or "imagenet" from the torch cache) before the
    head is replaced: the same lookup and checks as the detectors' backbones."""
    from engine.detection.models import load_backbone_weights, resolve_backbone_weights

    load_backbone_weights(model, resolve_backbone_weights(weights, arch), arch)


class Classifier(nn.Module):
    """A torchvision classifier behind the common head API."""

    def __init__(self, net: nn.Module, head: str, input_size: int) -> None:
        super().__init__()
        self.net, self._head, self.input_size = net, head, input_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits N×num_classes for images N×3×S×S."""
        return self.net(x)

    @property
    def num_classes(self) -> int:
        layer = self._head_layer()
        return layer.out_features if isinstance(layer, nn.Linear) else layer.out_channels

    def _head_layer(self) -> nn.Module:
        parent, _, index = self._head.rpartition(".")
        module = self.net.get_submodule(parent) if parent else self.net
        return module[int(index)] if index.isdigit() else getattr(module, index)

    def reset_classifier(self, num_classes: int) -> None:
        """A fresh last layer for `num_classes` outputs (fine-tuning to our classes)."""
        old = self._head_layer()
        if isinstance(old, nn.Linear):
            new: nn.Module = nn.Linear(old.in_features, num_classes)
        else:  # SqueezeNet's 1×1 convolution
            new = nn.Conv2d(old.in_channels, num_classes, kernel_size=1)
        parent, _, index = self._head.rpartition(".")
        module = self.net.get_submodule(parent) if parent else self.net
        if index.isdigit():
            module[int(index)] = new
        else:
            setattr(module, index, new)


def _torchvision(arch: str, head: str, default_size: int = 224):
    def builder(*, num_classes: int, weights=None, input_size: int = default_size, batch_norm=None):
        factory = arch
        if arch == "vgg16" and (batch_norm if batch_norm is not None else weights is None):
            factory = "vgg16_bn"  # from scratch VGG needs batch norm to train
        net = getattr(torchvision.models, factory)(weights=None)
        if weights is not None:
            _load_imagenet(net, weights, factory)
        else:
            from_scratch_batch_norm(net)
        model = Classifier(net, head, input_size)
        model.reset_classifier(num_classes)
        return model

    return builder


register_classifier("resnet18")(_torchvision("resnet18", "fc"))
register_classifier("resnet50")(_torchvision("resnet50", "fc"))
register_classifier("squeezenet1_1")(_torchvision("squeezenet1_1", "classifier.1"))
register_classifier("vgg16")(_torchvision("vgg16", "classifier.6"))
# Not in the paper: the demo's light classifier (11 MB in fp16 where ResNet-18 takes 22 MB), the
# same family as the CPU detectors' backbone.
register_classifier("mobilenet_v3_large")(_torchvision("mobilenet_v3_large", "classifier.3"))


@register_classifier("mobilenet_v3_map")
def _anomaly_map(*, num_classes: int, weights=None, input_size: int = 192):
    """Not in the paper: MobileNetV3 taught where the inserted item is (see anomaly_map)."""
    from engine.classification.anomaly_map import AnomalyMapClassifier

    if weights is not None:
        raise ValueError("mobilenet_v3_map trains from scratch; model.weights is not supported")
    return AnomalyMapClassifier(num_classes, input_size=input_size)


@register_classifier("dfl_vgg16")
def _dfl(*, num_classes: int, weights=None, input_size: int = 448, k: int = 10, batch_norm=None):
    from engine.classification.dfl import DFLVGG16

    use_bn = batch_norm if batch_norm is not None else weights is None
    vgg = getattr(torchvision.models, "vgg16_bn" if use_bn else "vgg16")(weights=None)
    if weights is not None:
        _load_imagenet(vgg, weights, "vgg16_bn" if use_bn else "vgg16")
    return DFLVGG16(num_classes, k, input_size=input_size, vgg=vgg)


@register_classifier("patchcore")
def _patchcore(
    *,
    num_classes: int,
    weights=None,
    input_size: int = 224,
    detector: dict | None = None,
    bank_size: int = 0,
):
    """The benign-only scorer on a detector's FPN: `weights` is a detector checkpoint."""
    from engine.classification.patchcore import PatchCore
    from engine.detection.models import build_from_architecture

    if num_classes != 2:
        raise ValueError("patchcore scores benign against anything else: num_classes must be 2")
    state = None
    if weights is not None:
        from engine.checkpoint import load_checkpoint

        state = load_checkpoint(weights, kind="detector")
        detector = state["architecture"]
    if detector is None:
        raise ValueError("patchcore needs a detector checkpoint for its features: model.weights=")
    net = build_from_architecture(detector)
    if state is not None:
        net.load_state_dict(state["model"])
    return PatchCore(net.backbone, bank_size=bank_size, input_size=input_size)
