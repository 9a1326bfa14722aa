"""CocoDetection and its transforms: simulator and plain COCO files, masks, seeded augmentation."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from pycocotools import mask as mask_utils
from torchvision import tv_tensors

from engine.data import CocoDetection, collate, eval_transforms, train_transforms
from engine.io import ScanLoadError
from engine.synth.bag import BagConfig
from engine.synth.dataset import write_dataset

TINY = BagConfig(width=96, height=72, pitch_cm=0.6, min_objects=1, max_objects=3, anomaly_share=0.5)
W, H = 40, 30  # the hand-made images

POLYGON = [[4.0, 4.0, 20.0, 4.0, 20.0, 16.0, 4.0, 16.0]]  # 16×12 rectangle at (4, 4)


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A four-bag simulator dataset; gives its annotations.json."""
    out = tmp_path_factory.mktemp("synth")
    return write_dataset(out, 4, seed=3, bag_config=TINY, progress=False)


def write_png(path: Path, value: int = 128, size: tuple[int, int] = (W, H)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.full((size[1], size[0], 3), value, np.uint8)
    pixels[:, : size[0] // 2, 0] = 255  # not uniform, so a flip shows
    assert cv2.imwrite(str(path), pixels)


def plain_coco() -> dict:
    """A user's COCO file: polygons, a bbox-only object, a crowd, a degenerate box, an empty
    image, categories listed out of id order."""
    return {
        "info": {"description": "a user's set"},
        "categories": [
            {"id": 7, "name": "knife"},
            {"id": 3, "name": "gun"},
            {"id": 5, "name": "laptop"},
        ],
        "images": [
            {"id": 10, "file_name": "imgs/a.png", "width": W, "height": H},
            {"id": 11, "file_name": "imgs/b.png", "width": W, "height": H},
        ],
        "annotations": [
            {
                "id": 1,
                "image_id": 10,
                "category_id": 7,
                "bbox": [4.0, 4.0, 16.0, 12.0],
                "segmentation": POLYGON,
                "area": 192.0,
                "iscrowd": 0,
                "attributes": {"anomalous": True, "anomaly_type": "hidden blade"},
            },
            {"id": 2, "image_id": 10, "category_id": 3, "bbox": [22.0, 10.0, 10.0, 15.0]},
            {
                "id": 3,
                "image_id": 10,
                "category_id": 3,
                "bbox": [0.0, 0.0, 10.0, 10.0],
                "segmentation": {"size": [H, W], "counts": [0, 10, 20, 10, H * W - 40]},
                "area": 100.0,
                "iscrowd": 1,
            },
            {"id": 4, "image_id": 10, "category_id": 5, "bbox": [30.0, 2.0, 0.5, 8.0]},
            {"id": 5, "image_id": 10, "category_id": 5, "bbox": [30.0, 20.0, 6.0, 6.0]},
        ],
    }


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    """The hand-made COCO file beside its two images; gives the JSON's path."""
    write_png(tmp_path / "imgs" / "a.png")
    write_png(tmp_path / "imgs" / "b.png")
    path = tmp_path / "set.json"
    path.write_text(json.dumps(plain_coco()))
    return path


def file_annotations(dataset: CocoDetection, index: int) -> list[dict]:
    anns = dataset.coco.imgToAnns[dataset.image_ids[index]]
    return [a for a in anns if not a["iscrowd"]]


def assert_same_sample(a, b) -> None:
    assert torch.equal(a[0], b[0])
    assert a[1].keys() == b[1].keys()
    for key, value in a[1].items():
        if isinstance(value, torch.Tensor):
            assert torch.equal(value, b[1][key]), key
        else:
            assert value == b[1][key], key


def mask_fits_box(mask: torch.Tensor, box: torch.Tensor, tolerance: float = 1.0) -> bool:
    rows, cols = torch.nonzero(mask, as_tuple=True)
    if len(rows) == 0:
        return True
    x0, y0, x1, y1 = box.tolist()
    return (
        cols.min() >= x0 - tolerance
        and cols.max() + 1 <= x1 + tolerance
        and rows.min() >= y0 - tolerance
        and rows.max() + 1 <= y1 + tolerance
    )


# --- the simulator's files ------------------------------------------------------------------


def test_sample_types_shapes_and_ranges(synth: Path) -> None:
    dataset = CocoDetection(synth)
    assert len(dataset) == 4
    assert dataset.image_ids == [1, 2, 3, 4]
    assert dataset.annotations_path == synth and dataset.image_root == synth.parent
    for i in range(len(dataset)):
        image, target = dataset[i]
        n = len(target["labels"])
        assert isinstance(image, tv_tensors.Image)
        assert image.dtype == torch.float32 and image.shape[0] == 3
        info = dataset.coco.imgs[dataset.image_ids[i]]
        assert tuple(image.shape[1:]) == (info["height"], info["width"])  # framed to the bag
        assert float(image.min()) >= 0.0 and float(image.max()) <= 1.0
        boxes = target["boxes"]
        assert isinstance(boxes, tv_tensors.BoundingBoxes)
        assert boxes.format == tv_tensors.BoundingBoxFormat.XYXY
        assert boxes.canvas_size == tuple(image.shape[1:]) and boxes.dtype == torch.float32
        assert boxes.shape == (n, 4) and n >= 1
        assert target["labels"].dtype == torch.int64
        assert isinstance(target["masks"], tv_tensors.Mask)
        assert target["masks"].dtype == torch.uint8
        assert target["masks"].shape == (n, *image.shape[1:])
        assert set(target["masks"].unique().tolist()) <= {0, 1}
        assert target["image_id"] == dataset.image_ids[i]
        assert isinstance(target["image_id"], int)
        assert target["area"].dtype == torch.float32 and target["area"].shape == (n,)
        assert target["iscrowd"].dtype == torch.int64 and not target["iscrowd"].any()
        assert target["anomalous"].dtype == torch.bool and target["anomalous"].shape == (n,)


def test_boxes_masks_labels_and_anomalies_follow_the_file(synth: Path) -> None:
    dataset = CocoDetection(synth)
    assert dataset.categories == [c["name"] for c in json.loads(synth.read_text())["categories"]]
    assert dataset.category_ids == [1, 2, 3, 4, 5, 6]
    flags = []
    for i in range(len(dataset)):
        _, target = dataset[i]
        anns = file_annotations(dataset, i)
        xyxy = [[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in anns)]
        assert target["boxes"].tolist() == xyxy
        assert target["labels"].tolist() == [a["category_id"] for a in anns]
        assert target["area"].tolist() == [a["area"] for a in anns]
        assert target["masks"].flatten(1).sum(1).tolist() == [a["area"] for a in anns]
        for mask, box in zip(target["masks"], target["boxes"], strict=True):
            assert mask_fits_box(mask, box, tolerance=0)
        assert target["anomalous"].tolist() == [a["attributes"]["anomalous"] for a in anns]
        flags += target["anomalous"].tolist()
    assert True in flags and False in flags  # the check saw both kinds


def test_categories_argument_reorders_and_filters_synth(synth: Path) -> None:
    full = CocoDetection(synth)
    names = [full.categories[int(label) - 1] for i in range(4) for label in full[i][1]["labels"]]
    wanted = sorted(set(names), reverse=True)[:2]  # reversed order, and at least one left out
    dataset = CocoDetection(synth, categories=wanted)
    assert dataset.categories == wanted
    assert dataset.category_ids == [full.category_ids[full.categories.index(n)] for n in wanted]
    labels = [label for i in range(4) for label in dataset[i][1]["labels"]]
    got = [dataset.categories[int(label) - 1] for label in labels]
    assert got == [n for n in names if n in wanted]


def test_masks_false_leaves_masks_out(synth: Path) -> None:
    _, target = CocoDetection(synth, masks=False)[0]
    assert "masks" not in target
    assert len(target["boxes"]) == len(target["labels"]) == len(target["anomalous"])


# --- users' own COCO files ------------------------------------------------------------------


def test_default_labels_follow_category_ids(plain: Path) -> None:
    dataset = CocoDetection(plain)
    assert dataset.categories == ["gun", "laptop", "knife"]
    assert dataset.category_ids == [3, 5, 7]
    assert dataset.image_ids == [10, 11]


def test_plain_coco_edge_cases(plain: Path) -> None:
    image, target = CocoDetection(plain)[0]
    assert image.shape == (3, H, W)
    # polygon, bbox-only, (crowd skipped), (degenerate box dropped), bbox-only
    assert target["labels"].tolist() == [3, 1, 2]
    assert target["boxes"].tolist() == [[4, 4, 20, 16], [22, 10, 32, 25], [30, 20, 36, 26]]
    assert target["iscrowd"].tolist() == [0, 0, 0]
    assert target["anomalous"].tolist() == [True, False, False]
    masks = target["masks"]
    polygon = mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(POLYGON, H, W)))
    assert np.array_equal(masks[0].numpy(), polygon) and masks[0].sum() > 150
    box_mask = torch.zeros(H, W, dtype=torch.uint8)
    box_mask[10:25, 22:32] = 1
    assert torch.equal(masks[1], box_mask)
    assert target["area"].tolist() == [192.0, 150.0, 36.0]  # no area in the file: the box's


