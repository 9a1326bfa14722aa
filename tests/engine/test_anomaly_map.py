"""The anomaly-map classifier: its head API, its loss, that it learns *where*, and its data."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.classification.anomaly_map import UNKNOWN, AnomalyMapClassifier
from engine.classification.data import ObjectCrops
from engine.classification.models import build_classifier


def _blocks(n: int, size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Noisy grey crops, every other one with a dark 16×16 block on the 16-px grid, and maps."""
    g = torch.Generator().manual_seed(seed)
    x = 0.5 + 0.2 * torch.randn(n, 3, size, size, generator=g)
    y = torch.arange(n) % 2
    maps = torch.zeros(n, size, size)
    cells = size // 16
    for i in range(1, n, 2):
        r, c = (torch.randint(cells, (2,), generator=g) * 16).tolist()
        x[i, :, r : r + 16, c : c + 16] = -1.0
        maps[i, r : r + 16, c : c + 16] = 1.0
    return x, y, maps


@pytest.mark.slow
def test_the_crop_score_is_the_pooled_map_behind_the_common_head_api():
    torch.manual_seed(0)
    model = build_classifier("mobilenet_v3_map", input_size=64).eval()
    assert model.input_size == 64 and model.num_classes == 2
    x = torch.rand(3, 3, 64, 64)
    with torch.no_grad():
        cells = model.anomaly_map(x)
        logits = model(x)
    assert cells.shape == (3, 4, 4)
    top = cells.flatten(1).max(dim=1).values  # 16 cells × 1/64 rounds to one cell: the maximum
    torch.testing.assert_close(torch.softmax(logits, 1)[:, 1], torch.sigmoid(top))
    with pytest.raises(ValueError, match="num_classes must be 2"):
        model.reset_classifier(3)
    with pytest.raises(ValueError, match="from scratch"):
        build_classifier("mobilenet_v3_map", weights="imagenet")


def test_crops_without_pixel_labels_train_on_their_label_alone():
    torch.manual_seed(0)
    model = AnomalyMapClassifier(input_size=64).eval()  # eval: BN gives the same answer twice
    x, y, maps = _blocks(4, 64, seed=1)
    unknown = torch.full_like(maps, UNKNOWN)
    with torch.no_grad():
        label_only = model.training_loss(x, y)
        assert model.training_loss(x, y, unknown) == pytest.approx(float(label_only))
        assert model.training_loss(x, y, maps) > label_only  # the cells add their own term


@pytest.mark.slow
def test_it_learns_where_the_hidden_block_is():
    torch.manual_seed(0)
    model = AnomalyMapClassifier(input_size=64)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    x, y, maps = _blocks(16, 64, seed=2)
    for _ in range(30):
        loss = model.training_loss(x, y, maps)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    test_x, test_y, test_maps = _blocks(16, 64, seed=3)
    # batch statistics: 30 steps at this rate leave BN's running averages behind the weights
    with torch.no_grad():
        cells = model.anomaly_map(test_x)
        scores = torch.softmax(model(test_x), 1)[:, 1]
    anomalous = test_y == 1
    hottest = cells[anomalous].flatten(1).argmax(1)
    truth = test_maps[anomalous][:, ::16, ::16].flatten(1).argmax(1)
    assert (hottest == truth).float().mean() >= 0.75
    assert scores[anomalous].min() > scores[~anomalous].max()


def test_object_crops_carry_the_inserted_items_map_through_the_same_flips(tiny_coco):
    train = ObjectCrops(
        tiny_coco / "train.json", size=48, train=True, jitter=0.0, anomaly_maps=True
    )
    plain = ObjectCrops(tiny_coco / "train.json", size=48, anomaly_maps=True)
    anomalous = [i for i, label in enumerate(plain.labels) if label]
    benign = [i for i, label in enumerate(plain.labels) if not label]
    assert anomalous and benign
    crop, label, target = plain[benign[0]]
    assert label == 0 and target.shape == (48, 48) and not target.any()
    for i in anomalous:
        crop, label, target = plain[i]
        assert label == 1 and 0 < float(target.max()) <= 1
        for epoch in range(3):
            train.set_epoch(epoch)
            moved_crop, _, moved = train[i]
            # crop and map went through the same one of the square's eight symmetries
            for k in range(4):
                for flipped in (False, True):
                    c, t = torch.rot90(crop, k, (-2, -1)), torch.rot90(target, k, (-2, -1))
                    if flipped:
                        c, t = c.flip(-1), t.flip(-1)
                    if torch.equal(c, moved_crop):
                        assert torch.equal(t, moved)
                        break
                else:
                    continue
                break
            else:
                pytest.fail("the training crop is no symmetry of the plain crop")


def test_an_anomaly_without_a_segmentation_has_an_unknown_map(tiny_coco, tmp_path):
    import json

    data = json.loads((tiny_coco / "train.json").read_text())
    for ann in data["annotations"]:
        (ann.get("attributes") or {}).pop("anomaly_segmentation", None)
    info = data.setdefault("info", {})
    info["image_root"] = str(tiny_coco / info.get("image_root", "."))
    path = tmp_path / "no_maps.json"
    path.write_text(json.dumps(data))
    crops = ObjectCrops(path, size=32, anomaly_maps=True)
    i = crops.labels.index(1)
    assert np.all(crops[i][2].numpy() == UNKNOWN)
    # training crops too (flipped, turned): every item has a map, so a batch collates; reviewed
    # objects an analyst flagged anomalous have no segmentation of the hidden item (improve)
    training = ObjectCrops(path, size=32, anomaly_maps=True, train=True)
    items = [training[i], training[crops.labels.index(0)]]
    assert [len(item) for item in items] == [3, 3]
    assert np.all(items[0][2].numpy() == UNKNOWN) and not (items[1][2] == UNKNOWN).any()
    torch.utils.data.default_collate(items)
