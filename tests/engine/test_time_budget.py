"""Time budgets (`solver.max_minutes`): a run stops cleanly on time, with its LR drops."""

from __future__ import annotations

import pytest

from engine.checkpoint import load_checkpoint
from engine.classification.config import ClassifierConfig
from engine.classification.train import train_classifier
from engine.config import ConfigError, load_config
from engine.detection.config import DetectionConfig
from engine.detection.train import train_detector
from engine.training import TimeBudget, warmup_step_lr

DETECTOR = [
    "model.name=maskrcnn_resnet18_fpn",
    "model.min_size=72",
    "model.max_size=96",
    "model.rpn_batch_size_per_image=64",
    "model.box_batch_size_per_image=32",
    "data.min_sizes=[64,72,80]",
    "data.max_size=112",
    "data.num_workers=0",
    "data.val_max_images=2",
    "solver.epochs=40",
    "solver.warmup_iters=4",
    "run.checkpoint_every=1000",
    "run.eval_every=1000",
]
CLASSIFIER = [
    "data.num_workers=0",
    "model.input_size=32",
    "solver.batch_size=8",
    "solver.epochs=40",
    "solver.warmup_iters=1",
    "run.checkpoint_every=1000",
    "run.eval_every=1000",
]


def test_without_a_budget_the_schedule_is_the_step_schedule_it_was():
    plain = warmup_step_lr(10, 0.001, (2 / 3, 8 / 9), 0.1, 90)
    unlimited = warmup_step_lr(10, 0.001, (2 / 3, 8 / 9), 0.1, 90, TimeBudget(None))
    for step in (0, 5, 10, 59, 60, 79, 80, 89):
        assert plain(step) == unlimited(step)
    assert plain(59) == 1.0 and plain(60) == pytest.approx(0.1) and plain(80) == pytest.approx(0.01)


@pytest.mark.parametrize(("spent_s", "factor"), [(30, 1.0), (45, 0.1), (55, 0.01)])
def test_the_learning_rate_drops_at_shares_of_the_time_budget(spent_s, factor):
    budget = TimeBudget(1.0, spent=spent_s)  # a minute's budget of which spent_s are gone
    lr = warmup_step_lr(0, 0.001, (2 / 3, 8 / 9), 0.1, 10_000, budget)
    assert lr(5) == pytest.approx(factor)  # step 5 of 10,000: only the clock can drop it
    assert not budget.expired()
    assert TimeBudget(1.0, spent=61).expired() and not TimeBudget(None, spent=1e9).expired()


def test_a_budget_must_be_positive():
    with pytest.raises(ConfigError, match="max_minutes"):
        load_config(DetectionConfig, None, ["solver.max_minutes=0"])


@pytest.mark.slow
def test_a_detector_out_of_time_evaluates_saves_and_stops(tiny_coco, tmp_path):
    # 40 epochs asked for, a budget that is spent before the first step ends
    args = [
        f"data.train={tiny_coco}",
        f"run.out={tmp_path}",
        *DETECTOR,
        "solver.max_minutes=0.0001",
    ]
    result = train_detector(load_config(DetectionConfig, None, args), progress=False)
    assert result.iterations == 1 and result.last_map is not None  # evaluated on the way out
    state = load_checkpoint(result.run_dir / "last.pt", kind="detector")
    assert state["iteration"] == 1 and state["elapsed_s"] > 0.006
    assert (result.run_dir / "best.pt").is_file()


@pytest.mark.slow
def test_a_classifier_out_of_time_evaluates_saves_and_stops(tiny_coco, tmp_path):
    args = [f"data.train={tiny_coco}", f"run.out={tmp_path}", *CLASSIFIER]
    args.append("solver.max_minutes=0.0001")
    result = train_classifier(load_config(ClassifierConfig, None, args), progress=False)
    assert result.iterations == 1 and result.threshold is not None
    state = load_checkpoint(result.run_dir / "last.pt", kind="classifier")
    assert state["iteration"] == 1 and state["elapsed_s"] > 0
