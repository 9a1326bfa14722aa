"""The Qt-free side of improved models: the command, progress lines, lineage and the history."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

import xray_gui.model_history as history
import xray_gui.review.store as store_module
from xray_gui.model_history import (
    BUNDLE_NAME,
    LINEAGE_NAME,
    RUN_NAME,
    LineageError,
    ProgressLine,
    RunClock,
    comparison_rows,
    drop_training_runs,
    engine_command,
    failure_reason,
    format_duration,
    improve_command,
    list_history,
    model_name,
    new_run_folder,
    parse_progress,
    queue_folders,
    read_entry,
    read_lineage,
    remove_run,
    reviewed_folders,
    verdict,
    with_start_model,
    write_run_record,
)
from xray_gui.review import PROJECT_NAME, ReviewStore

from .fake_engine import lineage_record


def make_run(root: Path, stamp: str, *, better: bool = True, parent: str = "/m/site.xsb") -> Path:
    """A finished run folder as the GUI leaves it: bundle, lineage, run record."""
    folder = root / stamp
    folder.mkdir(parents=True)
    (folder / BUNDLE_NAME).write_bytes(b"bundle")
    (folder / LINEAGE_NAME).write_text(json.dumps(lineage_record(better=better, parent=parent)))
    write_run_record(folder, {"reviews": ["/scans/a", "/scans/b"], "parent": parent})
    return folder


# ----- the command ------------------------------------------------------------------------------
def test_the_module_imports_no_qt_and_no_torch():
    code = (
        "import sys, xray_gui.model_history; "
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))]; "
        "assert not bad, bad; assert 'torch' not in sys.modules"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, timeout=60)


def test_models_live_in_the_user_data_folder(monkeypatch, tmp_path):
    monkeypatch.setattr(history.platformdirs, "user_data_path", lambda app: tmp_path / app)
    assert history.models_root() == tmp_path / "xray-gui" / "models"


def test_engine_command_is_this_python_or_the_frozen_executable_beside_this_one(tmp_path):
    assert engine_command(frozen=False, executable="/py/bin/python") == [
        "/py/bin/python",
        "-m",
        "engine.cli",
    ]
    app = tmp_path / "opt" / "xray-screening"
    app.mkdir(parents=True)
    (app / "xray-screening").write_text("")
    link = tmp_path / "xray-screening"  # /usr/bin/xray-screening is a symlink into /opt
    link.symlink_to(app / "xray-screening")
    assert engine_command(frozen=True, executable=str(link)) == [str(app / "xray-engine")]
    assert engine_command(frozen=True, executable="C:/X/xray-screening.exe")[0].endswith(
        "xray-engine.exe"
    )


def test_improve_command_gives_every_folder_and_leaves_unset_options_to_the_engine():
    command = improve_command(
        ["xray-engine"],
        "/m/site.xsb",
        ["/scans/a", "/scans/b"],
        "/d/models/1/model.xsb",
        work="/d/models/1/work",
        minutes=12.5,
        device="cpu",
    )
    assert command == [
        "xray-engine",
        "improve",
        "/m/site.xsb",
        "--reviews",
        "/scans/a",
        "--reviews",
        "/scans/b",
        "--out",
        "/d/models/1/model.xsb",
        "--minutes",
        "12.5",
        "--work",
        "/d/models/1/work",
        "--device",
        "cpu",
    ]
    plain = improve_command(["e"], "b.xsb", ["r"], "o.xsb", min_bags=10, min_judge_objects=3)
    options = ["--min-bags", "10", "--min-judge-objects", "3"]
    assert plain == ["e", "improve", "b.xsb", "--reviews", "r", "--out", "o.xsb", *options]
    with pytest.raises(ValueError, match="no review folders"):
        improve_command(["e"], "b.xsb", [], "o.xsb")


def test_the_engine_parser_accepts_the_command_line():
    from engine.cli import build_parser

    command = improve_command(
        ["xray-engine"], "b.xsb", ["a", "b"], "o.xsb", work="w", minutes=3, device="cpu"
    )
    args = build_parser().parse_args(command[1:])
    assert (args.bundle, args.reviews, args.out, args.work) == ("b.xsb", ["a", "b"], "o.xsb", "w")
    assert (args.minutes, args.device) == (3.0, "cpu")


def test_queue_folders_are_distinct_absolute_and_in_queue_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths = ["b/1.png", tmp_path / "a" / "1.png", "b/2.png", tmp_path / "a" / "x" / "3.png"]
    assert queue_folders(paths) == [tmp_path / "b", tmp_path / "a", tmp_path / "a" / "x"]


def test_reviewed_folders_have_a_project_beside_the_scans_or_in_the_fallback(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module.platformdirs, "user_data_path", lambda app: tmp_path / app)
    beside, fallback, none = (tmp_path / n for n in ("beside", "fallback", "none"))
    for folder in (beside, fallback, none):
        folder.mkdir()
    (beside / PROJECT_NAME).write_text("{}")
    kept = ReviewStore.fallback_project_path(fallback)
    kept.parent.mkdir(parents=True)
    kept.write_text("{}")
    assert reviewed_folders([beside, fallback, none]) == [beside, fallback]


# ----- a run ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("[  0 %] preparing the reviewed bags", ProgressLine(0.0, "preparing the reviewed bags")),
        ("[ 85 %] comparing old and new\r\n", ProgressLine(0.85, "comparing old and new")),
        ("[100 %] done", ProgressLine(1.0, "done")),
        (
            "[ 12.5 %] fine-tuning the bottle judge",
            ProgressLine(0.125, "fine-tuning the bottle judge"),
        ),
        ("[150 %] over", ProgressLine(1.0, "over")),
        ("xray-engine improve: 12 reviewed bags; at least 30 needed", None),
        ("UserWarning: [ 5 %] inside", None),
        ("", None),
    ],
)
def test_parse_progress(line, expected):
    assert parse_progress(line) == expected


def test_failure_reason_is_the_engines_own_line_else_its_last_word():
    lines = [
        "[  0 %] preparing the reviewed bags",
        "xray-engine improve: 12 reviewed bags; at least 30 needed",
        "/usr/lib/python3/warnings.py: UserWarning: late",
    ]
    assert failure_reason(lines, 2) == "12 reviewed bags; at least 30 needed"
    assert failure_reason(["[ 5 %] x", "Killed   by   the\tOOM killer"], 137) == (
        "Killed by the OOM killer"
    )
    assert failure_reason(["[  5 %] fine-tuning the detector"], None) == (
        "the improve run stopped unexpectedly"
    )
    assert "exit code 3" in failure_reason([], 3)


def test_time_left_from_the_share_and_from_the_budget_while_training():
    clock = RunClock(budget_s=600)
    assert clock.left(3.0) is None  # nothing reported yet
    clock.report(ProgressLine(0.0, "preparing the reviewed bags"), 1.0)
    assert clock.left(4.0) is None
    clock.report(ProgressLine(0.05, "fine-tuning the detector"), 10.0)
    assert clock.training() and clock.training_since == 10.0
    assert clock.left(10.0) == pytest.approx(600)  # the budget, not 19 x 10 s
    assert clock.left(310.0) == pytest.approx(300)
    assert clock.left(900.0) == 0  # over budget: the engine stops training soon
    clock.report(ProgressLine(0.85, "comparing old and new on the held-out bags"), 620.0)
    assert clock.left(680.0) == pytest.approx(680 * 0.15 / 0.85)
    clock.report(ProgressLine(0.5, "late line"), 690.0)
    assert clock.share == 0.85  # the bar never goes back
    assert RunClock().left(10) is None
    free = RunClock()  # no budget: the share alone
    free.report(ProgressLine(0.05, "fine-tuning the detector"), 10.0)
    assert free.left(10.0) == pytest.approx(190)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "—"),
        (float("nan"), "—"),
        (-3, "0 s"),
        (44.6, "45 s"),
        (725, "12 min 05 s"),
        (3900, "1 h 05 min"),
    ],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_run_folders_are_named_by_time_and_never_shared(tmp_path):
    now = datetime(2026, 12, 1, 18, 50, 21)
    first = new_run_folder(tmp_path / "models", now)
    second = new_run_folder(tmp_path / "models", now)
    assert (first.name, second.name) == ("20261201-185021", "20261201-185021-2")
    assert first.is_dir() and not any(first.iterdir())


def test_remove_run_removes_run_folders_only(tmp_path):
    run = make_run(tmp_path, "20261201-185021")
    other = tmp_path / "important"
    other.mkdir()
    remove_run(other)
    remove_run(tmp_path / "20261201-000000")  # not there: nothing happens
    assert other.is_dir()
    remove_run(run)
    assert not run.exists()


def test_a_finished_run_keeps_its_files_and_drops_the_training_runs(tmp_path):
    run = make_run(tmp_path, "20261201-185021")
    work = run / "work"
    (work / "detector" / "ckpt").mkdir(parents=True)
    (work / "detector" / "ckpt" / "last.pt").write_bytes(b"x" * 100)
    (work / "train.json").write_text("{}")
    drop_training_runs(run)
    assert sorted(p.name for p in work.iterdir()) == ["train.json"]
    assert (run / BUNDLE_NAME).is_file() and (run / LINEAGE_NAME).is_file()
    drop_training_runs(tmp_path / "nothing")  # no work folder: nothing to do


def test_the_run_record_is_written_atomically(tmp_path, monkeypatch):
    calls = []
    real = history.atomic_write_bytes
    monkeypatch.setattr(history, "atomic_write_bytes", lambda p, d: (calls.append(p), real(p, d)))
    write_run_record(tmp_path, {"reviews": ["a"]})
    assert calls == [tmp_path / RUN_NAME]
    assert json.loads((tmp_path / RUN_NAME).read_text()) == {"reviews": ["a"]}


# ----- lineage ----------------------------------------------------------------------------------
def test_read_lineage_checks_both_sets_of_figures(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(lineage_record()))
    assert read_lineage(good)["better"] is True
    broken = lineage_record()
    del broken["figures"]["new"]["false_detections_per_bag"]
    cases = {
        "missing.json": None,
        "garbage.json": "{not json",
        "nofigures.json": json.dumps(broken),
        "list.json": "[1, 2]",
        "better.json": json.dumps({**lineage_record(), "better": "yes"}),
    }
    for name, text in cases.items():
        if text is not None:
            (tmp_path / name).write_text(text)
        with pytest.raises(LineageError) as info:
            read_lineage(tmp_path / name)
        assert name in str(info.value) and "\n" not in str(info.value)


def test_a_lineage_without_ap50_reads_as_not_available(tmp_path):
    lineage = lineage_record(better=False)
    lineage["figures"]["old"]["AP50"] = lineage["figures"]["new"]["AP50"] = None
    path = tmp_path / "l.json"
    path.write_text(json.dumps(lineage))
    rows = comparison_rows(read_lineage(path))
    assert rows[0][1:] == ("n/a", "n/a")


def test_comparison_rows_and_verdict():
    lineage = lineage_record(better=True)
    rows = comparison_rows(lineage)
    assert rows == [
        ("AP50 (boxes, IoU ≥ 0.5)", "41.2 %", "45.0 %"),
        ("False detections per bag", "0.75", "0.50"),
        ("Anomalous objects caught (TP)", "4 of 6 (67 %)", "5 of 6 (83 %)"),
        ("Benign objects flagged (FP)", "3 of 15 (20 %)", "2 of 15 (13 %)"),
    ]
    assert verdict(lineage).startswith("The new model is better on the 8 held-out bags")
    assert "not better" in verdict(lineage_record(better=False))
    figures = lineage["figures"]
    figures["old"].update(AP50=0.188, false_detections_per_bag=0.0)
    figures["new"].update(AP50=0.357, false_detections_per_bag=0.25, bags=20, objects=42)
    lineage["better"] = False
    assert verdict(lineage) == (
        "A trade-off on the 20 held-out bags (42 objects): AP50 up from 18.8 % to 35.7 %, but "
        "more false detections (0.00 → 0.25 a bag). Yours to weigh."
    )
    figures["new"].update(AP50=0.02, false_detections_per_bag=0.0)
    assert verdict(lineage) == (
        "The new model is worse on the 20 held-out bags (42 objects): AP50 down from 18.8 % "
        "to 2.0 %."
    )
    figures["old"]["AP50"] = figures["new"]["AP50"] = None
    assert verdict(lineage).startswith("No AP50 to compare on the 20 held-out bags")
    lineage = lineage_record(better=True)
    lineage["figures"]["new"]["anomaly"] = dict.fromkeys(("tp", "fn", "fp", "tn"), 0)
    assert comparison_rows(lineage)[2][2] == "0 of 0"


def test_model_name_follows_the_engine():
    assert model_name(lineage_record()) == "site+40 reviews"
    nameless = lineage_record(parent="/m/demo.xsb")
    nameless["parent"]["name"] = ""
    assert model_name(nameless) == "demo+40 reviews"


# ----- the history ------------------------------------------------------------------------------
def test_history_lists_finished_runs_newest_first_and_skips_the_rest(tmp_path):
    root = tmp_path / "models"
    older = make_run(root, "20261130-090000", better=False)
    newer = make_run(root, "20261201-185021", parent=str(older / BUNDLE_NAME))
    running = root / "20261201-190000"
    (running / "work").mkdir(parents=True)  # a run in progress: no bundle yet
    damaged = make_run(root, "20261201-191000")
    (damaged / LINEAGE_NAME).write_text("{")
    (root / "notes").mkdir()  # not a run folder
    (root / "20261201-192000").write_text("a file")
    entries = list_history(root)
    assert [e.path for e in entries] == [newer / BUNDLE_NAME, older / BUNDLE_NAME]
    first = entries[0]
    assert first.created == datetime(2026, 12, 1, 18, 50, 21)
    assert (first.name, first.parent, first.parent_path) == (
        "site+40 reviews",
        "site",
        str(older / BUNDLE_NAME),
    )
    assert (first.ap50, first.false_per_bag, first.better) == (0.45, 0.5, True)
    assert (first.old_ap50, first.old_false_per_bag) == (0.412, 0.75)
    assert first.reviews == ("/scans/a", "/scans/b") and entries[1].better is False
    assert list_history(tmp_path / "absent") == []


def test_read_entry_says_why_a_folder_is_not_a_model(tmp_path):
    with pytest.raises(LineageError, match=r"no model\.xsb"):
        read_entry(tmp_path)


def test_the_start_model_is_listed_once_and_marked(tmp_path):
    root = tmp_path / "models"
    made = make_run(root, "20261201-185021")
    entries = list_history(root)
    start = tmp_path / "site.xsb"
    start.write_bytes(b"x")
    listed = with_start_model(entries, start, "Site model")
    assert [e.path for e in listed] == [made / BUNDLE_NAME, start]
    assert listed[-1].started_with and listed[-1].name == "Site model"
    assert listed[-1].better is None and listed[-1].created is not None
    again = with_start_model(entries, made / BUNDLE_NAME, "whatever")
    assert len(again) == 1 and again[0].started_with and again[0].name == "site+40 reviews"
    assert with_start_model(entries, None) == entries
    gone = with_start_model([], tmp_path / "deleted.xsb")
    assert gone[0].created is None and gone[0].name == "deleted"
