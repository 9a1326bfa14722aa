"""Training: the loss falls, a killed run resumes exactly, two gloo processes train, CLI reports."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.checkpoint import CheckpointError, load_checkpoint
from engine.cli import main
from engine.config import load_config
from engine.detection.config import DetectionConfig
from engine.detection.train import TrainingError, train_detector

pytestmark = pytest.mark.slow  # each test trains a detector, or reads one trained here

FAST = [
    "model.name=maskrcnn_resnet18_fpn",
    "model.min_size=72",
    "model.max_size=96",
    "model.rpn_batch_size_per_image=64",
    "model.box_batch_size_per_image=32",
    "data.min_sizes=[64,72,80]",
    "data.max_size=112",
    "data.num_workers=0",
    "data.val_max_images=2",
    "solver.epochs=40",
    "solver.warmup_iters=4",
    "solver.lr_per_16=0.08",
    "run.checkpoint_every=1000",
    "run.eval_every=1000",
]


def _config(data: Path, out: Path, *extra: str) -> DetectionConfig:
    return load_config(
        DetectionConfig, None, [f"data.train={data}", f"run.out={out}", *FAST, *extra]
    )


def _losses(run: Path) -> dict[int, float]:
    with (run / "log.csv").open() as f:
        return {int(r["iteration"]): float(r["loss"]) for r in csv.DictReader(f) if r["loss"]}


@pytest.fixture(scope="module")
def reference(tiny_coco, tmp_path_factory):
    """Eight uninterrupted steps: the run every interrupted one must reproduce."""
    out = tmp_path_factory.mktemp("runs")
    result = train_detector(_config(tiny_coco, out, "solver.max_iters=8"), progress=False)
    return result.run_dir


def test_a_run_writes_its_config_log_and_checkpoints(reference):
    assert {"config.yaml", "log.csv", "last.pt"} <= {p.name for p in reference.iterdir()}
    state = load_checkpoint(reference / "last.pt", kind="detector")
    assert state["iteration"] == 8 and state["categories"][0] == "bottle"
    assert {"optimizer", "scheduler", "scaler", "rng", "config", "architecture"} <= set(state)
    assert sorted(_losses(reference)) == list(range(1, 9))


def test_thirty_steps_lower_the_loss(tiny_coco, tmp_path):
    run = train_detector(_config(tiny_coco, tmp_path, "solver.max_iters=30"), progress=False)
    losses = list(_losses(run.run_dir).values())
    assert len(losses) == 30
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < 0.8 * first, f"loss went from {first:.3f} to {last:.3f}"


def test_an_interrupted_run_resumes_with_the_same_next_losses(tiny_coco, reference, tmp_path):
    train_detector(_config(tiny_coco, tmp_path, "solver.max_iters=3"), progress=False)
    result = train_detector(
        _config(tiny_coco, tmp_path, "solver.max_iters=6"), resume=True, progress=False
    )
    assert result.iterations == 6
    resumed, uninterrupted = _losses(result.run_dir), _losses(reference)
    for step in (4, 5, 6):
        assert resumed[step] == pytest.approx(uninterrupted[step], rel=1e-5), step


def test_a_killed_run_resumes_from_its_last_checkpoint(tiny_coco, reference, tmp_path):
    args = [f"data.train={tiny_coco}", f"run.out={tmp_path}", *FAST]
    args += ["run.checkpoint_every=1", "solver.max_iters=500"]
    cmd = [sys.executable, "-m", "engine.cli", "train-detector", "--quiet", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    log = tmp_path / "maskrcnn_resnet18_fpn" / "log.csv"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if log.exists() and len(log.read_text().splitlines()) >= 3:  # header + two steps
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
    state = load_checkpoint(log.parent / "last.pt", kind="detector")  # intact despite the kill
    done = state["iteration"]
    assert 1 <= done <= 6
    config = _config(tiny_coco, tmp_path, "run.checkpoint_every=1", f"solver.max_iters={done + 2}")
    result = train_detector(config, resume=True, progress=False)
    resumed, uninterrupted = _losses(result.run_dir), _losses(reference)
    for step in (done + 1, done + 2):
        assert resumed[step] == pytest.approx(uninterrupted[step], rel=1e-5), step


def test_a_run_is_never_overwritten_and_resumes_only_the_same_model(tiny_coco, reference):
    out = reference.parent
    with pytest.raises(TrainingError, match="already holds a run"):
        train_detector(_config(tiny_coco, out, "solver.max_iters=1"), progress=False)
    other = _config(tiny_coco, out, "run.name=maskrcnn_resnet18_fpn", "model.min_size=64")
    with pytest.raises(TrainingError, match="trained as"):
        train_detector(other, resume=True, progress=False)


def test_two_processes_train_together_on_gloo(tiny_coco, tmp_path):
    args = [f"data.train={tiny_coco}", f"run.out={tmp_path}", *FAST, "solver.max_iters=2"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    cmd += ["-m", "engine.cli", "train-detector", "--quiet", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = tmp_path / "maskrcnn_resnet18_fpn"
    state = load_checkpoint(run / "last.pt", kind="detector")
    assert state["iteration"] == 2 and len(state["rng"]) == 2  # one RNG state per process
    assert sorted(_losses(run)) == [1, 2]  # the first process alone writes the log


def test_eval_and_report_commands(tiny_coco, reference, tmp_path, capsys):
    out = tmp_path / "eval_test.json"
    args = ["--checkpoint", str(reference / "last.pt"), "--data", str(tiny_coco), "--quiet"]
    assert main(["eval-detector", *args, "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert {"bbox", "segm", "ms_per_image", "model", "run"} <= set(result)
    assert result["data"].endswith("test.json") and result["model"] == "maskrcnn_resnet18_fpn"
    report = tmp_path / "report.csv"
    assert main(["report-detection", str(out), "--csv", str(report)]) == 0
    printed = capsys.readouterr().out
    assert (
        "| run | model | bottle | hairdryer | iron | toaster | mobile | laptop | mAP |" in printed
    )
    assert report.read_text().splitlines()[0].startswith("run,model,bottle")
    assert main(["eval-detector", "--checkpoint", str(tmp_path / "none.pt"), "--data", "x"]) == 2
    assert "no such checkpoint" in capsys.readouterr().err


def test_a_run_starts_from_another_runs_weights(tiny_coco, reference, tmp_path):
    import torch

    from engine.detection.models import build_from_architecture
    from engine.detection.train import _init_from

    trained = load_checkpoint(reference / "last.pt", kind="detector")
    model = build_from_architecture(trained["architecture"])
    assert _init_from(model, str(reference / "last.pt")) == []
    for name, value in model.state_dict().items():
        assert torch.equal(value, trained["model"][name]), name
    # other classes: the class-specific heads keep their own weights, the rest is copied
    arch = {**trained["architecture"], "num_classes": 3}
    other = build_from_architecture(arch)
    kept = _init_from(other, str(reference / "last.pt"))
    assert kept and all("roi_heads" in k for k in kept)
    result = train_detector(
        _config(
            tiny_coco, tmp_path, "solver.max_iters=1", f"model.init_from={reference / 'last.pt'}"
        ),
        progress=False,
    )
    assert (result.run_dir / "last.pt").is_file()
    # resuming does not care where the first weights came from (the file may be gone by then)
    again = _config(tiny_coco, tmp_path, "solver.max_iters=2", "model.init_from=elsewhere.pt")
    assert train_detector(again, resume=True, progress=False).run_dir == result.run_dir
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(CheckpointError, match=r"junk\.pt"):
        _init_from(model, str(tmp_path / "junk.pt"))


def test_eval_detector_reads_a_bundles_detector(tiny_coco, tiny_bundle, tmp_path):
    """A shipped model is evaluated as it is: the bundle's (fp16) detector, as its checkpoint."""
    from engine.bundle import load_bundle

    source = load_bundle(tiny_bundle)["detector"]["source"]
    figures = []
    for i, checkpoint in enumerate((source, tiny_bundle)):
        out = tmp_path / f"eval_{i}.json"
        args = ["--checkpoint", str(checkpoint), "--data", str(tiny_coco), "--quiet"]
        assert main(["eval-detector", *args, "--out", str(out), "--amp", "off"]) == 0
        figures.append(json.loads(out.read_text())["bbox"]["AP50"])
    assert abs(figures[0] - figures[1]) < 0.02
