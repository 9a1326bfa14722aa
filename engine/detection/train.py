"""Train a detector: plain loop, exact resume, mixed precision, torchrun, checkpoints and a CSV log.

`train_detector(config)` writes into `runs/<name>/`: the resolved `config.yaml`, `log.csv` (one
row per step, and one per evaluation), `last.pt` (every `checkpoint_every` steps, before each
evaluation and at the end) and `best.pt` (best validation mAP). A killed run continues with
`resume=True` exactly where its last checkpoint left it: the same next batch and the same next
loss, because the data order, every augmentation and every RNG state are functions of (seed,
epoch, step). Under `torchrun` each process trains on its share of every epoch
(DistributedDataParallel; NCCL on GPUs, gloo on the CPU) and the first process writes and
evaluates.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from engine.checkpoint import load_checkpoint, load_matching_weights
from engine.config import from_dict, to_dict
from engine.data import CocoDetection, collate, train_transforms, training_files
from engine.detection.config import DetectionConfig
from engine.detection.evaluate import evaluate_detector
from engine.detection.models import KIND, build_from_architecture, detector_family
from engine.hooks import EvalHook, standard_hooks
from engine.runtime import (
    amp_dtype,
    autocast,
    device_for,
    distributed,
    resolve_device,
    seed_everything,
    unwrap,
)
from engine.training import (
    CsvLog,
    Evaluation,
    Trainer,
    TrainingError,
    epoch_loader,
    from_main,
    open_run,
    wrap_distributed,
    write_run_config,
)

LOSS_COLUMNS = (
    "loss_classifier",
    "loss_box_reg",
    "loss_mask",
    "loss_objectness",
    "loss_rpn_box_reg",
    "classification",
    "bbox_regression",
)


@dataclass
class TrainResult:
    run_dir: Path
    iterations: int
    best_map: float | None
    last_map: float | None


def resolve_data(config: DetectionConfig, run_dir: Path) -> tuple[Path, Path | None]:
    """Train and validation COCO files (`engine.data.training_files`); a folder without splits
    is split 60/20/20 into the run."""
    if not config.data.train:
        raise TrainingError("no training data: set data.train=DIR or a COCO JSON file")
    try:
        return training_files(
            config.data.train, config.data.val, seed=config.run.seed, out_dir=run_dir / "splits"
        )
    except ValueError as exc:
        raise TrainingError(str(exc)) from None


def architecture(config: DetectionConfig, num_classes: int) -> dict:
    """Everything that fixes the network's shape, as saved in checkpoints and bundles.

    The norm is resolved here (GroupNorm from scratch, frozen BatchNorm when fine-tuning), so
    a checkpoint rebuilds without needing the ImageNet file it started from.
    """
    m = config.model
    family = detector_family(m.name)
    arch = {
        "name": m.name,
        "num_classes": num_classes,
        "norm": m.norm or ("frozen_bn" if m.weights_backbone else "gn"),
        "min_size": m.min_size,
        "max_size": m.max_size,
    }
    if family == "retinanet":
        arch["detections_per_img"] = m.box_detections_per_img
    else:
        arch["box_detections_per_img"] = m.box_detections_per_img
        arch["rpn_batch_size_per_image"] = m.rpn_batch_size_per_image
        arch["box_batch_size_per_image"] = m.box_batch_size_per_image
    return arch


def train_detector(
    config: DetectionConfig, *, resume: bool = False, progress: bool = True
) -> TrainResult:
    """Train (or with `resume`, continue) the run `config` describes; see the module docstring."""
    started = time.monotonic()
    device = resolve_device(config.run.device)
    with distributed(device) as ddp:
        return _train(config, resume, progress, ddp, device_for(device, ddp), started)


def _train(config, resume, progress, ddp, device, started) -> TrainResult:
    """`train_…` inside this process's place in the job (the whole job when run alone)."""
    run_dir = Path(config.run.out) / (config.run.name or config.model.name)
    last_path, best_path = run_dir / "last.pt", run_dir / "best.pt"
    state = open_run(run_dir, KIND, resume=resume, ddp=ddp)
    if state is not None:
        saved = from_dict(DetectionConfig, state["config"])
        same = replace(saved.model, init_from=None) == replace(config.model, init_from=None)
        if not same:  # where its weights first came from does not matter any more
            raise TrainingError(f"{last_path}: trained as {saved.model}, not {config.model}")

    seed_everything(config.run.seed + ddp.rank)
    train_json, val_json = resolve_data(config, run_dir) if ddp.is_main else (None, None)
    train_json, val_json = from_main(ddp, train_json, val_json)  # the first may have split
    if ddp.is_main and Path(config.data.train).is_dir():
        print(f"training on {train_json}, validating on {val_json}", file=sys.stderr)
    d = config.data
    train_set = CocoDetection(
        train_json,
        transforms=train_transforms(d.min_sizes, d.max_size, d.hflip),
        categories=d.categories,
        seed=config.run.seed,
    )
    val_set = CocoDetection(val_json, categories=d.categories) if val_json else None
    categories = list(train_set.categories)

    arch = architecture(config, len(categories) + 1)
    model = build_from_architecture(
        arch,
        weights_backbone=config.model.weights_backbone,
        trainable_backbone_layers=config.model.trainable_backbone_layers,
    ).to(device)
    if config.model.init_from and state is None:
        kept = _init_from(model, config.model.init_from)
        if ddp.is_main and progress:
            print(f"weights from {config.model.init_from}; {len(kept)} tensors kept their own")
    s = config.solver
    lr = s.lr_per_16 * s.batch_size * ddp.world_size / 16
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=lr, momentum=s.momentum, weight_decay=s.weight_decay)
    dtype = amp_dtype(s.amp, device)
    task = _DetectionTask(config, model, train_set, val_set, device, dtype, ddp, arch, categories)
    log = CsvLog(
        run_dir / "log.csv",
        ("iteration", "epoch", "lr", "loss", *LOSS_COLUMNS, "seconds", *EVAL_COLUMNS),
        ddp.is_main,
    )
    evaluation = EvalHook(
        config.run.eval_every,
        best_path,
        last_path,
        log,
        best_key="best_map",
        enabled=val_set is not None,
    )
    trainer = Trainer.from_solver(
        task,
        model,
        optimizer,
        s,
        n_items=len(train_set),
        ddp=ddp,
        dtype=dtype,
        device=device,
        hooks=standard_hooks(log, evaluation, config.run, progress and ddp.is_main),
        started=started,
        state=state,
        warmup_factor=s.warmup_factor,
    )
    if ddp.enabled:
        task.net = wrap_distributed(model, device)
    if ddp.is_main:
        resolved = to_dict(replace(config, run=replace(config.run, name=run_dir.name)))
        resolved["resolved"] = {
            "lr": lr,
            "steps_per_epoch": trainer.steps_per_epoch,
            "total_steps": trainer.total,
        }
        resolved["resolved"].update(categories=categories, train=str(train_json), val=str(val_json))
        write_run_config(run_dir, resolved)
    model.train()
    trainer.train()
    return TrainResult(run_dir, trainer.iteration, evaluation.best, evaluation.last)


