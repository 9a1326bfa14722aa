"""Review-model fixtures: a folder of tiny real PNG scans and hand-made model results."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.pipeline import BagResult, Finding
from xray_gui.review import ReviewStore

W, H = 64, 48
NAMES = ("bag_1.png", "bag_2.png", "bag_10.png")


def make_result(path: Path, *, model: str = "demo-v1") -> BagResult:
    """Three findings: m0 bottle with a mask (anomalous), m1 iron, m2 a weak laptop."""
    mask = np.zeros((H, W), bool)
    mask[6:20, 4:16] = True
    findings = [
        Finding((4.0, 6.0, 16.0, 20.0), "bottle", 0.9, mask, 0.8, True),
        Finding((30.0, 10.0, 50.0, 30.0), "iron", 0.6, None, 0.2, False),
        Finding((10.0, 30.0, 40.0, 44.0), "laptop", 0.2, None, 0.55, False),
    ]
    return BagResult(str(path), (W, H), findings, {"total": 5.0}, model)


@pytest.fixture
def scan_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "scans"
    folder.mkdir()
    for i, name in enumerate(NAMES):
        image = np.full((H, W, 3), 60 + 50 * i, np.uint8)
        image[8:24, 6:30] = (200, 120, 30)
        cv2.imwrite(str(folder / name), image)
    return folder


@pytest.fixture
def store(scan_dir: Path) -> ReviewStore:
    """A store with a prediction for each scan, nothing reviewed yet."""
    s = ReviewStore(scan_dir, analyst="ana")
    for name in NAMES:
        s.set_prediction(scan_dir / name, make_result(scan_dir / name), device="CPU")
    return s


@pytest.fixture
def result_for():
    """make_result, for tests that screen again or screen other files."""
    return make_result
