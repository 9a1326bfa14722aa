"""Classifier training: it learns, resumes exactly, keeps a threshold; the CLI prints Table II."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from engine.checkpoint import load_checkpoint
from engine.classification.config import ClassifierConfig
from engine.classification.evaluate import load_classifier
from engine.classification.train import TrainingError, train_classifier
from engine.cli import main
from engine.config import load_config

FAST = [
    "data.num_workers=0",
    "model.input_size=32",
    "solver.batch_size=8",
    "solver.warmup_iters=2",
    "run.checkpoint_every=1000",
    "run.eval_every=1000",
]


def _config(data, out, *extra) -> ClassifierConfig:
    return load_config(
        ClassifierConfig, None, [f"data.train={data}", f"run.out={out}", *FAST, *extra]
    )


def _losses(run: Path) -> dict[int, float]:
    with (run / "log.csv").open() as f:
        return {int(r["iteration"]): float(r["loss"]) for r in csv.DictReader(f) if r["loss"]}


@pytest.fixture(scope="module")
def crop_tree(tmp_path_factory) -> Path:
    """benign/ and anomalous/ crops: pale cloth, or pale cloth with a dark block hidden in it."""
    root = tmp_path_factory.mktemp("crops")
    rng = np.random.default_rng(0)
    for label in ("benign", "anomalous"):
        (root / label).mkdir()
        for i in range(24):
            image = np.clip(rng.normal(200, 25, (40, 40, 3)), 0, 255).astype(np.uint8)
            if label == "anomalous":
                x, y = rng.integers(4, 24, 2)
                image[y : y + 12, x : x + 12] = (40, 60, 150)
            cv2.imwrite(str(root / label / f"{i}.png"), image)
    return root


@pytest.mark.slow
def test_a_classifier_learns_an_easy_anomaly_and_keeps_its_threshold(crop_tree, tmp_path):
    config = _config(crop_tree, tmp_path, f"data.val={crop_tree}", "solver.max_iters=30")
    result = train_classifier(config, progress=False)
    losses = list(_losses(result.run_dir).values())
    assert sum(losses[-5:]) < 0.7 * sum(losses[:5])
    assert result.best_auc > 0.9
    state = load_checkpoint(result.run_dir / "best.pt", kind="classifier")
    assert state["threshold"] == pytest.approx(result.threshold)
    assert state["val_metrics"]["fp_rate"] <= 0.05  # the target FP rate on validation
    model, _ = load_classifier(result.run_dir / "best.pt", "cpu")
    assert model.input_size == 32


@pytest.mark.slow
def test_an_interrupted_classifier_run_resumes_with_the_same_losses(crop_tree, tmp_path):
    whole = train_classifier(
        _config(crop_tree, tmp_path / "a", "solver.max_iters=6"), progress=False
    )
    train_classifier(_config(crop_tree, tmp_path / "b", "solver.max_iters=3"), progress=False)
    resumed = train_classifier(
        _config(crop_tree, tmp_path / "b", "solver.max_iters=6"), resume=True, progress=False
    )
    a, b = _losses(whole.run_dir), _losses(resumed.run_dir)
    for step in (4, 5, 6):
        assert b[step] == pytest.approx(a[step], rel=1e-5), step
    with pytest.raises(TrainingError, match="already holds a run"):
        train_classifier(_config(crop_tree, tmp_path / "b", "solver.max_iters=6"), progress=False)


@pytest.mark.parametrize(
    "extra",
    [
        ["crops.mode=dual", "crops.masks=true"],
        ["data.whole_image=true"],
        ["model.name=dfl_vgg16", "model.k=2", "solver.batch_size=4"],
        ["model.name=squeezenet1_1"],
    ],
)
@pytest.mark.slow
def test_every_input_mode_and_the_baseline_train_on_simulated_scans(tiny_coco, tmp_path, extra):
    result = train_classifier(
        _config(tiny_coco, tmp_path, "solver.max_iters=2", *extra), progress=False
    )
    state = load_checkpoint(result.run_dir / "last.pt", kind="classifier")
    assert state["iteration"] == 2 and state["threshold"] is not None
    if "model.name=dfl_vgg16" in extra:
        resolved = (result.run_dir / "config.yaml").read_text()
        assert "dfl_init" in resolved  # the filter bank started from patches of each class


@pytest.mark.slow
def test_the_benign_only_scorer_fits_without_anomaly_labels(tiny_coco, tiny_bundle, tmp_path):
    detector = next(tiny_bundle.parent.rglob("maskrcnn_resnet18_fpn/last.pt"))
    config = _config(tiny_coco, tmp_path, "model.name=patchcore", f"model.weights={detector}")
    result = train_classifier(config, progress=False)
    model, state = load_classifier(result.run_dir / "best.pt", "cpu")
    assert state["architecture"]["bank_size"] == len(model.bank) > 0
    assert 0 <= result.threshold <= 1


@pytest.mark.slow
def test_eval_classifier_and_report_anomaly(crop_tree, tmp_path, capsys):
    run = train_classifier(
        _config(crop_tree, tmp_path, "solver.max_iters=4", f"data.val={crop_tree}"), progress=False
    )
    out = tmp_path / "eval.json"
    args = [
        "eval-classifier",
        "--checkpoint",
        str(run.run_dir / "best.pt"),
        "--data",
        str(crop_tree),
    ]
    assert main([*args, "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["method"] == "resnet18" and result["metrics"]["n"] == 48
    assert result["views"] == result["threshold_views"] == 1
    turned = tmp_path / "turned.json"
    assert main([*args, "--views", "8", "--out", str(turned)]) == 0
    averaged = json.loads(turned.read_text())
    assert averaged["views"] == 8 and averaged["threshold_views"] == 1
    assert load_classifier(run.run_dir / "best.pt", "cpu", views=8)[0].views == 8
    assert "per_anomaly_type" not in result  # a folder tree records no anomaly types
    csv_path = tmp_path / "t2.csv"
    assert main(["report-anomaly", str(out), "--csv", str(csv_path)]) == 0
    printed = capsys.readouterr().out
    assert "| method | input | pre-localised | A | P | R | F1 | TP % | FP % |" in printed
    assert csv_path.read_text().startswith("method,input")


def test_data_categories_keep_the_crops_of_those_classes_only(tiny_coco, tmp_path):
    from engine.classification.data import make_dataset

    everything = make_dataset(
        tiny_coco / "train.json", _config(tiny_coco, tmp_path), 32, train=True
    )
    chosen = sorted({item.category for item in everything.items})[0]
    config = _config(tiny_coco, tmp_path, f"data.categories=[{chosen}]")
    some = make_dataset(tiny_coco / "train.json", config, 32, train=True)
    assert 0 < len(some) < len(everything)
    assert {item.category for item in some.items} == {chosen}


@pytest.mark.slow
def test_a_folder_without_splits_trains_on_its_train_split_and_bundles(
    tiny_coco, tiny_bundle, tmp_path, capsys
):
    data = tmp_path / "unsplit"
    data.mkdir()
    (data / "images").symlink_to(tiny_coco / "images")
    (data / "annotations.json").write_bytes((tiny_coco / "annotations.json").read_bytes())
    runs = tmp_path / "runs"
    args = [
        "train-classifier",
        f"data.train={data}",
        f"run.out={runs}",
        "run.name=unsplit",
        *FAST,
        "solver.max_iters=2",
    ]
    assert main([*args, "--quiet"]) == 0
    run = runs / "unsplit"
    assert f"training on {run / 'splits' / 'train.json'}" in capsys.readouterr().err
    resolved = (run / "config.yaml").read_text()
    assert f"train: {run / 'splits' / 'train.json'}" in resolved
    assert load_checkpoint(run / "best.pt", kind="classifier")["threshold"] is not None
    detector = next(tiny_bundle.parent.rglob("maskrcnn_resnet18_fpn/last.pt"))
    bundle = ["bundle", "--detector", str(detector), "--classifier", str(run / "best.pt")]
    assert main([*bundle, "--out", str(tmp_path / "m.xsb")]) == 0


def test_scores_read_by_workers_are_the_scores_read_in_process(crop_tree, tmp_path):
    """eval-classifier reads its one pass in data.num_workers processes: same items, same order."""
    from engine.classification.data import make_dataset
    from engine.classification.predict import predict_scores

    run = train_classifier(
        _config(crop_tree, tmp_path, "solver.max_iters=2", f"data.val={crop_tree}"), progress=False
    )
    model, state = load_classifier(run.run_dir / "best.pt", "cpu")
    config = _config(crop_tree, tmp_path)
    dataset = make_dataset(crop_tree, config, int(state["crops"]["size"]), train=False)
    inline = predict_scores(model, dataset, torch.device("cpu"), "rgb", batch_size=5)
    read = predict_scores(model, dataset, torch.device("cpu"), "rgb", batch_size=5, num_workers=2)
    assert np.array_equal(inline[0], read[0])
    np.testing.assert_allclose(inline[1], read[1], rtol=1e-6)
