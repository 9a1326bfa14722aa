"""Load and first-paint times of scans, and how long the GUI event loop stalls while one loads.

Measures `engine.io.load_scan` (median of repeats) and the time from `ScanView.set_image` to a
finished render, for the real samples in ../shared/data (when present) and for generated test
pieces of 640×480 and 6000×6000 (plain PNG and the dual-energy file set). Then opens the
6000×6000 scan through the main window and records the longest gap between 10 ms timer ticks on
the GUI thread: the longest the window could not respond.

Run: `make bench` or `.venv/bin/python benchmarks/load_and_display.py [--quick] [--repeats N]`.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import cv2
import numpy as np
from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QApplication

from engine.io import list_scans, load_scan
from engine.io.write import encode_png, save_scan
from engine.machine import cpu_summary
from engine.phantom import render_test_piece
from xray_gui.main_window import MainWindow
from xray_gui.viewer import ScanView

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def time_load(path: Path, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        load_scan(path)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def time_first_paint(app: QApplication, view: ScanView, image: np.ndarray) -> float:
    view.clear()
    app.processEvents()
    start = time.perf_counter()
    view.set_image(image, reset_view=True)
    view.graphics_view.viewport().grab()  # a synchronous, complete render of the scene
    return (time.perf_counter() - start) * 1000


def stall_while_loading(
    app: QApplication, path: Path, settings_file: Path
) -> tuple[float, float, float]:
    """For one open: (ms until `scanShown`, longest GUI-thread stall in ms before it, longest
    stall in ms including the first paint of the scan after it)."""
    window = MainWindow(QSettings(str(settings_file), QSettings.Format.IniFormat))
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    gaps: list[float] = []
    clock = QElapsedTimer()
    ticker = QTimer()
    ticker.setInterval(10)

    def tick() -> None:
        gaps.append(clock.restart())

    ticker.timeout.connect(tick)
    loop = QEventLoop()
    window.scanShown.connect(lambda _p: loop.quit())
    window.scanFailed.connect(lambda _p, _m: loop.quit())
    start = time.perf_counter()
    clock.start()
    ticker.start()
    window.open_paths([path])
    loop.exec()
    shown = (time.perf_counter() - start) * 1000
    tick()
    while_loading = max(gaps)
    for _ in range(3):  # the first paint of the new image belongs to the measurement too
        app.processEvents()
        window.view.graphics_view.viewport().repaint()
    tick()
    ticker.stop()
    window.close()
    return shown, while_loading, max(gaps)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 6000×6000 scans")
    parser.add_argument("--repeats", type=int, default=5, help="load repeats for small scans")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    app = QApplication.instance() or QApplication(sys.argv[:1])
    print(f"# load_and_display — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"# {cpu_summary()}; Python {platform.python_version()}, numpy {np.__version__}, "
        f"OpenCV {cv2.__version__}, PySide6 {pyside_version}"
    )

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cases: list[tuple[str, Path, int]] = []
        for folder in ("sixray", "gdxray"):  # list_scans leaves out the *_mask files
            if (SHARED / folder).is_dir():
                cases += [
                    (f"{folder}/{p.name}", p, args.repeats) for p in list_scans(SHARED / folder)
                ]
            else:
                print(f"# real samples not found at {SHARED / folder}: skipped")
        save_scan(render_test_piece(640, 480), tmp / "piece640")
        cases.append(("test piece 640×480 (dual-energy set)", tmp / "piece640.png", args.repeats))
        if not args.quick:
            big = render_test_piece(6000, 6000)
            (tmp / "big_rgb.png").write_bytes(encode_png(big.image))
            save_scan(big, tmp / "big")
            del big
            cases.append(("test piece 6000×6000 (RGB PNG)", tmp / "big_rgb.png", 3))
            cases.append(("test piece 6000×6000 (dual-energy set)", tmp / "big.png", 3))

        view = ScanView()
        view.resize(1000, 700)
        view.show()
        print()
        print("| scan | size W×H | files MB | load ms | first paint ms |")
        print("|---|---|---|---|---|")
        load_medians: dict[Path, float] = {}
        for name, path, repeats in cases:
            scan = load_scan(path)
            mb = sum(Path(s).stat().st_size for s in scan.meta.sources) / 1e6
            load_ms = load_medians[path] = time_load(path, repeats)
            paint_ms = time_first_paint(app, view, scan.image)
            print(
                f"| {name} | {scan.width}×{scan.height} | {mb:.2f} | {load_ms:.0f} | "
                f"{paint_ms:.0f} |",
                flush=True,
            )
        view.close()

        if not args.quick:
            big_path = tmp / "big.png"
            shown, loading, stall = stall_while_loading(app, big_path, tmp / "settings.ini")
            print()
            print(
                f"Opening the 6000×6000 dual-energy scan in the window: scanShown after "
                f"{shown:.0f} ms (load_scan alone: median {load_medians[big_path]:.0f} ms, "
                f"above); longest GUI-thread stall {loading:.0f} ms while it loaded, "
                f"{stall:.0f} ms counting the first paint after it."
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
