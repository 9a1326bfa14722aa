"""DFL-CNN: stream shapes, the three-stream loss, training, and the filter-bank initialisation."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
import torchvision

from engine.classification.dfl import DFLVGG16, init_filter_bank
from engine.classification.dfl.init import _peak_positions, kmeans

SIZE = 64  # conv4_3 is 8×8 here


@pytest.fixture(scope="module")
def template() -> DFLVGG16:
    """One default-built model (VGG-16 from torchvision, weights=None); tests get copies."""
    torch.manual_seed(0)
    return DFLVGG16(2, 4, input_size=SIZE)


def make(template: DFLVGG16, num_classes: int = 2) -> DFLVGG16:
    model = copy.deepcopy(template)
    if num_classes != template.num_classes:
        model.reset_classifier(num_classes)
    return model


def images(n: int, seed: int) -> torch.Tensor:
    return torch.randn(n, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(seed))


def bank_groups(model: DFLVGG16) -> torch.Tensor:
    """Filter bank weights as M×k×512."""
    return model.filter_bank.weight.detach().view(model.num_classes, model.k, -1)


@pytest.mark.parametrize("num_classes", [2, 3])
def test_stream_shapes(template, num_classes):
    model = make(template, num_classes)
    x = images(2, 0)
    g, p, side = model.streams(x)
    assert g.shape == p.shape == side.shape == (2, num_classes)
    assert model(x).shape == (2, num_classes)
    assert model.filter_bank.out_channels == model.k * num_classes
    assert model.input_size == SIZE


def test_default_model_drops_vgg_classifier(template):
    """Only VGG-16's 13 convolutions and the small heads are kept, not its 120 M fc weights."""
    n = sum(p.numel() for p in template.parameters())
    assert 14_700_000 < n < 14_800_000


def test_vgg16_bn_trunk_ends_after_conv4_3_activation():
    vgg = torch.nn.Module()
    cfg = torchvision.models.vgg.cfgs["D"]
    vgg.features = torchvision.models.vgg.make_layers(cfg, batch_norm=True)
    model = DFLVGG16(2, 2, input_size=SIZE, vgg=vgg)
    assert isinstance(model.shared[-1], torch.nn.ReLU)
    assert isinstance(model.shared[-2], torch.nn.BatchNorm2d)
    assert isinstance(model.g_features[0], torch.nn.MaxPool2d)
    assert model(images(2, 0)).shape == (2, 2)


def test_rejects_other_vgg_depths():
    vgg = torch.nn.Module()
    vgg.features = torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs["A"])
    with pytest.raises(ValueError, match="13 convolutions"):
        DFLVGG16(vgg=vgg)


