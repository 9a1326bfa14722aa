"""The default classes live in one place (engine.classes); the detection report is in the
evaluated models' own classes."""

from __future__ import annotations

import json
from pathlib import Path

from engine.classes import DEFAULT_CLASSES
from engine.detection.config import DataConfig
from engine.detection.report import detection_table
from engine.synth.objects import CATEGORIES


def test_the_simulator_and_the_detection_defaults_read_the_one_list():
    assert CATEGORIES is DEFAULT_CLASSES
    assert DataConfig().categories is DEFAULT_CLASSES


def _result(path: Path, per_class: dict) -> Path:
    figures = {"mAP": 0.4, "AP50": 0.6, "AP75": 0.3, "per_class": per_class}
    path.write_text(json.dumps({"bbox": figures, "model": "m", "run": path.stem}))
    return path


def test_the_report_has_the_evaluated_classes_only(tmp_path):
    site = _result(tmp_path / "site.json", {"gun": 0.5, "knife": 0.25})
    other = _result(tmp_path / "other.json", {"knife": 0.1, "scissors": None})
    header, rows = detection_table([site, other])
    assert header[2:5] == ["gun", "knife", "scissors"] and header[5] == "mAP"
    assert rows[0][2:5] == ["50.0", "25.0", ""] and rows[1][2:5] == ["", "10.0", ""]
