"""Stage-2 inputs: crop geometry, channel modes, the crop datasets and the balanced sampler."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from engine.classification.crops import (
    AIR_VALUE,
    MEAN,
    STD,
    crop_objects,
    mask_angle,
    normalise,
    scan_channels,
)
from engine.classification.data import (
    FolderCrops,
    ObjectCrops,
    WholeScans,
    balanced_sampler,
)
from engine.errors import DatasetError
from engine.io import Scan, ScanMeta, load_scan
from engine.synth.bag import BagConfig
from engine.synth.dataset import write_dataset

TINY = BagConfig(width=96, height=72, pitch_cm=0.6, min_objects=2, max_objects=3, anomaly_share=0.5)
S = 32  # crop size in the dataset tests


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A four-bag simulator dataset with anomalies; gives its annotations.json."""
    return write_dataset(
        tmp_path_factory.mktemp("synth"), 4, seed=3, bag_config=TINY, progress=False
    )


@pytest.fixture(scope="module")
def roomy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Bags whose objects lie well inside a larger scan (preloaded windows inside it)."""
    bag = BagConfig(width=240, height=180, pitch_cm=2.0, min_objects=2, max_objects=3)
    bag = BagConfig(**{**bag.__dict__, "anomaly_share": 0.5})
    return write_dataset(
        tmp_path_factory.mktemp("roomy"), 6, seed=5, bag_config=bag, progress=False
    )


def ramp(h: int = 40, w: int = 40) -> np.ndarray:
    """H×W×3 float32 whose channels encode x and y, so every pixel is identifiable."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.stack([x / 100, y / 100, np.full_like(x, 0.5)], axis=-1)


def hwc(crop: torch.Tensor) -> np.ndarray:
    return crop.permute(1, 2, 0).numpy()


# ----- crop_objects geometry ---------------------------------------------------------------


def test_box_in_the_middle_gives_the_exact_square() -> None:
    image = ramp()
    crops = crop_objects(image, [[10, 10, 20, 20], [10, 15, 20, 20]], size=10, margin=0.0)
    assert crops.shape == (2, 3, 10, 10) and crops.dtype == torch.float32
    np.testing.assert_allclose(hwc(crops[0]), image[10:20, 10:20])
    # 10×5 box: a 10×10 square around its centre (15, 17.5), not a stretched strip
    np.testing.assert_allclose(hwc(crops[1]), image[13:23, 10:20])


def test_margin_grows_the_square_on_each_side() -> None:
    image = ramp()
    tight = crop_objects(image, [[10, 10, 30, 30]], size=20, margin=0.0)[0]
    loose = crop_objects(image, [[10, 10, 30, 30]], size=26, margin=0.15)[0]
    np.testing.assert_allclose(hwc(tight), image[10:30, 10:30])
    np.testing.assert_allclose(hwc(loose), image[7:33, 7:33])  # 20 px + 2 × 3 px
    assert loose[0, 0, 0] == pytest.approx(0.07) and tight[0, 0, 0] == pytest.approx(0.10)


@pytest.mark.parametrize("mode", ["rgb", "dual"])
def test_box_at_the_border_is_padded_with_air(mode: str) -> None:
    image = ramp()
    crop = hwc(crop_objects(image, [[0, 0, 10, 10]], size=13, margin=0.15, mode=mode)[0])
    air = AIR_VALUE[mode]
    assert air == (1.0 if mode == "rgb" else 0.0)
    assert (crop[0] == air).all() and (crop[:, 0] == air).all()  # the row and column outside
    np.testing.assert_allclose(crop[1:, 1:], image[0:12, 0:12])
    outside = crop_objects(image, [[100, 100, 110, 110]], size=8, mode=mode)
    torch.testing.assert_close(outside, torch.full_like(outside, air))  # shrunk: float error