def test_empty_image(plain: Path) -> None:
    _, target = CocoDetection(plain)[1]
    assert target["boxes"].shape == (0, 4) and target["boxes"].canvas_size == (H, W)
    assert target["labels"].shape == (0,) and target["labels"].dtype == torch.int64
    assert target["masks"].shape == (0, H, W) and target["masks"].dtype == torch.uint8
    assert target["area"].shape == target["iscrowd"].shape == target["anomalous"].shape == (0,)


def test_categories_argument_on_plain_file(plain: Path) -> None:
    dataset = CocoDetection(plain, categories=["knife", "gun"])
    assert dataset.category_ids == [7, 3]
    _, target = dataset[0]
    assert target["labels"].tolist() == [1, 2]  # the laptop is dropped
    assert target["boxes"].tolist() == [[4, 4, 20, 16], [22, 10, 32, 25]]
    assert target["masks"].shape == (2, H, W)


def test_unknown_category_name_lists_the_files_names(plain: Path) -> None:
    with pytest.raises(ValueError, match=r"set\.json.*scissors.*the file has gun, laptop, knife"):
        CocoDetection(plain, categories=["knife", "scissors"])


def test_crowd_annotations_stay_in_the_coco_object(plain: Path) -> None:
    dataset = CocoDetection(plain)
    anns = dataset.coco.loadAnns(dataset.coco.getAnnIds(imgIds=[10]))
    assert [a["id"] for a in anns] == [1, 2, 3, 4, 5]
    assert [a["iscrowd"] for a in anns] == [0, 0, 1, 0, 0]
    assert all("area" in a for a in anns)  # what COCOeval reads


