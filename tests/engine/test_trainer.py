"""The one training loop (`engine.training.Trainer`) and its hooks, on a toy regression task."""

from __future__ import annotations

import torch

from engine.checkpoint import load_checkpoint
from engine.hooks import BudgetHook, CheckpointHook, CsvLogHook, EvalHook, LRScheduleHook
from engine.runtime import Distributed
from engine.training import (
    CsvLog,
    EpochLoader,
    Evaluation,
    HookBase,
    TimeBudget,
    Trainer,
    epoch_loader,
)

ONE = Distributed()


class _Points(torch.utils.data.Dataset):
    def __init__(self, n: int = 24) -> None:
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, 3, generator=g)
        self.y = self.x @ torch.tensor([1.0, -2.0, 0.5])

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int):
        return self.x[i], self.y[i]

    def set_epoch(self, epoch: int) -> None:
        pass


class _Task:
    kind = "toy"

    def __init__(self, model, scores=None) -> None:
        self.model, self.data = model, _Points()
        self.scores = list(scores or [])
        self.evaluated = 0

    def batches(self, epoch, skip_steps):
        return epoch_loader(
            self.data, epoch, skip_steps, batch_size=4, seed=3, ddp=ONE, num_workers=0
        )

    def loss(self, batch):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.model(x).squeeze(1), y)
        return loss, {"mse": float(loss.detach())}

    def evaluate(self):
        self.evaluated += 1
        score = self.scores.pop(0) if self.scores else 0.0
        return Evaluation(score, {"val": score}, {"threshold": score / 2})

    def checkpoint_state(self):
        return {"note": "toy"}


class _Calls(HookBase):
    def __init__(self) -> None:
        self.calls: list[str] = []

    def before_train(self):
        self.calls.append("before_train")

    def after_step(self):
        self.calls.append(f"step{self.trainer.iteration}")

    def after_epoch(self):
        self.calls.append(f"epoch{self.trainer.epoch}")

    def after_train(self):
        self.calls.append("after_train")


