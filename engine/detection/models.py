"""The detector registry: the paper's six detectors and two CPU-friendly ones, built by name.

`build_detector("maskrcnn_resnet101_fpn", num_classes=7)` (background included, as torchvision
counts). Torchvision has no ResNet-101 FPN builders, so every ResNet model here is assembled
from `resnet_fpn_backbone`'s parts. From scratch (no `weights_backbone`) the backbone and FPN use
GroupNorm and train all layers: torchvision's frozen BatchNorm with random weights makes
ResNet-101 activations overflow and detect nothing (../shared/pitfalls.md). With an ImageNet
checkpoint (a file path, or "imagenet" for the file in the local torch cache) the usual
fine-tuning set-up applies: frozen BatchNorm, the last three stages trainable. Nothing is ever
downloaded.

The internal resize follows the data, not torchvision's 800 px default: at evaluation images are
resized to `min_size`/`max_size` (480/640: native for our 640×480 scans, 2–3.5× faster than 800
on a CPU); in training they pass as the dataset's scale jitter made them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import torch
import torchvision
from torch import nn
from torchvision.models.detection import FasterRCNN, MaskRCNN, RetinaNet
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.backbone_utils import (
    _mobilenet_extractor,
    _resnet_fpn_extractor,
)
from torchvision.models.detection.retinanet import RetinaNetHead
from torchvision.models.detection.transform import GeneralizedRCNNTransform
from torchvision.ops import misc as misc_nn_ops
from torchvision.ops.feature_pyramid_network import LastLevelP6P7

from engine.registry import Registry

DEFAULT_MIN_SIZE = 480
DEFAULT_MAX_SIZE = 640
NORMS = ("frozen_bn", "bn", "gn")

DETECTORS = Registry("detector", 2, "(which counts the background) ")

# The ImageNet files torchvision would fetch, looked for only in the local torch cache.
_IMAGENET_FILES = {
    "resnet18": torchvision.models.ResNet18_Weights.IMAGENET1K_V1,
    "resnet50": torchvision.models.ResNet50_Weights.IMAGENET1K_V1,
    "resnet101": torchvision.models.ResNet101_Weights.IMAGENET1K_V1,
    "mobilenet_v3_large": torchvision.models.MobileNet_V3_Large_Weights.IMAGENET1K_V1,
    # the classifiers of stage 2 look their files up here too
    "squeezenet1_1": torchvision.models.SqueezeNet1_1_Weights.IMAGENET1K_V1,
    "vgg16": torchvision.models.VGG16_Weights.IMAGENET1K_V1,
    "vgg16_bn": torchvision.models.VGG16_BN_Weights.IMAGENET1K_V1,
}


class NativeSizeTransform(GeneralizedRCNNTransform):
    """torchvision's detection transform, resizing only at evaluation.

    In training the images arrive already scale-jittered by the dataset's transforms (the
    paper's multi-scale training); resizing them again to one size would undo it.
    """

    def resize(self, image, target=None):
        if self.training:
            return image, target
        return super().resize(image, target)


KIND = "detector"  # the checkpoint kind of a trained detector


def register_detector(name: str) -> Callable:
    """Decorator adding a builder to the registry under `name` (`DETECTORS.register`)."""
    return DETECTORS.register(name)


def list_detectors() -> list[str]:
    """Names `build_detector` accepts, sorted."""
    return DETECTORS.names()


def detector_family(name: str) -> str:
    """ "fasterrcnn", "maskrcnn" or "retinanet": what a registered detector predicts."""
    DETECTORS.check(name)
    return name.split("_", 1)[0]


def build_detector(name: str, num_classes: int, **kwargs: Any) -> nn.Module:
    """A detector by registered name; `num_classes` counts the background.

    Keyword arguments that are None are dropped, so a CLI default never overrides a
    builder's own (timm's trick). Common ones: weights_backbone (path or "imagenet"),
    norm ("gn", "bn", "frozen_bn"), trainable_backbone_layers, min_size, max_size, and any
    keyword of torchvision's FasterRCNN / MaskRCNN / RetinaNet.
    """
    return DETECTORS.build(name, num_classes, **kwargs)


def build_from_architecture(arch: dict, **extra: Any) -> nn.Module:
    """A detector of the shape a checkpoint's `architecture` recorded (weights not loaded)."""
    return DETECTORS.build_from_architecture(arch, **extra)


