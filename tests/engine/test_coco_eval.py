"""COCO evaluation: perfect, empty, shifted and duplicated detections, conversions, pitfalls."""

from __future__ import annotations

import contextlib
import copy
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from engine.evaluation import (
    METRICS,
    detections_to_coco,
    evaluate_coco,
    format_metrics,
    fully_segmented,
    ground_truth_as_detections,
)

W, H = 64, 48
CATEGORIES = [
    {"id": 3, "name": "bottle", "supercategory": "object"},
    {"id": 7, "name": "iron", "supercategory": "object"},
    {"id": 9, "name": "mobile", "supercategory": "object"},
]
NAMES = {c["id"]: c["name"] for c in CATEGORIES}
# pycocotools divides by tp + fp + eps, so a perfect score can read 1 - 2.2e-16
ONE = pytest.approx(1.0, abs=1e-12)


def rect_rle(x: int, y: int, w: int, h: int) -> dict:
    """Compressed RLE (counts as str) of a filled rectangle on a W×H image."""
    mask = np.zeros((H, W), np.uint8)
    mask[y : y + h, x : x + w] = 1
    rle = mask_utils.encode(np.asfortranarray(mask))
    return {"size": rle["size"], "counts": rle["counts"].decode("ascii")}


def diamond(x: int, y: int, w: int, h: int) -> list[list[float]]:
    """A polygon segmentation: the diamond inscribed in the box."""
    return [[x + w / 2, y, x + w, y + h / 2, x + w / 2, y + h, x, y + h / 2]]


def make_gt(*, crowd: bool = False, extra_category: bool = False, masks: bool = True) -> dict:
    """Four 64×48 images, three categories, RLE and polygon masks; image 13 holds no object."""
    objects = [  # image, category, box, kind
        (10, 3, (4, 4, 20, 16), "rle"),  # small
        (10, 7, (30, 10, 30, 30), "polygon"),  # small (diamond area 450)
        (11, 9, (10, 8, 40, 32), "rle"),  # medium (1280)
        (11, 3, (50, 5, 10, 30), "polygon"),
        (12, 7, (2, 20, 24, 20), "rle"),
        (12, 9, (30, 2, 30, 40), "rle"),  # medium (1200)
    ]
    annotations = []
    for image_id, category_id, box, kind in objects:
        seg = rect_rle(*box) if kind == "rle" else diamond(*box)
        area = box[2] * box[3] if kind == "rle" else box[2] * box[3] / 2
        annotations.append(
            {
                "id": len(annotations) + 1,
                "image_id": image_id,
                "category_id": category_id,
                "bbox": [float(v) for v in box],
                "area": float(area),
                "iscrowd": 0,
                **({"segmentation": seg} if masks else {}),
            }
        )
    if crowd:
        annotations.append(
            {
                "id": 100,
                "image_id": 13,
                "category_id": 3,
                "bbox": [20.0, 20.0, 30.0, 20.0],
                "area": 600.0,
                "iscrowd": 1,
                "segmentation": rect_rle(20, 20, 30, 20),
            }
        )
    categories = list(CATEGORIES)
    if extra_category:
        categories.append({"id": 11, "name": "laptop", "supercategory": "object"})
    return {
        "images": [
            {"id": i, "file_name": f"bag_{i}.png", "width": W, "height": H}
            for i in (10, 11, 12, 13)
        ],
        "categories": categories,
        "annotations": annotations,
    }


def shifted(detections: list[dict], dx_share: float) -> list[dict]:
    """The detections with boxes moved right by `dx_share` of their width (masks dropped)."""
    out = []
    for d in detections:
        x, y, w, h = d["bbox"]
        out.append({**{k: v for k, v in d.items() if k != "segmentation"}})
        out[-1]["bbox"] = [x + w * dx_share, y, w, h]
    return out