def test_forward_is_weighted_sum_of_streams(template):
    model = make(template, 3).eval()
    x = images(2, 1)
    seen = {}
    model.filter_bank.register_forward_hook(lambda _, args, out: seen.update(f4=args[0], r=out))
    with torch.no_grad():
        g, p, side = model.streams(x)
        assert torch.equal(model(x), g + p + 0.1 * side)
    assert seen["f4"].shape == (2, 512, SIZE // 8, SIZE // 8)  # conv4_3
    torch.testing.assert_close(model.trunk(x), seen["f4"])
    # the side branch is the mean of each class's k max-pooled filter responses
    responses = seen["r"].amax(dim=(2, 3))
    for c in range(3):
        group = responses[:, c * model.k : (c + 1) * model.k]
        torch.testing.assert_close(side[:, c], group.mean(1))


def test_training_loss_is_the_papers_sum(template):
    model = make(template).eval()
    x, y = images(3, 2), torch.tensor([0, 1, 1])
    with torch.no_grad():
        g, p, side = model.streams(x)
        expected = F.cross_entropy(g, y) + F.cross_entropy(p, y) + 0.1 * F.cross_entropy(side, y)
        torch.testing.assert_close(model.training_loss(x, y), expected)


def test_sgd_step_updates_all_three_streams(template):
    model = make(template).train()
    named = {
        "trunk": model.shared[0].weight,
        "g_features": model.g_features[1].weight,
        "g_classifier": model.g_classifier.weight,
        "filter_bank": model.filter_bank.weight,
        "part_classifier": model.part_classifier.weight,
    }
    before = {name: p.detach().clone() for name, p in named.items()}
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model.training_loss(images(2, 3), torch.tensor([0, 1]))
    assert torch.isfinite(loss)
    loss.backward()
    optimiser.step()
    for name, p in named.items():
        assert not torch.equal(p, before[name]), f"{name} did not change"


def test_side_loss_alone_trains_the_filter_bank(template):
    """The side branch has no parameters of its own: its gradient reaches the bank."""
    model = make(template)
    _, _, side = model.streams(images(2, 4))
    F.cross_entropy(side, torch.tensor([0, 1])).backward()
    assert model.filter_bank.weight.grad.abs().sum() > 0
    assert model.part_classifier.weight.grad is None
    assert model.g_classifier.weight.grad is None


def test_reset_classifier_keeps_k(template):
    model = make(template)
    model.reset_classifier(5)
    assert model(images(2, 5)).shape == (2, 5)
    assert model.num_classes == 5
    assert model.filter_bank.out_channels == 5 * template.k


# --- filter-bank initialisation ---------------------------------------------------------


def test_init_filter_bank_writes_the_weights(template):
    model = make(template, 3).train()
    weight_param = model.filter_bank.weight
    before = bank_groups(model).clone()
    rest = {k: v.clone() for k, v in model.state_dict().items() if "filter_bank" not in k}
    data = {0: images(2, 10), 1: [images(1, 11), images(1, 12)[0]], 2: images(2, 13)}
    report = init_filter_bank(model, data, patches_per_image=3, nms_radius=1)

    after = bank_groups(model)
    for c in range(3):
        assert not torch.equal(after[c], before[c]), f"class {c} filters unchanged"
        assert report[c]["vectors"] == 6
        assert report[c]["inertia"] >= 0
    torch.testing.assert_close(after.norm(dim=2), torch.ones(3, model.k))
    assert torch.equal(model.filter_bank.bias, torch.zeros(3 * model.k))
    assert model.filter_bank.weight is weight_param  # same Parameter: optimisers still see it
    for name, value in model.state_dict().items():
        if "filter_bank" not in name:
            assert torch.equal(value, rest[name]), f"{name} changed"
    assert model.training and all(m.training for m in model.modules())


def test_state_dict_assignment_would_not_have_changed_the_weights(template):
    """The public DFL-CNN bug: `state_dict()[name] = x` replaces a dict entry, not a weight."""
    model = make(template)
    before = model.filter_bank.weight.detach().clone()
    state = model.state_dict()
    state["filter_bank.weight"] = torch.ones_like(before)
    assert torch.equal(model.filter_bank.weight, before)


def test_init_only_touches_given_classes_and_keeps_eval_mode(template):
    model = make(template, 3).eval()
    before = bank_groups(model).clone()
    init_filter_bank(model, {1: images(2, 20)}, patches_per_image=2)
    after = bank_groups(model)
    assert torch.equal(after[0], before[0]) and torch.equal(after[2], before[2])
    assert not torch.equal(after[1], before[1])
    assert not model.training


def test_init_is_deterministic_for_a_seed(template):
    data = {0: images(1, 30), 1: images(1, 31)}  # 4 peaks each on the 8×8 map: k = 4
    a, b = make(template), make(template)
    report_a = init_filter_bank(a, data, seed=7)
    report_b = init_filter_bank(b, data, seed=7)
    assert torch.equal(a.filter_bank.weight, b.filter_bank.weight)
    assert report_a == report_b


def test_init_with_fewer_vectors_than_k(template):
    model = make(template)  # k = 4
    report = init_filter_bank(model, {0: images(1, 40), 1: images(1, 41)}, patches_per_image=2)
    assert report[0]["vectors"] == report[1]["vectors"] == 2
    groups = bank_groups(model)
    assert torch.isfinite(groups).all()
    torch.testing.assert_close(groups.norm(dim=2), torch.ones(2, model.k))
    for c in range(2):  # repeated with noise: k distinct filters, not copies
        assert len(torch.unique(groups[c], dim=0)) == model.k


def test_init_rejects_unknown_class(template):
    with pytest.raises(ValueError, match="class 2"):
        init_filter_bank(make(template), {2: images(1, 50)})


def test_peak_positions_suppress_neighbours():
    energy = torch.zeros(1, 8, 8)
    energy[0, 2, 2], energy[0, 2, 3], energy[0, 6, 6] = 3.0, 2.5, 2.0
    i, r, c = _peak_positions(energy, 2, radius=1)
    assert i.tolist() == [0, 0]
    assert list(zip(r.tolist(), c.tolist(), strict=True)) == [(2, 2), (6, 6)]
    # radius 3 on an 8×8 map leaves room for only 4 peaks
    assert len(_peak_positions(torch.rand(2, 8, 8), 10, radius=3)[0]) == 8


# --- k-means ----------------------------------------------------------------------------


def test_kmeans_recovers_separated_clusters():
    gen = torch.Generator().manual_seed(0)
    true = torch.randn(4, 16, generator=gen) * 10
    x = true.repeat_interleave(30, 0) + 0.1 * torch.randn(120, 16, generator=gen)
    x = x[torch.randperm(120, generator=gen)]
    result = kmeans(x, 4, seed=3)
    match = torch.cdist(result.centres, true).argmin(1)
    assert sorted(match.tolist()) == [0, 1, 2, 3]
    torch.testing.assert_close(result.centres, true[match], atol=0.1, rtol=0)
    assert torch.bincount(result.labels, minlength=4).tolist() == [30] * 4
    assert result.inertia < 120 * 16 * 0.1**2 * 1.5


def test_kmeans_is_deterministic_and_handles_few_vectors():
    x = torch.randn(50, 8, generator=torch.Generator().manual_seed(1))
    a, b = kmeans(x, 5, seed=2), kmeans(x, 5, seed=2)
    assert torch.equal(a.centres, b.centres) and a.inertia == b.inertia
    few = kmeans(x[:3], 5)
    assert few.centres.shape == (5, 8)
    assert len(torch.unique(few.centres, dim=0)) == 5