@pytest.mark.parametrize("mode", ["rgb", "dual"])
def test_masks_blank_the_outside_to_air(mode: str) -> None:
    image = ramp()
    mask = np.zeros((1, 40, 40), bool)
    mask[0, 12:18, 14:16] = True
    crop = hwc(
        crop_objects(image, [[10, 10, 20, 20]], size=10, margin=0.0, masks=mask, mode=mode)[0]
    )
    inside = np.zeros((10, 10), bool)
    inside[2:8, 4:6] = True
    np.testing.assert_allclose(crop[inside], image[10:20, 10:20][inside])
    assert (crop[~inside] == AIR_VALUE[mode]).all()
    as_uint8 = crop_objects(
        image, [[10, 10, 20, 20]], size=10, margin=0.0, masks=mask.astype(np.uint8)
    )
    assert (hwc(as_uint8[0])[~inside] == 1.0).all()


@pytest.mark.parametrize("depth", [1, 4, 5])
def test_any_number_of_planes_is_cut_alike_with_air_per_plane(depth: int) -> None:
    image = ramp()
    extra = np.repeat(image[:, :, :1], depth, axis=2) * np.arange(1, depth + 1, dtype=np.float32)
    air = list(range(depth))
    for size in (9, 13, 20):  # shrunk, copied and enlarged
        crop = crop_objects(extra, [[0, 0, 10, 10]], size=size, margin=0.15, air=air)[0]
        one = crop_objects(image, [[0, 0, 10, 10]], size=size, margin=0.15, air=0.0)[0, 0]
        assert crop.shape == (depth, size, size)
        for k in range(depth):  # each plane is the first ramp plane, scaled, air as asked
            inside = one * (k + 1)
            corner = 0 if size >= 13 else None
            if corner is not None:
                assert crop[k, 0, 0] == pytest.approx(air[k])
            assert torch.allclose(crop[k, -2:, -2:], inside[-2:, -2:], atol=1e-5)
    with pytest.raises(ValueError, match="air must be one value or"):
        crop_objects(extra, [[0, 0, 10, 10]], air=[0.0] * (depth + 1))


def test_resizing_shapes_empty_and_degenerate_boxes() -> None:
    image = np.full((30, 50, 3), 0.25, np.float32)
    boxes = torch.tensor([[5.0, 5.0, 25.0, 25.0], [10.0, 10.0, 12.0, 12.0], [7.0, 7.0, 7.0, 7.4]])
    crops = crop_objects(image, boxes, size=16, margin=0.0)
    assert crops.shape == (3, 3, 16, 16) and crops.dtype == torch.float32
    np.testing.assert_allclose(crops[:2].numpy(), 0.25, atol=1e-6)  # shrunk and enlarged
    assert torch.isfinite(crops[2]).all()  # a 0×0.4 box still gives a (1 px) crop
    empty = crop_objects(image, np.zeros((0, 4)), size=16)
    assert empty.shape == (0, 3, 16, 16) and empty.dtype == torch.float32
    with pytest.raises(ValueError, match="mode"):
        crop_objects(image, boxes, mode="grey")
    with pytest.raises(ValueError, match="masks"):
        crop_objects(image, boxes, masks=np.ones((1, 30, 50), bool))
    with pytest.raises(ValueError, match="H×W×C"):
        crop_objects(image[:, :, 0], boxes)


def bar(angle: float, size: tuple[float, float] = (30, 8), side: int = 64) -> np.ndarray:
    """A side×side mask of a size[0]×size[1] bar turned by `angle` degrees about the middle."""
    corners = cv2.boxPoints(((side / 2, side / 2), size, angle))
    mask = np.zeros((side, side), np.uint8)
    cv2.fillPoly(mask, [np.round(corners).astype(np.int32)], 1)
    return mask.astype(bool)


def extent(dark: np.ndarray) -> tuple[int, int]:
    """(columns, rows) spanned by the True pixels."""
    rows, cols = np.nonzero(dark)
    return int(cols.max() - cols.min() + 1), int(rows.max() - rows.min() + 1)


