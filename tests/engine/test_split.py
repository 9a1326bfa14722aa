"""Stratified COCO splits: sizes, balance, determinism, plain COCO, empty bags, clear errors."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import numpy as np
import pytest
from pycocotools.coco import COCO

from engine.data import (
    SPLITS,
    resolve_annotations,
    resolve_split,
    split_coco,
    split_files,
    split_summary,
    training_files,
)
from engine.data.split import image_labels, split_sizes

CLASSES = ("bottle", "hairdryer", "iron", "toaster", "mobile", "laptop")
CLASS_WEIGHTS = (0.4, 0.25, 0.18, 0.1, 0.05, 0.02)  # the last two are rare


def make_coco(
    n: int,
    *,
    seed: int = 0,
    attributes: bool = True,
    empty_share: float = 0.1,
    anomaly_share: float = 0.3,
) -> dict:
    """A small COCO dict shaped like the simulator's: some empty images, skewed classes."""
    rng = np.random.default_rng(seed)
    images, annotations = [], []
    for i in range(n):
        image_id = 100 + i
        images.append(
            {"id": image_id, "file_name": f"images/bag_{i:06d}.png", "width": 64, "height": 48}
        )
        count = 0 if rng.random() < empty_share else int(rng.integers(1, 4))
        for _ in range(count):
            ann = {
                "id": 1000 + len(annotations),
                "image_id": image_id,
                "category_id": int(rng.choice(len(CLASSES), p=CLASS_WEIGHTS)) + 1,
                "bbox": [1.0, 2.0, 10.0, 8.0],
                "segmentation": [[1.0, 2.0, 11.0, 2.0, 11.0, 10.0, 1.0, 10.0]],
                "area": 80.0,
                "iscrowd": 0,
            }
            if attributes:
                anomalous = bool(rng.random() < anomaly_share)
                ann["attributes"] = {
                    "anomalous": anomalous,
                    "anomaly_type": "knife" if anomalous else None,
                }
            annotations.append(ann)
    return {
        "info": {"description": "test set", "seed": seed},
        "licenses": [{"id": 1, "name": "test"}],
        "categories": [
            {"id": i + 1, "name": c, "supercategory": "object"} for i, c in enumerate(CLASSES)
        ],
        "images": images,
        "annotations": annotations,
    }


def write_coco(folder: Path, coco: dict, name: str = "annotations.json") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(coco))
    return path


def read(path: Path) -> dict:
    return json.loads(path.read_text())


# ----- sizes and coverage ------------------------------------------------------------------------


def test_sizes_for_50_images(tmp_path):
    paths = split_coco(write_coco(tmp_path, make_coco(50)))
    assert list(paths) == list(SPLITS)
    assert {s: len(read(p)["images"]) for s, p in paths.items()} == {
        "train": 30,
        "val": 10,
        "test": 10,
    }


@pytest.mark.parametrize("n", [3, 4, 7, 11, 13, 101])
@pytest.mark.parametrize("fractions", [(0.6, 0.2, 0.2), (0.7, 0.15, 0.15), (0.8, 0.1, 0.1)])
def test_split_sizes_within_one_image(n, fractions):
    sizes = split_sizes(n, fractions)
    assert sum(sizes) == n and min(sizes) >= 1
    if all(n * f >= 1 for f in fractions):
        assert all(abs(s - n * f) < 1 for s, f in zip(sizes, fractions, strict=True))


