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

from engine.errors import EngineError
from engine.io.files import FileCheckError, one_line, open_regular_file, quote_path
from engine.io.write import atomic_write_bytes

FORMAT_VERSION = 1
MAX_CHECKPOINT_BYTES = 8 << 30  # the largest run's last.pt with its optimizer is ~0.5 GB


class CheckpointError(EngineError, ValueError):
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
    from elsewhere cannot run code. Only a regular file is opened (never a FIFO or a device),
    and never one over MAX_CHECKPOINT_BYTES.
    """
    path = Path(path)
    where = quote_path(path)
    try:
        f = open_regular_file(path, max_bytes=MAX_CHECKPOINT_BYTES, folder="a folder, not a file")
    except FileCheckError as exc:
        problem = "no such checkpoint file" if exc.problem == "file not found" else exc.problem
        raise CheckpointError(f"{where}: {problem}") from None
    try:
        with f:
            state = torch.load(f, map_location=map_location, weights_only=True)
    except MemoryError:
        raise CheckpointError(f"{where}: not enough memory to read the checkpoint") from None
    except Exception as exc:  # zip errors, unpickling errors, EOF: all mean "not readable"
        raise CheckpointError(f"{where}: not a readable checkpoint ({one_line(exc)})") from None
    if not isinstance(state, dict) or "model" not in state:
        raise CheckpointError(f"{where}: not one of our checkpoints (no model state)")
    if kind is not None and state.get("kind") != kind:
        found = one_line(state.get("kind", "unknown"), 40)
        raise CheckpointError(f"{where}: a {found} checkpoint, not a {kind}")
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