@pytest.mark.parametrize("angle", [0, 30, 45, 90, 120, 170])
def test_orient_lays_a_mask_s_long_axis_across(angle: float) -> None:
    mask = bar(angle)
    turn, long_side = mask_angle(mask)
    assert -90 <= turn <= 90 and 29 <= long_side <= 33
    image = np.where(mask[:, :, None], 0.2, 1.0).astype(np.float32).repeat(3, axis=2)
    rows, cols = np.nonzero(mask)
    box = [[cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]]
    crop = hwc(crop_objects(image, box, size=48, margin=0.1, orient=mask[None])[0])
    across, down = extent(crop[:, :, 0] < 0.6)
    assert across >= 3 * down  # 30×8 lies across whatever its pose
    assert across <= 48 and (crop[[0, -1], :, 0] == 1.0).all()  # and all of it in the square
    unturned = hwc(crop_objects(image, box, size=48, margin=0.1)[0])
    if angle % 90 == 0:  # already across or down: the same crop, or a quarter turn of it
        turned = unturned if angle % 180 == 0 else np.rot90(unturned)
        assert np.abs(crop - turned).max() < 0.35  # bilinear edges may differ by a pixel


def test_orient_keeps_a_layout_the_same_in_any_pose() -> None:
    """One object (a bar with a dot at one end) turned anywhere gives one of its flips."""
    side, ref = 96, None
    for angle in (0, 25, 60, 135, 200):
        mask = bar(angle, (50, 16), side)
        dot = np.zeros((side, side), np.uint8)
        x = side / 2 + 16 * np.cos(np.radians(angle))
        y = side / 2 + 16 * np.sin(np.radians(angle))
        cv2.circle(dot, (round(x), round(y)), 4, 1, -1)
        image = np.ones((side, side, 3), np.float32)
        image[mask] = 0.6
        image[dot > 0] = 0.0
        rows, cols = np.nonzero(mask)
        box = [[cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]]
        crop = hwc(crop_objects(image, box, size=40, margin=0.05, orient=mask[None])[0])[:, :, 0]
        if ref is None:
            ref = crop
            continue
        flips = [crop, crop[::-1], crop[:, ::-1], crop[::-1, ::-1]]
        assert min(np.abs(f - ref).mean() for f in flips) < 0.06


def test_orient_with_masks_blanks_the_outside_and_empty_masks_fall_back_to_the_box() -> None:
    mask = bar(40)
    image = ramp(64, 64)
    rows, cols = np.nonzero(mask)
    box = [[cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]]
    crop = crop_objects(image, box, size=32, masks=mask[None], orient=mask[None])[0]
    assert (crop[:, 0, 0] == 1.0).all() and (crop != 1.0).any()  # air outside, the bar inside
    empty = np.zeros((1, 64, 64), bool)
    assert torch.equal(
        crop_objects(image, box, size=32, orient=empty), crop_objects(image, box, size=32)
    )
    with pytest.raises(ValueError, match="orient"):
        crop_objects(image, box, size=32, orient=np.zeros((2, 64, 64), bool))


def test_normalise_uses_the_mode_constants() -> None:
    batch = torch.full((2, 3, 4, 4), 0.5)
    assert normalise(batch, MEAN["rgb"], STD["rgb"]).abs().max() == 0
    assert normalise(batch[0], MEAN["dual"], STD["dual"])[0, 0, 0] == pytest.approx(1.0)
    assert set(MEAN) == set(STD) == {"rgb", "dual"}


# ----- scan_channels ---------------------------------------------------------------------


def make_scan(t_low: float, t_high: float, zeff: float, dual: bool = True) -> Scan:
    image = np.full((4, 5, 3), 255, np.uint8)
    meta = ScanMeta(path="hand/made.png", format="png", dtype="uint8", size=(5, 4))
    if not dual:
        return Scan(image, meta)
    full = np.full((4, 5), 1.0, np.float32)
    return Scan(image, meta, low=full * t_low, high=full * t_high, zeff=full * zeff)