def noisy(gt: dict, seed: int = 0) -> list[dict]:
    """Imperfect detections with masks: jittered boxes, random scores, some misses, some extras."""
    rng = np.random.default_rng(seed)
    out = []
    for d in ground_truth_as_detections(gt):
        if rng.random() < 0.2:
            continue
        x, y, w, h = (float(v + rng.normal(0, 2.5)) for v in d["bbox"])
        x, y = max(x, 0.0), max(y, 0.0)
        w, h = max(w, 2.0), max(h, 2.0)
        seg = rect_rle(int(x), int(y), round(w), round(h))
        out.append({**d, "bbox": [x, y, w, h], "score": float(rng.random()), "segmentation": seg})
    for image_id in (10, 13):
        out.append(
            {
                "image_id": image_id,
                "category_id": 7,
                "bbox": [5.0, 25.0, 15.0, 15.0],
                "score": 0.55,
                "segmentation": rect_rle(5, 25, 15, 15),
            }
        )
    return out


def assert_perfect(metrics: dict) -> None:
    for key in ("mAP", "AP50", "AP75", "AR100"):
        assert metrics[key] == ONE, key


# --- evaluate_coco -------------------------------------------------------------------------


def test_ground_truth_as_detections_is_perfect_for_boxes_and_masks():
    gt = make_gt()
    dets = ground_truth_as_detections(gt)
    assert len(dets) == 6 and all(isinstance(d["segmentation"]["counts"], str) for d in dets)
    result = evaluate_coco(gt, dets)
    assert result["images"] == 4 and result["detections"] == 6
    for iou_type in ("bbox", "segm"):
        metrics = result[iou_type]
        assert set(metrics) == {*METRICS, "per_class", "per_class_ap50"}
        assert_perfect(metrics)
        assert metrics["APs"] == pytest.approx(1.0) and metrics["APm"] == pytest.approx(1.0)
        assert metrics["APl"] is None  # no large object: pycocotools' -1 becomes None
        assert metrics["per_class"] == {"bottle": ONE, "iron": ONE, "mobile": ONE}


def test_no_detections_gives_zeros_not_a_crash():
    result = evaluate_coco(make_gt(extra_category=True), [])
    assert result["detections"] == 0
    for iou_type in ("bbox", "segm"):
        metrics = result[iou_type]
        for key in ("mAP", "AP50", "AP75", "APs", "APm", "AR100"):
            assert metrics[key] == 0.0, key
        assert metrics["APl"] is None
        assert metrics["per_class"] == {"bottle": 0.0, "iron": 0.0, "mobile": 0.0, "laptop": None}
        assert metrics["per_class_ap50"] == metrics["per_class"]


def test_class_without_ground_truth_is_none_and_left_out_of_the_mean():
    gt = make_gt(extra_category=True)
    dets = ground_truth_as_detections(gt)
    dets += [
        {
            "image_id": i,
            "category_id": 11,
            "bbox": [0.0, 0.0, 20.0, 20.0],
            "score": 0.99,
            "segmentation": rect_rle(0, 0, 20, 20),
        }
        for i in (10, 11, 13)
    ]
    result = evaluate_coco(gt, dets)
    for iou_type in ("bbox", "segm"):
        assert_perfect(result[iou_type])
        assert result[iou_type]["per_class"]["laptop"] is None
        assert result[iou_type]["per_class"]["bottle"] == ONE


def test_shifted_boxes_keep_ap50_and_lose_ap75():
    gt = make_gt()
    # a quarter-width shift leaves IoU = 0.75 w h / 1.25 w h = 0.6 for every box
    result = evaluate_coco(gt, shifted(ground_truth_as_detections(gt), 0.25))
    bbox = result["bbox"]
    assert bbox["AP50"] == pytest.approx(1.0)
    assert bbox["AP75"] == 0.0
    assert 0.0 < bbox["mAP"] < 0.5
    for name, ap in bbox["per_class"].items():  # per class too: all of AP50, part of the mean
        assert bbox["per_class_ap50"][name] == pytest.approx(1.0) and 0.0 < ap < 0.5
    assert "segm" not in result  # no detection carries a mask


def test_low_scoring_duplicates_do_not_hurt():
    gt = make_gt()
    perfect = ground_truth_as_detections(gt)
    duplicates = [{**d, "score": 0.3} for d in perfect]
    near = [{**d, "score": 0.2} for d in shifted(perfect, 0.1)]
    for d in near:
        d["segmentation"] = rect_rle(*(int(v) for v in d["bbox"]))
    result = evaluate_coco(gt, perfect + duplicates + near)
    assert result["detections"] == 18
    assert_perfect(result["bbox"])
    assert_perfect(result["segm"])
    # ranked above the true ones, the near misses do hurt (they fail at IoU >= 0.85)
    hurt = evaluate_coco(gt, [{**d, "score": 0.1} for d in perfect] + near)
    assert hurt["bbox"]["mAP"] < 1.0