def test_info_image_root_is_honoured(plain: Path, tmp_path: Path) -> None:
    coco = plain_coco()
    coco["info"]["image_root"] = str(plain.parent)
    elsewhere = tmp_path / "splits" / "train.json"
    elsewhere.parent.mkdir()
    elsewhere.write_text(json.dumps(coco))
    dataset = CocoDetection(elsewhere)
    assert dataset.image_root == plain.parent
    assert dataset[0][0].shape == (3, H, W)
    other = tmp_path / "copy"
    write_png(other / "imgs" / "a.png", size=(W, H))
    assert CocoDetection(elsewhere, image_root=other).image_root == other


def test_json_folder_is_the_default_root(plain: Path, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere.json"
    moved.write_text(plain.read_text())
    assert CocoDetection(moved).image_root == tmp_path


def test_corrupt_image_raises_scan_load_error(plain: Path) -> None:
    bad = plain.parent / "imgs" / "a.png"
    bad.write_bytes(b"this is not an image at all" * 10)
    dataset = CocoDetection(plain)
    with pytest.raises(ScanLoadError) as info:
        dataset[0]
    assert str(info.value).startswith(str(bad)) and "\n" not in str(info.value)


def test_image_size_differing_from_the_file_is_an_error(plain: Path) -> None:
    write_png(plain.parent / "imgs" / "a.png", size=(W + 2, H))
    with pytest.raises(ValueError, match=r"set\.json.*a\.png.*42×30.*40×30"):
        CocoDetection(plain)[0]


def test_rle_of_another_size_is_an_error(plain: Path) -> None:
    coco = plain_coco()
    coco["annotations"][0]["segmentation"] = {"size": [H, W + 1], "counts": [0, H * (W + 1)]}
    plain.write_text(json.dumps(coco))
    with pytest.raises(ValueError, match=r"set\.json: annotation 1: RLE size"):
        CocoDetection(plain)[0]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"{not json", "cannot read COCO JSON"),
        (b"[1, 2]", "not a COCO JSON object"),
        (json.dumps({"images": [], "annotations": []}).encode(), "categories"),
        (
            json.dumps(
                {
                    "images": [{"id": 1, "file_name": "a.png"}],
                    "annotations": [{"id": 1, "image_id": 1, "category_id": 1}],
                    "categories": [{"id": 1, "name": "gun"}],
                }
            ).encode(),
            "bbox",
        ),
        (
            json.dumps({"images": [{"id": 1}], "annotations": [], "categories": []}).encode(),
            "file_name",
        ),
    ],
)
def test_bad_json_is_a_one_line_value_error(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=problem) as info:
        CocoDetection(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_missing_file_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"nothere\.json"):
        CocoDetection(tmp_path / "nothere.json")


