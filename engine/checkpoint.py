"""Checkpoints written atomically and read with clear errors.

A checkpoint is a dict saved with `torch.save`: `kind` ("detector", "classifier", ...), the
`model` state, and whatever resuming needs (optimizer, scheduler, scaler, epoch, iteration,
config, class names, RNG states). Writing goes through a temporary file and a rename, so a
killed run or a full disk never leaves a half-written `last.pt`.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from engine.io.write import atomic_write_bytes

FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable, or not the kind of checkpoint expected."""


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Write `state` to `path` through a temporary file in the same folder, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    torch.save({"format_version": FORMAT_VERSION, **state}, buffer)
    atomic_write_bytes(path, buffer.getbuffer())
    return path


def load_checkpoint(
    path: str | Path, *, kind: str | None = None, map_location: str | torch.device = "cpu"
) -> dict[str, Any]:
    """Read a checkpoint; raise CheckpointError naming the file when it is not usable.

    Only tensors, containers and plain values are unpickled (`weights_only`), so a checkpoint
    from elsewhere cannot run code.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # zip errors, unpickling errors, EOF: all mean "not readable"
        problem = " ".join(str(exc).split())[:200]
        raise CheckpointError(f"{path}: not a readable checkpoint ({problem})") from None
    if not isinstance(state, dict) or "model" not in state:
        raise CheckpointError(f"{path}: not one of our checkpoints (no model state)")
    if kind is not None and state.get("kind") != kind:
        raise CheckpointError(f"{path}: a {state.get('kind', 'unknown')} checkpoint, not a {kind}")
    return state


def load_matching_weights(module: torch.nn.Module, state: dict[str, torch.Tensor]) -> list[str]:
    """Copy the tensors of `state` whose name and shape match into `module` (warm starts and
    fine-tuning on new classes); returns the names of the module's tensors left as they were."""
    own = module.state_dict()
    usable = {
        k: v.to(own[k].dtype) for k, v in state.items() if k in own and v.shape == own[k].shape
    }
    module.load_state_dict(usable, strict=False)
    return sorted(set(own) - set(usable))


@contextlib.contextmanager
def rebuilding(what: str, error: type[CheckpointError] = CheckpointError) -> Iterator[None]:
    """Turn what goes wrong building a network from a checkpoint's architecture and loading its
    weights (missing keys, shapes, unknown names) into one clear `error`: "`what` (problem)"."""
    try:
        yield
    except (KeyError, RuntimeError, ValueError, TypeError) as exc:
        problem = " ".join(str(exc).split())[:200]
        raise error(f"{what} ({problem})") from None