EVAL_COLUMNS = ("val_bbox_map", "val_segm_map")


class _DetectionTask:
    """Detection for the `Trainer`: image batches, the detector's summed losses, COCO mAP."""

    kind = KIND

    def __init__(
        self, config, model, train_set, val_set, device, dtype, ddp, arch, categories
    ) -> None:
        self.config, self.train_set, self.val_set = config, train_set, val_set
        self.device, self.dtype, self.ddp = device, dtype, ddp
        self.arch, self.categories = arch, categories
        self.net: torch.nn.Module = model  # or, under torchrun, its DDP wrapper

    def batches(self, epoch: int, skip_steps: int):
        return epoch_loader(
            self.train_set,
            epoch,
            skip_steps,
            batch_size=self.config.solver.batch_size,
            seed=self.config.run.seed,
            ddp=self.ddp,
            num_workers=self.config.data.num_workers,
            collate_fn=collate,
        )

    def loss(self, batch) -> tuple[torch.Tensor, dict[str, float]]:
        images, targets = batch
        images = [image.to(self.device) for image in images]
        targets = [
            {k: v.to(self.device) if torch.is_tensor(v) else v for k, v in t.items()}
            for t in targets
        ]
        with autocast(self.device, self.dtype):
            losses = self.net(images, targets)
        return sum(losses.values()), {k: float(v.detach()) for k, v in losses.items()}

    def evaluate(self) -> Evaluation:
        result = evaluate_detector(
            unwrap(self.net),
            self.val_set,
            self.device,
            max_images=self.config.data.val_max_images,
            dtype=self.dtype,
        )
        bbox, segm = result["bbox"]["mAP"], result.get("segm", {}).get("mAP")
        return Evaluation(bbox, {"val_bbox_map": bbox, "val_segm_map": segm})

    def checkpoint_state(self) -> dict:
        return {
            "config": to_dict(self.config),
            "architecture": self.arch,
            "categories": self.categories,
        }


def _init_from(model: torch.nn.Module, path: str) -> list[str]:
    """Start from a detector checkpoint's or a bundle's weights; own ones where shapes differ."""
    saved = load_checkpoint(path)
    if saved.get("kind") == "bundle":
        weights = saved["model"]["detector"]
    elif saved.get("kind") == KIND:
        weights = saved["model"]
    else:
        raise TrainingError(f"{path}: not a detector checkpoint or model bundle")
    kept = load_matching_weights(model, weights)
    if len(kept) == len(model.state_dict()):
        raise TrainingError(f"{path}: none of its weights fit {type(model).__name__}")
    return kept