def test_indexing(plain: Path) -> None:
    dataset = CocoDetection(plain)
    assert dataset[-1][1]["image_id"] == 11
    with pytest.raises(IndexError):
        dataset[2]


# --- transforms -----------------------------------------------------------------------------


def test_train_transforms_keep_masks_in_boxes_and_area_unscaled(synth: Path) -> None:
    dataset = CocoDetection(synth, transforms=train_transforms())
    plain_targets = [CocoDetection(synth)[i][1] for i in range(len(dataset))]
    sizes = set()
    for epoch in range(3):
        dataset.set_epoch(epoch)
        for i in range(len(dataset)):
            image, target = dataset[i]
            sizes.add(image.shape[-2])
            # RandomShortestSize truncates: a frame shaped as its bag may come out a pixel short;
            # a long frame's long side is capped at 800 instead
            short, long = min(image.shape[-2:]), max(image.shape[-2:])
            assert {short, short + 1} & {384, 416, 448, 480, 512, 544, 576} or long >= 799
            assert long <= 800
            assert target["boxes"].canvas_size == tuple(image.shape[-2:])
            assert target["masks"].shape[-2:] == image.shape[-2:]
            for mask, box in zip(target["masks"], target["boxes"], strict=True):
                assert mask_fits_box(mask, box)
            # area is the original image's: resizing does not touch it
            assert torch.equal(target["area"], plain_targets[i]["area"])
            assert torch.equal(target["labels"], plain_targets[i]["labels"])
    assert len(sizes) > 1  # the scale jitter did jitter


def test_flip_mirrors_boxes_and_masks(synth: Path) -> None:
    plain = CocoDetection(synth)
    for i in range(len(plain)):
        image0, target0 = plain[i]
        side = min(image0.shape[-2:])  # each frame is shaped as its bag: kept at its size
        flipped = CocoDetection(synth, transforms=train_transforms(min_sizes=(side,), hflip=1.0))
        image, target = flipped[i]
        assert torch.equal(image, image0.flip(-1))
        x0, y0, x1, y1 = target0["boxes"].unbind(-1)
        w = image.shape[-1]
        assert torch.allclose(target["boxes"], torch.stack([w - x1, y0, w - x0, y1], -1))
        assert torch.equal(target["masks"], target0["masks"].flip(-1))


