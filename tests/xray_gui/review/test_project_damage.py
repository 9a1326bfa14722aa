"""Damaged review projects: deep nesting, wrong types, special files, oversize, killed saves.

Each is recovered as any corrupt file is: kept aside as `.corrupt-<time>`, one warning line,
a new review that saves; nothing reaches the overlay as a TypeError.
"""

from __future__ import annotations

import copy
import json
import os
import threading
from pathlib import Path

import pytest

import xray_gui.review.project as project_module
from xray_gui.review import PROJECT_NAME, ReviewStore
from xray_gui.review.project import MAX_DEPTH, nesting_depth


@pytest.fixture
def good(store: ReviewStore, scan_dir: Path) -> dict:
    """A valid project as parsed JSON: predictions, a verdict, a drawn object, a decision."""
    store.set_label("bag_1.png", "m1", "toaster")
    store.add_object("bag_1.png", (1, 2, 20, 30), "iron")
    store.set_decision("bag_1.png", "suspect")
    store.close()
    return json.loads((scan_dir / PROJECT_NAME).read_bytes())


def _nested(depth: int) -> object:
    value: object = 0
    for _ in range(depth):
        value = [value]
    return value


def _damage(project: dict, where: str, value: object) -> dict:
    """A copy of `project` with the field at dotted path `where` set to `value` ("%": a dot)."""
    damaged = copy.deepcopy(project)
    *parents, last = [part.replace("%", ".") for part in where.split(".")]
    node = damaged
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return damaged


SCAN = "scans.bag_1%png"
ANALYST = f"{SCAN}.analyst"
FINDING = f"{SCAN}.predictions.0.result.findings.0"
DAMAGE = {
    "label 5 on a verdict": (f"{ANALYST}.objects.m1.label", 5),
    "label 5 on a drawing": (f"{ANALYST}.added.a1.label", 5),
    "box of text": (f"{ANALYST}.added.a1.box", ["1", "2", "3", "4"]),
    "box of three": (f"{ANALYST}.objects.m1.box", [1, 2, 3]),
    "box of NaN-like": (f"{ANALYST}.added.a1.box", [1, 2, 1e400, 4]),
    "flag not a bool": (f"{ANALYST}.added.a1.anomalous", "yes"),
    "an id of the wrong kind": (f"{ANALYST}.added.m7", {"box": [1, 2, 3, 4], "label": "iron"}),
    "decision 3": (f"{ANALYST}.decision", 3),
    "note a list": (f"{ANALYST}.note", ["x"]),
    "review time text": (f"{ANALYST}.review_seconds", "long"),
    "counter a bool": (f"{ANALYST}.next_added", True),
    "decided by a number": (f"{ANALYST}.decision_by", 7),
    "score high": (f"{FINDING}.score", "high"),
    "finding label none": (f"{FINDING}.label", None),
    "anomaly score text": (f"{FINDING}.anomaly_score", "0.5"),
    "mask of another size": (f"{FINDING}.mask_rle.size", [4, 4]),
    "mask counts a number": (f"{FINDING}.mask_rle.counts", 12),
    "image size text": (f"{SCAN}.predictions.0.result.image_size", ["64", 48]),
    "prediction a string": (f"{SCAN}.predictions.0", "x"),
    "log an object": (f"{SCAN}.log", {}),
    "categories text": ("categories", "bottle"),
    "polygon of two points": (f"{ANALYST}.added.a1.polygon", [[1, 2], [9, 9]]),
    "polygon of text": (f"{ANALYST}.added.a1.polygon", [["1", "2"], [9, 2], [9, 9]]),
    "polygon of triples": (f"{ANALYST}.added.a1.polygon", [[1, 2, 3], [9, 2, 3], [9, 9, 3]]),
    "polygon a string": (f"{ANALYST}.added.a1.polygon", "1,2 9,2 9,9"),
    "deep in an extra field": (f"{ANALYST}.extra", _nested(MAX_DEPTH + 10)),
    "deep in a verdict": (f"{ANALYST}.objects.m1.extra", _nested(200)),
}


def _assert_recovered(scan_dir: Path, content: bytes, *, reason: str = "") -> ReviewStore:
    store = ReviewStore(scan_dir, analyst="ana")
    assert store.scan_keys() == [] and len(store.warnings) == 1
    (warning,) = store.warnings
    assert "\n" not in warning and reason in warning
    (backup,) = scan_dir.glob(f"{PROJECT_NAME}.corrupt-*")
    if backup.is_file():
        assert backup.read_bytes() == content
    assert str(backup) in warning
    store.add_object("bag_1.png", (1, 1, 9, 9), "iron")  # the overlay's input is well-formed
    assert [o.label for o in store.objects("bag_1.png")] == ["iron"]
    store.set_decision("bag_1.png", "clear")
    store.close()
    assert ReviewStore(scan_dir).decision("bag_1.png") == "clear"
    return store