def test_image_ids_restrict_the_evaluation():
    gt = make_gt()
    dets = ground_truth_as_detections(gt)
    only_10_11 = [d for d in dets if d["image_id"] in (10, 11)]
    assert evaluate_coco(gt, only_10_11)["bbox"]["mAP"] < 1.0  # image 12's objects are missed
    result = evaluate_coco(gt, dets, image_ids=[10, 11])
    assert result["images"] == 2 and result["detections"] == 4
    assert_perfect(result["bbox"])
    assert_perfect(result["segm"])
    one = evaluate_coco(gt, dets, image_ids=[10])
    assert one["bbox"]["per_class"] == {"bottle": ONE, "iron": ONE, "mobile": None}


def test_unknown_image_category_or_mask_size_raise_value_error():
    gt = make_gt()
    det = ground_truth_as_detections(gt)[0]
    with pytest.raises(ValueError, match="image id 999"):
        evaluate_coco(gt, [{**det, "image_id": 999}])
    with pytest.raises(ValueError, match="category id 4"):
        evaluate_coco(gt, [{**det, "category_id": 4}])
    with pytest.raises(ValueError, match="not in the ground truth"):
        evaluate_coco(gt, [det], image_ids=[10, 42])
    small = mask_utils.encode(np.asfortranarray(np.ones((10, 10), np.uint8)))
    with pytest.raises(ValueError, match="mask of size"):
        evaluate_coco(gt, [{**det, "segmentation": small}])
    with pytest.raises(ValueError, match="IoU types"):
        evaluate_coco(gt, [det], iou_types=("keypoints",))


def test_crowd_annotations_are_ignored():
    gt = make_gt(crowd=True)
    dets = ground_truth_as_detections(gt)
    assert len(dets) == 6  # the crowd region is no detection
    assert_perfect(evaluate_coco(gt, dets)["bbox"])
    # a confident detection on the crowd region is ignored, not a false positive
    on_crowd = {
        "image_id": 13,
        "category_id": 3,
        "bbox": [20.0, 20.0, 30.0, 20.0],
        "score": 0.95,
        "segmentation": rect_rle(20, 20, 30, 20),
    }
    ranked_below = [{**d, "score": 0.8} for d in dets] + [on_crowd]
    result = evaluate_coco(gt, ranked_below)
    assert_perfect(result["bbox"])
    assert_perfect(result["segm"])
    assert evaluate_coco(make_gt(), ranked_below)["bbox"]["per_class"]["bottle"] < 1.0


def test_segm_is_skipped_without_masks():
    gt = make_gt()
    assert "segm" not in evaluate_coco(gt, ground_truth_as_detections(gt, with_masks=False))
    assert "segm" not in evaluate_coco(gt, ground_truth_as_detections(gt), iou_types=("bbox",))
    no_masks = make_gt(masks=False)
    result = evaluate_coco(no_masks, ground_truth_as_detections(no_masks))
    assert "segm" not in result
    assert_perfect(result["bbox"])
    assert "segm" not in evaluate_coco(no_masks, [])
    mixed = make_gt()
    del mixed["annotations"][0]["segmentation"]
    with pytest.raises(ValueError, match="have no segmentation"):
        evaluate_coco(mixed, ground_truth_as_detections(mixed))
    assert "segm" not in evaluate_coco(mixed, [], iou_types=("bbox",))


def test_verbose_shows_pycocotools_output(capsys: pytest.CaptureFixture[str]):
    gt = make_gt()
    evaluate_coco(gt, ground_truth_as_detections(gt))
    assert capsys.readouterr().out == ""
    evaluate_coco(gt, ground_truth_as_detections(gt), verbose=True)
    assert "Average Precision" in capsys.readouterr().out