def test_every_image_once_and_annotations_follow(tmp_path):
    coco = make_coco(80, seed=3)
    paths = split_coco(write_coco(tmp_path, coco), seed=5)
    seen_images: list = []
    seen_anns: list = []
    for path in paths.values():
        part = read(path)
        ids = {im["id"] for im in part["images"]}
        assert all(a["image_id"] in ids for a in part["annotations"])
        seen_images += [im["id"] for im in part["images"]]
        seen_anns += [a["id"] for a in part["annotations"]]
        assert part["categories"] == coco["categories"]
        assert part["licenses"] == coco["licenses"]
    assert sorted(seen_images) == sorted(im["id"] for im in coco["images"])
    assert sorted(seen_anns) == sorted(a["id"] for a in coco["annotations"])
    # annotations are copied whole, ids and all
    by_id = {a["id"]: a for a in coco["annotations"]}
    for path in paths.values():
        for ann in read(path)["annotations"]:
            assert ann == by_id[ann["id"]]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_label_proportions_follow_the_whole(tmp_path, seed):
    coco = make_coco(200, seed=11)
    whole_labels = image_labels(coco)
    counts: dict[str, int] = {}
    for labels in whole_labels:
        for label in labels:
            counts[label] = counts.get(label, 0) + 1
    assert min(counts.values()) <= 10  # some labels are rare
    assert len(counts) >= 12
    paths = split_coco(write_coco(tmp_path, coco), seed=seed)
    for split, path in paths.items():
        part = read(path)
        n = len(part["images"])
        part_counts: dict[str, int] = {}
        for labels in image_labels(part):
            for label in labels:
                part_counts[label] = part_counts.get(label, 0) + 1
        for label, count in counts.items():
            whole_share = count / len(coco["images"])
            share = part_counts.get(label, 0) / n
            assert abs(share - whole_share) <= 0.1, (split, label, share, whole_share)
            if count >= 5:  # a label on a handful of images still reaches every split
                assert part_counts.get(label, 0) >= 1, (split, label)


# ----- determinism -------------------------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_split(tmp_path):
    source = write_coco(tmp_path / "data", make_coco(60, seed=4))
    first = split_coco(source, seed=9, out_dir=tmp_path / "a")
    second = split_coco(source, seed=9, out_dir=tmp_path / "b")
    other = split_coco(source, seed=10, out_dir=tmp_path / "c")
    for split in SPLITS:
        assert first[split].read_bytes() == second[split].read_bytes()
    assignment = {s: [im["id"] for im in read(p)["images"]] for s, p in first.items()}
    other_assignment = {s: [im["id"] for im in read(p)["images"]] for s, p in other.items()}
    assert assignment != other_assignment


def test_rerun_in_place_gives_identical_bytes(tmp_path):
    source = write_coco(tmp_path, make_coco(40, seed=1))
    before = {s: p.read_bytes() for s, p in split_coco(source, seed=3).items()}
    after = {s: p.read_bytes() for s, p in split_coco(source, seed=3).items()}
    assert before == after


# ----- inputs without extras ---------------------------------------------------------------------


def test_plain_coco_without_attributes(tmp_path):
    coco = make_coco(30, seed=6, attributes=False)
    del coco["info"], coco["licenses"]
    paths = split_coco(write_coco(tmp_path, coco))
    total = 0
    for split, path in paths.items():
        part = read(path)
        assert part["info"]["split"] == split
        assert all("attributes" not in a for a in part["annotations"])
        total += len(part["images"])
    assert total == 30
    summary = split_summary(paths)
    assert "n/a" in summary and "%" not in summary


def test_empty_images_are_distributed(tmp_path):
    coco = make_coco(50, seed=8, empty_share=0.4)
    annotated = {a["image_id"] for a in coco["annotations"]}
    n_empty = sum(im["id"] not in annotated for im in coco["images"])
    assert n_empty >= 10
    paths = split_coco(write_coco(tmp_path, coco), fractions=(0.6, 0.2, 0.2))
    for split, f in zip(SPLITS, (0.6, 0.2, 0.2), strict=True):
        part = read(paths[split])
        ids = {a["image_id"] for a in part["annotations"]}
        empties = sum(im["id"] not in ids for im in part["images"])
        assert abs(empties - n_empty * f) <= 1.5, (split, empties, n_empty)


def test_all_images_empty(tmp_path):
    coco = make_coco(10, empty_share=1.0)
    assert coco["annotations"] == []
    paths = split_coco(write_coco(tmp_path, coco))
    assert [len(read(p)["images"]) for p in paths.values()] == [6, 2, 2]


# ----- outputs -----------------------------------------------------------------------------------


def test_pycocotools_loads_every_output(tmp_path):
    coco = make_coco(40, seed=2)
    paths = split_coco(write_coco(tmp_path, coco))
    for path in paths.values():
        part = read(path)
        loaded = COCO(str(path))
        assert sorted(loaded.getImgIds()) == sorted(im["id"] for im in part["images"])
        assert len(loaded.getAnnIds()) == len(part["annotations"])
        assert len(loaded.getCatIds()) == len(CLASSES)


