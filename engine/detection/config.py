"""Detection training configs: the paper's recipe as defaults, YAML files hold the differences.

Defaults follow the Detectron recipe the paper trained with: SGD with momentum 0.9, weight
decay 1e-4, linear warm-up, a step decay at 2/3 and 8/9 of the schedule, 512 RPN anchors per
image, multi-scale training with horizontal flips. The learning rate is 0.02 for 16 images per
step, scaled linearly to the actual batch (`lr_per_16`), so a 2-image CPU batch and an 8-GPU
job follow the same recipe. `configs/detection/*.yaml` change what differs (ResNet-101 halves
the learning rate and doubles the schedule).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.classes import DEFAULT_CLASSES


@dataclass(frozen=True)
class DataConfig:
    """Where the COCO files are and how images are fed."""

    train: str = ""  # COCO JSON, or a folder with train.json (or annotations.json to split)
    val: str | None = None  # default: the folder's val.json
    categories: tuple[str, ...] = DEFAULT_CLASSES  # label k is categories[k-1]
    min_sizes: tuple[int, ...] = (384, 416, 448, 480, 512, 544, 576)  # scale jitter (short side)
    max_size: int = 800  # long side cap in training
    hflip: float = 0.5
    num_workers: int = 2
    val_max_images: int | None = None  # evaluate on the first N validation images only


@dataclass(frozen=True)
class ModelConfig:
    name: str = "maskrcnn_resnet50_fpn"
    weights_backbone: str | None = None  # ImageNet checkpoint path, or "imagenet" (torch cache)
    norm: str | None = None  # gn from scratch, frozen_bn when fine-tuning
    trainable_backbone_layers: int | None = None
    min_size: int = 480  # evaluation resize: native for 640×480 scans
    max_size: int = 640
    rpn_batch_size_per_image: int = 512
    box_batch_size_per_image: int = 512  # sampled RoIs per image; 128 is 3x faster on a CPU
    box_detections_per_img: int = 100
    init_from: str | None = None  # detector checkpoint or bundle whose same-shaped weights start


@dataclass(frozen=True)
class SolverConfig:
    batch_size: int = 2  # images per process and step
    lr_per_16: float = 0.02  # learning rate for 16 images per step, scaled to the real batch
    momentum: float = 0.9
    weight_decay: float = 1e-4
    epochs: int = 12
    max_iters: int | None = None  # stop after this many steps (smoke tests, time budgets)
    max_minutes: float | None = None  # wall-clock budget: then evaluate, save, stop
    warmup_iters: int = 500
    warmup_factor: float = 0.001
    lr_steps: tuple[float, ...] = (2 / 3, 8 / 9)  # where lr × gamma, as shares of the schedule
    gamma: float = 0.1
    clip_grad_norm: float | None = 10.0
    amp: str = "auto"  # auto: fp16 on CUDA, bf16 on CPUs with native bf16; or off, fp16, bf16


@dataclass(frozen=True)
class RunConfig:
    out: str = "runs"
    name: str = ""  # default: the model's name
    seed: int = 0
    device: str = "auto"
    eval_every: int = 1  # epochs
    checkpoint_every: int = 200  # steps between last.pt saves (and at every epoch's end)
    patience: int = 0  # stop after this many evaluations without a better val mAP (0: never)


@dataclass(frozen=True)
class DetectionConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    solver: SolverConfig = field(default_factory=SolverConfig)
    run: RunConfig = field(default_factory=RunConfig)
