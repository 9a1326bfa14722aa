"""Imports run one way (models <- evaluate <- train <- cli): screening loads no training code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # each test imports torch in a fresh interpreter

REPO = Path(__file__).resolve().parents[2]
TRAINING = ("engine.detection.train", "engine.classification.train", "engine.training")


def test_screening_a_scan_loads_no_training_module(tiny_bundle, test_piece_files):
    code = (
        "import sys\n"
        "from engine.pipeline import Screener\n"
        f"Screener.from_bundle({str(tiny_bundle)!r}, 'cpu')({str(test_piece_files)!r})\n"
        f"loaded = [m for m in {TRAINING!r} if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, timeout=300)


def test_model_and_evaluation_modules_do_not_import_training():
    code = (
        "import sys\n"
        "import engine.bundle, engine.detection.evaluate, engine.classification.evaluate\n"
        "import engine.detection.models, engine.classification.models\n"
        f"loaded = [m for m in {TRAINING!r} if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, timeout=300)