def test_info_beside_input(tmp_path):
    source = write_coco(tmp_path, make_coco(20))
    paths = split_coco(source, fractions=[0.5, 0.25, 0.25], seed=4)
    for split, path in paths.items():
        assert path.parent == tmp_path and path.name == f"{split}.json"
        info = read(path)["info"]
        assert info["description"] == "test set"
        assert info["split"] == split
        assert info["fractions"] == [0.5, 0.25, 0.25]
        assert info["seed"] == 4
        assert info["source"] == "annotations.json"
        assert "image_root" not in info
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary files left behind


def test_out_dir_elsewhere_records_image_root(tmp_path):
    source = write_coco(tmp_path / "data", make_coco(20))
    paths = split_coco(tmp_path / "data", out_dir=tmp_path / "splits" / "v1")
    for path in paths.values():
        assert path.parent == tmp_path / "splits" / "v1"
        part = read(path)
        assert Path(part["info"]["image_root"]) == source.parent.resolve()
        assert part["images"][0]["file_name"].startswith("images/")  # not rewritten


def test_refuses_to_overwrite_its_input(tmp_path):
    source = write_coco(tmp_path, make_coco(20), name="train.json")
    with pytest.raises(ValueError, match="overwrite the input"):
        split_coco(source)
    assert read(source)["images"]  # untouched


def test_summary_table(tmp_path):
    coco = make_coco(60, seed=5)
    paths = split_coco(write_coco(tmp_path, coco))
    lines = split_summary(paths).splitlines()
    assert len(lines) == 1 + len(SPLITS) + 1
    header = lines[0].split()
    assert header == ["split", "images", "empty", "objects", *CLASSES, "anomalous"]
    assert [line.split()[0] for line in lines[1:]] == [*SPLITS, "total"]
    total = lines[-1].split()
    assert int(total[1]) == 60
    assert int(total[3]) == len(coco["annotations"])
    for col, name in enumerate(CLASSES, start=4):
        cid = CLASSES.index(name) + 1
        assert int(total[col]) == sum(a["category_id"] == cid for a in coco["annotations"])
    anomalous = sum(a["attributes"]["anomalous"] for a in coco["annotations"])
    assert total[-1] == f"{anomalous / len(coco['annotations']):.1%}"
    assert len({len(line) for line in lines}) == 1  # columns line up


# ----- errors ------------------------------------------------------------------------------------


def test_resolve_annotations(tmp_path):
    source = write_coco(tmp_path / "ds", make_coco(5))
    assert resolve_annotations(tmp_path / "ds") == source
    assert resolve_annotations(source) == source
    other = write_coco(tmp_path / "ds", make_coco(5), name="mine.json")
    assert resolve_annotations(str(other)) == other
    (tmp_path / "bare").mkdir()
    with pytest.raises(ValueError, match=r"bare: dataset folder has no annotations\.json"):
        resolve_annotations(tmp_path / "bare")
    with pytest.raises(ValueError, match="no such dataset folder or COCO JSON file"):
        resolve_annotations(tmp_path / "missing.json")


def test_one_rule_names_a_dataset_folders_files(tmp_path):
    source = write_coco(tmp_path / "ds", make_coco(20))
    assert split_files(tmp_path / "ds") == {"annotations": source}
    assert resolve_split(tmp_path / "ds", "test") == source  # no test.json: every image
    paths = split_coco(source)
    assert split_files(tmp_path / "ds") == {"annotations": source, **paths}
    for name in SPLITS:
        assert resolve_split(tmp_path / "ds", name) == paths[name]
        assert resolve_split(paths[name], "test") == paths[name]  # a file is itself
    assert resolve_split(tmp_path / "ds") == source
    (tmp_path / "bare").mkdir()
    with pytest.raises(ValueError, match=r"bare: dataset folder has no val\.json or annotations"):
        resolve_split(tmp_path / "bare", "val")


def test_training_reads_a_folders_train_split_never_all_of_it(tmp_path):
    source = write_coco(tmp_path / "ds", make_coco(20))
    train, val = training_files(tmp_path / "ds", seed=3, out_dir=tmp_path / "run" / "splits")
    assert (train, val) == (tmp_path / "run/splits/train.json", tmp_path / "run/splits/val.json")
    assert len(read(train)["images"]) == 12 and read(train)["info"]["seed"] == 3
    assert split_files(tmp_path / "ds") == {"annotations": source}  # the dataset is untouched
    paths = split_coco(source)
    out = tmp_path / "unused"
    assert training_files(tmp_path / "ds", out_dir=out) == (paths["train"], paths["val"])
    assert training_files(tmp_path / "ds", source, out_dir=out) == (paths["train"], source)
    assert training_files(source, out_dir=out) == (source, None)
    assert not out.exists()
    (tmp_path / "bare").mkdir()
    with pytest.raises(ValueError, match=r"bare: no train\.json or annotations\.json"):
        training_files(tmp_path / "bare", out_dir=out)
    with pytest.raises(ValueError, match="no such dataset folder or COCO JSON file"):
        training_files(tmp_path / "missing.json", out_dir=out)


