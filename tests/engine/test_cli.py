"""`xray-engine info`: JSON per good file, one-line error and exit 2 per bad one."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np

from engine.cli import main


def test_info_prints_json_per_file_and_exits_2_on_a_bad_one(tmp_path, capsys, test_piece_files):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"")
    code = main(["info", str(test_piece_files), str(bad)])
    out, err = capsys.readouterr()
    assert code == 2
    record = json.loads(out.strip().splitlines()[0])
    assert record["format"] == "dual-pair" and (record["width"], record["height"]) == (160, 120)
    assert record["channels"] == ["rgb", "low", "high", "zeff"]
    assert err.strip() == f"error: {bad}: file is empty (0 bytes)"


def test_info_pair_and_layout(tmp_path, capsys):
    low, high = tmp_path / "l.png", tmp_path / "h.png"
    cv2.imwrite(str(low), np.zeros((4, 6), np.uint16))
    cv2.imwrite(str(high), np.ones((4, 6), np.uint16))
    assert main(["info", str(low), "--high", str(high)]) == 0
    assert json.loads(capsys.readouterr().out)["dual_energy"] is True
    assert main(["info", str(low), "--layout", "side-by-side"]) == 0
    assert json.loads(capsys.readouterr().out)["width"] == 3


def test_console_script_runs(tmp_path, test_piece_files):
    done = subprocess.run(
        [sys.executable, "-m", "engine.cli", "info", str(test_piece_files)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and json.loads(done.stdout)["dual_energy"] is True