def _trainer(tmp_path, *, total=12, hooks=(), budget=None, state=None, scores=None):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5 ** (step // 6))
    task = _Task(model, scores)
    return Trainer(
        task,
        model,
        optimizer,
        scheduler=scheduler,
        scaler=torch.amp.GradScaler("cpu", enabled=False),
        total=total,
        steps_per_epoch=6,  # 24 points in batches of 4
        ddp=ONE,
        budget=budget or TimeBudget(None),
        hooks=[LRScheduleHook(), *hooks],
        state=state,
    )


def test_hooks_run_at_their_points_in_order(tmp_path):
    calls = _Calls()
    trainer = _trainer(tmp_path, total=7, hooks=[calls])
    trainer.train()
    steps = [f"step{i}" for i in range(1, 7)]
    assert calls.calls == ["before_train", *steps, "epoch1", "step7", "after_train"]
    assert trainer.lr == 0.05 * 0.5  # the schedule stepped once per step


def test_a_resumed_run_ends_with_the_same_weights_as_an_unbroken_one(tmp_path):
    unbroken = _trainer(tmp_path, total=12)
    unbroken.train()

    first = _trainer(tmp_path, total=12, hooks=[CheckpointHook(tmp_path / "last.pt", every=5)])
    first.total = 5  # stopped after step 5 (as if killed), its last.pt on disk
    first.train()
    state = load_checkpoint(tmp_path / "last.pt", kind="toy")
    assert state["iteration"] == 5 and state["note"] == "toy"
    resumed = _trainer(tmp_path, total=12, state=state)
    resumed.train()
    assert torch.equal(resumed.model.weight, unbroken.model.weight)
    assert resumed.lr == unbroken.lr


def test_the_budget_stops_the_run_after_saving_it(tmp_path):
    spent = TimeBudget(1.0, spent=61.0)  # a minute's budget, already over
    trainer = _trainer(tmp_path, total=12, hooks=[BudgetHook(tmp_path / "last.pt")], budget=spent)
    trainer.train()
    assert trainer.iteration == 1
    assert load_checkpoint(tmp_path / "last.pt", kind="toy")["iteration"] == 1


def test_evaluation_keeps_the_best_and_what_its_checkpoint_carries(tmp_path):
    log = CsvLog(tmp_path / "log.csv", ("iteration", "epoch", "lr", "loss", "mse", "val"))
    evaluation = EvalHook(
        1, tmp_path / "best.pt", tmp_path / "last.pt", log, best_key="best", keep=("threshold",)
    )
    trainer = _trainer(
        tmp_path,
        total=18,
        hooks=[CsvLogHook(log), evaluation, CheckpointHook(tmp_path / "last.pt", every=100)],
        scores=[0.6, 0.8, 0.7],  # after epochs 1, 2 and at the end (epoch 3)
    )
    trainer.train()
    assert trainer.task.evaluated == 3  # epoch 3 ends the run: evaluated once, not twice
    assert evaluation.best == 0.8 and evaluation.last == 0.7
    best = load_checkpoint(tmp_path / "best.pt", kind="toy")
    last = load_checkpoint(tmp_path / "last.pt", kind="toy")
    assert (best["iteration"], best["best"], best["threshold"]) == (12, 0.8, 0.4)
    assert (last["iteration"], last["best"], last["threshold"]) == (18, 0.8, 0.35)
    rows = (tmp_path / "log.csv").read_text().splitlines()
    assert len(rows) == 1 + 18 + 3  # header, one per step, one per evaluation
    assert rows[-1].split(",")[-1] == "0.7"


def test_ties_count_as_better_only_when_asked(tmp_path):
    for ties, best_at in ((False, 6), (True, 12)):
        log = CsvLog(tmp_path / f"log{ties}.csv", ("iteration", "epoch", "val"))
        best_path = tmp_path / f"best{ties}.pt"
        evaluation = EvalHook(1, best_path, tmp_path / "last.pt", log, best_key="b", ties=ties)
        _trainer(tmp_path, total=12, hooks=[evaluation], scores=[0.5, 0.5]).train()
        assert load_checkpoint(best_path, kind="toy")["iteration"] == best_at


def test_a_non_finite_loss_stops_with_a_clear_error(tmp_path):
    import pytest

    from engine.training import TrainingError

    trainer = _trainer(tmp_path)
    trainer.task.loss = lambda batch: (torch.tensor(float("nan"), requires_grad=True), {})
    with pytest.raises(TrainingError, match="loss is nan at step 1"):
        trainer.train()


def test_early_stop_ends_the_run_after_patience_evaluations_without_a_better_score(tmp_path):
    from engine.hooks import EarlyStopHook

    log = CsvLog(tmp_path / "log.csv", ("iteration", "epoch", "val"))
    evaluation = EvalHook(1, tmp_path / "best.pt", tmp_path / "last.pt", log, best_key="best")
    trainer = _trainer(
        tmp_path,
        total=60,  # ten epochs, were it not stopped
        hooks=[evaluation, EarlyStopHook(evaluation, 2), CheckpointHook(tmp_path / "last.pt", 100)],
        scores=[0.5, 0.7, 0.6, 0.7, 0.9],  # no better than 0.7 twice after epoch 2: stop at 4
    )
    trainer.train()
    assert trainer.iteration == 24 and trainer.task.evaluated == 4
    state = load_checkpoint(tmp_path / "last.pt", kind="toy")
    assert (state["best"], state["evaluations_since_best"]) == (0.7, 2)


class _Drawn(torch.utils.data.Dataset):
    """Items that depend on the epoch, as augmented crops do."""

    def __init__(self, n: int = 20) -> None:
        self.n, self.epoch = n, 0

    def __len__(self) -> int:
        return self.n

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __getitem__(self, i: int):
        return torch.tensor([i, self.epoch, 1000 * self.epoch + i])


def test_an_epoch_loader_s_stream_gives_each_epoch_s_batches() -> None:
    weights = [1.0] * 20

    def fresh(epoch: int, skip: int) -> list:
        loader = epoch_loader(
            _Drawn(), epoch, skip, batch_size=3, seed=5, ddp=ONE, num_workers=0, weights=weights
        )
        return [b.tolist() for b in loader]

    kept = EpochLoader(_Drawn(), batch_size=3, seed=5, ddp=ONE, num_workers=2, weights=weights)
    assert [b.tolist() for b in kept(0, 0)] == fresh(0, 0)  # 7 batches, the last one short
    workers = [w.pid for w in kept._stream._workers]
    assert [b.tolist() for b in kept(1, 0)] == fresh(1, 0)  # the same stream runs on
    assert [w.pid for w in kept._stream._workers] == workers
    batches = iter(kept(2, 0))
    assert next(batches).tolist() == fresh(2, 0)[0]
    batches.close()  # a run stopped mid-epoch: the stream and its workers end
    assert kept._stream is None
    assert [b.tolist() for b in kept(2, 1)] == fresh(2, 1)  # resumed: a new stream
    assert [b.tolist() for b in kept(3, 0)] == fresh(3, 0)
    assert [b.tolist() for b in kept(5, 2)] == fresh(5, 2)  # not where it was: a new stream
    alive = kept._stream._workers
    kept.close()
    assert kept._stream is None and not any(w.is_alive() for w in alive)
    serial = EpochLoader(_Drawn(), batch_size=3, seed=5, ddp=ONE, num_workers=0)
    assert isinstance(serial(0, 0), torch.utils.data.DataLoader) and serial._stream is None
