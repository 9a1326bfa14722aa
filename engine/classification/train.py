"""Train an anomaly classifier on object crops (or whole scans), with an operating threshold.

The same machinery as detection (`engine.training`, `engine.runtime`, `engine.checkpoint`):
a CSV log, `last.pt`/`best.pt`, exact resume, AMP, torchrun. Batches are class-balanced by a
seeded weighted draw, so anomalies are seen as often as benign objects whatever their share.
After each evaluation the threshold that keeps the validation FP rate at `run.target_fpr` is
chosen and stored with the model; `best.pt` is the checkpoint of best validation ROC AUC.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import yaml
from torch.nn import functional as F

from engine.checkpoint import load_checkpoint, load_matching_weights, save_checkpoint
from engine.classification.config import ClassifierConfig
from engine.classification.data import make_dataset
from engine.classification.models import (
    KIND,
    build_from_architecture,
    check_views,
    with_views,
)
from engine.classification.predict import normaliser, predict_scores
from engine.config import from_dict, to_dict
from engine.data import training_files
from engine.evaluation.anomaly import anomaly_metrics, threshold_for_fpr
from engine.hooks import EvalHook, standard_hooks
from engine.runtime import (
    amp_dtype,
    autocast,
    device_for,
    distributed,
    resolve_device,
    seed_everything,
)
from engine.training import (
    CsvLog,
    EpochLoader,
    Evaluation,
    HookBase,
    Trainer,
    TrainingError,
    from_main,
    open_run,
    wrap_distributed,
    write_run_config,
)


@dataclass
class ClassifierResult:
    """A finished run: its folder, steps, and the best checkpoint's val AUC and threshold."""

    run_dir: Path
    iterations: int
    best_auc: float | None
    threshold: float | None


def architecture(config: ClassifierConfig) -> dict:
    """What rebuilds the network: name, classes, input size and the resolved options."""
    m = config.model
    arch = {"name": m.name, "num_classes": 2, "input_size": m.input_size, "k": m.k}
    if m.name == "patchcore":
        arch.pop("k")
    arch["batch_norm"] = m.weights is None  # from scratch VGG-16 is built with batch norm
    if not m.name.startswith(("vgg16", "dfl")):
        arch.pop("batch_norm")
    if m.views != 1:  # recorded only where asked: older checkpoints' architectures unchanged
        arch["views"] = m.views
    return {k: v for k, v in arch.items() if v is not None}


def crop_size(config: ClassifierConfig, model: torch.nn.Module) -> int:
    return config.crops.size or int(model.input_size)


def resolve_data(config: ClassifierConfig, run_dir: Path) -> tuple[Path, Path | None]:
    """Training and validation sources: a crop tree as it is, else the COCO files of
    `engine.data.training_files` (a folder without splits is split 60/20/20 into the run)."""
    train = Path(config.data.train)
    val = Path(config.data.val) if config.data.val else None
    if not config.data.train:
        raise TrainingError("no training data: set data.train=DIR or a COCO JSON file")
    if (train / "benign").is_dir():
        return train, val
    try:
        return training_files(train, val, seed=config.run.seed, out_dir=run_dir / "splits")
    except ValueError as exc:
        raise TrainingError(f"{exc} (nor a crop tree of benign/ and anomalous/)") from None


def _init_dfl(model, dataset, mode: str, per_class: int = 16) -> dict | None:
    """The DFL-CNN filter bank initialised from patches of each class (the paper's start)."""
    if not hasattr(model, "filter_bank"):
        return None
    from engine.classification.dfl import init_filter_bank

    norm = normaliser(mode)
    by_class: dict[int, list[torch.Tensor]] = {0: [], 1: []}
    for i, label in enumerate(dataset.labels):
        if len(by_class[label]) < per_class:
            by_class[label].append(dataset[i][0])
        if all(len(v) >= per_class for v in by_class.values()):
            break
    images = {c: norm(torch.stack(v)) for c, v in by_class.items() if v}
    return init_filter_bank(model, images)


