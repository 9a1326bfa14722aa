"""End to end: a scanner's side-by-side 16-bit export, described by the CLI and read out in the
window as low and high transmissions."""

from __future__ import annotations

import json

import numpy as np
from PySide6.QtCore import QSettings

from engine.cli import main as engine_main
from engine.io.write import encode_png, transmission_to_uint16
from engine.phantom import render_test_piece
from xray_gui.main_window import MainWindow


def test_side_by_side_export_from_cli_to_window(qtbot, tmp_path, capsys):
    piece = render_test_piece(640, 96, seed=7)
    raw = np.hstack([transmission_to_uint16(piece.low), transmission_to_uint16(piece.high)])
    path = tmp_path / "export_0001.png"
    path.write_bytes(encode_png(raw))

    assert engine_main(["info", str(path)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["format"] == "side-by-side" and record["width"] == 640
    assert record["channels"] == ["rgb", "low", "high"]

    window = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.scanShown, timeout=15_000):
        window.open_paths([path])
    window.view.pixelHovered.emit(100, 20)
    text = window.readout_label.text()
    assert f"T_low {piece.low[20, 100]:.3f}" in text
    assert f"T_high {piece.high[20, 100]:.3f}" in text
    with qtbot.waitSignal(window.imageShown, timeout=15_000):
        window.actions["fn_high_penetration"].trigger()
    assert window.current_function == "high_penetration"
