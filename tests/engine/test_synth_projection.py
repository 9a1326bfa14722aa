"""Threat image projection into real scans: bag regions, placement, ground truth, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils

from engine.cli import main
from engine.io import load_scan
from engine.io.write import save_scan
from engine.synth.bag import BagConfig
from engine.synth.dataset import SynthConfig, _scanner
from engine.synth.projection import (
    PITCH_RANGE_CM,
    _find_spot,
    bag_region,
    estimate_pitch,
    list_backgrounds,
    load_background,
    write_tip_dataset,
)
from engine.synth.scanner import ScannerConfig

W, H = 160, 120
# One tube voltage: one Scanner to build, shared by every test through the dataset's cache.
CONFIG = SynthConfig(
    bag=BagConfig(min_objects=2, max_objects=3, categories=("mobile",), anomaly_share=0.6),
    kvp=(140.0,),
)
ANOMALOUS = SynthConfig(
    bag=BagConfig(min_objects=2, max_objects=2, categories=("mobile",), anomaly_share=1.0),
    kvp=(140.0,),
)


def _bag_mask(shift: int = 0) -> np.ndarray:
    """A filled rounded rectangle of 150×106 px: the fake bag."""
    mask = np.zeros((H, W), np.uint8)
    x0, y0, x1, y1, r = 5 + shift, 7, 154 + shift, 112, 14
    cv2.rectangle(mask, (x0 + r, y0), (x1 - r, y1), 1, -1)
    cv2.rectangle(mask, (x0, y0 + r), (x1, y1 - r), 1, -1)
    for cx, cy in ((x0 + r, y0 + r), (x1 - r, y0 + r), (x0 + r, y1 - r), (x1 - r, y1 - r)):
        cv2.circle(mask, (cx, cy), r, 1, -1)
    return mask > 0


def _fake_scan(shift: int = 0) -> np.ndarray:
    """BGR: white air, an orange bag with a green strap and a darker blob of clutter."""
    image = np.full((H, W, 3), 255, np.uint8)
    image[_bag_mask(shift)] = (60, 160, 235)  # orange (BGR)
    cv2.rectangle(image, (30 + shift, 20), (130 + shift, 32), (90, 190, 70), -1)  # green
    cv2.circle(image, (80 + shift, 70), 12, (20, 90, 170), -1)  # denser organic
    return image


@pytest.fixture(scope="module")
def scanner():
    return _scanner(ScannerConfig(kvp=140.0))


@pytest.fixture(scope="module")
def backgrounds(tmp_path_factory, scanner) -> Path:
    """Two good colour scans (JPEG, PNG), a dual-energy one, and three bad files."""
    folder = tmp_path_factory.mktemp("backgrounds")
    assert cv2.imwrite(str(folder / "bag_a.jpg"), _fake_scan(0))
    assert cv2.imwrite(str(folder / "bag_b.png"), _fake_scan(3))
    cv2.imwrite(str(folder / "bag_b_mask.png"), np.zeros((H, W), np.uint8))  # not a scan
    water = np.where(_bag_mask(), np.float32(6.0), np.float32(0.0))
    save_scan(scanner.scan({"water": water}, name="dual"), folder / "bag_dual")
    (folder / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    assert cv2.imwrite(str(folder / "tiny.png"), _fake_scan()[:10, :10])
    grey = cv2.cvtColor(cv2.cvtColor(_fake_scan(), cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    assert cv2.imwrite(str(folder / "grey.png"), grey)
    return folder


BAD = {"corrupt.png", "tiny.png", "grey.png"}


@pytest.fixture(scope="module")
def dataset(backgrounds, tmp_path_factory) -> tuple[Path, list]:
    out = tmp_path_factory.mktemp("tip")
    skipped = []
    write_tip_dataset(
        out,
        4,
        backgrounds,
        seed=3,
        config=CONFIG,
        progress=False,
        on_skip=lambda p, why: skipped.append((p.name, why)),
    )
    return out, skipped


def _decode(rle: dict) -> np.ndarray:
    return mask_utils.decode({**rle, "counts": rle["counts"].encode()}).astype(bool)


def _coco(folder: Path) -> dict:
    return json.loads((folder / "annotations.json").read_text())


def _region_of(backgrounds: Path, name: str) -> np.ndarray:
    return load_background(backgrounds / name).region


def test_bag_region_and_pitch_of_a_fake_scan():
    rgb = cv2.cvtColor(_fake_scan(), cv2.COLOR_BGR2RGB)
    region, length = bag_region(rgb)
    truth = _bag_mask()
    assert (region & truth).sum() / (region | truth).sum() > 0.97
    assert 145 <= length <= 155
    rng = np.random.default_rng(0)
    assert estimate_pitch(length, rng)[0] == PITCH_RANGE_CM[1]  # a 55 cm bag in 150 px: clamped
    pitch, cm = estimate_pitch(1000.0, rng)
    assert 42 <= cm <= 68 and pitch == pytest.approx(max(cm / 1000, PITCH_RANGE_CM[0]))


def test_a_spot_keeps_the_whole_mask_inside_and_off_other_objects():
    rng = np.random.default_rng(1)
    region = np.zeros((300, 400), bool)
    region[40:260, 50:330] = True
    mask = np.ones((120, 200), bool)
    mask[:30, :60] = False  # not a rectangle
    free = np.zeros_like(region)
    for _ in range(20):
        x, y = _find_spot(region, free, mask, rng)
        placed = np.zeros_like(region)
        placed[y : y + 120, x : x + 200] = mask
        assert not (placed & ~region).any()
    assert _find_spot(region, free, np.ones((230, 100), bool), rng) is None  # too tall
    taken = region.copy()
    assert _find_spot(region, taken, mask, rng) is None  # all of the bag is taken


def test_folders_and_list_files_name_the_scans(backgrounds, tmp_path):
    names = {p.name for p in list_backgrounds(backgrounds)}
    assert names == {"bag_a.jpg", "bag_b.png", "bag_dual.png"} | BAD
    beside = tmp_path / "sixray_benign"
    beside.mkdir()
    (beside / "x.jpg").write_bytes(b"")
    (tmp_path / "here.jpg").write_bytes(b"")
    listing = tmp_path / "list.txt"
    listing.write_text("# backgrounds\nx.jpg\n\nhere.jpg\nmissing.jpg\n")
    assert list_backgrounds(listing) == [
        beside / "x.jpg",
        tmp_path / "here.jpg",
        tmp_path / "missing.jpg",
    ]
    with pytest.raises(FileNotFoundError):
        list_backgrounds(tmp_path / "nowhere")


def test_a_background_knows_its_bag(backgrounds):
    bag = load_background(backgrounds / "bag_a.jpg")
    assert (bag.region & _bag_mask()).sum() / (bag.region | _bag_mask()).sum() > 0.95
    assert abs(bag.axis_rad) < 0.05 and 145 <= bag.length_px <= 155  # lies along x


def test_bad_files_are_named_once_and_skipped(dataset):
    out, skipped = dataset
    assert sorted(name for name, _ in skipped) == sorted(BAD)
    assert all(why and "\n" not in why for _, why in skipped)
    coco = _coco(out)
    assert {s["file"] for s in coco["info"]["skipped_backgrounds"]} == BAD
    assert {i["background"] for i in coco["images"]} <= {"bag_a.jpg", "bag_b.png", "bag_dual.png"}


def test_masks_lie_inside_the_image_and_the_bag(dataset, backgrounds):
    out, _ = dataset
    coco = _coco(out)
    images = {i["id"]: i for i in coco["images"]}
    assert len(coco["annotations"]) >= 4
    kernel = np.ones((5, 5), np.uint8)
    for ann in coco["annotations"]:
        image = images[ann["image_id"]]
        mask = _decode(ann["segmentation"])
        assert mask.shape == (image["height"], image["width"]) and mask.sum() == ann["area"] > 0
        x, y, w, h = ann["bbox"]
        assert x >= 0 and y >= 0 and x + w <= image["width"] and y + h <= image["height"]
        assert mask[int(y) : int(y + h), int(x) : int(x + w)].sum() == mask.sum()
        bag = cv2.dilate(_region_of(backgrounds, image["background"]).astype(np.uint8), kernel)
        assert not (mask & (bag == 0)).any()
        attrs = ann["attributes"]
        assert attrs["projected"] is True and "design" in attrs
        assert {"anomalous", "anomaly_type", "anomaly_bbox", "anomaly_segmentation"} <= set(attrs)


def test_pixels_change_only_under_the_objects(dataset, backgrounds):
    out, _ = dataset
    coco = _coco(out)
    for image in coco["images"]:
        union = np.zeros((image["height"], image["width"]), bool)
        for ann in coco["annotations"]:
            if ann["image_id"] == image["id"]:
                union |= _decode(ann["segmentation"])
        before = load_scan(backgrounds / image["background"])
        after = load_scan(out / image["file_name"])
        assert np.array_equal(after.image[~union], before.image[~union]), image["file_name"]
        if before.has_dual_energy:
            assert after.channels == ["rgb", "low", "high", "zeff"]
            for name in ("low", "high"):
                old, new = getattr(before, name), getattr(after, name)
                assert np.array_equal(new[~union], old[~union])
                assert (new[union] <= old[union]).all()
        assert union.any() or image["objects_left_out"] > 0
        assert PITCH_RANGE_CM[0] <= image["pitch_cm"] <= PITCH_RANGE_CM[1]
        assert len(image["tip"]) == sum(a["image_id"] == image["id"] for a in coco["annotations"])


def test_reruns_and_workers_give_identical_files(dataset, backgrounds, tmp_path):
    out, _ = dataset
    for workers, folder in ((1, tmp_path / "again"), (2, tmp_path / "two")):
        write_tip_dataset(
            folder, 4, backgrounds, seed=3, config=CONFIG, workers=workers, progress=False
        )
        files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
        assert files == sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())
        for f in files:
            assert (folder / f).read_bytes() == (out / f).read_bytes(), (workers, f)


def test_anomaly_masks_lie_within_their_objects(backgrounds, tmp_path):
    write_tip_dataset(tmp_path, 3, backgrounds, seed=5, config=ANOMALOUS, progress=False)
    anns = _coco(tmp_path)["annotations"]
    assert anns and all(a["attributes"]["anomalous"] for a in anns)
    seen = 0
    for ann in anns:
        attrs = ann["attributes"]
        instance = _decode(ann["segmentation"])
        anomaly = _decode(attrs["anomaly_segmentation"])
        assert not (anomaly & ~instance).any()
        assert np.isfinite(attrs["anomaly_visibility"]) and attrs["anomaly_visibility"] >= 0
        if anomaly.any():
            seen += 1
            x, y, w, h = attrs["anomaly_bbox"]
            assert anomaly[int(y) : int(y + h), int(x) : int(x + w)].sum() == anomaly.sum()
            assert attrs["anomaly_visibility"] > 0
    assert seen >= 1


def test_cli_skips_bad_files_once_and_fails_without_good_ones(backgrounds, tmp_path, capsys):
    args = [
        "synth",
        "--out",
        str(tmp_path / "d"),
        "--n",
        "1",
        "kvp=[140]",
        "bag.categories=[mobile]",
    ]
    assert main([*args, "--backgrounds", str(backgrounds)]) == 0
    err = capsys.readouterr().err.splitlines()
    for name in BAD:
        lines = [
            line for line in err if line.startswith("xray-engine synth: skipped") and name in line
        ]
        assert len(lines) == 1, (name, err)
    bad_only = tmp_path / "bad"
    bad_only.mkdir()
    for name in BAD:
        (bad_only / name).write_bytes((backgrounds / name).read_bytes())
    assert main([*args, "--backgrounds", str(bad_only)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == len(BAD) + 1 and "no usable background" in err[-1]
    assert main([*args, "--backgrounds", str(tmp_path / "nowhere")]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 1
    assert main([*args, "--backgrounds", str(backgrounds), "--size", "64x48"]) == 2


def test_excluded_backgrounds_are_never_projected_into(backgrounds, tmp_path, capsys):
    """Scans holding unlabelled objects of our classes stay out (`--exclude-backgrounds`)."""
    excluded = tmp_path / "excluded.txt"
    excluded.write_text("# holds a bottle\nbag_a.jpg  # liquid container\n")
    out = tmp_path / "d"
    args = ["synth", "--out", str(out), "--n", "4", "kvp=[140]", "bag.categories=[mobile]"]
    assert (
        main([*args, "--backgrounds", str(backgrounds), "--exclude-backgrounds", str(excluded)])
        == 0
    )
    info = _coco(out)["info"]
    assert info["excluded_backgrounds"] == ["bag_a.jpg"]
    assert "bag_a.jpg" not in info["backgrounds"] and len(info["backgrounds"]) == 2
    assert {im["background"] for im in _coco(out)["images"]} <= set(info["backgrounds"])
    only_a = tmp_path / "only_a"
    only_a.mkdir()
    (only_a / "bag_a.jpg").write_bytes((backgrounds / "bag_a.jpg").read_bytes())
    capsys.readouterr()
    assert main([*args, "--backgrounds", str(only_a), "--exclude-backgrounds", str(excluded)]) == 2
    assert "every background is excluded" in capsys.readouterr().err
    assert main([*args, "--exclude-backgrounds", str(excluded)]) == 2  # without --backgrounds


def test_projection_records_its_own_palette_and_refuses_another(backgrounds, tmp_path, capsys):
    """Projected objects are painted with TIP_STYLE whatever the config says: the dataset's
    record says so, and a palette asked for on the command line is refused, not ignored."""
    from engine.config import to_dict
    from engine.synth.tip import TIP_STYLE

    out = tmp_path / "d"
    args = ["synth", "--out", str(out), "--n", "1", "--backgrounds", str(backgrounds), "kvp=[140]"]
    assert main([*args, "bag.categories=[mobile]"]) == 0
    config = _coco(out)["info"]["config"]
    assert config["colour"] == to_dict(TIP_STYLE) and config["jitter_colour"] is False
    capsys.readouterr()
    for override in ("colour.floor=0.2", "jitter_colour=false"):
        assert main([*args, override]) == 2
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 1 and override in err[0] and "--backgrounds" in err[0]


def test_projected_toasters_are_built_as_the_config_says(backgrounds, scanner, monkeypatch):
    """Projection builds its objects from the same catalogue and settings as a simulated bag:
    `bag.wire_guards` reaches them (toasters' guards as wire cages since simulator v2.19)."""
    from engine.synth import projection

    asked = []
    real_build = projection.build

    def spy(category, rng, **kwargs):
        asked.append(kwargs.get("wire_guards"))
        return real_build(category, rng, **kwargs)

    monkeypatch.setattr(projection, "build", spy)
    background = load_background(backgrounds / "bag_a.jpg")
    for guards in (True, False):
        config = BagConfig(
            min_objects=1, max_objects=1, categories=("toaster",), wire_guards=guards
        )
        asked.clear()
        projection.project_objects(background, np.random.default_rng(0), config, scanner)
        assert asked == [guards]


def test_projected_objects_are_squared_to_the_bag_as_simulated_ones(
    backgrounds, scanner, monkeypatch
):
    """`bag.aligned_hosts` (simulator v2.62) reaches projection: that share of the objects lie
    within a few degrees of the real bag's axes (its region's long axis); 0 turns them to any
    heading as before. The squaring draws on numbers of its own, so the scan's pitch and its
    first object's tilt are drawn as without it (later draws can differ: where an object fits
    decides how many places are tried)."""
    from engine.synth import projection

    renders = []
    real_render = projection._render

    def spy(model, scanner_, pitch, rot):
        renders.append(rot)
        return real_render(model, scanner_, pitch, rot)

    monkeypatch.setattr(projection, "_render", spy)
    background = load_background(backgrounds / "bag_a.jpg")
    axis = np.degrees(background.axis_rad)

    def headings(share: float) -> tuple[np.ndarray, list]:
        config = BagConfig(
            min_objects=1, max_objects=1, categories=("mobile",), aligned_hosts=share
        )
        last, drawn = [], []
        for seed in range(12):
            renders.clear()
            _, _, record = projection.project_objects(
                background, np.random.default_rng(seed), config, scanner
            )
            rot = renders[-1]  # the turn it was placed at
            last.append(np.degrees(np.arctan2(rot[1, 0], rot[0, 0])))
            drawn.append((record["pitch_cm"], round(float(renders[0][2, 2]), 12)))  # tilt only
        off = np.abs((np.asarray(last) - axis + 45) % 90 - 45)  # from the nearest quarter turn
        return off, drawn

    squared, drawn = headings(1.0)
    free, drawn_free = headings(0.0)
    assert squared.max() < 25 and np.median(squared) < 8  # σ 7°, tilt included
    assert np.median(free) > 12  # any heading: 22.5° on average
    assert drawn == drawn_free  # the same pitch and the same tilt, seed by seed