class _Loss(torch.nn.Module):
    """The training loss as a module, so DistributedDataParallel sees the whole forward.

    Cross-entropy, or the model's own `training_loss` (DFL-CNN's three streams; with the
    anomaly maps for models that learn from them).
    """

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(
        self, x: torch.Tensor, y: torch.Tensor, maps: torch.Tensor | None = None
    ) -> torch.Tensor:
        if maps is not None:
            return self.model.training_loss(x, y, maps)
        if hasattr(self.model, "training_loss"):
            return self.model.training_loss(x, y)
        return F.cross_entropy(self.model(x), y)


def train_classifier(
    config: ClassifierConfig, *, resume: bool = False, progress: bool = True
) -> ClassifierResult:
    """Train (or continue) the run `config` describes; see the module docstring."""
    started = time.monotonic()
    check_views(config.model.views, name=config.model.name, align=config.crops.align)
    device = resolve_device(config.run.device)
    with distributed(device) as ddp:
        return _train(config, resume, progress, ddp, device_for(device, ddp), started)


def _train(config, resume, progress, ddp, device, started) -> ClassifierResult:
    """`train_…` inside this process's place in the job (the whole job when run alone)."""
    run_dir = Path(config.run.out) / config.run_name()
    last_path, best_path = run_dir / "last.pt", run_dir / "best.pt"
    state = open_run(run_dir, KIND, resume=resume, ddp=ddp)
    if state is not None and from_dict(ClassifierConfig, state["config"]).model != config.model:
        raise TrainingError(f"{last_path}: trained as another model than {config.model}")
    seed_everything(config.run.seed + ddp.rank)

    arch = architecture(config)
    model = build_from_architecture(arch, weights=config.model.weights).to(device)
    size = crop_size(config, model)
    train_src, val_src = resolve_data(config, run_dir) if ddp.is_main else (None, None)
    train_src, val_src = from_main(ddp, train_src, val_src)  # the first may have split
    if ddp.is_main and train_src != Path(config.data.train):
        print(f"training on {train_src}, validating on {val_src}", file=sys.stderr)
    val_set = make_dataset(val_src, config, size, train=False) if val_src else None
    if val_set is not None and config.data.preload and hasattr(val_set, "preload"):
        val_set.preload(config.data.num_workers)
    if callable(getattr(model, "fit", None)):  # a memory bank (PatchCore): no gradient steps
        return _fit_patchcore(config, model, arch, train_src, val_set, run_dir, device)
    wants_maps = getattr(model, "needs_anomaly_maps", False) and not config.data.whole_image
    train_set = make_dataset(train_src, config, size, train=True, anomaly_maps=wants_maps)
    if config.data.preload and hasattr(train_set, "preload"):
        train_set.preload(config.data.num_workers)
    labels = np.asarray(train_set.labels)
    if labels.min() == labels.max():
        raise TrainingError(
            f"{train_src}: all training items are {'anomalous' if labels[0] else 'benign'}"
        )
    counts = np.bincount(labels, minlength=2)
    weights = (1.0 / counts[labels]).tolist() if config.data.balance else None

    s = config.solver
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=s.lr, weight_decay=s.weight_decay)
    dtype = amp_dtype(s.amp, device)
    extra = {  # what every checkpoint of this run says about how to use it
        "target_fpr": config.run.target_fpr,
        "config": to_dict(config),
        "architecture": arch,
        "crops": {**to_dict(config.crops), "size": size, "whole_image": config.data.whole_image},
    }
    task = _ClassifierTask(config, model, train_set, val_set, weights, device, dtype, ddp, extra)
    columns = ("iteration", "epoch", "lr", "loss", "seconds", *EVAL_COLUMNS)
    log = CsvLog(run_dir / "log.csv", columns, ddp.is_main)
    evaluation = EvalHook(
        config.run.eval_every,
        best_path,
        last_path,
        log,
        best_key="best_auc",
        ties=True,
        keep=("threshold", "val_metrics"),
        enabled=val_set is not None,
    )
    hooks = standard_hooks(log, evaluation, config.run, progress and ddp.is_main)
    if state is None and not config.model.init_from:
        hooks.insert(0, DflInitHook(train_set, config.crops.mode, run_dir / "config.yaml"))
    trainer = Trainer.from_solver(
        task,
        model,
        optimizer,
        s,
        n_items=len(train_set),
        ddp=ddp,
        dtype=dtype,
        device=device,
        hooks=hooks,
        started=started,
        state=state,
        warmup_factor=0.01,
    )
    if state is None and config.model.init_from:
        _init_from(model, config.model.init_from, config.data.categories)
    if ddp.enabled:
        task.net = wrap_distributed(task.net, device)
    if ddp.is_main:
        resolved = to_dict(config)
        resolved["resolved"] = {
            "run": run_dir.name,
            "input_size": size,
            "steps_per_epoch": trainer.steps_per_epoch,
            "total_steps": trainer.total,
            "train": str(train_src),
            "val": str(val_src),
            "class_counts": counts.tolist(),
        }
        write_run_config(run_dir, resolved)
    task.net.train()
    try:
        trainer.train()
    finally:  # the workers hold forks of the preloaded crops: give their memory back now
        task.loader.close()
    threshold = evaluation.kept.get("threshold")
    if best_path.is_file():  # the threshold chosen with the best weights, not the last ones
        threshold = load_checkpoint(best_path, kind=KIND).get("threshold", threshold)
    return ClassifierResult(run_dir, trainer.iteration, evaluation.best, threshold)


