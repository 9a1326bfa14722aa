"""`xray-engine info`: one JSON line per good file, a one-line error and exit 2 per bad one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.cli import main

INFO_KEYS = {"format", "width", "height", "channels"}


def _png(path: Path, pixels: np.ndarray) -> Path:
    assert cv2.imwrite(str(path), pixels)
    return path


def _json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


@pytest.fixture
def good(tmp_path) -> Path:
    return _png(tmp_path / "good.png", np.full((6, 10, 3), 90, np.uint8))


@pytest.fixture
def bad(tmp_path) -> Path:
    path = tmp_path / "bad.png"
    path.write_bytes(b"")
    return path


def test_info_prints_one_json_line_per_file(good, test_piece_files, capsys):
    assert main(["info", str(good), str(test_piece_files)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert len(out.splitlines()) == 2
    first, second = _json_lines(out)
    assert set(first) >= INFO_KEYS and set(second) >= INFO_KEYS
    assert (first["format"], first["width"], first["height"]) == ("png", 10, 6)
    assert first["channels"] == ["rgb"] and first["path"] == str(good)
    assert (second["format"], second["width"], second["height"]) == ("dual-pair", 160, 120)
    assert second["channels"] == ["rgb", "low", "high", "zeff"]


def test_info_bad_file_gives_one_line_error_and_exit_2(bad, capsys):
    assert main(["info", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"error: {bad}: file is empty (0 bytes)\n"


def test_info_keeps_going_after_a_bad_file(good, bad, tmp_path, capsys):
    missing = tmp_path / "missing.png"
    assert main(["info", str(good), str(bad), str(missing), str(good)]) == 2
    out, err = capsys.readouterr()
    records = _json_lines(out)
    assert [r["path"] for r in records] == [str(good), str(good)]
    errors = err.splitlines()
    assert len(errors) == 2
    assert errors[0].startswith(f"error: {bad}: ")
    assert errors[1].startswith(f"error: {missing}: ") and "not found" in errors[1]


def test_info_high_pairs_two_files(tmp_path, capsys):
    low = _png(tmp_path / "l.png", np.full((4, 6), 1000, np.uint16))
    high = _png(tmp_path / "h.png", np.full((4, 6), 3000, np.uint16))
    assert main(["info", str(low), "--high", str(high)]) == 0
    (record,) = _json_lines(capsys.readouterr().out)
    assert record["format"] == "dual-pair" and record["dual_energy"] is True
    assert record["channels"] == ["rgb", "low", "high"]
    assert record["sources"] == [str(low), str(high)]


def test_info_high_with_two_paths_is_refused(tmp_path, good, capsys):
    high = _png(tmp_path / "h.png", np.zeros((6, 10), np.uint16))
    assert main(["info", str(good), str(good), "--high", str(high)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "--high" in err


def test_info_high_of_another_size_is_an_error(tmp_path, capsys):
    low = _png(tmp_path / "l.png", np.zeros((4, 6), np.uint16))
    high = _png(tmp_path / "h.png", np.zeros((4, 7), np.uint16))
    assert main(["info", str(low), "--high", str(high)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {high}: ") and err.count("\n") == 1


def test_info_layout_choices(tmp_path, capsys):
    raw = _png(tmp_path / "raw.png", np.full((4, 1280), 500, np.uint16))
    assert main(["info", str(raw)]) == 0
    auto = _json_lines(capsys.readouterr().out)[0]
    assert auto["format"] == "side-by-side" and auto["width"] == 640 and auto["dual_energy"]
    assert main(["info", "--layout", "single", str(raw)]) == 0
    single = _json_lines(capsys.readouterr().out)[0]
    assert single["format"] == "png" and single["width"] == 1280 and not single["dual_energy"]
    other = _png(tmp_path / "other.png", np.full((4, 100), 500, np.uint16))
    assert main(["info", "--layout", "side-by-side", str(other)]) == 0
    assert _json_lines(capsys.readouterr().out)[0]["width"] == 50


def test_info_unknown_layout_is_a_usage_error(good, capsys):
    with pytest.raises(SystemExit) as info:
        main(["info", "--layout", "diagonal", str(good)])
    assert info.value.code == 2
    assert "--layout" in capsys.readouterr().err


def test_info_max_side(tmp_path, capsys):
    path = _png(tmp_path / "wide.png", np.zeros((10, 100), np.uint8))
    assert main(["info", "--max-side", "64", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: ") and "limit of 64" in err


def _console_script() -> list[str]:
    script = Path(sys.executable).with_name("xray-engine")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "engine.cli"]


def test_console_script_prints_json_and_errors_and_exits_2(good, bad):
    done = subprocess.run(
        [*_console_script(), "info", str(good), str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    (record,) = _json_lines(done.stdout)
    assert set(record) >= INFO_KEYS and record["format"] == "png"
    assert (record["width"], record["height"]) == (10, 6)
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert lines == [f"error: {bad}: file is empty (0 bytes)"]


def test_module_entry_point_runs(test_piece_files):
    done = subprocess.run(
        [sys.executable, "-m", "engine.cli", "info", str(test_piece_files)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["dual_energy"] is True
