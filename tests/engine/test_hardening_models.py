"""Issue 17: bad model bundles and bad configs are one clear line naming the file, at once.

Bundles go through `xray-engine screen`, configs through `train-detector`/`train-classifier`;
the corpus (special files, truncated and garbage files, fields of the wrong type, YAML bombs)
is generated here. A refused config leaves no run folder behind.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import torch

from engine.bundle import BundleError, load_bundle
from engine.checkpoint import save_checkpoint
from engine.cli import main
from engine.config import ConfigError, load_config
from engine.io import quote_path

SECONDS = 10


@contextmanager
def deadline(seconds: int = SECONDS) -> Iterator[None]:
    """Fail instead of hanging (a FIFO) when the block takes longer than `seconds`."""

    def expire(*_args) -> None:
        raise TimeoutError(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    start = time.perf_counter()
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert time.perf_counter() - start < seconds


def one_line(err: str, path: Path | str) -> str:
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert quote_path(path) in lines[0], err
    return lines[0]


def _special(path: Path, kind: str) -> None:
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "zero":
        path.symlink_to("/dev/zero")
    elif kind == "loop":
        path.symlink_to(path.name)
    elif kind == "dangling":
        path.symlink_to(path.with_name("gone"))
    elif kind == "empty":
        path.write_bytes(b"")


SPECIAL = {
    "fifo": "is a FIFO (named pipe), not a regular file",
    "zero": "is a character device, not a regular file",
    "folder": "is a folder",
    "loop": "symbolic link loop",
    "dangling": "dangling symbolic link",
}


# ----- bundles --------------------------------------------------------------------------------
def _bundle(**changes: Any) -> dict:
    """A bundle dict that passes every field check (its weights do not rebuild a detector);
    `changes` replace top-level fields, or nested ones as "thresholds__detection"."""
    bundle = {
        "kind": "bundle",
        "name": "fake",
        "categories": ["bottle", "laptop"],
        "detector": {"architecture": {"name": "fasterrcnn_resnet18_fpn", "num_classes": 3}},
        "classifiers": [
            {"architecture": {"name": "resnet18"}, "categories": None, "threshold": 0.7}
        ],
        "thresholds": {"detection": 0.5, "anomaly": 0.5},
        "crops": {"size": 32, "margin": 0.15, "mode": "rgb", "masks": False},
        "model": {"detector": {"w": torch.zeros(1)}, "classifiers": [{"w": torch.zeros(1)}]},
    }
    for key, value in changes.items():
        node, *path = key.split("__")
        target = bundle
        for part in [node, *path][:-1]:
            target = target[int(part)] if isinstance(target, list) else target[part]
        last = [node, *path][-1]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return bundle


BAD_FIELDS = {
    "categories_none": ({"categories": None}, "'categories' is None"),
    "categories_empty": ({"categories": []}, "'categories' is []"),
    "category_number": ({"categories": ["bottle", 5]}, "'categories[1]' is 5"),
    "threshold_high": ({"thresholds__detection": "high"}, "'thresholds.detection' is 'high'"),
    "threshold_bool": ({"thresholds__anomaly": True}, "'thresholds.anomaly' is True"),
    "threshold_nan": ({"thresholds__anomaly": float("nan")}, "'thresholds.anomaly' is nan"),
    "judge_threshold": (
        {"classifiers__0__threshold": "high"},
        "'classifiers[0].threshold' is 'high'",
    ),
    "judge_categories": (
        {"classifiers__0__categories": "bottle"},
        "'classifiers[0].categories' is 'bottle'",
    ),
    "num_classes": ({"detector__architecture__num_classes": 8}, "num_classes' is 8, expected 3"),
    "crop_mode": ({"crops__mode": "bogus"}, "'crops.mode' is 'bogus'"),
    "crop_size": ({"crops__size": "224"}, "'crops.size' is '224'"),
    "thresholds_list": ({"thresholds": [0.5]}, "'thresholds' is [0.5]"),
    "weights_not_tensors": ({"model__detector": {"w": "x" * 500}}, "'model.detector.w' is 'xxx"),
    "name_number": ({"name": 5}, "'name' is 5"),
}


@pytest.fixture
def scan(tmp_path) -> Path:
    path = tmp_path / "scan.png"
    assert cv2.imwrite(str(path), np.full((40, 50, 3), 90, np.uint8))
    return path


def _screen_with(model: Path, scan: Path, out: Path, capfd) -> str:
    with deadline():
        assert main(["screen", str(scan), "--model", str(model), "--out", str(out), "--quiet"]) == 2
    err = capfd.readouterr().err
    line = one_line(err, model)
    assert line.startswith(f"xray-engine screen: {quote_path(model)}: ")
    assert not (out / "results.jsonl").exists()
    return line


@pytest.mark.parametrize("name", list(BAD_FIELDS))
def test_a_bundle_field_of_the_wrong_type_is_named(tmp_path, scan, capfd, name):
    changes, words = BAD_FIELDS[name]
    model = save_checkpoint(tmp_path / f"{name}.xsb", _bundle(**changes))
    line = _screen_with(model, scan, tmp_path / "out", capfd)
    assert words in line
    assert len(line) < 400  # a huge value is shown cut short


def test_the_fake_bundle_itself_passes_the_checks(tmp_path, scan, capfd):
    model = save_checkpoint(tmp_path / "fake.xsb", _bundle())
    assert load_bundle(model)["categories"] == ["bottle", "laptop"]
    assert "do not rebuild" in _screen_with(model, scan, tmp_path / "out", capfd)


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


BAD_BUNDLE_BYTES: dict[str, tuple[Callable[[Path], None], str]] = {
    "missing": (lambda p: None, "no such checkpoint file"),
    "empty": (lambda p: p.write_bytes(b""), "file is empty (0 bytes)"),
    "garbage": (lambda p: p.write_bytes(np.random.default_rng(1).bytes(3000)), "not a readable"),
    "truncated": (
        lambda p: p.write_bytes(_saved(_bundle())[:1500]),
        "not a readable checkpoint",
    ),
    "pickle_with_code": (lambda p: torch.save({"model": _Evil()}, p), "not a readable"),
    "not_a_bundle": (lambda p: torch.save({"model": {}, "kind": "detector"}, p), "not a model"),
    "text": (lambda p: p.write_text("kind: bundle\n"), "not a readable checkpoint"),
    **{kind: ((lambda p, k=kind: _special(p, k)), words) for kind, words in SPECIAL.items()},
}


def _saved(bundle: dict) -> bytes:
    import io

    buffer = io.BytesIO()
    torch.save(bundle, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("name", list(BAD_BUNDLE_BYTES))
def test_a_bad_bundle_file_is_one_line(tmp_path, scan, capfd, monkeypatch, name):
    monkeypatch.chdir(tmp_path)  # a pickle that ran code would leave "pwned" here
    make, words = BAD_BUNDLE_BYTES[name]
    model = tmp_path / f"{name}.xsb"
    make(model)
    assert words in _screen_with(model, scan, tmp_path / "out", capfd)
    assert not (tmp_path / "pwned").exists()


def test_load_bundle_names_the_file_and_the_field(tmp_path):
    path = save_checkpoint(tmp_path / "b.xsb", _bundle(thresholds__detection="high"))
    with pytest.raises(BundleError) as caught:
        load_bundle(path)
    assert str(caught.value) == (
        f"{path}: field 'thresholds.detection' is 'high', expected a number from 0 to 1"
    )


# ----- configs --------------------------------------------------------------------------------
ALIAS_BOMB = (
    "a: &a ["
    + ",".join(['"lol"'] * 9)
    + "]\n"
    + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n"
        for i in range(8)
    )
)

BAD_CONFIG_FILES: dict[str, tuple[Callable[[Path], None], str]] = {
    "duplicate.yaml": (
        lambda p: p.write_text("solver:\n  epochs: 1\n  epochs: 2\n"),
        "duplicate key 'epochs' (line 3",
    ),
    "alias_bomb.yaml": (lambda p: p.write_text(ALIAS_BOMB), "anchors and aliases"),
    "deep.yaml": (lambda p: p.write_text("solver: " + "[" * 5000 + "]" * 5000), "nested more"),
    "latin1.yaml": (
        lambda p: p.write_bytes("run:\n  name: caf\xe9\n".encode("latin-1")),
        "not UTF-8 text (byte 0xe9",
    ),
    "mixed_keys.yaml": (lambda p: p.write_text("solver: {1: 2, epochs: 3}\n"), "keys must be"),
    "big.yaml": (lambda p: p.write_text("x: " + "a" * (1 << 20)), "over the limit"),
    "many_values.yaml": (
        lambda p: p.write_text("run:\n  name: [" + ",".join("1" * 20_000) + "]\n"),
        "more than 5000 values",
    ),
    "huge_value.yaml": (
        lambda p: p.write_text("run:\n  name: [" + ",".join("1" * 2000) + "]\n"),
        "expected str, got [1, 1,",
    ),
    "a_list.yaml": (lambda p: p.write_text("- 1\n- 2\n"), "must be a mapping"),
    "bad_yaml.yaml": (lambda p: p.write_text("solver: [\n"), "not valid YAML"),
    "epochs_true.yaml": (lambda p: p.write_text("solver:\n  epochs: true\n"), "expected int"),
    **{
        f"{kind}.yaml": ((lambda p, k=kind: _special(p, k)), words)
        for kind, words in SPECIAL.items()
    },
}


@pytest.mark.parametrize("name", list(BAD_CONFIG_FILES))
def test_a_bad_config_file_is_one_line_and_makes_no_run(tmp_path, capfd, name):
    make, words = BAD_CONFIG_FILES[name]
    path = tmp_path / name
    make(path)
    runs = tmp_path / "runs"
    with deadline():
        code = main(["train-detector", "--config", str(path), f"run.out={runs}", "--quiet"])
    assert code == 2
    line = one_line(capfd.readouterr().err, path)
    assert line.startswith("xray-engine train-detector: ") and words in line
    assert len(line) < 400
    assert not runs.exists()


BAD_OVERRIDES = {
    "solver.epochs=true": "solver.epochs: expected int, got True",
    "solver.batch_size=-1": "solver.batch_size: expected a whole number of at least 1, got -1",
    "solver.batch_size=0.5": "expected int",
    "solver.amp=bogus": "solver.amp: expected one of auto, off, fp16, bf16, got 'bogus'",
    "model.name=bogus": "model.name: expected one of fasterrcnn_mobilenet_v3_large_fpn",
    "model.norm=layer": "model.norm: expected one of",
    "solver.lr_steps=[0.5, 2]": (
        "solver.lr_steps: expected a list in which each value is a number in [0, 1]"
    ),
    "solver.momentum=.nan": "solver.momentum",
    "run.device=gpu": "run.device: expected auto, cpu, cuda or cuda:N",
    "data.hflip=2": "data.hflip",
    "solver.epochs=[" + "1," * 3000 + "]": "got [1, 1,",
    "solver={1: 2}": "keys must be names",
    "solver.epochs=&a 1": "anchors and aliases",
    "solver.epochs=[": "override",
    "a" + ".a" * 40 + "=1": "more than 16 dotted parts",
}


@pytest.mark.parametrize("override", list(BAD_OVERRIDES), ids=lambda o: o[:30])
def test_a_bad_override_is_refused_before_a_run_folder_exists(tmp_path, capfd, override):
    runs = tmp_path / "runs"
    with deadline():
        assert main(["train-detector", f"run.out={runs}", override, "--quiet"]) == 2
    err = capfd.readouterr().err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert BAD_OVERRIDES[override] in err and len(err) < 400
    assert not runs.exists()


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ("model.name=bogus", "model.name: expected one of dfl_vgg16"),
        ("crops.mode=hsv", "crops.mode: expected one of rgb, dual"),
        ("solver.epochs=false", "expected int, got False"),
        ("run.target_fpr=1.5", "run.target_fpr"),
    ],
)
def test_classifier_configs_are_checked_too(tmp_path, capfd, override, words):
    runs = tmp_path / "runs"
    assert main(["train-classifier", f"run.out={runs}", override, "--quiet"]) == 2
    err = capfd.readouterr().err
    assert len(err.splitlines()) == 1 and words in err, err
    assert not runs.exists()


def test_the_shipped_configs_still_load():
    from engine.classification.config import ClassifierConfig
    from engine.detection.config import DetectionConfig

    root = Path(__file__).resolve().parents[2] / "configs"
    for path in sorted((root / "detection").glob("*.yaml")):
        load_config(DetectionConfig, path)
    for path in sorted((root / "classification").glob("*.yaml")):
        load_config(ClassifierConfig, path)


def test_an_empty_config_file_changes_nothing(tmp_path):
    from engine.detection.config import DetectionConfig

    (tmp_path / "empty.yaml").write_bytes(b"")
    assert load_config(DetectionConfig, tmp_path / "empty.yaml") == DetectionConfig()


def test_config_errors_are_config_errors(tmp_path):
    from engine.detection.config import DetectionConfig

    with pytest.raises(ConfigError, match="expected int, got True"):
        load_config(DetectionConfig, None, ["solver.epochs=yes"])
