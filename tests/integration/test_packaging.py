"""The frozen build (`make package`) run without Python, against the development install.

Skips at once when dist/xray-screening/ has not been built; the checks themselves live in
packaging/smoke_test.py (`make package-test` runs the same ones and prints their timings).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FOLDER = REPO / "dist" / "xray-screening"
FROZEN_RESOURCES = FOLDER / "_internal" / "resources"


def _stale() -> bool:
    """Whether the frozen build carries another demo model or demo scans than the checkout: a
    build left from before they changed would only show that they changed."""
    pairs = [
        ("models/demo.xsb", REPO / "resources" / "models" / "demo.xsb"),
        ("demo/annotations.json", REPO / "resources" / "demo" / "annotations.json"),
    ]
    for frozen, here in pairs:
        built = FROZEN_RESOURCES / frozen
        if built.is_file() and here.is_file() and built.read_bytes() != here.read_bytes():
            return True
    return False


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (FOLDER / "xray-engine").is_file(),
        reason="no frozen build in dist/xray-screening (make package builds it)",
    ),
    pytest.mark.skipif(
        (FOLDER / "xray-engine").is_file() and _stale(),
        reason="dist/xray-screening was built from another demo model or demo scans: "
        "make package again",
    ),
]


def _smoke_test_module():
    spec = importlib.util.spec_from_file_location(
        "packaging_smoke_test", REPO / "packaging" / "smoke_test.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory):
    module = _smoke_test_module()
    return module, module.Context(REPO / "dist", tmp_path_factory.mktemp("package-test"))


@pytest.mark.parametrize(
    "check",
    ["help", "info", "screen", "synth", "errors", "screenshot", "deb"],
)
def test_frozen_build(smoke, check: str) -> None:
    module, ctx = smoke
    if check == "info" and module.sample_scan() is None:
        pytest.skip(f"no real sample scan in {module.SAMPLES}")
    if check == "deb" and ctx.deb() is None:
        pytest.skip("no .deb in dist/ (make package builds it on Debian/Ubuntu)")
    getattr(module, f"check_{check}")(ctx)