def _bad_json(folder: Path) -> Path:
    path = folder / "annotations.json"
    path.write_text('{"images": [')
    return path


def _binary(folder: Path) -> Path:
    path = folder / "annotations.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    return path


def _with(**changes) -> dict:
    coco = make_coco(10)
    coco.update(changes)
    return coco


def _without(key: str) -> dict:
    coco = make_coco(10)
    del coco[key]
    return coco


def _unknown_image() -> dict:
    coco = make_coco(10, empty_share=0.0)
    coco["annotations"][2]["image_id"] = 999
    return coco


def _unknown_category() -> dict:
    coco = make_coco(10, empty_share=0.0)
    coco["annotations"][0]["category_id"] = 42
    return coco


def _duplicate_image() -> dict:
    coco = make_coco(10)
    coco["images"][3]["id"] = coco["images"][0]["id"]
    return coco


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_bad_json, "cannot read COCO JSON"),
        (_binary, "cannot read COCO JSON"),
        (lambda d: write_coco(d, [1, 2, 3]), "not a COCO JSON object"),
        (lambda d: write_coco(d, _without("images")), "missing key.*images"),
        (lambda d: write_coco(d, _without("annotations")), "missing key.*annotations"),
        (lambda d: write_coco(d, _without("categories")), "missing key.*categories"),
        (lambda d: write_coco(d, _with(images={"a": 1})), "'images' must be a list"),
        (lambda d: write_coco(d, _with(info="x")), "'info' must be an object"),
        (lambda d: write_coco(d, _unknown_image()), "unknown image id 999"),
        (lambda d: write_coco(d, _unknown_category()), "unknown category id 42"),
        (lambda d: write_coco(d, _duplicate_image()), "duplicate image id 100"),
        (lambda d: write_coco(d, make_coco(2)), "2 image.s. cannot fill 3 splits"),
        (lambda d: write_coco(d, make_coco(0)), "0 image.s. cannot fill 3 splits"),
    ],
)
def test_bad_files_give_one_line_value_errors(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(ValueError, match=message) as info:
        split_coco(path)
    text = str(info.value)
    assert "\n" not in text
    assert str(path) in text
    assert not list(tmp_path.glob("train.json"))


@pytest.mark.parametrize(
    "fractions",
    [
        (0.5, 0.5),
        (0.6, 0.2, 0.1, 0.1),
        (0.6, 0.3, 0.2),
        (0.8, 0.2, 0.0),
        (1.2, -0.1, -0.1),
        (0.6, 0.2, float("nan")),
        ("0.6", "0.2", "0.2"),
        (True, 0.0, 0.0),
        "0.6,0.2,0.2",
        5,
    ],
)
def test_bad_fractions(tmp_path, fractions):
    path = write_coco(tmp_path, make_coco(10))
    with pytest.raises(ValueError, match="fractions must be 3 positive numbers summing to 1") as e:
        split_coco(path, fractions=fractions)
    assert "\n" not in str(e.value) and str(path) in str(e.value)


def test_fractions_accept_float_noise(tmp_path):
    path = write_coco(tmp_path, make_coco(30))
    paths = split_coco(path, fractions=(0.7, 0.2, 0.1 + 1e-9))
    assert [len(read(p)["images"]) for p in paths.values()] == [21, 6, 3]


# ----- the simulator's own datasets -------------------------------------------------------------


def test_simulator_dataset(tmp_path):
    from engine.synth.bag import BagConfig
    from engine.synth.dataset import write_dataset

    start = time.perf_counter()
    config = BagConfig(width=64, height=48, pitch_cm=0.9, min_objects=1, max_objects=3)
    source = write_dataset(tmp_path / "sim", 10, seed=1, bag_config=config, progress=False)
    paths = split_coco(tmp_path / "sim", seed=0)
    whole = read(source)
    assert [len(read(p)["images"]) for p in paths.values()] == [6, 2, 2]
    ann_ids = []
    for path in paths.values():
        part = read(path)
        assert part["info"]["config"] == whole["info"]["config"]
        for image in part["images"]:
            assert (source.parent / image["file_name"]).is_file()
            assert set(image) >= {"seed", "scanner", "channels"}
        ann_ids += [a["id"] for a in part["annotations"]]
        COCO(str(path))
    assert sorted(ann_ids) == [a["id"] for a in whole["annotations"]]
    assert "anomalous" in split_summary(paths)
    assert time.perf_counter() - start < 5.0


# ----- held-out product designs -----------------------------------------------------------------


def _designed_coco(path: Path, images: int = 60) -> Path:
    """Images of one or two objects, each of one of five laptop and four phone designs."""
    rng = random.Random(3)
    coco = {"images": [], "annotations": [], "categories": [{"id": 1, "name": "laptop"}]}
    coco["categories"].append({"id": 2, "name": "mobile"})
    for i in range(1, images + 1):
        coco["images"].append({"id": i, "file_name": f"{i}.png", "width": 8, "height": 8})
        for _ in range(rng.randint(1, 2)):
            cat = rng.choice([1, 2])
            design = (
                f"{'laptop' if cat == 1 else 'mobile'}/{rng.randrange(5 if cat == 1 else 4):02d}"
            )
            coco["annotations"].append(
                {
                    "id": len(coco["annotations"]) + 1,
                    "image_id": i,
                    "category_id": cat,
                    "bbox": [0, 0, 2, 2],
                    "area": 4,
                    "iscrowd": 0,
                    "attributes": {"anomalous": rng.random() < 0.3, "design": design},
                }
            )
    path.write_text(json.dumps(coco))
    return path


def test_held_out_designs_never_reach_train_val_or_test(tmp_path):
    source = _designed_coco(tmp_path / "coco.json")
    paths = split_coco(source, seed=4, hold_out_designs=1)
    assert list(paths) == ["train", "val", "test", "test_unseen_designs"]
    unseen = read(paths["test_unseen_designs"])
    held = set(unseen["info"]["held_out_designs"])
    assert len(held) == 2 and {d.split("/")[0] for d in held} == {"laptop", "mobile"}
    for name in ("train", "val", "test"):
        designs = {a["attributes"]["design"] for a in read(paths[name])["annotations"]}
        assert not designs & held, name
    every_image = [im["id"] for p in paths.values() for im in read(p)["images"]]
    assert sorted(every_image) == list(range(1, 61))  # each image in exactly one split
    unseen_designs = {a["attributes"]["design"] for a in unseen["annotations"]}
    assert held <= unseen_designs
    again = split_coco(source, seed=4, hold_out_designs=1, out_dir=tmp_path / "again")
    assert read(again["test_unseen_designs"])["images"] == unseen["images"]


def test_holding_out_designs_needs_design_attributes_and_enough_designs(tmp_path):
    source = _designed_coco(tmp_path / "coco.json")
    with pytest.raises(ValueError, match="mobile has 4 design"):
        split_coco(source, hold_out_designs=4)
    plain = read(source)
    for ann in plain["annotations"]:
        del ann["attributes"]["design"]
    (tmp_path / "plain.json").write_text(json.dumps(plain))
    with pytest.raises(ValueError, match="no annotation records a product design"):
        split_coco(tmp_path / "plain.json", hold_out_designs=1)


# ----- grouped splits (objects projected into real backgrounds) ---------------------------------


def test_group_by_keeps_each_background_in_one_split(tmp_path):
    coco = make_coco(120, seed=3)
    for i, image in enumerate(coco["images"]):
        image["background"] = f"N{i % 20:07d}.jpg"  # 20 backgrounds, 6 images each
    paths = split_coco(write_coco(tmp_path, coco), seed=1, group_by="background")
    where: dict[str, set[str]] = {}
    for name in SPLITS:
        for image in read(paths[name])["images"]:
            where.setdefault(image["background"], set()).add(name)
    assert len(where) == 20
    assert all(len(splits) == 1 for splits in where.values())
    counts = {s: sum(splits == {s} for splits in where.values()) for s in SPLITS}
    assert counts == {"train": 12, "val": 4, "test": 4}


def test_group_by_a_missing_field_names_it(tmp_path):
    path = write_coco(tmp_path, make_coco(12))
    with pytest.raises(ValueError, match="no field 'background'"):
        split_coco(path, group_by="background")
