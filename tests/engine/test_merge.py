"""Merging COCO files: ids renumbered, categories matched by name, images found where they are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli import main
from engine.data.merge import merge_coco


def _coco(folder: Path, names: list[str], files: list[str], category_order=None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    ids = {n: 10 * (i + 1) for i, n in enumerate(category_order or names)}
    data = {
        "info": {"description": folder.name},
        "categories": [{"id": ids[n], "name": n} for n in names],
        "images": [
            {
                "id": 7 + i,
                "file_name": f"images/{f}",
                "width": 8,
                "height": 6,
                "channels": {"low": f"images/{Path(f).stem}_low.png"},
            }
            for i, f in enumerate(files)
        ],
        "annotations": [
            {
                "id": 100 + i,
                "image_id": 7 + i,
                "category_id": ids[names[i % len(names)]],
                "bbox": [1, 1, 3, 3],
                "attributes": {"anomalous": i % 2 == 0},
            }
            for i in range(len(files))
        ],
    }
    path = folder / "annotations.json"
    path.write_text(json.dumps(data))
    return path


def test_merged_file_renumbers_and_points_at_the_original_images(tmp_path):
    a = _coco(tmp_path / "a", ["bottle", "laptop"], ["x.png", "y.png"])
    b = _coco(tmp_path / "b", ["bottle", "laptop"], ["x.png"], category_order=["laptop", "bottle"])
    out = merge_coco([a, tmp_path / "b"], tmp_path / "m" / "train.json")
    merged = json.loads(out.read_text())
    assert [i["id"] for i in merged["images"]] == [1, 2, 3]
    assert [a["id"] for a in merged["annotations"]] == [1, 2, 3]
    assert [a["image_id"] for a in merged["annotations"]] == [1, 2, 3]
    names = {c["id"]: c["name"] for c in merged["categories"]}
    # b numbers laptop 10 and bottle 20: its first object (a bottle) stays a bottle
    labels = [names[a["category_id"]] for a in merged["annotations"]]
    assert labels == ["bottle", "laptop", "bottle"]
    for image in merged["images"]:
        assert (out.parent / image["file_name"]).resolve().parent.parent in {
            (tmp_path / "a").resolve(),
            (tmp_path / "b").resolve(),
        }
    assert merged["images"][2]["file_name"] == "../b/images/x.png"
    assert merged["images"][2]["channels"]["low"] == "../b/images/x_low.png"
    assert merged["annotations"][0]["attributes"] == {"anomalous": True}
    assert merged["info"]["merged_from"] == [str(a), str(b)]


def test_merging_refuses_other_classes_and_the_same_image_twice(tmp_path):
    a = _coco(tmp_path / "a", ["bottle", "laptop"], ["x.png"])
    c = _coco(tmp_path / "c", ["bottle", "knife"], ["z.png"])
    with pytest.raises(ValueError, match=r"categories .* differ"):
        merge_coco([a, c], tmp_path / "m.json")
    with pytest.raises(ValueError, match="already in"):
        merge_coco([a, a], tmp_path / "m.json")
    with pytest.raises(ValueError, match="at least two"):
        merge_coco([a], tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()


def test_the_merge_command_reports_and_fails_cleanly(tmp_path, capsys):
    a = _coco(tmp_path / "a", ["bottle"], ["x.png"])
    b = _coco(tmp_path / "b", ["bottle"], ["y.png"])
    assert main(["merge", str(a), str(b), "--out", str(tmp_path / "m.json")]) == 0
    assert "merged" in capsys.readouterr().out
    (tmp_path / "bad.json").write_text("{not json")
    bad = tmp_path / "bad.json"
    assert main(["merge", str(a), str(bad), "--out", str(tmp_path / "n.json")]) == 2
    assert "cannot read COCO JSON" in capsys.readouterr().err