# ----- backbones ------------------------------------------------------------------------------


def _norm_layer(norm: str) -> Callable[[int], nn.Module]:
    if norm == "frozen_bn":
        return misc_nn_ops.FrozenBatchNorm2d
    if norm == "bn":
        return nn.BatchNorm2d
    if norm == "gn":
        return partial(nn.GroupNorm, 32)
    raise ValueError(f"norm must be one of {NORMS}, not {norm!r}")


def _backbone_setup(weights_backbone, norm, trainable_layers, max_layers: int):
    """Norm and trainable layers: fine-tuning defaults with weights, all trainable without."""
    pretrained = weights_backbone is not None
    norm = norm or ("frozen_bn" if pretrained else "gn")
    if trainable_layers is None:
        trainable_layers = 3 if pretrained else max_layers
    return norm, trainable_layers


def resolve_backbone_weights(weights_backbone: str | Path, arch: str) -> Path:
    """The checkpoint file for `weights_backbone`: a path, or "imagenet" from the torch cache."""
    if str(weights_backbone) == "imagenet":
        file_name = Path(_IMAGENET_FILES[arch].url).name
        path = Path(torch.hub.get_dir()) / "checkpoints" / file_name
        if not path.is_file():
            raise FileNotFoundError(
                f"no ImageNet weights for {arch}: put {file_name} into {path.parent} "
                f"(nothing is downloaded here), or pass weights_backbone=PATH"
            )
        return path
    path = Path(weights_backbone)
    if not path.is_file():
        raise FileNotFoundError(f"ImageNet weights {path} not found")
    return path


