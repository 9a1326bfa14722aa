"""`make gpu-model` (scripts/gpu_model.py): deadlines hold; the whole chain runs tiny on a CPU."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "gpu_model.py"


def _recipe():
    spec = importlib.util.spec_from_file_location("gpu_model", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


gpu_model = _recipe()


def test_stage_deadlines_share_the_time_left():
    clock = gpu_model.Clock(100.0, {"a": 0.25, "b": 0.25, "c": 0.47}, time.monotonic())
    first = clock.begin("a") - time.monotonic()
    assert first == pytest.approx(97 * 0.25 / 0.97, abs=0.5)  # 3 % kept in reserve
    clock.finish("a")
    clock.start -= 30  # "a" ended early: 30 s of its ~25 used, "b" gets a share of what is left
    clock.end -= 30
    second = clock.begin("b") - time.monotonic()
    assert second == pytest.approx((97 - 30) * 0.25 / 0.72, abs=0.5)
    assert clock.stages["a"]["status"] == "done" and "wall_s" in clock.stages["a"]


def test_synthesis_chunks_probe_then_fill_the_time_left():
    later = time.monotonic() + 100
    assert gpu_model._next_chunk([], 3000, 16, later) == 64  # a probe: four bags a worker
    # 64 bags took 8 s, then 512 took 22 s: 32 bags a second after 6 s of start-up
    made = [("a", 64, 8.0), ("b", 512, 22.0)]
    n = gpu_model._next_chunk(made, 6000, 16, later)
    assert 0.9 * (100 - 6 - 2) * 32 * 0.95 < n < 0.9 * 100 * 32
    assert gpu_model._next_chunk(made, 600, 16, later) == 24  # only what the target still needs
    assert gpu_model._next_chunk(made, 3000, 16, time.monotonic() + 3) == 0  # no time: none


@pytest.mark.slow
def test_a_command_past_its_deadline_is_stopped(tmp_path):
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    runner = gpu_model.Runner(sleeper, tmp_path, parallel=2, threads=1)
    quick = gpu_model.Job("quick", ["x"], time.monotonic() + 60, after=("slow",))
    slow = gpu_model.Job("slow", ["x"], time.monotonic() + 8)  # SIGINT 5 s before it
    late = gpu_model.Job("late", ["x"], time.monotonic() + 3)  # too little left to start
    started = time.monotonic()
    runner.run([slow, quick, late])
    assert 2 < time.monotonic() - started < 8
    assert slow.timed_out and not slow.ok and slow.log.is_file()
    assert quick.skipped == "needs slow" and quick.rc is None
    assert late.skipped == "no time left" and late.log is None


def test_the_eval_list_is_never_a_training_background(tmp_path):
    with pytest.raises(SystemExit):
        gpu_model.parse_args(["--tiny", "--backgrounds", str(tmp_path / "sixray_benign_eval.txt")])
    args = gpu_model.parse_args(["--tiny", "--backgrounds", "none"])
    assert args.backgrounds is None and args.device == "cpu" and not args.overlap


def _fake_background(shift: int) -> np.ndarray:
    """A false-colour 'real' scan: white air around an orange bag with a strap and clutter."""
    image = np.full((180, 240, 3), 255, np.uint8)
    cv2.rectangle(image, (12 + shift, 14), (226 + shift // 2, 166), (60, 160, 235), -1)
    cv2.rectangle(image, (40 + shift, 30), (200, 44), (90, 190, 70), -1)
    cv2.circle(image, (120, 100), 18, (20, 90, 170), -1)
    return image


@pytest.mark.slow
def test_the_tiny_recipe_runs_the_whole_chain_and_writes_bundle_and_summary(tmp_path):
    backgrounds = tmp_path / "backgrounds"
    backgrounds.mkdir()
    for i in range(2):
        assert cv2.imwrite(str(backgrounds / f"bag_{i}.png"), _fake_background(6 * i))
    out = tmp_path / "gpu"
    cmd = [sys.executable, str(SCRIPT), "--tiny", "--out", str(out)]
    cmd += ["--backgrounds", str(backgrounds), "--budget-min", "5"]
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=REPO)
    wall = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert wall < 5 * 60 + 30  # the budget holds, start-up and summary included

    summary = json.loads((out / "summary.json").read_text())
    assert summary["within_budget"] and summary["error"] is None
    assert set(summary["stages"]) == {"synth", "split", "detector", "judges", "final"}
    assert all(stage["status"] == "done" for stage in summary["stages"].values())
    assert summary["data"]["synth"]["sim"]["bags"] == 48
    assert summary["data"]["synth"]["tip"]["bags"] == 4
    assert {"train", "val", "test", "test_unseen_designs"} <= set(summary["data"]["split"])

    detector = summary["detector"]
    assert detector["train"]["steps"] == 2
    assert detector["test"]["test_sim"]["bbox"]["mAP"] is not None
    judges = summary["judges"]
    assert len(judges) == 6
    trained = [c for c, j in judges.items() if j["train"].get("steps") == 2]
    assert len(trained) >= 4, {c: j["train"]["job"] for c, j in judges.items()}
    assert all(judges[c]["test"] is not None for c in trained)
    assert summary["bundle"]["calibrated"] and summary["bundle"]["calibration"]
    assert summary["bundle"]["pooled_test"]["n"] > 0

    from engine.bundle import load_bundle

    bundle = load_bundle(out / "gpu.xsb")
    assert bundle["detector"]["architecture"]["name"] == "maskrcnn_resnet50_fpn"
    assert sorted(c for j in bundle["classifiers"] for c in j["categories"]) == sorted(trained)
    report = (out / "summary.md").read_text()
    assert "| stage | planned s | wall s | status |" in report and "## Judges" in report


def test_judges_only_trains_the_named_classes_on_the_given_synth_config(tmp_path):
    """The learnability check on a GPU: no detector or bundle, the judges of --classes on
    --synth-config's bags (preloaded crops), scored on seen and unseen designs."""
    out = tmp_path / "learn"
    cmd = [sys.executable, str(SCRIPT), "--tiny", "--judges-only", "--classes", "laptop,iron"]
    cmd += ["--synth-config", str(REPO / "configs/synth/learnability.yaml"), "--out", str(out)]
    cmd += ["--backgrounds", "none", "--budget-min", "3", "--judge-set", "data.preload=true"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=400, cwd=REPO)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["stages"]) == {"synth", "split", "judges", "final"}
    assert summary["recipe"]["judges_only"] and summary["recipe"]["classes"] == ["laptop", "iron"]
    split = summary["data"]["split"]
    assert split["train"]["objects"] == split["train"]["images"]  # one host a bag, as configured
    assert set(summary["judges"]) == {"laptop", "iron"}
    assert all(j["train"]["steps"] == 2 and j["test"]["n"] > 0 for j in summary["judges"].values())
    assert summary["bundle"]["path"] is None and not (out / "runs" / "detector").exists()
    assert "objects in memory" in (out / "logs" / "train_judge_laptop.log").read_text()
    assert "## Judges" in (report := (out / "summary.md").read_text())
    assert "test AUC, items ≥ 3 σ" in report


def test_judges_only_names_a_class_the_data_lacks(tmp_path):
    out = tmp_path / "learn"
    cmd = [sys.executable, str(SCRIPT), "--tiny", "--judges-only", "--classes", "laptop,kettle"]
    cmd += ["--synth-config", str(REPO / "configs/synth/learnability.yaml"), "--out", str(out)]
    cmd += ["--backgrounds", "none", "--budget-min", "2", "--bags", "24"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 1
    assert json.loads((out / "summary.json").read_text())["error"] == (
        "--classes kettle: not in the data"
    )