def test_scan_channels_dual_is_zero_in_air_and_positive_in_dense_matter() -> None:
    air = scan_channels(make_scan(1.0, 1.0, 7.0), "dual")
    assert air.shape == (4, 5, 3) and air.dtype == np.float32 and (air == 0).all()
    dense = scan_channels(make_scan(0.1, 0.3, 26.0), "dual")[0, 0]
    expected = [-np.log(0.1) / 6, -np.log(0.3) / 6, 26 / 30]
    np.testing.assert_allclose(dense, expected, rtol=1e-5)
    assert scan_channels(make_scan(1e-9, 1e-9, 80.0), "dual").max() == pytest.approx(1.5)
    rgb = scan_channels(make_scan(1.0, 1.0, 7.0), "rgb")
    assert rgb.dtype == np.float32 and (rgb == 1.0).all()
    with pytest.raises(ValueError, match=r"hand/made\.png.*low, high, zeff"):
        scan_channels(make_scan(1, 1, 1, dual=False), "dual")


# ----- ObjectCrops -----------------------------------------------------------------------


def test_object_crops_follow_the_annotations(synth: Path) -> None:
    data = json.loads(synth.read_text())
    ds = ObjectCrops(synth, size=S)
    assert len(ds) == len(data["annotations"])
    assert ds.labels == [int(a["attributes"]["anomalous"]) for a in data["annotations"]]
    assert 0 < sum(ds.labels) < len(ds)
    names = {c["id"]: c["name"] for c in data["categories"]}
    first = data["annotations"][0]
    assert ds.items[0] == (first["image_id"], first["id"], names[first["category_id"]])
    crop, label = ds[0]
    assert crop.shape == (3, S, S) and crop.dtype == torch.float32 and label == ds.labels[0]
    # the same crop inference makes from the same box: train and test inputs agree
    scan = load_scan(synth.parent / data["images"][0]["file_name"], companions=False)
    x, y, w, h = first["bbox"]
    direct = crop_objects(scan_channels(scan, "rgb"), [[x, y, x + w, y + h]], size=S)[0]
    assert torch.equal(crop, direct)
    batch, labels = next(iter(torch.utils.data.DataLoader(ds, batch_size=3)))
    assert batch.shape == (3, 3, S, S) and labels.tolist() == ds.labels[:3]