def load_backbone_weights(module: nn.Module, path: Path, arch: str) -> None:
    """Load an ImageNet classification checkpoint into a backbone, ignoring its classifier."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds for a bad file
        raise ValueError(f"{path}: not a readable PyTorch checkpoint ({exc})") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ValueError(f"{path}: expected a state dict of {arch} weights")
    state = {k.removeprefix("module."): v for k, v in state.items()}
    own = module.state_dict()
    usable = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    wanted = [k for k in own if not k.endswith("num_batches_tracked")]
    missing = [k for k in wanted if k not in usable]
    if missing:
        raise ValueError(
            f"{path}: not {arch} ImageNet weights ({len(missing)} of {len(wanted)} tensors "
            f"missing or of another shape, e.g. {missing[0]})"
        )
    module.load_state_dict(usable, strict=False)


def _resnet_fpn(
    depth: int,
    *,
    weights_backbone=None,
    norm=None,
    trainable_backbone_layers=None,
    returned_layers=None,
    extra_blocks=None,
) -> nn.Module:
    arch = f"resnet{depth}"
    norm, trainable = _backbone_setup(weights_backbone, norm, trainable_backbone_layers, 5)
    norm_layer = _norm_layer(norm)
    body = getattr(torchvision.models, arch)(weights=None, norm_layer=norm_layer)
    if weights_backbone is not None:
        path = resolve_backbone_weights(weights_backbone, arch)
        load_backbone_weights(body, path, arch)
    fpn_norm = _norm_layer("gn") if norm == "gn" else None
    return _resnet_fpn_extractor(body, trainable, returned_layers, extra_blocks, fpn_norm)


def _mobilenet_fpn(*, weights_backbone=None, norm=None, trainable_backbone_layers=None):
    arch = "mobilenet_v3_large"
    norm, trainable = _backbone_setup(weights_backbone, norm, trainable_backbone_layers, 6)
    if norm == "gn":  # MobileNet's narrow layers do not split into 32 groups: BatchNorm
        norm = "bn"
    body = torchvision.models.mobilenet_v3_large(weights=None, norm_layer=_norm_layer(norm))
    if weights_backbone is not None:
        load_backbone_weights(body, resolve_backbone_weights(weights_backbone, arch), arch)
    return _mobilenet_extractor(body, True, trainable)


def _mobile_anchors() -> AnchorGenerator:
    sizes = ((32, 64, 128, 256, 512),) * 3
    return AnchorGenerator(sizes, ((0.5, 1.0, 2.0),) * 3)


def _finish(model: nn.Module, min_size: int, max_size: int) -> nn.Module:
    t = model.transform
    model.transform = NativeSizeTransform(min_size, max_size, t.image_mean, t.image_std)
    return model


# ----- the registered detectors ---------------------------------------------------------------
def _rcnn(cls, depth: int | None):
    def builder(
        *,
        num_classes: int,
        weights_backbone=None,
        norm=None,
        trainable_backbone_layers=None,
        min_size: int = DEFAULT_MIN_SIZE,
        max_size: int = DEFAULT_MAX_SIZE,
        **kwargs,
    ) -> nn.Module:
        if depth is None:
            backbone = _mobilenet_fpn(
                weights_backbone=weights_backbone,
                norm=norm,
                trainable_backbone_layers=trainable_backbone_layers,
            )
            kwargs.setdefault("rpn_anchor_generator", _mobile_anchors())
        else:
            backbone = _resnet_fpn(
                depth,
                weights_backbone=weights_backbone,
                norm=norm,
                trainable_backbone_layers=trainable_backbone_layers,
            )
        model = cls(backbone, num_classes=num_classes, **kwargs)
        return _finish(model, min_size, max_size)

    return builder


def _retinanet(depth: int):
    def builder(
        *,
        num_classes: int,
        weights_backbone=None,
        norm=None,
        trainable_backbone_layers=None,
        min_size: int = DEFAULT_MIN_SIZE,
        max_size: int = DEFAULT_MAX_SIZE,
        **kwargs,
    ) -> nn.Module:
        backbone = _resnet_fpn(
            depth,
            weights_backbone=weights_backbone,
            norm=norm,
            trainable_backbone_layers=trainable_backbone_layers,
            returned_layers=[2, 3, 4],
            extra_blocks=LastLevelP6P7(256, 256),  # P6 from P5, as torchvision's first RetinaNet
        )
        anchor_sizes = tuple(
            (x, int(x * 2 ** (1 / 3)), int(x * 2 ** (2 / 3))) for x in (32, 64, 128, 256, 512)
        )
        anchors = AnchorGenerator(anchor_sizes, ((0.5, 1.0, 2.0),) * len(anchor_sizes))
        norm_layer = (
            partial(nn.GroupNorm, 32)
            if (norm or "gn") == "gn" and weights_backbone is None
            else None
        )
        head = RetinaNetHead(
            backbone.out_channels,
            anchors.num_anchors_per_location()[0],
            num_classes,
            norm_layer=norm_layer,
        )
        kwargs.pop("rpn_batch_size_per_image", None)  # no RPN in a one-stage detector
        model = RetinaNet(backbone, num_classes, anchor_generator=anchors, head=head, **kwargs)
        return _finish(model, min_size, max_size)

    return builder


for _depth in (50, 101):
    register_detector(f"fasterrcnn_resnet{_depth}_fpn")(_rcnn(FasterRCNN, _depth))
    register_detector(f"maskrcnn_resnet{_depth}_fpn")(_rcnn(MaskRCNN, _depth))
    register_detector(f"retinanet_resnet{_depth}_fpn")(_retinanet(_depth))
register_detector("maskrcnn_resnet18_fpn")(_rcnn(MaskRCNN, 18))
register_detector("fasterrcnn_resnet18_fpn")(_rcnn(FasterRCNN, 18))
register_detector("fasterrcnn_mobilenet_v3_large_fpn")(_rcnn(FasterRCNN, None))
register_detector("maskrcnn_mobilenet_v3_large_fpn")(_rcnn(MaskRCNN, None))