EVAL_COLUMNS = ("val_auc", "val_accuracy", "val_tp_rate", "val_fp_rate", "threshold")


class _ClassifierTask:
    """Anomaly classification for the `Trainer`: class-balanced crop batches, the model's loss,
    validation ROC AUC with the threshold that keeps the FP rate at `run.target_fpr`."""

    kind = KIND

    def __init__(
        self, config, model, train_set, val_set, weights, device, dtype, ddp, extra: dict
    ) -> None:
        self.config, self.model, self.train_set, self.val_set = config, model, train_set, val_set
        self.weights, self.device, self.dtype, self.ddp = weights, device, dtype, ddp
        self.norm = normaliser(config.crops.mode)
        self.net: torch.nn.Module = _Loss(model)  # or, under torchrun, its DDP wrapper
        self.checkpoint_extra = extra
        # one set of workers for the whole run: a judge's epochs are short (EpochLoader)
        self.loader = EpochLoader(
            train_set,
            batch_size=config.solver.batch_size,
            seed=config.run.seed,
            ddp=ddp,
            num_workers=config.data.num_workers,
            weights=weights,
        )

    def batches(self, epoch: int, skip_steps: int):
        return self.loader(epoch, skip_steps)

    def loss(self, batch) -> tuple[torch.Tensor, dict[str, float]]:
        x, y, *maps = batch  # object crops for map-trained models also carry maps
        x, y = self.norm(x).to(self.device), y.to(self.device)
        with autocast(self.device, self.dtype):
            return self.net(x, y, *(m.to(self.device) for m in maps)), {}

    def evaluate(self) -> Evaluation:
        y, p = predict_scores(
            with_views(self.model, self.config.model.views, align=self.config.crops.align),
            self.val_set,
            self.device,
            self.config.crops.mode,
            dtype=self.dtype,
        )
        t = threshold_for_fpr(y, p, self.config.run.target_fpr) if (y == 0).any() else 0.5
        m = anomaly_metrics(y, p, t)
        row = {
            "val_auc": m.roc_auc,
            "val_accuracy": m.accuracy,
            "val_tp_rate": m.tp_rate,
            "val_fp_rate": m.fp_rate,
            "threshold": t,
        }
        return Evaluation(m.roc_auc, row, {"threshold": float(t), "val_metrics": m.to_dict()})

    def checkpoint_state(self) -> dict:
        return self.checkpoint_extra


