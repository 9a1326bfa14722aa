"""Every registered detector builds from scratch, trains a step and predicts; weights load."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torchvision.ops.misc import FrozenBatchNorm2d

from engine.detection import build_detector, detector_family, list_detectors
from engine.detection.models import NativeSizeTransform, load_backbone_weights

PAPER = {
    f"{family}_resnet{depth}_fpn"
    for family in ("fasterrcnn", "maskrcnn", "retinanet")
    for depth in (50, 101)
}


def _batch(size=(96, 128)):
    h, w = size
    images = [torch.rand(3, h, w) for _ in range(2)]
    targets = []
    for k in range(2):
        masks = torch.zeros(2, h, w, dtype=torch.uint8)
        masks[0, 10:60, 8:50] = 1
        masks[1, 30 + k : 90, 60:120] = 1
        boxes = torch.tensor([[8.0, 10, 50, 60], [60.0, 30 + k, 120, 90]])
        targets.append({"boxes": boxes, "labels": torch.tensor([1, 5]), "masks": masks})
    return images, targets


def test_the_registry_holds_the_papers_six_and_cpu_variants():
    names = set(list_detectors())
    assert names >= PAPER
    assert {"maskrcnn_resnet18_fpn", "fasterrcnn_mobilenet_v3_large_fpn"} <= names


@pytest.mark.parametrize("name", list_detectors())
@pytest.mark.slow
def test_every_detector_trains_a_step_and_predicts(name):
    torch.manual_seed(0)
    fast = {} if detector_family(name) == "retinanet" else {"box_batch_size_per_image": 64}
    model = build_detector(name, num_classes=7, min_size=96, max_size=128, **fast)
    images, targets = _batch()
    model.train()
    losses = model(images, targets)
    loss = sum(losses.values())
    assert torch.isfinite(loss)
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
    model.eval()
    with torch.no_grad():
        out = model(images)
    assert len(out) == 2 and {"boxes", "labels", "scores"} <= set(out[0])
    assert ("masks" in out[0]) == (detector_family(name) == "maskrcnn")
    if len(out[0]["boxes"]):
        assert out[0]["boxes"][:, 2].max() <= 128 and out[0]["labels"].max() < 7


def test_from_scratch_resnets_use_group_norm_and_train_every_layer():
    model = build_detector("maskrcnn_resnet101_fpn", num_classes=7)
    norms = {type(m).__name__ for m in model.backbone.body.modules()}
    assert "GroupNorm" in norms and "FrozenBatchNorm2d" not in norms
    assert all(p.requires_grad for p in model.backbone.body.parameters())


def test_unknown_names_suggest_the_close_ones():
    with pytest.raises(KeyError, match="maskrcnn_resnet50_fpn"):
        build_detector("maskrcnn_resnet5_fpn", num_classes=7)
    with pytest.raises(ValueError, match="background"):
        build_detector("maskrcnn_resnet18_fpn", num_classes=1)


def test_imagenet_weights_come_only_from_the_local_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"resnet50-0676ba61\.pth.*nothing is downloaded"):
        build_detector("fasterrcnn_resnet50_fpn", num_classes=7, weights_backbone="imagenet")
    with pytest.raises(FileNotFoundError, match="not found"):
        build_detector("fasterrcnn_resnet50_fpn", num_classes=7, weights_backbone=tmp_path / "x")


def test_a_backbone_checkpoint_loads_with_the_fine_tuning_set_up(tmp_path):
    source = torchvision.models.resnet18(weights=None)
    path = tmp_path / "resnet18.pth"
    torch.save(source.state_dict(), path)
    model = build_detector("maskrcnn_resnet18_fpn", num_classes=7, weights_backbone=path)
    body = model.backbone.body
    assert torch.equal(body.layer3[0].conv1.weight, source.layer3[0].conv1.weight)
    assert isinstance(body.bn1, FrozenBatchNorm2d)
    assert not body.conv1.weight.requires_grad and body.layer4[0].conv1.weight.requires_grad


def test_a_checkpoint_of_another_network_is_refused_with_the_reason(tmp_path):
    path = tmp_path / "wrong.pth"
    torch.save(torchvision.models.resnet50(weights=None).state_dict(), path)
    with pytest.raises(ValueError, match="not resnet18 ImageNet weights"):
        load_backbone_weights(torchvision.models.resnet18(weights=None), path, "resnet18")
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable PyTorch checkpoint"):
        load_backbone_weights(torchvision.models.resnet18(weights=None), garbage, "resnet18")


def test_images_are_resized_to_the_data_at_evaluation_only():
    model = build_detector("fasterrcnn_mobilenet_v3_large_fpn", num_classes=7)
    transform = model.transform
    assert isinstance(transform, NativeSizeTransform)
    image = torch.rand(3, 480, 640)
    transform.train()
    assert transform([image])[0].image_sizes == [(480, 640)]
    transform.eval()
    assert transform([image])[0].image_sizes == [(480, 640)]  # native: 480 short, 640 long
    assert transform([torch.rand(3, 960, 1280)])[0].image_sizes == [(480, 640)]


def test_the_shipped_detection_configs_load_and_name_registered_models():
    from pathlib import Path

    from engine.config import load_config
    from engine.detection.config import DetectionConfig

    folder = Path(__file__).resolve().parents[2] / "configs" / "detection"
    paths = sorted(folder.glob("*.yaml"))
    assert len(paths) >= 8
    for path in paths:
        config = load_config(DetectionConfig, path)
        assert config.model.name in list_detectors(), path.name
    r101 = load_config(DetectionConfig, folder / "maskrcnn_resnet101_fpn.yaml")
    r50 = load_config(DetectionConfig, folder / "maskrcnn_resnet50_fpn.yaml")
    assert r101.solver.lr_per_16 == r50.solver.lr_per_16 / 2
    assert r101.solver.epochs == 2 * r50.solver.epochs
