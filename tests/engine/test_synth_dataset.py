"""Simulated datasets: pycocotools reads them, masks round-trip, workers change nothing."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pycocotools.coco import COCO

from engine.cli import main
from engine.io import load_scan
from engine.synth.bag import BagConfig
from engine.synth.dataset import write_dataset

TINY = BagConfig(width=96, height=72, pitch_cm=0.6, min_objects=2, max_objects=3, anomaly_share=0.5)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    write_dataset(out, 4, seed=7, bag_config=TINY, progress=False)
    return out


def test_pycocotools_loads_it_with_six_categories(dataset):
    coco = COCO(str(dataset / "annotations.json"))
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == [
        "bottle",
        "hairdryer",
        "iron",
        "toaster",
        "mobile",
        "laptop",
    ]
    assert len(coco.getImgIds()) == 4
    anns = coco.loadAnns(coco.getAnnIds())
    assert len(anns) >= 8
    for ann in anns:
        mask = coco.annToMask(ann)
        assert mask.sum() == ann["area"]
        x, y, w, h = ann["bbox"]
        assert mask[int(y) : int(y + h), int(x) : int(x + w)].sum() == mask.sum()
        attrs = ann["attributes"]
        assert set(attrs) == {
            "anomalous",
            "anomaly_type",
            "anomaly_bbox",
            "anomaly_segmentation",
            "anomaly_visibility",
        }
        if attrs["anomalous"]:
            assert attrs["anomaly_type"] and attrs["anomaly_visibility"] is not None


def test_images_load_with_their_channels(dataset):
    coco = json.loads((dataset / "annotations.json").read_text())
    image = coco["images"][0]
    scan = load_scan(dataset / image["file_name"])
    assert scan.channels == ["rgb", "low", "high", "zeff"]
    assert (scan.width, scan.height) == (image["width"], image["height"]) == (96, 72)
    assert image["scanner"]["kvp"] == 140.0 and image["seed"] == [7, 0]


def test_workers_and_reruns_give_identical_files(dataset, tmp_path):
    write_dataset(tmp_path, 4, seed=7, bag_config=TINY, workers=2, progress=False)
    for f in sorted(dataset.rglob("*.*")):
        twin = tmp_path / f.relative_to(dataset)
        assert twin.read_bytes() == f.read_bytes(), f.name


def test_cli_synth(tmp_path, capsys):
    assert (
        main(["synth", "--out", str(tmp_path), "--n", "2", "--seed", "1", "--size", "64x48"]) == 0
    )
    data = json.loads((tmp_path / "annotations.json").read_text())
    assert len(data["images"]) == 2 and data["images"][0]["width"] == 64
    assert main(["synth", "--out", str(tmp_path), "--n", "2", "--size", "big"]) == 2
    assert np.isfinite(len(capsys.readouterr().err))
