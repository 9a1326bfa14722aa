"""Shared test set-up: Qt offscreen, the real sample scans, the test piece written to disk."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

# Qt must not look for a display: set before any test imports PySide6.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real X-ray samples beside the checkout; tests using it skip without it."""
    if not (SHARED_DATA / "sixray").is_dir():
        pytest.skip(f"real sample scans not found at {SHARED_DATA} (only beside a dev checkout)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def test_piece_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Test piece saved as piece.png + piece_low/_high/_zeff.png ; gives piece.png."""
    from engine.io.write import save_scan
    from engine.phantom import render_test_piece

    folder = tmp_path_factory.mktemp("piece")
    save_scan(render_test_piece(160, 120, seed=1), folder / "piece")
    return folder / "piece.png"


@pytest.fixture(scope="session")
def tiny_coco(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12-bag simulated dataset at 96×72 with train/val/test splits; gives its folder."""
    from engine.data import split_coco
    from engine.synth.dataset import SIM_V2_2_CONFIG, write_dataset

    folder = tmp_path_factory.mktemp("tiny_coco")
    # simulator v2.2's bags and palette (box shells, random-walk cables): the tiny models
    # trained on these bags find what the tests need (both a judged class and others), so new
    # simulator defaults do not change the data under them
    bag = replace(
        SIM_V2_2_CONFIG.bag, width=96, height=72, pitch_cm=0.6, min_objects=1, max_objects=3
    )
    data = write_dataset(folder, 12, seed=5, config=SIM_V2_2_CONFIG, bag_config=bag, progress=False)
    split_coco(data)
    return folder


@pytest.fixture(scope="session")
def tiny_bundle(tiny_coco: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real model bundle trained in seconds on `tiny_coco`: detector + anomaly classifier."""
    from engine.bundle import make_bundle
    from engine.classification.config import ClassifierConfig
    from engine.classification.train import train_classifier
    from engine.config import load_config
    from engine.detection.config import DetectionConfig
    from engine.detection.train import train_detector

    runs = tmp_path_factory.mktemp("runs")
    detector = load_config(
        DetectionConfig,
        REPO / "configs" / "detection" / "smoke.yaml",
        [f"data.train={tiny_coco}", f"run.out={runs}", "solver.max_iters=6"],
    )
    det = train_detector(detector, progress=False)
    classifier = load_config(
        ClassifierConfig,
        None,
        [
            f"data.train={tiny_coco}",
            f"run.out={runs}",
            "data.num_workers=0",
            "model.input_size=32",
            "solver.batch_size=8",
            "solver.max_iters=4",
            "solver.warmup_iters=1",
        ],
    )
    cls = train_classifier(classifier, progress=False)
    return make_bundle(
        det.run_dir / "last.pt",
        cls.run_dir / "last.pt",
        runs / "tiny.xsb",
        detection_threshold=0.05,  # an untrained detector scores low: keep its findings
    )