def test_faint_anomalies_can_be_left_out_of_training(synth: Path) -> None:
    data = json.loads(synth.read_text())
    seen = [
        a["attributes"]["anomaly_visibility"]
        for a in data["annotations"]
        if a["attributes"]["anomalous"]
    ]
    floor = sorted(seen)[len(seen) // 2]  # leaves out the fainter half
    ds = ObjectCrops(synth, size=S, min_visibility=floor)
    benign = sum(1 - a["attributes"]["anomalous"] for a in data["annotations"])
    assert len(ds) - sum(ds.labels) == benign  # every benign object stays
    assert sum(ds.labels) == sum(v >= floor for v in seen) < len(seen)


def test_train_augmentation_is_seeded_per_epoch_and_index(synth: Path) -> None:
    ds = ObjectCrops(synth, size=S, train=True, seed=4)
    torch.manual_seed(123)
    state = torch.get_rng_state()
    first = [ds[i][0] for i in range(len(ds))]
    assert torch.equal(torch.get_rng_state(), state)  # the global RNG is untouched
    assert all(torch.equal(a, ds[i][0]) for i, a in enumerate(first))
    ds.set_epoch(1)
    second = [ds[i][0] for i in range(len(ds))]
    assert sum(not torch.equal(a, b) for a, b in zip(first, second, strict=True)) >= len(ds) // 2
    plain = ObjectCrops(synth, size=S)
    assert any(not torch.equal(a, plain[i][0]) for i, a in enumerate(first))
    with pytest.raises(ValueError, match="epoch"):
        ds.set_epoch(-1)


def test_dual_mode_and_masks_on_simulator_data(synth: Path) -> None:
    ds = ObjectCrops(synth, size=S, mode="dual", masks=True, categories=None)
    crops = torch.stack([ds[i][0] for i in range(len(ds))])
    assert crops.min() >= 0 and crops.max() <= 1.5
    assert (crops == 0).any() and (crops > 0.05).any()  # air outside the masks, matter inside
    corners = crops[:, :, [0, 0, -1, -1], [0, -1, 0, -1]]  # outside every object's mask
    assert (corners == 0).all()


def test_aligned_object_crops_only_flip_in_training(synth: Path) -> None:
    plain = ObjectCrops(synth, size=S)
    aligned = ObjectCrops(synth, size=S, align=True)
    assert len(aligned) == len(plain) and aligned.labels == plain.labels
    turned = [not torch.equal(aligned[i][0], plain[i][0]) for i in range(len(plain))]
    assert any(turned)  # objects not lying square are turned
    training = ObjectCrops(synth, size=S, align=True, train=True, seed=1, jitter=0.0)
    for epoch in range(3):
        training.set_epoch(epoch)
        for i in range(len(training)):
            x = aligned[i][0]
            flips = [x, x.flip(-1), x.flip(-2), x.flip(-1).flip(-2)]
            assert any(torch.equal(training[i][0], f) for f in flips)  # never a quarter turn


@pytest.mark.parametrize(
    "options",
    [
        {"train": True, "anomaly_maps": True, "seed": 2},  # the judges' recipe
        {"mode": "dual", "masks": True},
        {"train": True, "align": True, "margin": 0.3, "seed": 5},
    ],
    ids=["maps", "dual-masks", "align"],
)
def test_preloaded_crops_are_the_crops_read_from_the_scans(roomy: Path, options: dict) -> None:
    read = ObjectCrops(roomy, size=S, **options)
    held = ObjectCrops(roomy, size=S, **options)
    held.preload(workers=2)
    windows = [w for _, _, w, _ in held._windows]
    inside = [  # windows that touch no edge of their scan: there, a crop too small would show
        x0 > 0 and y0 > 0 and x0 + w.shape[1] < wh[1] and y0 + w.shape[0] < wh[0]
        for x0, y0, w, wh in held._windows
    ]
    assert sum(inside) >= 2, inside
    for epoch in (0, 3):
        read.set_epoch(epoch)
        held.set_epoch(epoch)
        for i in range(len(read)):
            a, b = read[i], held[i]
            assert a[1] == b[1]
            for x, y in zip(a[::2], b[::2], strict=True):  # the crop, and the map if any
                torch.testing.assert_close(x, y, rtol=1e-4, atol=1e-4)  # float32 taps
    inline = ObjectCrops(roomy, size=S, **options)
    inline.preload(workers=0)  # in this process: the same windows
    assert all(np.array_equal(w, v) for (*_, w, _), v in zip(inline._windows, windows, strict=True))


def test_a_scan_that_cannot_be_read_fails_the_preload_with_its_name(
    synth: Path, tmp_path: Path
) -> None:
    """A worker's error crosses the pool whole: it fails at once rather than hanging."""
    import threading

    shutil.copytree(synth.parent, tmp_path / "data")
    data = tmp_path / "data" / synth.name
    victim = sorted((tmp_path / "data" / "images").glob("bag_*_low.png"))[0]
    victim.write_bytes(b"not a png")
    crops = ObjectCrops(data, size=S, mode="dual")
    raised: list[BaseException] = []

    def preload() -> None:
        try:
            crops.preload(workers=2)
        except Exception as exc:
            raised.append(exc)

    worker = threading.Thread(target=preload, daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "preload hung on a worker's error"
    assert len(raised) == 1 and victim.name in str(raised[0]), raised


def test_a_preload_that_would_not_fit_in_memory_says_so_before_reading(
    synth: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import engine.classification.data as data

    crops = ObjectCrops(synth, size=S, mode="dual")
    assert data.available_memory() is None or data.available_memory() > 0
    monkeypatch.setattr(data, "available_memory", lambda: 64 * 1024)
    with pytest.raises(DatasetError, match=r"needs about .* GB .* data.preload=false"):
        crops.preload(workers=2)
    assert crops._windows is None  # nothing read; the crops still come from the scans
    assert crops[0][0].shape == (3, S, S)


def test_category_subset_and_missing_attributes(synth: Path, tmp_path: Path) -> None:
    data = json.loads(synth.read_text())
    name = data["categories"][data["annotations"][0]["category_id"] - 1]["name"]
    subset = ObjectCrops(synth, size=S, categories=[name])
    assert 0 < len(subset) <= len(data["annotations"])
    assert {item.category for item in subset.items} == {name}
    for ann in data["annotations"]:
        del ann["attributes"]
    data["info"]["image_root"] = str(synth.parent)
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(data))
    for dataset in (ObjectCrops, WholeScans):
        with pytest.raises(ValueError, match=r"attributes\.anomalous.*cannot train"):
            dataset(plain)


# ----- FolderCrops -----------------------------------------------------------------------


def write_png(path: Path, value: int, size: tuple[int, int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.full((size[1], size[0], 3), value, np.uint8))


def test_folder_crops_read_a_tree(tmp_path: Path, synth: Path) -> None:
    write_png(tmp_path / "benign" / "a.png", 0, (20, 10))
    write_png(tmp_path / "benign" / "b.jpg", 100, (16, 16))
    write_png(tmp_path / "anomalous" / "c.png", 0, (10, 20))
    ds = FolderCrops(tmp_path, size=S)
    assert ds.labels == [0, 0, 1] and [p.name for p in ds.items] == ["a.png", "b.jpg", "c.png"]
    wide = hwc(ds[0][0])  # 20×10 black image: centred, air above and below
    assert (wide[:7] == 1.0).all() and (wide[-7:] == 1.0).all() and (wide[9:23] == 0).all()
    tall, label = ds[2]
    assert label == 1 and (hwc(tall)[:, :7] == 1.0).all()
    # whole simulator scans with their channel files: one item each, dual mode reads them
    scans = tmp_path / "dual"
    for src in (synth.parent / "images").glob("bag_000000*"):
        (scans / "anomalous").mkdir(parents=True, exist_ok=True)
        shutil.copy(src, scans / "anomalous" / src.name)
    dual = FolderCrops(scans, size=S, mode="dual", train=True)
    assert len(dual) == 1 and dual[0][0].shape == (3, S, S) and dual[0][0].max() > 0


def test_folder_crops_reject_bad_trees(tmp_path: Path) -> None:
    write_png(tmp_path / "bad" / "benign" / "a.png", 0, (8, 8))
    write_png(tmp_path / "bad" / "knives" / "b.png", 0, (8, 8))
    with pytest.raises(ValueError, match=r"knives.*benign and anomalous"):
        FolderCrops(tmp_path / "bad")
    (tmp_path / "empty" / "benign").mkdir(parents=True)
    with pytest.raises(ValueError, match="no images"):
        FolderCrops(tmp_path / "empty")


# ----- WholeScans and the sampler --------------------------------------------------------


def test_whole_scans_label_an_image_by_any_anomalous_object(synth: Path) -> None:
    data = json.loads(synth.read_text())
    ds = WholeScans(synth, size=48, train=True)
    expected = [
        int(any(a["attributes"]["anomalous"] for a in data["annotations"] if a["image_id"] == i))
        for i in ds.items
    ]
    assert len(ds) == len(data["images"]) and ds.labels == expected
    assert 0 < sum(ds.labels) < len(ds)
    crop, label = ds[0]
    assert crop.shape == (3, 48, 48) and label == expected[0]


def test_balanced_sampler_weights_each_class_equally() -> None:
    sampler = balanced_sampler([0, 0, 0, 1], seed=3)
    torch.testing.assert_close(
        sampler.weights, torch.tensor([1 / 3, 1 / 3, 1 / 3, 1.0], dtype=torch.double)
    )
    assert sampler.num_samples == 4
    assert list(sampler) == list(balanced_sampler([0, 0, 0, 1], seed=3))
    with pytest.raises(ValueError):
        balanced_sampler([])
