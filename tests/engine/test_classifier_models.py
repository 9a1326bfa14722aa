"""Every registered classifier builds from scratch, trains a step and predicts tiny crops."""

from __future__ import annotations

import re

import pytest
import torch
from torch.nn import functional as F

from engine.classification.models import build_classifier, list_classifiers

SUPERVISED = ["dfl_vgg16", "mobilenet_v3_large", "resnet18", "resnet50", "squeezenet1_1", "vgg16"]
HEAVY = {"dfl_vgg16", "resnet18", "resnet50", "vgg16"}  # over ~2 s a step on a CPU: marked slow


def test_the_registry_holds_the_papers_classifiers():
    assert set(SUPERVISED) <= set(list_classifiers())


def test_the_train_classifier_help_names_every_registered_classifier(capsys, monkeypatch):
    from engine.cli import main

    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit):
        main(["train-classifier", "--help"])
    names = set(re.findall(r"\w+", capsys.readouterr().out))
    assert set(list_classifiers()) <= names


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in HEAVY else n for n in SUPERVISED]
)
def test_every_classifier_trains_a_step_and_predicts(name):
    torch.manual_seed(0)
    model = build_classifier(name, num_classes=2, input_size=64)
    assert model.input_size == 64
    x, y = torch.rand(4, 3, 64, 64), torch.tensor([0, 1, 0, 1])
    model.train()
    if hasattr(model, "training_loss"):
        loss = model.training_loss(x, y)
    else:
        loss = F.cross_entropy(model(x), y)
    assert torch.isfinite(loss)
    before = [p.detach().clone() for p in model.parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss.backward()
    optimizer.step()
    assert any(not torch.equal(b, p) for b, p in zip(before, model.parameters(), strict=True))
    model.eval()
    with torch.no_grad():
        logits = model(x)
    assert logits.shape == (4, 2) and torch.isfinite(logits).all()
    model.reset_classifier(3)
    with torch.no_grad():
        assert model.eval()(x).shape == (4, 3)


@pytest.mark.slow
def test_vgg_from_scratch_gets_batch_norm_and_names_are_checked(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    vgg = build_classifier("vgg16")
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in vgg.modules())
    with pytest.raises(KeyError, match="resnet18"):
        build_classifier("resnet81")
    with pytest.raises(FileNotFoundError, match="nothing is downloaded"):
        build_classifier("resnet50", weights="imagenet")


def test_the_shipped_classification_configs_load():
    from pathlib import Path

    from engine.classification.config import ClassifierConfig
    from engine.config import load_config

    folder = Path(__file__).resolve().parents[2] / "configs" / "classification"
    paths = sorted(folder.glob("*.yaml"))
    assert len(paths) >= 4
    for path in paths:
        config = load_config(ClassifierConfig, path)
        assert config.model.name in list_classifiers(), path.name


def test_from_scratch_batch_norm_keeps_up_with_training():
    """MobileNetV3's momentum 0.01 left its running stats so far behind after a few hundred
    steps from scratch that every crop scored the same: from scratch it gets PyTorch's 0.1."""
    model = build_classifier("mobilenet_v3_large", num_classes=2, input_size=64)
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and all(m.momentum == 0.1 for m in norms)


def test_view_mean_scores_every_flip_and_turn_alike_and_trains_as_its_net():
    """model.views: 8 views average the whole group of flips and quarter turns, so a turned or
    mirrored crop scores exactly as the crop; in training the net sees the crop alone."""
    from engine.classification.models import ViewMean, with_views

    torch.manual_seed(0)
    net = build_classifier("mobilenet_v3_large", num_classes=2, input_size=32).eval()
    x = torch.rand(3, 3, 32, 32)
    judge = with_views(net, 8)
    assert isinstance(judge, ViewMean) and not judge.training and judge.input_size == 32
    with torch.no_grad():
        scores = judge(x)
        views = [torch.rot90(x, k, (2, 3)) for k in range(4)]
        expected = torch.stack([net(v) for v in views + [torch.flip(v, (3,)) for v in views]])
        torch.testing.assert_close(scores, expected.mean(0))
        torch.testing.assert_close(judge(torch.rot90(x, 1, (2, 3))), scores)
        torch.testing.assert_close(judge(torch.flip(x, (2,))), scores)
        mirrored = with_views(net, 2)
        torch.testing.assert_close(mirrored(x), (net(x) + net(torch.flip(x, (3,)))) / 2)
    assert with_views(net, 1) is net
    judge.train()
    assert net.training and judge(x).shape == net(x).shape
    with pytest.raises(ValueError, match="views"):
        ViewMean(net, 3)


def test_aligned_crops_are_asked_with_flips_and_half_turns_only():
    """Crops turned along their masks train on flips alone: their views never quarter-turn."""
    from engine.classification.models import with_views

    torch.manual_seed(0)
    net = build_classifier("mobilenet_v3_large", num_classes=2, input_size=32).eval()
    x = torch.rand(2, 3, 32, 32)
    half = torch.rot90(x, 2, (2, 3))
    with torch.no_grad():
        views = [x, torch.flip(x, (3,)), half, torch.flip(half, (3,))]
        expected = torch.stack([net(v) for v in views]).mean(0)
        torch.testing.assert_close(with_views(net, 4, align=True)(x), expected)
    with pytest.raises(ValueError, match="at most 4"):
        with_views(net, 8, align=True)
