"""What an analyst expects to see, checked on rendered scans and on the dataset's ground truth.

Air white; organics orange; aluminium and PVC green; steel blue; thick steel black; more
material never lets more through; R = ln T_L / ln T_H falls as thickness grows; masks and boxes
agree exactly; every anomaly lies inside its host.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from engine.colour import INORGANIC, METAL, ORGANIC, material_classes_from_hue
from engine.synth.bag import BagConfig
from engine.synth.dataset import write_dataset
from engine.synth.scanner import Scanner


@pytest.fixture(scope="module")
def scanner() -> Scanner:
    return Scanner()


def _slab_colour(scanner: Scanner, material: str, cm: float) -> np.ndarray:
    """The false colour (RGB) of a uniform slab, noiseless."""
    maps = {material: np.full((8, 8), float(cm), np.float32)}
    return scanner.false_colour(*scanner.render(maps))[4, 4]


def _hue_class(rgb: np.ndarray) -> int:
    return int(material_classes_from_hue(rgb.reshape(1, 1, 3).astype(np.uint8))[0, 0])


def test_air_is_white(scanner):
    assert _slab_colour(scanner, "water", 0.0).min() >= 250


@pytest.mark.parametrize(
    ("material", "cm", "expected"),
    [
        ("water", 5.0, ORGANIC),
        ("cotton", 3.0, ORGANIC),
        ("marzipan", 4.0, ORGANIC),
        ("polyethylene", 10.0, ORGANIC),
        ("aluminium", 1.0, INORGANIC),
        ("aluminium", 3.0, INORGANIC),
        ("pvc", 2.0, INORGANIC),
        ("glass", 1.0, INORGANIC),
        ("steel", 0.2, METAL),
        ("copper", 0.1, METAL),
    ],
)
def test_materials_take_their_console_colour(scanner, material, cm, expected):
    rgb = _slab_colour(scanner, material, cm)
    assert _hue_class(rgb) == expected, f"{cm} cm {material}: {rgb}"
    hsv = cv2.cvtColor(rgb.reshape(1, 1, 3), cv2.COLOR_RGB2HSV_FULL)[0, 0]
    assert hsv[1] > 60 and hsv[2] > 60  # coloured and not black


@pytest.mark.parametrize("cm", [4.0, 6.0])
def test_thick_steel_is_black(scanner, cm):
    assert _slab_colour(scanner, "steel", cm).max() == 0


@pytest.mark.parametrize("material", ["water", "aluminium", "steel", "pvc", "li_ion", "ndfeb"])
def test_more_thickness_never_gives_more_transmission(scanner, material):
    cm = np.concatenate([[0.0], np.geomspace(1e-3, 30.0, 200)]).astype(np.float32)
    t_low, t_high = scanner.transmissions({material: cm})
    for t in (t_low, t_high):
        assert np.all(np.diff(t) <= 1e-7), material
        assert t[0] == pytest.approx(1.0) and t[-1] < t[1]


def test_the_low_layer_sees_more_attenuation_than_the_high(scanner):
    cm = np.geomspace(0.01, 10.0, 50).astype(np.float32)
    for material in ("water", "aluminium", "steel"):
        t_low, t_high = scanner.transmissions({material: cm})
        assert np.all(t_low < t_high), material


def test_r_falls_with_thickness_so_thick_steel_reads_like_thin_aluminium(scanner):
    steel = np.array([0.05, 0.2, 0.5, 1.0], np.float32)
    t_low, t_high = scanner.transmissions({"steel": steel})
    r = np.log(t_low) / np.log(t_high)
    assert np.all(np.diff(r) < 0)  # beam hardening: R falls as the steel thickens
    al_low, al_high = scanner.transmissions({"aluminium": np.array([0.3], np.float32)})
    r_al = float(np.log(al_low[0]) / np.log(al_high[0]))
    # physics.md §3: 1 cm of steel gives about the R of thin aluminium
    assert abs(r[-1] - r_al) < abs(r[0] - r_al)
    assert r[-1] == pytest.approx(r_al, rel=0.2)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("looks")
    config = BagConfig(
        width=128, height=96, pitch_cm=0.4, min_objects=3, max_objects=4, anomaly_share=0.7
    )
    write_dataset(out, 3, seed=11, bag_config=config, progress=False)
    return COCO(str(out / "annotations.json"))


def test_every_box_is_the_extent_of_its_mask(dataset):
    anns = dataset.loadAnns(dataset.getAnnIds())
    assert len(anns) >= 9
    for ann in anns:
        mask = dataset.annToMask(ann).astype(bool)
        rows, cols = np.nonzero(mask)
        x, y, w, h = ann["bbox"]
        assert (x, y) == (cols.min(), rows.min())
        assert (x + w - 1, y + h - 1) == (cols.max(), rows.max())
        assert ann["area"] == mask.sum()


def test_every_anomaly_mask_lies_inside_its_host(dataset):
    anomalous = [a for a in dataset.loadAnns(dataset.getAnnIds()) if a["attributes"]["anomalous"]]
    assert anomalous
    seen = 0
    for ann in anomalous:
        host = dataset.annToMask(ann).astype(bool)
        rle = ann["attributes"]["anomaly_segmentation"]
        anomaly = mask_utils.decode(rle).astype(bool)
        if not anomaly.any():  # thinner than the pixel grid samples: no trace, and said so
            assert ann["attributes"]["anomaly_bbox"] is None
            assert ann["attributes"]["anomaly_visibility"] == 0.0
            continue
        seen += 1
        assert not (anomaly & ~host).any()
        x, y, w, h = ann["attributes"]["anomaly_bbox"]
        rows, cols = np.nonzero(anomaly)
        assert (x, y, x + w - 1, y + h - 1) == (cols.min(), rows.min(), cols.max(), rows.max())
        assert ann["attributes"]["anomaly_visibility"] >= 0
    assert seen >= len(anomalous) - 1