@pytest.mark.parametrize("name", DAMAGE)
def test_a_field_of_the_wrong_type_is_a_damaged_project(good, scan_dir, name):
    where, value = DAMAGE[name]
    damaged = _damage(good, where, value)
    content = json.dumps(damaged).encode()
    (scan_dir / PROJECT_NAME).write_bytes(content)
    _assert_recovered(scan_dir, content)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 900, 100_000])
def test_deep_nesting_is_refused_before_it_is_parsed(scan_dir, depth):
    content = b"[" * depth + b"]" * depth
    (scan_dir / PROJECT_NAME).write_bytes(content)
    _assert_recovered(scan_dir, content, reason=f"nested {depth} levels deep")


def test_an_unclosed_deep_nest_is_refused(scan_dir):
    content = b'{"format": "xray-review", "scans": ' + b"[" * 50_000
    (scan_dir / PROJECT_NAME).write_bytes(content)
    _assert_recovered(scan_dir, content, reason="nested")


def test_brackets_in_strings_do_not_count():
    assert nesting_depth(b'{"a": ["[[[[{{{{", "\\"[[[", {"b": 1}]}') == 3
    assert nesting_depth(b"") == 0
    assert nesting_depth(b"[" * 5 + b"]" * 5 + b"[[]]") == 5


def test_the_note_may_hold_brackets(store, scan_dir):
    store.set_note("bag_1.png", "[" * 10_000 + "{")
    store.close()
    again = ReviewStore(scan_dir)
    assert again.warnings == [] and again.note("bag_1.png").startswith("[[[")


def _open_in_thread(scan_dir: Path, fifo: Path) -> ReviewStore:
    """Open the store, failing (not hanging) if it blocks on the FIFO."""
    box: list = []
    thread = threading.Thread(target=lambda: box.append(ReviewStore(scan_dir)), daemon=True)
    thread.start()
    thread.join(10)
    if thread.is_alive():  # it opened the FIFO: give it a writer so the thread can end
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("opening a project that is a FIFO hung")
    return box[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_as_project_neither_hangs_nor_is_read(scan_dir):
    fifo = scan_dir / PROJECT_NAME
    os.mkfifo(fifo)
    store = _open_in_thread(scan_dir, fifo)
    (warning,) = store.warnings
    assert "not a regular file but a FIFO" in warning
    (backup,) = scan_dir.glob(f"{PROJECT_NAME}.corrupt-*")
    assert backup.is_fifo()
    store.set_decision("bag_1.png", "clear")
    assert (scan_dir / PROJECT_NAME).is_file()


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: p.mkdir(), "a folder"),
        (lambda p: p.symlink_to("/dev/zero"), "a device"),
        (lambda p: p.symlink_to(p.with_name("nowhere")), "No such file"),
    ],
    ids=["folder", "dev-zero", "dangling link"],
)
def test_special_files_as_project_are_kept_aside(scan_dir, make, reason):
    if reason == "a device" and not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    make(scan_dir / PROJECT_NAME)
    store = ReviewStore(scan_dir)
    (warning,) = store.warnings
    assert reason in warning and "\n" not in warning
    store.set_decision("bag_1.png", "clear")
    assert (scan_dir / PROJECT_NAME).is_file()


def test_an_oversized_project_is_refused_from_its_size(good, scan_dir, monkeypatch):
    content = (scan_dir / PROJECT_NAME).read_bytes()
    monkeypatch.setattr(project_module, "MAX_PROJECT_BYTES", len(content) - 1)
    _assert_recovered(scan_dir, content, reason=f"{len(content)} bytes, more than")


def test_temporary_files_of_killed_saves_are_removed(store, scan_dir):
    store.close()
    orphans = [scan_dir / f"..xray-review.json.{n}.tmp" for n in ("abcd1234", "x_9y8z7w")]
    kept = [
        scan_dir / "..xray-review.json.notes.tmp",  # not what mkstemp makes
        scan_dir / ".other.json.abcd1234.tmp",  # another file's
        scan_dir / "bag_1.png",
    ]
    for path in [*orphans, *kept[:2]]:
        path.write_bytes(b"{" * 1000)
    holder = ReviewStore(scan_dir)
    assert not any(p.exists() for p in orphans) and all(p.exists() for p in kept)
    # a read-only instance leaves them alone: they may be the holder's save in flight
    in_flight = scan_dir / "..xray-review.json.qwerty12.tmp"
    in_flight.write_bytes(b"{")
    assert ReviewStore(scan_dir).read_only and in_flight.exists()
    holder.close()
