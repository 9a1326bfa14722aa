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

import math
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch
import yaml
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from engine.checkpoint import load_checkpoint, load_matching_weights, save_checkpoint
from engine.config import from_dict, to_dict
from engine.data import CocoDetection, collate, train_transforms, training_files
from engine.detection.config import DetectionConfig
from engine.detection.evaluate import evaluate_detector
from engine.detection.models import KIND, build_from_architecture, detector_family
from engine.runtime import (
    amp_dtype,
    autocast,
    barrier,
    device_for,
    init_distributed,
    resolve_device,
    seed_everything,
    set_rng_state,
    unwrap,
)
from engine.training import (
    CsvLog,
    TimeBudget,
    TrainingError,
    epoch_indices,
    gather_rng_states,
    optimizer_step,
    warmup_step_lr,
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
    from tqdm import tqdm

    started = time.monotonic()
    device = resolve_device(config.run.device)
    ddp = init_distributed(device)
    device = device_for(device, ddp)
    run_dir = Path(config.run.out) / (config.run.name or config.model.name)
    last_path, best_path = run_dir / "last.pt", run_dir / "best.pt"
    state = None
    if resume:
        state = load_checkpoint(last_path, kind=KIND)
        saved = from_dict(DetectionConfig, state["config"])
        same = replace(saved.model, init_from=None) == replace(config.model, init_from=None)
        if not same:  # where its weights first came from does not matter any more
            raise TrainingError(f"{last_path}: trained as {saved.model}, not {config.model}")
    elif last_path.exists():
        raise TrainingError(
            f"{run_dir} already holds a run: continue it with --resume, or set run.name=..."
        )
    if ddp.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
    barrier(ddp)

    seed_everything(config.run.seed + ddp.rank)
    train_json, val_json = resolve_data(config, run_dir) if ddp.is_main else (None, None)
    if ddp.enabled:  # the first process may have written the split: everyone reads its paths
        shared = [train_json, val_json]
        torch.distributed.broadcast_object_list(shared, src=0)
        train_json, val_json = shared
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
    world = ddp.world_size
    lr = s.lr_per_16 * s.batch_size * world / 16
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=lr, momentum=s.momentum, weight_decay=s.weight_decay)
    steps_per_epoch = math.ceil(len(train_set) / (s.batch_size * world))
    schedule = s.epochs * steps_per_epoch
    total = min(schedule, s.max_iters) if s.max_iters else schedule
    if s.max_minutes and ddp.enabled:
        raise TrainingError("solver.max_minutes is for one process: under torchrun use max_iters")
    spent = state.get("elapsed_s", 0.0) if state is not None else 0.0
    budget = TimeBudget(s.max_minutes, started=started, spent=spent)
    lr_factor = warmup_step_lr(
        s.warmup_iters, s.warmup_factor, s.lr_steps, s.gamma, schedule, budget
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
    dtype = amp_dtype(s.amp, device)
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)

    iteration, epoch, step_in_epoch, best_map, last_map = 0, 0, 0, None, None
    if state is not None:
        unwrap(model).load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        scaler.load_state_dict(state["scaler"])
        iteration, epoch = state["iteration"], state["epoch"]
        step_in_epoch, best_map = state["step_in_epoch"], state.get("best_map")
        set_rng_state(state["rng"][ddp.rank] if ddp.rank < len(state["rng"]) else state["rng"][0])
    if ddp.enabled:
        model = DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )

    columns = ("iteration", "epoch", "lr", "loss", *LOSS_COLUMNS, "seconds")
    log = CsvLog(run_dir / "log.csv", (*columns, "val_bbox_map", "val_segm_map"), ddp.is_main)
    if ddp.is_main:
        resolved = to_dict(replace(config, run=replace(config.run, name=run_dir.name)))
        resolved["resolved"] = {"lr": lr, "steps_per_epoch": steps_per_epoch, "total_steps": total}
        resolved["resolved"].update(categories=categories, train=str(train_json), val=str(val_json))
        (run_dir / "config.yaml").write_text(yaml.safe_dump(resolved, sort_keys=False))

    def checkpoint(path: Path) -> None:
        states = gather_rng_states(ddp)
        if not ddp.is_main:
            return
        save_checkpoint(
            path,
            {
                "kind": KIND,
                "model": unwrap(model).state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "scaler": scaler.state_dict(),
                "iteration": iteration,
                "epoch": epoch,
                "step_in_epoch": step_in_epoch,
                "best_map": best_map,
                "elapsed_s": budget.elapsed(),
                "config": to_dict(config),
                "architecture": arch,
                "categories": categories,
                "rng": states,
            },
        )

    evaluated_at = -1

    def evaluate() -> None:
        nonlocal best_map, last_map, evaluated_at
        evaluated_at = iteration
        if val_set is None:
            return
        shared = [None, None]
        if ddp.is_main:
            result = evaluate_detector(
                model, val_set, device, max_images=d.val_max_images, dtype=dtype
            )
            segm = result.get("segm", {}).get("mAP")
            log.write(
                iteration=iteration,
                epoch=epoch,
                val_bbox_map=result["bbox"]["mAP"],
                val_segm_map=segm,
            )
            shared = [result["bbox"]["mAP"], segm]
        if ddp.enabled:
            torch.distributed.broadcast_object_list(shared, src=0)
        last_map = shared[0]
        if last_map is not None and (best_map is None or last_map > best_map):
            best_map = last_map
            checkpoint(best_path)  # every process: the checkpoint gathers their RNG states

    bar = tqdm(
        total=total,
        initial=iteration,
        desc=run_dir.name,
        unit="step",
        disable=not (progress and ddp.is_main),
    )
    model.train()
    while iteration < total:
        order = epoch_indices(len(train_set), epoch, config.run.seed, ddp)
        order = order[step_in_epoch * s.batch_size :]
        train_set.set_epoch(epoch)
        loader = DataLoader(
            train_set,
            batch_size=s.batch_size,
            sampler=order,
            num_workers=d.num_workers,
            collate_fn=collate,
            generator=torch.Generator().manual_seed(config.run.seed + epoch),
        )
        for images, targets in loader:
            t0 = time.perf_counter()
            images = [image.to(device) for image in images]
            targets = [
                {k: v.to(device) if torch.is_tensor(v) else v for k, v in t.items()}
                for t in targets
            ]
            with autocast(device, dtype):
                losses = model(images, targets)
            loss = sum(losses.values())
            if not torch.isfinite(loss):
                raise TrainingError(
                    f"loss is {float(loss)} at step {iteration + 1}: lower the learning rate"
                )
            optimizer_step(loss, optimizer, scaler, scheduler, params, s.clip_grad_norm)
            iteration += 1
            step_in_epoch += 1
            terms = {k: float(v.detach()) for k, v in losses.items()}
            loss = loss.detach()
            log.write(
                iteration=iteration,
                epoch=epoch,
                lr=optimizer.param_groups[0]["lr"],
                loss=float(loss),
                seconds=time.perf_counter() - t0,
                **terms,
            )
            bar.update()
            bar.set_postfix(loss=f"{float(loss):.3f}", lr=f"{optimizer.param_groups[0]['lr']:.2g}")
            if budget.expired():  # time is up: stop as at the schedule's end, saving first in
                total = iteration  # case the last evaluation outlasts someone's hard deadline
                checkpoint(last_path)
            if iteration % config.run.checkpoint_every == 0 and iteration < total:
                checkpoint(last_path)  # the last step's is written after the final evaluation
            if iteration >= total:
                break
        if step_in_epoch >= steps_per_epoch:
            epoch, step_in_epoch = epoch + 1, 0
            if epoch % config.run.eval_every == 0 and iteration < total:
                checkpoint(last_path)
                evaluate()
    bar.close()
    if evaluated_at != iteration:
        evaluate()
    checkpoint(last_path)
    return TrainResult(run_dir, iteration, best_map, last_map)


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
