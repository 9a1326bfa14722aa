"""The hooks of the one training loop (`engine.training.Trainer`), in the manner of detectron2's:
the LR schedule, the CSV log, the progress bar, the time budget, evaluation with `best.pt`,
early stop and `last.pt`. `standard_hooks` puts them in the order every run uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from engine.training import CsvLog, HookBase, from_main


class LRScheduleHook(HookBase):
    """Steps the learning-rate schedule after every optimiser step."""

    def after_step(self) -> None:
        self.trainer.scheduler.step()


class CsvLogHook(HookBase):
    """One `log.csv` row per step: iteration, epoch, lr, loss, its terms and seconds."""

    def __init__(self, log: CsvLog) -> None:
        self.log = log

    def after_step(self) -> None:
        t = self.trainer
        row = {"lr": t.lr, "loss": t.loss, "seconds": t.seconds, **t.terms}
        self.log.write(iteration=t.iteration, epoch=t.epoch, **row)


class ProgressHook(HookBase):
    """A tqdm bar of steps with the loss and learning rate (first process, when asked)."""

    def __init__(self, desc: str, enabled: bool) -> None:
        self.desc, self.enabled = desc, enabled
        self.bar = None

    def before_train(self) -> None:
        from tqdm import tqdm

        t = self.trainer
        self.bar = tqdm(
            total=t.total,
            initial=t.iteration,
            desc=self.desc,
            unit="step",
            disable=not self.enabled,
        )

    def after_step(self) -> None:
        self.bar.update()
        self.bar.set_postfix(loss=f"{self.trainer.loss:.3f}", lr=f"{self.trainer.lr:.2g}")

    def after_train(self) -> None:
        self.bar.close()


class BudgetHook(HookBase):
    """Ends the run when its time budget (`solver.max_minutes`) is spent, saving `last.pt`
    first in case the final evaluation outlasts someone's hard deadline."""

    def __init__(self, last_path: Path) -> None:
        self.last_path = last_path

    def after_step(self) -> None:
        if self.trainer.budget.expired():
            self.trainer.stop()
            self.trainer.save(self.last_path)


class CheckpointHook(HookBase):
    """`last.pt` every `every` steps and at the end (after the final evaluation)."""

    def __init__(self, last_path: Path, every: int) -> None:
        self.last_path, self.every = last_path, every

    def after_step(self) -> None:
        t = self.trainer
        if t.iteration % self.every == 0 and t.iteration < t.total:
            t.save(self.last_path)

    def after_train(self) -> None:
        self.trainer.save(self.last_path)


def standard_hooks(log: CsvLog, evaluation: EvalHook, run, progress: bool) -> list[HookBase]:
    """Every run's hooks in their order: LR schedule, CSV log, progress bar, time budget,
    evaluation, early stop, then checkpoints (after the final evaluation, so `last.pt` holds
    its verdict). `run`: the config's run section (checkpoint_every, patience)."""
    return [
        LRScheduleHook(),
        CsvLogHook(log),
        ProgressHook(evaluation.best_path.parent.name, progress),
        BudgetHook(evaluation.last_path),
        evaluation,
        EarlyStopHook(evaluation, run.patience),
        CheckpointHook(evaluation.last_path, run.checkpoint_every),
    ]


class EvalHook(HookBase):
    """Validates every `every` epochs (saving `last.pt` just before) and at the end; keeps the
    best score under `best_key` and writes `best.pt` when it improves (`ties`: when equal too).

    The first process evaluates; under torchrun the others receive its verdict. `keep`: what
    of the latest evaluation checkpoints carry (`Evaluation.state`), restored on resume.
    """

    def __init__(
        self,
        every: int,
        best_path: Path,
        last_path: Path,
        log: CsvLog,
        *,
        best_key: str,
        ties: bool = False,
        keep: Sequence[str] = (),
        enabled: bool = True,
    ) -> None:
        self.every, self.best_path, self.last_path, self.log = every, best_path, last_path, log
        self.best_key, self.ties, self.keep, self.enabled = best_key, ties, tuple(keep), enabled
        self.best: float | None = None
        self.last: float | None = None
        self.kept: dict = dict.fromkeys(self.keep)
        self.evaluated_at = -1
        self.since_best = 0  # evaluations since the score last improved (`EarlyStopHook`)

    def after_epoch(self) -> None:
        t = self.trainer
        if t.epoch % self.every == 0 and t.iteration < t.total:
            t.save(self.last_path)
            self.evaluate()

    def after_train(self) -> None:
        if self.evaluated_at != self.trainer.iteration:
            self.evaluate()

    def evaluate(self) -> None:
        t = self.trainer
        self.evaluated_at = t.iteration
        if not self.enabled:  # no validation data
            return
        score, kept = None, {}
        if t.ddp.is_main:
            result = t.task.evaluate()
            self.log.write(iteration=t.iteration, epoch=t.epoch, **result.row)
            score, kept = result.score, result.state
        self.last, kept = from_main(t.ddp, score, kept)
        self.kept.update(kept)
        if self.last is not None and (
            self.best is None or self.last > self.best or (self.ties and self.last == self.best)
        ):
            self.best, self.since_best = self.last, 0
            t.save(self.best_path)  # every process: the checkpoint gathers their RNG states
        else:
            self.since_best += 1

    def state_dict(self) -> dict:
        return {self.best_key: self.best, "evaluations_since_best": self.since_best, **self.kept}

    def load_state_dict(self, state: dict) -> None:
        self.best = state.get(self.best_key)
        self.since_best = int(state.get("evaluations_since_best") or 0)
        self.kept = {k: state.get(k) for k in self.keep}


class EarlyStopHook(HookBase):
    """Ends the run once `patience` evaluations in a row have not bettered the best score
    (`run.patience`; 0 never stops early). Goes after the `EvalHook` it watches."""

    def __init__(self, evaluation: EvalHook, patience: int) -> None:
        self.evaluation, self.patience = evaluation, patience

    def after_epoch(self) -> None:
        if self.patience and self.evaluation.since_best >= self.patience:
            self.trainer.stop()
