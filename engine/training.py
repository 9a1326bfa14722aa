"""The one training loop (`Trainer`) and its hooks, for detectors and classifiers alike.

A task brings its batches, loss, evaluation and what its checkpoints keep (detection:
`engine.detection.train`, classification: `engine.classification.train`); the `Trainer` owns the
counters, the optimiser step and the checkpoint; checkpoints, evaluation, the CSV log, the LR
schedule, the time budget and the progress bar are hooks (detectron2's `HookBase`; the hooks
themselves are in `engine.hooks`). Runs resume exactly because the order of an epoch is a pure
function of (seed, epoch) and a resumed run skips the batches it already did.
"""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import torch
from torch.utils.data import DataLoader

from engine.errors import EngineError
from engine.runtime import Distributed, barrier, rng_state


class TrainingError(EngineError, RuntimeError):
    """A training run cannot start or continue (detector or classifier)."""


def epoch_indices(
    n: int,
    epoch: int,
    seed: int,
    ddp: Distributed,
    weights: Sequence[float] | None = None,
) -> list[int]:
    """This process's sample order for `epoch`: a seeded permutation (or, with `weights`, a
    weighted draw with replacement for class balancing), dealt round-robin to processes."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    if weights is None:
        order = torch.randperm(n, generator=generator).tolist()
    else:
        w = torch.as_tensor(weights, dtype=torch.float64)
        order = torch.multinomial(w, n, replacement=True, generator=generator).tolist()
    if ddp.enabled:  # pad so every process gets the same number of steps
        order += order[: (-len(order)) % ddp.world_size]
        order = order[ddp.rank :: ddp.world_size]
    return order


class TimeBudget:
    """A run's wall-clock budget (`solver.max_minutes`): time spent, share used, expired.

    It counts from `started` (the trainer's start) plus the seconds earlier sessions of a
    resumed run spent; with `minutes` None it never expires and its share stays 0.
    """

    def __init__(
        self, minutes: float | None, *, started: float | None = None, spent: float = 0.0
    ) -> None:
        self.seconds = None if minutes is None else 60.0 * minutes
        self.started = time.monotonic() if started is None else started
        self.spent_before = spent

    def elapsed(self) -> float:
        return self.spent_before + time.monotonic() - self.started

    def share(self) -> float:
        return 0.0 if self.seconds is None else self.elapsed() / self.seconds

    def expired(self) -> bool:
        return self.seconds is not None and self.elapsed() >= self.seconds


def warmup_step_lr(
    warmup_iters: int,
    warmup_factor: float,
    steps: Sequence[float],
    gamma: float,
    total: int,
    budget: TimeBudget | None = None,
):
    """LR factor per step: linear warm-up, then ×gamma at each of `steps` (shares of `total`).

    With a time `budget`, a drop also comes once that share of the budget is spent, so a run cut
    by time still gets its learning-rate drops.
    """
    milestones = [int(f * total) for f in steps]

    def factor(step: int) -> float:
        warm = 1.0
        if step < warmup_iters:
            alpha = step / max(warmup_iters, 1)
            warm = warmup_factor * (1 - alpha) + alpha
        drops = sum(step >= m for m in milestones)
        if budget is not None and budget.seconds is not None:
            share = budget.share()
            drops = max(drops, sum(share >= f for f in steps))
        return warm * gamma**drops

    return factor


class CsvLog:
    """Append-only CSV log of steps and evaluations (written by the first process only)."""

    def __init__(self, path: Path, columns: Sequence[str], enabled: bool = True) -> None:
        self.path, self.columns, self.enabled = path, tuple(columns), enabled
        if enabled and not path.exists():
            with path.open("w", newline="") as f:
                csv.writer(f).writerow(self.columns)

    def write(self, **row) -> None:
        if not self.enabled:
            return
        with self.path.open("a", newline="") as f:
            csv.writer(f).writerow([_cell(row.get(c)) for c in self.columns])


def _cell(value) -> str:
    if value is None:
        return ""
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def from_main(ddp: Distributed, *values):
    """`values` as the first process has them, on every process (under torchrun a broadcast)."""
    if not ddp.enabled:
        return values
    shared = list(values)
    torch.distributed.broadcast_object_list(shared, src=0)
    return tuple(shared)


def gather_rng_states(ddp: Distributed) -> list:
    """Every process's RNG states (one list, same on all), for an exactly resumable checkpoint.

    All processes must call it: under torchrun it is a collective.
    """
    state = rng_state()
    if not ddp.enabled:
        return [state]
    gathered: list = [None] * ddp.world_size
    torch.distributed.all_gather_object(gathered, state)
    return gathered


def open_run(run_dir: Path, kind: str, *, resume: bool, ddp: Distributed) -> dict | None:
    """The run folder made ready: with `resume`, its `last.pt` (of `kind`) to continue from;
    without, refused if it already holds a run, so nobody overwrites one by accident."""
    from engine.checkpoint import load_checkpoint

    last_path = run_dir / "last.pt"
    state = None
    if resume:
        state = load_checkpoint(last_path, kind=kind)
    elif last_path.exists():
        raise TrainingError(
            f"{run_dir} already holds a run: continue it with --resume, or set run.name=..."
        )
    if ddp.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
    barrier(ddp)
    return state


def write_run_config(run_dir: Path, resolved: dict) -> None:
    """The run's `config.yaml` (its config and what was resolved from it), written whole or not
    at all: a crash never leaves half a file where a resume or a bundle reads it."""
    import yaml

    from engine.io.write import atomic_write_bytes

    atomic_write_bytes(run_dir / "config.yaml", yaml.safe_dump(resolved, sort_keys=False).encode())


def epoch_loader(
    dataset,
    epoch: int,
    skip_steps: int,
    *,
    batch_size: int,
    seed: int,
    ddp: Distributed,
    num_workers: int,
    weights: Sequence[float] | None = None,
    collate_fn=None,
) -> DataLoader:
    """This process's batches of `epoch` (`epoch_indices`), without the first `skip_steps`
    (those a resumed run already did)."""
    order = epoch_indices(len(dataset), epoch, seed, ddp, weights)[skip_steps * batch_size :]
    dataset.set_epoch(epoch)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=order,
        num_workers=num_workers,
        collate_fn=collate_fn,
        generator=torch.Generator().manual_seed(seed + epoch),
    )


class _EpochItems(torch.utils.data.Dataset):
    """`dataset[(epoch, index)]`: item `index` as epoch `epoch` draws it, so that one set of
    DataLoader workers can serve every epoch (`EpochLoader`)."""

    def __init__(self, dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: tuple[int, int]):
        epoch, index = key
        if getattr(self.dataset, "epoch", None) != epoch:
            self.dataset.set_epoch(epoch)
        return self.dataset[index]


class EpochLoader:
    """`epoch_loader`'s batches, epoch after epoch, as one stream from one set of workers.

    A DataLoader per epoch starts its workers anew, each a fork of a process that may hold a
    model on a GPU and gigabytes of preloaded crops, and its prefetch runs dry at each epoch's
    end; with a judge's short epochs (a few hundred crops) both cost as much as the steps.
    Here the workers run on into the next epoch while this one's last steps train. Each item
    carries its epoch, so the batches are `epoch_loader`'s for datasets that seed each item
    (ours do; the workers' own seeds differ). A call that does not continue where the last
    one ended (a resumed run, a stop mid-epoch) starts a new stream. Without workers it is
    `epoch_loader` itself. `close` stops the workers.
    """

    def __init__(
        self,
        dataset,
        *,
        batch_size: int,
        seed: int,
        ddp: Distributed,
        num_workers: int,
        weights: Sequence[float] | None = None,
        collate_fn=None,
    ) -> None:
        self.dataset, self.batch_size, self.seed, self.ddp = dataset, batch_size, seed, ddp
        self.num_workers, self.weights, self.collate_fn = num_workers, weights, collate_fn
        self._stream: Iterator | None = None  # batches from `_next` on, every epoch after
        self._next: tuple[int, int] | None = None  # (epoch, step) the stream is at

    def __call__(self, epoch: int, skip_steps: int) -> Iterable:
        """This process's batches of `epoch`, without the first `skip_steps`."""
        if self.num_workers == 0:
            return epoch_loader(
                self.dataset,
                epoch,
                skip_steps,
                batch_size=self.batch_size,
                seed=self.seed,
                ddp=self.ddp,
                num_workers=0,
                weights=self.weights,
                collate_fn=self.collate_fn,
            )
        self.dataset.set_epoch(epoch)  # as epoch_loader does, for whoever reads it here
        if self._stream is None or self._next != (epoch, skip_steps):
            self.close()
            loader = DataLoader(
                _EpochItems(self.dataset),
                batch_sampler=_EpochBatches(self, epoch, skip_steps),
                num_workers=self.num_workers,
                collate_fn=self.collate_fn,
                generator=torch.Generator().manual_seed(self.seed + epoch),
            )
            self._stream = iter(loader)
        steps = math.ceil(len(self._order(epoch)) / self.batch_size) - skip_steps
        return self._take(epoch, steps)

    def _order(self, epoch: int) -> list[int]:
        return epoch_indices(len(self.dataset), epoch, self.seed, self.ddp, self.weights)

    def _take(self, epoch: int, steps: int) -> Iterator:
        """`steps` batches off the stream; a consumer that stops early ends the stream."""
        self._next = None
        for _ in range(steps):
            try:
                yield next(self._stream)
            except GeneratorExit:  # the next call starts a new stream where it asks
                self.close()
                raise
        self._next = (epoch + 1, 0)

    def close(self) -> None:
        """Stop the stream's workers now (they would last until it is garbage-collected)."""
        stream, self._stream, self._next = self._stream, None, None
        if stream is not None and hasattr(stream, "_shutdown_workers"):
            stream._shutdown_workers()


class _EpochBatches:
    """`EpochLoader`'s batch sampler: (epoch, index) keys a batch at a time, each epoch's
    order from its first unskipped step, and each epoch's last batch short as `epoch_loader`
    gives it; endless."""

    def __init__(self, loader: EpochLoader, epoch: int, skip_steps: int) -> None:
        self.loader, self.epoch, self.skip_steps = loader, epoch, skip_steps

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        epoch, skip, size = self.epoch, self.skip_steps, self.loader.batch_size
        while True:
            order = self.loader._order(epoch)
            for start in range(skip * size, len(order), size):
                yield [(epoch, i) for i in order[start : start + size]]
            epoch, skip = epoch + 1, 0


@dataclass
class Evaluation:
    """One validation pass: the score that picks `best.pt` (None: no verdict), the CSV log's
    columns, and what checkpoints keep of it (a classifier's threshold and metrics)."""

    score: float | None
    row: dict = field(default_factory=dict)
    state: dict = field(default_factory=dict)


class TrainingTask(Protocol):
    """What one kind of model brings to the `Trainer`: its batches, loss and evaluation."""

    kind: str  # the checkpoint kind ("detector", "classifier")

    def batches(self, epoch: int, skip_steps: int) -> Iterable: ...

    def loss(self, batch) -> tuple[torch.Tensor, dict[str, float]]:
        """The batch's loss (forward under autocast) and its named terms for the log."""
        ...

    def evaluate(self) -> Evaluation:
        """Validate the model as it is now (called on the first process only)."""
        ...

    def checkpoint_state(self) -> dict:
        """What a checkpoint keeps besides the weights and optimiser (config, architecture…)."""
        ...


class HookBase:
    """Behaviour at fixed points of a run (detectron2's HookBase): before and after the run,
    each step and each epoch. A hook's `state_dict` goes into every checkpoint."""

    trainer: Trainer

    def before_train(self) -> None:
        pass

    def before_step(self) -> None:
        pass

    def after_step(self) -> None:
        pass

    def after_epoch(self) -> None:
        pass

    def after_train(self) -> None:
        pass

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class Trainer:
    """The one training loop: steps through `task`'s batches until `total` steps, calling hooks.

    It owns the counters (iteration, epoch, step within the epoch), the optimiser step and the
    checkpoint's contents; checkpoints, evaluation, logging, the LR schedule, the time budget
    and progress are hooks. `state` (a `last.pt`) continues a run exactly where it stopped.
    """

    def __init__(
        self,
        task: TrainingTask,
        model: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        *,
        scheduler,
        scaler,
        total: int,
        steps_per_epoch: int,
        ddp: Distributed,
        budget: TimeBudget,
        hooks: Sequence[HookBase],
        clip_grad_norm: float | None = None,
        state: dict | None = None,
    ) -> None:
        self.task, self.model, self.optimizer = task, model, optimizer
        self.scheduler, self.scaler, self.clip_grad_norm = scheduler, scaler, clip_grad_norm
        self.params = [p for group in optimizer.param_groups for p in group["params"]]
        self.total, self.steps_per_epoch = total, steps_per_epoch
        self.ddp, self.budget = ddp, budget
        self.iteration = self.epoch = self.step_in_epoch = 0
        self.loss, self.terms, self.seconds = float("nan"), {}, 0.0
        self.hooks = list(hooks)
        for hook in self.hooks:
            hook.trainer = self
        if state is not None:
            self.load_state_dict(state)

    @classmethod
    def from_solver(
        cls,
        task: TrainingTask,
        model: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        solver,
        *,
        n_items: int,
        ddp: Distributed,
        dtype: torch.dtype | None,
        device: torch.device,
        hooks: Sequence[HookBase],
        started: float,
        state: dict | None = None,
        warmup_factor: float = 0.001,
    ) -> Trainer:
        """A trainer on a solver config's schedule (batch size, epochs, max_iters, max_minutes,
        warm-up, LR drops, clipping), for `n_items` training items shared by all processes."""
        if solver.max_minutes and ddp.enabled:
            raise TrainingError(
                "solver.max_minutes is for one process: under torchrun use max_iters"
            )
        steps_per_epoch = math.ceil(n_items / (solver.batch_size * ddp.world_size))
        schedule = solver.epochs * steps_per_epoch
        total = min(schedule, solver.max_iters) if solver.max_iters else schedule
        spent = state.get("elapsed_s", 0.0) if state is not None else 0.0
        budget = TimeBudget(solver.max_minutes, started=started, spent=spent)
        factor = warmup_step_lr(
            solver.warmup_iters, warmup_factor, solver.lr_steps, solver.gamma, schedule, budget
        )
        return cls(
            task,
            model,
            optimizer,
            scheduler=torch.optim.lr_scheduler.LambdaLR(optimizer, factor),
            scaler=torch.amp.GradScaler(device.type, enabled=dtype == torch.float16),
            total=total,
            steps_per_epoch=steps_per_epoch,
            ddp=ddp,
            budget=budget,
            hooks=hooks,
            clip_grad_norm=solver.clip_grad_norm,
            state=state,
        )

    def train(self) -> None:
        for hook in self.hooks:
            hook.before_train()
        while self.iteration < self.total:
            for batch in self.task.batches(self.epoch, self.step_in_epoch):
                self._step(batch)
                if self.iteration >= self.total:
                    break
            if self.step_in_epoch >= self.steps_per_epoch:
                self.epoch, self.step_in_epoch = self.epoch + 1, 0
                for hook in self.hooks:
                    hook.after_epoch()
        for hook in self.hooks:
            hook.after_train()

    def _step(self, batch) -> None:
        for hook in self.hooks:
            hook.before_step()
        t0 = time.perf_counter()
        loss, terms = self.task.loss(batch)
        if not torch.isfinite(loss):
            at = f"at step {self.iteration + 1}"
            raise TrainingError(f"loss is {float(loss.detach())} {at}: lower the learning rate")
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.clip_grad_norm:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.params, self.clip_grad_norm)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.iteration += 1
        self.step_in_epoch += 1
        self.loss, self.terms = float(loss.detach()), terms
        self.seconds = time.perf_counter() - t0
        for hook in self.hooks:
            hook.after_step()

    @property
    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    def stop(self) -> None:
        """End the run after this step, as if the schedule ended here."""
        self.total = self.iteration

    def save(self, path: Path) -> None:
        """Write a checkpoint that resumes exactly; every process must call it (it gathers
        their RNG states), the first one writes."""
        from engine.checkpoint import save_checkpoint
        from engine.runtime import unwrap

        states = gather_rng_states(self.ddp)
        if not self.ddp.is_main:
            return
        state = {
            "kind": self.task.kind,
            "model": unwrap(self.model).state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "iteration": self.iteration,
            "epoch": self.epoch,
            "step_in_epoch": self.step_in_epoch,
            "elapsed_s": self.budget.elapsed(),
            "rng": states,
        }
        state.update(self.task.checkpoint_state())
        for hook in self.hooks:
            state.update(hook.state_dict())
        save_checkpoint(path, state)

    def load_state_dict(self, state: dict) -> None:
        from engine.runtime import set_rng_state, unwrap

        unwrap(self.model).load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        self.iteration, self.epoch = state["iteration"], state["epoch"]
        self.step_in_epoch = state["step_in_epoch"]
        for hook in self.hooks:
            hook.load_state_dict(state)
        rngs = state["rng"]
        set_rng_state(rngs[min(self.ddp.rank, len(rngs) - 1)])


def wrap_distributed(module: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """`module` under DistributedDataParallel (on this process's GPU, or gloo on the CPU)."""
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(
        module, device_ids=[device.index] if device.type == "cuda" else None
    )