class DflInitHook(HookBase):
    """DFL-CNN's filter bank initialised from patches of each class before the first step (the
    paper's start); what it did is added to the run's `config.yaml`. Other models: nothing."""

    def __init__(self, dataset, mode: str, config_path: Path) -> None:
        self.dataset, self.mode, self.config_path = dataset, mode, config_path

    def before_train(self) -> None:
        report = _init_dfl(self.trainer.model, self.dataset, self.mode)
        if not report or not self.trainer.ddp.is_main:
            return
        resolved = yaml.safe_load(self.config_path.read_text())
        resolved.setdefault("resolved", {})["dfl_init"] = {
            k: v for k, v in report.items() if isinstance(v, (int, float, list, dict))
        }
        write_run_config(self.config_path.parent, resolved)


def _fit_patchcore(
    config, model, arch, train_src, val_set, run_dir: Path, device
) -> ClassifierResult:
    """Fit the benign-only scorer: a memory bank of benign training crops, no gradient steps."""
    dataset = make_dataset(train_src, config, int(model.input_size), train=False)
    benign = [i for i, label in enumerate(dataset.labels) if label == 0]
    if len(benign) < 2:
        raise TrainingError(
            f"{train_src}: patchcore needs benign training items, found {len(benign)}"
        )
    rng = np.random.default_rng(config.run.seed)
    benign = rng.permutation(benign).tolist()
    cut = max(1, int(0.8 * len(benign)))
    norm = normaliser(config.crops.mode)
    b = config.solver.batch_size

    def batches(indices):
        for i in range(0, len(indices), b):
            yield norm(torch.stack([dataset[j][0] for j in indices[i : i + b]])).to(device)

    report = model.fit(batches(benign[:cut]), batches(benign[cut:]), seed=config.run.seed)
    arch = {**arch, "bank_size": len(model.bank), "detector": model_detector_arch(config)}
    threshold, metrics, auc = 0.5, None, None
    if val_set is not None:
        y, p = predict_scores(model, val_set, device, config.crops.mode, batch_size=b)
        threshold = float(threshold_for_fpr(y, p, config.run.target_fpr)) if (y == 0).any() else 0.5
        m = anomaly_metrics(y, p, threshold)
        metrics, auc = m.to_dict(), m.roc_auc
    resolved = to_dict(config)
    resolved["resolved"] = {"run": run_dir.name, "fit": report, "train": str(train_src)}
    write_run_config(run_dir, resolved)
    state = {
        "kind": KIND,
        "model": model.state_dict(),
        "iteration": 0,
        "epoch": 0,
        "best_auc": auc,
        "threshold": threshold,
        "target_fpr": config.run.target_fpr,
        "val_metrics": metrics,
        "config": to_dict(config),
        "architecture": arch,
        "crops": {
            **to_dict(config.crops),
            "size": int(model.input_size),
            "whole_image": config.data.whole_image,
        },
    }
    save_checkpoint(run_dir / "last.pt", state)
    save_checkpoint(run_dir / "best.pt", state)
    return ClassifierResult(run_dir, 0, auc, threshold)


def _init_from(model: torch.nn.Module, path: str, categories: Sequence[str] | None) -> None:
    """Start from a classifier checkpoint, or from the judge a bundle uses for `categories[0]`."""
    from engine.bundle import route

    saved = load_checkpoint(path)
    if saved.get("kind") == KIND:
        weights = saved["model"]
    elif saved.get("kind") == "bundle":
        if not categories:
            raise TrainingError(f"{path}: say which class's judge to start from (data.categories)")
        routes = route(
            [categories[0]], [_Routed(c.get("categories")) for c in saved["classifiers"]]
        )
        found = [j for j, rows in enumerate(routes) if rows]
        if not found:
            raise TrainingError(f"{path}: no judge for {categories[0]!r} in this bundle")
        weights = saved["model"]["classifiers"][found[0]]
    else:
        raise TrainingError(f"{path}: not a classifier checkpoint or model bundle")
    if len(load_matching_weights(model, weights)) == len(model.state_dict()):
        raise TrainingError(f"{path}: none of its weights fit {type(model).__name__}")


@dataclass
class _Routed:
    """What `engine.bundle.route` reads of a judge: the classes it was trained on."""

    categories: Sequence[str] | None


def model_detector_arch(config: ClassifierConfig) -> dict:
    """The architecture of the detector whose features a patchcore scorer uses."""
    return load_checkpoint(config.model.weights, kind="detector")["architecture"]
