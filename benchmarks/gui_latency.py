"""How long an analyst waits in the GUI: from opening a scan to its findings drawn, and the
longest the GUI thread stalls while the model screens on its worker thread.

Runs the real window (offscreen unless a display is set) on simulated 640×480 scans with the
bundle given (`--model`, e.g. the demo model) or, without one, untrained models of the demo's
architectures with findings capped at `--objects` per scan. Figures:

- open → overlay: time from `show_index` to the findings drawn, for a scan not yet screened
  (the model runs; screening ahead is off here, so this is the worst case) and for one already
  in the review project (no model call: what screening ahead gives the analyst);
- the model's own time per scan, measured in the same run, so the GUI's overhead is the difference;
- GUI-thread stalls: the largest gaps between ticks of a 5 ms timer while scans are screened.

    .venv/bin/python benchmarks/gui_latency.py [--model resources/models/demo.xsb] [--scans 6]
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

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _wait(app: QApplication, done, timeout: float = 300.0) -> None:
    deadline = time.perf_counter() + timeout
    while not done():
        if time.perf_counter() > deadline:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.001)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model bundle (default: untrained demo architectures)")
    parser.add_argument("--scans", type=int, default=6, help="simulated scans to open")
    parser.add_argument("--objects", type=int, default=10, help="findings cap (untrained model)")
    args = parser.parse_args(argv)

    import xray_gui.reviewer
    from engine.checkpoint import save_checkpoint
    from engine.synth.dataset import write_dataset
    from xray_gui.main_window import MainWindow

    xray_gui.reviewer.SCREEN_AHEAD = 0  # each scan screened when opened: the worst case

    app = QApplication.instance() or QApplication([])
    tmp = Path(tempfile.mkdtemp(prefix="gui_latency_"))
    write_dataset(tmp / "data", args.scans, seed=31, progress=False, workers=1)
    folder = tmp / "data" / "images"
    model = args.model
    if model is None:
        from pipeline import _untrained_bundle

        model = str(tmp / "untrained.xsb")
        save_checkpoint(model, _untrained_bundle(crop_size=128))

    window = MainWindow(QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat))
    window.resize(1280, 800)
    window.show()
    review = window.review
    review.load_model(model, "auto")
    _wait(app, lambda: review.session.model is not None or not review.session.model_pending)
    if review.session.model is None:
        print(f"could not load {model}: {window.error_banner.message()}", file=sys.stderr)
        return 2
    if args.model is None:  # an untrained detector finds 100 boxes: cap to a realistic load
        review.screening._screener.detector.roi_heads.detections_per_img = args.objects

    gaps: list[float] = []
    last = [0.0]

    def tick() -> None:
        now = time.perf_counter()
        if last[0]:
            gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)

    shown: list[str] = []
    review.resultShown.connect(shown.append)
    window.open_paths([folder])
    _wait(app, lambda: shown)  # the first scan: start-up, not counted
    review.screening.want([])
    fresh, cached, model_ms, findings = [], [], [], []
    timer.start()
    for index in range(1, len(window.queue)):
        path = str(window.queue.entries[index].path)
        store = review.session.store_for(path)
        was_screened = store.has_prediction(path)
        shown.clear()
        start = time.perf_counter()
        window.show_index(index)
        _wait(app, lambda p=path: p in shown)
        app.processEvents()  # the paint that puts it on screen
        elapsed = (time.perf_counter() - start) * 1000
        (cached if was_screened else fresh).append(elapsed)
        if not was_screened:
            info = store.prediction(path)
            model_ms.append(info.timings.get("total", float("nan")))
            findings.append(len(info.findings))
    timer.stop()
    window.show_index(1)  # every scan is in the project now: opening one is a read
    for index in range(2, len(window.queue)):
        shown.clear()
        start = time.perf_counter()
        window.show_index(index)
        _wait(app, lambda p=str(window.queue.entries[index].path): p in shown)
        app.processEvents()
        cached.append((time.perf_counter() - start) * 1000)
    window.close()

    when = datetime.now(UTC).strftime("%Y-%m-%d")
    model = review.session.model
    print(
        f"# GUI latency, {when}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, device {model.device}, model {model.name}"
    )
    print(
        f"# {len(window.queue)} simulated scans of 640×480 px (either way up), "
        f"{statistics.mean(findings) if findings else 0:.1f} findings each\n"
    )
    print("| measure | median | max |")
    print("|---|---|---|")
    if fresh:
        print(
            f"| open → findings drawn, model runs (ms) | {statistics.median(fresh):.0f} | "
            f"{max(fresh):.0f} |"
        )
        print(
            f"| of which the model's own time (ms) | {statistics.median(model_ms):.0f} | "
            f"{max(model_ms):.0f} |"
        )
    if cached:
        print(
            f"| open → findings drawn, from the project (ms) | {statistics.median(cached):.0f} "
            f"| {max(cached):.0f} |"
        )
    if gaps:
        ordered = sorted(gaps)
        p99 = ordered[int(0.99 * (len(ordered) - 1))]
        print(
            f"| GUI-thread tick gap while screening (ms; 5 ms timer) | "
            f"{statistics.median(gaps) * 1000:.0f} (p99 {p99 * 1000:.0f}) | "
            f"{max(gaps) * 1000:.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