def test_path_dict_and_coco_object_agree_and_are_not_modified(tmp_path: Path):
    gt = make_gt(crowd=True)
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(gt))
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(path))
    before = copy.deepcopy(gt)
    dets = noisy(gt)
    dets_before = copy.deepcopy(dets)
    by_dict = evaluate_coco(gt, dets)
    assert 0.0 < by_dict["bbox"]["mAP"] < 1.0 and 0.0 < by_dict["segm"]["mAP"] < 1.0
    assert evaluate_coco(path, dets) == by_dict
    assert evaluate_coco(str(path), dets) == by_dict
    assert evaluate_coco(coco, dets) == by_dict
    assert gt == before and coco.dataset == before and dets == dets_before


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_matches_a_direct_cocoeval(tmp_path: Path, iou_type: str):
    gt = make_gt(crowd=True)
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(gt))
    dets = noisy(gt, seed=3)
    ours = evaluate_coco(gt, dets)[iou_type]

    def direct(cat_ids: list[int] | None = None) -> np.ndarray:
        with contextlib.redirect_stdout(io.StringIO()):
            coco_gt = COCO(str(path))
            evaluator = COCOeval(coco_gt, coco_gt.loadRes(copy.deepcopy(dets)), iou_type)
            if cat_ids is not None:
                evaluator.params.catIds = cat_ids
            evaluator.evaluate()
            evaluator.accumulate()
            evaluator.summarize()
        return evaluator.stats

    stats = direct()
    assert 0.0 < stats[0] < 1.0
    assert ours["mAP"] == pytest.approx(stats[0], abs=1e-12)
    assert ours["AP50"] == pytest.approx(stats[1], abs=1e-12)
    assert ours["AP75"] == pytest.approx(stats[2], abs=1e-12)
    assert ours["AR100"] == pytest.approx(stats[8], abs=1e-12)
    for cat_id, name in NAMES.items():
        assert ours["per_class"][name] == pytest.approx(direct([cat_id])[0], abs=1e-12), name


def test_format_metrics():
    gt = make_gt()
    text = format_metrics(evaluate_coco(gt, ground_truth_as_detections(gt)))
    assert text.splitlines() == [
        "bbox mAP 1.000 AP50 1.000 AP75 1.000 AR100 1.000",
        "segm mAP 1.000 AP50 1.000 AP75 1.000 AR100 1.000",
    ]
    nothing = {"bbox": dict.fromkeys(METRICS)}
    assert format_metrics(nothing) == "bbox mAP n/a AP50 n/a AP75 n/a AR100 n/a"


# --- detections_to_coco --------------------------------------------------------------------


def tv_output(masks: bool = True) -> dict:
    """A torchvision-style output on a 48×64 image: two boxes, model labels 2 and 1."""
    probs = torch.full((2, 1, H, W), 0.1)
    probs[0, 0, 2:22, 1:11] = 0.9
    probs[1, 0, 5:9, 5:9] = 0.7
    probs[1, 0, 5, 5] = 0.5  # exactly at the threshold: not in the mask
    out = {
        "boxes": torch.tensor([[1.0, 2.0, 11.0, 22.0], [5.0, 5.0, 9.0, 9.0]]),
        "labels": torch.tensor([2, 1]),
        "scores": torch.tensor([0.9, 0.4]),
    }
    if masks:
        out["masks"] = probs
    return out


def test_detections_to_coco_converts_boxes_labels_and_masks():
    output = tv_output()
    dets = detections_to_coco([output], [12], [3, 7])
    assert [d["category_id"] for d in dets] == [7, 3]  # label k -> category_ids[k - 1]
    assert dets[0]["bbox"] == [1.0, 2.0, 10.0, 20.0]  # XYXY -> XYWH
    assert dets[1]["bbox"] == [5.0, 5.0, 4.0, 4.0]
    assert dets[0]["score"] == pytest.approx(0.9) and isinstance(dets[0]["score"], float)
    assert all(d["image_id"] == 12 and type(d["image_id"]) is int for d in dets)
    for det, probs in zip(dets, output["masks"][:, 0].numpy(), strict=True):
        assert isinstance(det["segmentation"]["counts"], str)
        assert det["segmentation"]["size"] == [H, W]
        decoded = mask_utils.decode(det["segmentation"])
        np.testing.assert_array_equal(decoded, (probs > 0.5).astype(np.uint8))
    json.dumps(dets)  # plain JSON
    assert detections_to_coco([output], [12], {1: 3, 2: 7}) == dets
    kept = detections_to_coco([output], [12], [3, 7], score_threshold=0.5)
    assert [d["category_id"] for d in kept] == [7]
    assert kept[0]["segmentation"] == dets[0]["segmentation"]


