"""Exports after scans were deleted: checked first, written all or nothing, missing ones named."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from xray_gui.review import ReviewError, ReviewStore, export_coco, export_voc, export_yolo

EXPORTS = {
    "coco": (export_coco, "review.json"),
    "voc": (export_voc, "voc"),
    "yolo": (export_yolo, "yolo"),
}


@pytest.fixture
def decided(store: ReviewStore) -> ReviewStore:
    """Every scan decided, bag_1 with an accepted finding and a drawn object."""
    store.accept("bag_1.png", "m0")
    store.add_object("bag_1.png", (40, 2, 60, 12), "mobile")
    for name in ("bag_1.png", "bag_2.png", "bag_10.png"):
        store.set_decision(name, "suspect")
    return store


def _tree(path: Path) -> dict[str, bytes | str]:
    """Everything under `path` (a file or folder): file bytes, and link targets."""
    if path.is_file() and not path.is_symlink():
        return {"": path.read_bytes()}
    out: dict[str, bytes | str] = {}
    for p in sorted(path.rglob("*")):
        rel = p.relative_to(path).as_posix()
        if p.is_symlink():
            out[rel] = os.readlink(p)
        elif p.is_file():
            out[rel] = p.read_bytes()
    return out


def _leftovers(parent: Path) -> list[str]:
    return [p.name for p in parent.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")]


@pytest.mark.parametrize("fmt", EXPORTS)
def test_a_deleted_scan_stops_the_export_before_anything_is_written(decided, tmp_path, fmt):
    write, name = EXPORTS[fmt]
    out = tmp_path / "out" / name
    write(decided, out)
    before = _tree(out)
    (decided.folder / "bag_2.png").unlink()
    (decided.folder / "bag_10.png").unlink()
    (decided.folder / "bag_10.png").mkdir()  # a folder by the scan's name is no scan either
    with pytest.raises(ReviewError) as caught:
        write(decided, out)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("Nothing exported: 2 scans")
    assert '"bag_2.png"' in message and '"bag_10.png"' in message and '"bag_1.png"' not in message
    assert _tree(out) == before  # the earlier export stands as it was
    fresh = tmp_path / "fresh" / name
    with pytest.raises(ReviewError, match=r"bag_2\.png"):
        write(decided, fresh)
    assert not fresh.exists() and _leftovers(out.parent) == []


def test_many_missing_scans_are_counted_not_listed(scan_dir, tmp_path):
    store = ReviewStore(scan_dir)
    for i in range(9):
        store.set_decision(f"gone_{i}.png", "clear")
    with pytest.raises(ReviewError, match=r"9 scans .*\"gone_4.png\" and 4 more;"):
        export_voc(store, tmp_path / "voc")


def test_a_folder_export_into_a_folder_with_other_files_keeps_them(decided, tmp_path):
    out = tmp_path / "yolo"
    (out / "labels").mkdir(parents=True)
    (out / "README.txt").write_text("mine")
    (out / "labels" / "bag_2.txt").write_text("0 0.5 0.5 1 1\n")  # an earlier export's
    export_yolo(decided, out)
    assert (out / "README.txt").read_text() == "mine"
    assert (out / "labels" / "bag_2.txt").read_text() == ""  # replaced: bag_2 has nothing kept
    links = list((out / "images").iterdir())
    assert len(links) == 3 and all(p.resolve().is_file() for p in links)  # no dangling link
    assert json.loads((out / "anomalies.json").read_text()).keys() == {"bag_1", "bag_2", "bag_10"}
    assert _leftovers(tmp_path) == []


def test_a_file_where_the_export_folder_goes_is_refused(decided, tmp_path):
    out = tmp_path / "voc"
    out.write_text("not a folder")
    with pytest.raises(ReviewError, match="is not a folder"):
        export_voc(decided, out)
    assert out.read_text() == "not a folder"


def test_a_clash_inside_the_export_folder_writes_nothing(decided, tmp_path):
    out = tmp_path / "yolo"
    out.mkdir()
    (out / "classes.txt").mkdir()  # a folder where the export puts a file
    (out / "README.txt").write_text("mine")
    with pytest.raises(ReviewError, match=r"classes\.txt is a folder"):
        export_yolo(decided, out)
    assert sorted(p.name for p in out.iterdir()) == ["README.txt", "classes.txt"]
    assert _leftovers(tmp_path) == []


def test_an_export_folder_gets_the_usual_permissions(decided, tmp_path):
    out = export_voc(decided, tmp_path / "voc")
    assert out.stat().st_mode & 0o777 == 0o777 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_an_unreadable_scan_without_prediction_writes_nothing(scan_dir, tmp_path):
    store = ReviewStore(scan_dir)
    store.set_decision("bag_1.png", "clear")
    store.set_decision("bag_2.png", "clear")
    (scan_dir / "bag_2.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")  # its size is unknown
    for write in (export_voc, export_yolo):
        with pytest.raises(ReviewError, match=r"Cannot export bag_2\.png"):
            write(store, tmp_path / "out")
        assert not (tmp_path / "out").exists() and _leftovers(tmp_path) == []
