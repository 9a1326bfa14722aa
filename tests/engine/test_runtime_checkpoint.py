"""Devices, mixed precision and checkpoints: clear errors, atomic writes."""

from __future__ import annotations

import pytest
import torch

from engine.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from engine.runtime import amp_dtype, cpu_has_fast_bf16, resolve_device


def test_auto_device_is_cuda_when_present_else_cpu():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="unknown device"):
        resolve_device("tpu9")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a CPU machine")
def test_asking_for_cuda_without_a_gpu_says_so():
    with pytest.raises(ValueError, match="no CUDA GPU"):
        resolve_device("cuda")


def test_amp_modes():
    cpu = torch.device("cpu")
    assert amp_dtype("auto", cpu) is (torch.bfloat16 if cpu_has_fast_bf16() else None)
    assert amp_dtype("off", cpu) is None
    assert amp_dtype("bf16", cpu) is torch.bfloat16
    assert amp_dtype("auto", torch.device("cuda")) is torch.float16
    with pytest.raises(ValueError, match="needs a CUDA device"):
        amp_dtype("fp16", cpu)
    with pytest.raises(ValueError, match="amp must be one of"):
        amp_dtype("fp8", cpu)


def test_checkpoints_round_trip_and_leave_no_temporary_files(tmp_path):
    path = save_checkpoint(
        tmp_path / "run" / "last.pt", {"kind": "detector", "model": {"w": torch.ones(2)}}
    )
    state = load_checkpoint(path, kind="detector")
    assert torch.equal(state["model"]["w"], torch.ones(2)) and state["format_version"] == 1
    assert [p.name for p in path.parent.iterdir()] == ["last.pt"]


def test_a_failed_save_keeps_the_previous_checkpoint(tmp_path):
    path = save_checkpoint(tmp_path / "last.pt", {"kind": "detector", "model": {"step": 1}})
    with pytest.raises(Exception):  # noqa: B017 - whatever torch.save raises for a lambda
        save_checkpoint(path, {"kind": "detector", "model": {"step": lambda: 2}})
    assert load_checkpoint(path)["model"] == {"step": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def test_unusable_checkpoints_are_refused_with_the_file_name(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "none.pt")
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"\x00" * 100)
    with pytest.raises(CheckpointError, match=r"garbage\.pt: not a readable checkpoint"):
        load_checkpoint(garbage)
    plain = tmp_path / "plain.pt"
    torch.save({"weights": torch.ones(1)}, plain)
    with pytest.raises(CheckpointError, match="no model state"):
        load_checkpoint(plain)
    other = save_checkpoint(tmp_path / "cls.pt", {"kind": "classifier", "model": {}})
    with pytest.raises(CheckpointError, match="a classifier checkpoint, not a detector"):
        load_checkpoint(other, kind="detector")


def test_a_torchrun_process_ends_its_group_after_training_and_on_error(monkeypatch):
    """`distributed()`: every process waits for the others, then destroys the process group (a
    gloo process exiting with its group alive can abort in teardown); on an error it destroys
    the group without waiting for processes that may never come."""
    import engine.runtime as runtime

    calls = []
    monkeypatch.setattr(runtime, "init_distributed", lambda device: runtime.Distributed(0, 2, 0))
    monkeypatch.setattr(runtime.dist, "is_initialized", lambda: True)
    monkeypatch.setattr(runtime.dist, "barrier", lambda: calls.append("barrier"))
    monkeypatch.setattr(runtime.dist, "destroy_process_group", lambda: calls.append("destroy"))
    with runtime.distributed(torch.device("cpu")) as ddp:
        assert ddp.enabled
    assert calls == ["barrier", "destroy"]
    calls.clear()
    with (
        pytest.raises(RuntimeError, match="out of memory"),
        runtime.distributed(torch.device("cpu")),
    ):
        raise RuntimeError("out of memory")
    assert calls == ["destroy"]
