"""Qt-free dataset utilities: checking, splitting and summarising COCO annotation files."""

import importlib
from typing import TYPE_CHECKING, Any

from engine.data.split import (
    SPLITS,
    resolve_annotations,
    resolve_split,
    split_coco,
    split_files,
    split_summary,
    training_files,
)

__all__ = [
    "SPLITS",
    "CocoDetection",
    "collate",
    "eval_transforms",
    "resolve_annotations",
    "resolve_split",
    "split_coco",
    "split_files",
    "split_summary",
    "train_transforms",
    "training_files",
]

# The torch-based parts load on first use, so `xray-engine split` does not pay for importing torch.
_LAZY = {
    "CocoDetection": "engine.data.coco",
    "collate": "engine.data.coco",
    "eval_transforms": "engine.data.transforms",
    "train_transforms": "engine.data.transforms",
}
if TYPE_CHECKING:
    from engine.data.coco import CocoDetection, collate
    from engine.data.transforms import eval_transforms, train_transforms


def __getattr__(name: str) -> Any:
    """Import a torch-based name from its module when it is first asked for."""
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
