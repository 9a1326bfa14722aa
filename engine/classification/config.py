"""Classifier training configs (stage 2): defaults here, differences in configs/classification/."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CropConfig:
    """How an object becomes the classifier's input; the same at training and in the pipeline."""

    size: int = 0  # square side fed to the model; 0: the model's own input size
    margin: float = 0.15  # context around the box, as a share of its size on each side
    mode: str = "rgb"  # rgb: false colour; dual: −ln T_low, −ln T_high, Zeff
    masks: bool = False  # blank everything outside the instance mask (pre-localisation)
    align: bool = False  # turn each crop so its instance mask's long axis lies across


@dataclass(frozen=True)
class ClassifierDataConfig:
    train: str = ""  # COCO JSON, dataset folder (engine.data.training_files) or crop tree
    val: str | None = None  # default: the folder's val.json
    whole_image: bool = False  # the full-image baseline: is there an anomaly anywhere?
    balance: bool = True  # draw benign and anomalous items equally often
    # training only: leave out anomalies fainter than this (attributes.anomaly_visibility, in
    # noise σ) so a model can first learn the visible ones; validation always keeps them all
    min_visibility: float | None = None
    categories: tuple[str, ...] | None = None  # object crops of these classes only (default: all)
    num_workers: int = 2
    # read every object's neighbourhood into memory first (num_workers processes): epochs and
    # evaluations then decode no scans, which keeps a GPU fed (ObjectCrops.preload)
    preload: bool = False


@dataclass(frozen=True)
class ClassifierModelConfig:
    name: str = "resnet18"
    weights: str | None = None  # ImageNet file, "imagenet" (torch cache); patchcore: detector
    input_size: int | None = None  # default: the model's (224; DFL-CNN 448)
    k: int | None = None  # DFL-CNN filters per class (10)
    # start from a classifier checkpoint's weights, or a bundle's judge of data.categories[0]
    init_from: str | None = None
    # test-time views: the mean logits of 1, 2, 4 or 8 flips and quarter turns of each crop,
    # in validation (so the threshold is placed on them), evaluation and screening (ViewMean)
    views: int = 1


@dataclass(frozen=True)
class ClassifierSolverConfig:
    batch_size: int = 32
    lr: float = 1e-3  # AdamW; from scratch it converges in a few epochs where SGD needs many
    weight_decay: float = 1e-4
    epochs: int = 20
    max_iters: int | None = None
    max_minutes: float | None = None  # wall-clock budget: then evaluate, save, stop
    warmup_iters: int = 100
    lr_steps: tuple[float, ...] = (2 / 3, 8 / 9)
    gamma: float = 0.1
    clip_grad_norm: float | None = 5.0
    amp: str = "auto"


@dataclass(frozen=True)
class ClassifierRunConfig:
    out: str = "runs"
    name: str = ""  # default: model, input mode and pre-localisation, e.g. resnet18_rgb_mask
    seed: int = 0
    device: str = "auto"
    eval_every: int = 1  # epochs
    checkpoint_every: int = 200
    patience: int = 0  # stop after this many evaluations without a better val AUC (0: never)
    target_fpr: float = 0.05  # the operating threshold keeps this FP rate on validation


@dataclass(frozen=True)
class ClassifierConfig:
    crops: CropConfig = field(default_factory=CropConfig)
    data: ClassifierDataConfig = field(default_factory=ClassifierDataConfig)
    model: ClassifierModelConfig = field(default_factory=ClassifierModelConfig)
    solver: ClassifierSolverConfig = field(default_factory=ClassifierSolverConfig)
    run: ClassifierRunConfig = field(default_factory=ClassifierRunConfig)

    def run_name(self) -> str:
        if self.run.name:
            return self.run.name
        parts = [self.model.name, "scan" if self.data.whole_image else self.crops.mode]
        return "_".join(parts + (["mask"] if self.crops.masks else []))
