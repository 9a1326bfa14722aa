"""What every training loop here shares: the epoch's sample order, the LR schedule, the CSV log.

Detection and classification runs both resume exactly because the order of an epoch is a pure
function of (seed, epoch) and a resumed run skips the batches it already did.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from engine.errors import EngineError
from engine.runtime import Distributed, rng_state


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


def optimizer_step(
    loss, optimizer, scaler, scheduler, params, clip_grad_norm: float | None
) -> None:
    """Backward through the AMP scaler, optional gradient clipping, step, LR schedule step."""
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    if clip_grad_norm:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(params, clip_grad_norm)
    scaler.step(optimizer)
    scaler.update()
    scheduler.step()


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
