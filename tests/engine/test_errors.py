"""One error base: every deliberate engine error is an EngineError, caught once by the CLI."""

from __future__ import annotations

import pytest

import engine.cli as cli
from engine.bundle import BundleError
from engine.checkpoint import CheckpointError
from engine.config import ConfigError
from engine.errors import EngineError
from engine.improve import ImproveError
from engine.io import ScanLoadError
from engine.io.files import FileCheckError
from engine.io.formats import FormatError
from engine.pipeline import ScreeningError
from engine.synth.projection import BackgroundError
from engine.training import TrainingError


@pytest.mark.parametrize(
    "error",
    [
        BundleError,
        CheckpointError,
        ConfigError,
        ImproveError,
        ScanLoadError,
        FileCheckError,
        FormatError,
        ScreeningError,
        BackgroundError,
        TrainingError,
    ],
)
def test_every_engine_error_is_an_engine_error(error):
    assert issubclass(error, EngineError)


def test_both_trainers_raise_the_one_training_error():
    from engine.classification import train as classification
    from engine.detection import train as detection

    assert detection.TrainingError is classification.TrainingError is TrainingError


def test_main_turns_an_engine_error_into_one_line_and_exit_2(monkeypatch, capsys):
    def fails(args):
        raise ConfigError("solver.lr: expected a number,\n  got 'fast'")

    monkeypatch.setattr(cli.data, "_cmd_split", fails)  # looked up as `register` runs
    assert cli.main(["split", "somewhere"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("xray-engine split: solver.lr: expected a number")
    assert err.count("\n") == 1


def test_main_turns_an_os_error_into_one_line_and_exit_2(monkeypatch, capsys):
    def full(args):
        raise OSError(28, "No space left on device", "/data/out/train.json")

    monkeypatch.setattr(cli.data, "_cmd_merge", full)
    assert cli.main(["merge", "a.json", "b.json", "--out", "m.json"]) == 2
    err = capsys.readouterr().err
    assert err == "xray-engine merge: /data/out/train.json: No space left on device\n"


def test_dataset_and_model_name_errors_are_engine_errors_with_plain_messages(tmp_path, capsys):
    from engine.data import split_coco
    from engine.detection.models import build_detector
    from engine.errors import DatasetError, UnknownModelError

    with pytest.raises(DatasetError, match="no such dataset folder"):
        split_coco(tmp_path / "nothing")
    with pytest.raises(UnknownModelError) as caught:
        build_detector("maskrcnn_resnet5_fpn", num_classes=3)
    assert str(caught.value).startswith("unknown detector 'maskrcnn_resnet5_fpn'")  # no quotes
    with pytest.raises(SystemExit) as usage:  # argparse's own usage error
        cli.main(["split", str(tmp_path), "--fractions", "a,b,c"])
    assert usage.value.code == 2 and "expected numbers" in capsys.readouterr().err
