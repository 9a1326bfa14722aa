"""The dual-CNN pipeline: bundles round-trip, scans become BagResults, bad scans are skipped."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from engine.bundle import BundleError, load_bundle
from engine.cli import main
from engine.io import load_scan
from engine.pipeline import BagResult, Screener


@pytest.fixture(scope="module")
def screener(tiny_bundle):
    return Screener.from_bundle(tiny_bundle, device="cpu")


def _scans(tiny_coco):
    return sorted(p for p in (tiny_coco / "images").glob("bag_??????.png"))


@pytest.mark.slow
def test_a_bundle_holds_both_models_and_their_settings(tiny_bundle):
    bundle = load_bundle(tiny_bundle)
    assert bundle["categories"][:2] == ["bottle", "hairdryer"]
    assert bundle["detector"]["architecture"]["name"] == "maskrcnn_resnet18_fpn"
    assert [c["architecture"]["name"] for c in bundle["classifiers"]] == ["resnet18"]
    assert bundle["classifiers"][0]["categories"] is None
    assert 0 <= bundle["thresholds"]["anomaly"] <= 1 and bundle["crops"]["size"] == 32
    assert {"engine", "torch", "torchvision"} <= set(bundle["versions"])
    weights = bundle["model"]["detector"]
    assert all(v.dtype == torch.float16 for v in weights.values() if v.is_floating_point())


@pytest.mark.slow
def test_a_bundle_that_aligns_turns_crops_along_the_detector_s_masks(
    tiny_bundle, tiny_coco, tmp_path, monkeypatch
):
    import engine.classification.crops as crops
    from engine.checkpoint import load_checkpoint, save_checkpoint

    state = load_checkpoint(tiny_bundle, kind="bundle")
    assert load_bundle(tiny_bundle)["crops"]["align"] is False
    del state["crops"]["align"]  # as bundles made before crops could be aligned
    old = save_checkpoint(tmp_path / "old.xsb", {**state, "kind": "bundle"})
    assert load_bundle(old)["crops"]["align"] is False
    state["crops"]["align"] = "yes"
    with pytest.raises(BundleError, match=r"crops\.align"):
        load_bundle(save_checkpoint(tmp_path / "bad.xsb", {**state, "kind": "bundle"}))
    state["crops"]["align"] = True
    aligned = save_checkpoint(tmp_path / "aligned.xsb", {**state, "kind": "bundle"})
    seen = []
    crop = crops.crop_objects
    monkeypatch.setattr(
        crops, "crop_objects", lambda *a, **k: seen.append(k["orient"]) or crop(*a, **k)
    )
    result = Screener.from_bundle(aligned, device="cpu")(_scans(tiny_coco)[0])
    assert result.findings and seen and seen[0] is not None
    assert seen[0].shape[1:] == (72, 96) and seen[0].dtype == bool


@pytest.mark.slow
def test_screening_a_scan_gives_findings_with_anomaly_scores(screener, tiny_coco):
    path = _scans(tiny_coco)[0]
    result = screener(path)
    assert isinstance(result, BagResult) and result.image_size == (96, 72)
    assert {"detect", "total"} <= set(result.timings)
    assert result.findings, "nothing found: the checks of each finding would check nothing"
    for f in result.findings:
        x0, y0, x1, y1 = f.box_xyxy
        assert 0 <= x0 <= x1 <= 96 and 0 <= y0 <= y1 <= 72
        assert f.label in screener.categories and f.score >= screener.score_threshold
        assert f.mask is not None and f.mask.shape == (72, 96)
        assert f.anomalous == (f.anomaly_score >= screener.anomaly_threshold)
    again = BagResult.from_dict(json.loads(result.to_json()))
    assert again.to_dict() == result.to_dict()
    drawn = result.draw(load_scan(path).image)
    assert drawn.shape == (72, 96, 3) and drawn.dtype == np.uint8


def test_anomalous_findings_are_drawn_in_red():
    from engine.pipeline import ANOMALY_RGB, Finding

    image = np.full((40, 60, 3), 255, np.uint8)
    finding = Finding((10.0, 10.0, 40.0, 30.0), "laptop", 0.9, None, 0.97, True)
    drawn = BagResult("x.png", (60, 40), [finding]).draw(image)
    assert (drawn[10, 20] == ANOMALY_RGB).all()


@pytest.mark.slow
def test_wrong_and_corrupt_bundles_are_refused_clearly(tiny_bundle, tmp_path):
    with pytest.raises(BundleError, match="no such checkpoint"):
        load_bundle(tmp_path / "none.xsb")
    corrupt = tmp_path / "corrupt.xsb"
    corrupt.write_bytes(tiny_bundle.read_bytes()[:1000])
    with pytest.raises(BundleError, match="not a readable checkpoint"):
        load_bundle(corrupt)
    detector = next(tiny_bundle.parent.rglob("maskrcnn_resnet18_fpn/last.pt"))
    with pytest.raises(BundleError, match="not a model bundle"):
        Screener.from_bundle(detector)


@pytest.mark.slow
def test_screen_writes_results_and_skips_a_corrupt_scan(tiny_bundle, tiny_coco, tmp_path, capsys):
    folder = tmp_path / "scans"
    folder.mkdir()
    for path in _scans(tiny_coco)[:2]:
        shutil.copy(path, folder / path.name)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    out = tmp_path / "out"
    assert (
        main(["screen", str(folder), "--model", str(tiny_bundle), "--out", str(out), "--quiet"])
        == 0
    )
    lines = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert len(lines) == 3
    errors = [x for x in lines if "error" in x]
    assert len(errors) == 1 and errors[0]["path"].endswith("broken.png")
    assert sorted(p.name for p in (out / "annotated").iterdir()) == [
        p.name for p in _scans(tiny_coco)[:2]
    ]
    assert "2 screened, 1 skipped" in capsys.readouterr().out
    assert main(["screen", str(folder), "--model", str(tmp_path / "x.xsb"), "--out", str(out)]) == 2