def test_detections_to_coco_numpy_empty_and_half_precision():
    output = tv_output()
    as_numpy = {k: v.numpy() for k, v in output.items()}
    expected = detections_to_coco([output], [12], [3, 7])
    assert detections_to_coco([as_numpy], [12], [3, 7]) == expected
    bf16 = {**output, "masks": output["masks"].to(torch.bfloat16)}
    bf16["masks"][1, 0, 5, 5] = 0.1  # 0.5 stays 0.5 in bfloat16, but keep it clear
    assert [d["segmentation"] for d in detections_to_coco([bf16], [12], [3, 7])] == [
        d["segmentation"] for d in expected
    ]
    empty = {
        "boxes": torch.zeros((0, 4)),
        "labels": torch.zeros(0, dtype=torch.int64),
        "scores": torch.zeros(0),
        "masks": torch.zeros((0, 1, H, W)),
    }
    assert detections_to_coco([empty, empty], [10, 11], [3, 7]) == []
    no_masks = detections_to_coco([tv_output(masks=False)], [12], [3, 7])
    assert [d["bbox"] for d in no_masks] == [d["bbox"] for d in expected]
    assert all("segmentation" not in d for d in no_masks)


def test_detections_to_coco_rejects_bad_input():
    with pytest.raises(ValueError, match="image ids"):
        detections_to_coco([tv_output()], [1, 2], [3, 7])
    background = {**tv_output(), "labels": torch.tensor([0, 1])}
    with pytest.raises(ValueError, match=r"labels \[0\]"):
        detections_to_coco([background], [12], [3, 7])


def test_torchvision_outputs_of_the_ground_truth_round_trip():
    gt = make_gt()
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = copy.deepcopy(gt)
        coco.createIndex()
    label_of = {3: 1, 7: 2, 9: 3}  # model labels 1..3 for categories [3, 7, 9]
    outputs, image_ids = [], []
    for image_id in coco.getImgIds():
        anns = coco.loadAnns(coco.getAnnIds(imgIds=image_id))
        boxes = [[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in anns)]
        masks = [coco.annToMask(a).astype(np.float32)[None] for a in anns]
        outputs.append(
            {
                "boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
                "labels": torch.tensor([label_of[a["category_id"]] for a in anns]),
                "scores": torch.ones(len(anns)),
                "masks": torch.from_numpy(np.stack(masks)) if masks else torch.zeros(0, 1, H, W),
            }
        )
        image_ids.append(image_id)
    dets = detections_to_coco(outputs, image_ids, [3, 7, 9])
    assert len(dets) == 6
    result = evaluate_coco(gt, dets)
    assert_perfect(result["bbox"])
    assert_perfect(result["segm"])


# --- a simulated dataset ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def synth_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from engine.synth.bag import BagConfig
    from engine.synth.dataset import write_dataset

    bag = BagConfig(width=96, height=72, pitch_cm=0.6, min_objects=2, max_objects=3)
    folder = tmp_path_factory.mktemp("synth")
    return write_dataset(folder, 3, seed=1, bag_config=bag, progress=False)


def test_simulated_dataset_ground_truth_is_perfect(synth_json: Path):
    data = json.loads(synth_json.read_text())
    present = {c["name"] for c in data["categories"]} & {
        next(c["name"] for c in data["categories"] if c["id"] == a["category_id"])
        for a in data["annotations"]
    }
    dets = ground_truth_as_detections(synth_json)
    assert len(dets) == len(data["annotations"]) >= 6
    result = evaluate_coco(synth_json, dets)
    assert result["images"] == 3
    for iou_type in ("bbox", "segm"):
        metrics = result[iou_type]
        assert_perfect(metrics)
        assert {k for k, v in metrics["per_class"].items() if v is not None} == present
        assert all(v == ONE for v in metrics["per_class"].values() if v is not None)
    assert result == evaluate_coco(data, dets)


def test_fully_segmented_tells_whether_masks_can_be_scored():
    gt = make_gt()
    assert fully_segmented(gt) and not fully_segmented(make_gt(masks=False))
    del gt["annotations"][2]["segmentation"]  # a box drawn without a mask, on image 11
    assert not fully_segmented(gt) and not fully_segmented(gt, [11])
    assert fully_segmented(gt, [10, 12])  # only the images evaluated count