def test_sanitize_filters_every_per_object_tensor(plain: Path) -> None:
    coco = plain_coco()
    coco["annotations"][4]["bbox"] = [30.0, 20.0, 1.5, 6.0]  # under 1 px wide at half size
    plain.write_text(json.dumps(coco))
    halved = CocoDetection(plain, transforms=train_transforms(min_sizes=(H // 2,), hflip=0.0))
    image, target = halved[0]
    assert image.shape == (3, H // 2, W // 2)
    assert target["labels"].tolist() == [3, 1]
    assert target["boxes"].tolist() == [[2, 2, 10, 8], [11, 5, 16, 12.5]]
    assert target["masks"].shape == (2, H // 2, W // 2)
    assert target["area"].tolist() == [192.0, 150.0]
    assert target["iscrowd"].tolist() == [0, 0]
    assert target["anomalous"].tolist() == [True, False]


def test_train_transforms_on_an_empty_image(plain: Path) -> None:
    image, target = CocoDetection(plain, transforms=train_transforms())[1]
    assert target["boxes"].shape == (0, 4) and target["masks"].shape[0] == 0
    assert target["masks"].shape[-2:] == image.shape[-2:]


def test_eval_transforms_are_identity(synth: Path) -> None:
    assert_same_sample(
        CocoDetection(synth, transforms=eval_transforms())[0], CocoDetection(synth)[0]
    )


# --- determinism ----------------------------------------------------------------------------


def test_augmentation_is_seeded_by_epoch_and_index(synth: Path) -> None:
    dataset = CocoDetection(synth, transforms=train_transforms(), seed=5)
    first = [dataset[i] for i in range(len(dataset))]
    again = [dataset[i] for i in reversed(range(len(dataset)))][::-1]  # order does not matter
    for a, b in zip(first, again, strict=True):
        assert_same_sample(a, b)
    assert_same_sample(first[2], CocoDetection(synth, transforms=train_transforms(), seed=5)[2])
    dataset.set_epoch(1)
    later = [dataset[i] for i in range(len(dataset))]
    assert any(
        a[0].shape != b[0].shape or not torch.equal(a[0], b[0])
        for a, b in zip(first, later, strict=True)
    )
    dataset.set_epoch(0)
    assert_same_sample(dataset[1], first[1])


def test_getitem_leaves_the_global_rng_alone(synth: Path) -> None:
    dataset = CocoDetection(synth, transforms=train_transforms())
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    dataset[0]
    dataset[3]
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.equal(torch.rand(3), expected)


def test_set_epoch_rejects_nonsense(synth: Path) -> None:
    with pytest.raises(ValueError, match="epoch"):
        CocoDetection(synth).set_epoch(-1)


def test_collate_gives_lists(synth: Path) -> None:
    dataset = CocoDetection(synth)
    images, targets = collate([dataset[0], dataset[1]])
    assert isinstance(images, list) and isinstance(targets, list)
    assert [t["image_id"] for t in targets] == [1, 2]


def test_dataloader_workers_do_not_change_samples(synth: Path) -> None:
    dataset = CocoDetection(synth, transforms=train_transforms(), seed=1)
    dataset.set_epoch(2)
    batches = []
    for workers in (0, 2):
        loader = torch.utils.data.DataLoader(
            dataset, batch_size=2, shuffle=False, num_workers=workers, collate_fn=collate
        )
        batches.append(next(iter(loader)))
    (images0, targets0), (images2, targets2) = batches
    assert [t["image_id"] for t in targets2] == [1, 2]
    for k in range(2):
        assert_same_sample((images0[k], targets0[k]), (images2[k], targets2[k]))
