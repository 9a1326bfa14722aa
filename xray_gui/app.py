"""`xray-gui`: start the application, or render one scan to a PNG with --screenshot."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from engine.enhance import IMAGE_FUNCTIONS
from xray_gui import __version__

ORGANISATION = "XrayScreening"
APPLICATION = "xray-gui"
SETTINGS_ENV = "XRAY_GUI_SETTINGS"  # path of an INI file, to isolate settings (tests, demos)
SCREENSHOT_WAIT_S = 120  # --screenshot waits this long at most for the scan and its findings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xray-gui", description="X-ray screening workstation.")
    parser.add_argument("paths", nargs="*", metavar="PATH", help="scans or folders to open")
    parser.add_argument(
        "--screenshot",
        metavar="OUT.png",
        help="render the window with the first scan offscreen, save, and exit",
    )
    parser.add_argument(
        "--function",
        default="plain",
        choices=("plain", *IMAGE_FUNCTIONS),
        metavar="NAME",
        help=f"image function to apply for --screenshot: {', '.join(IMAGE_FUNCTIONS)}",
    )
    parser.add_argument("--size", default="1280x800", help="window size for --screenshot")
    parser.add_argument(
        "--model",
        metavar="BUNDLE.xsb",
        help="model bundle to screen with (default: the one loaded last time, if any)",
    )
    parser.add_argument(
        "--device", default="auto", choices=("auto", "cpu", "cuda"), help="where the model runs"
    )
    parser.add_argument(
        "--no-model", action="store_true", help="start without loading any model (viewer only)"
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def make_settings():
    from PySide6.QtCore import QSettings

    ini = os.environ.get(SETTINGS_ENV)
    if ini:
        return QSettings(ini, QSettings.Format.IniFormat)
    return QSettings(ORGANISATION, APPLICATION)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.screenshot:
        problem = _screenshot_problem(args.paths)
        if problem:  # before any window: a bad PATH is one line and exit 2, at once
            print(f"xray-gui: {problem}", file=sys.stderr)
            return 2
    if args.screenshot and "QT_QPA_PLATFORM" not in os.environ:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication

    if args.screenshot:
        _quiet_offscreen_plugin()

    from xray_gui.main_window import MainWindow  # after the platform is chosen

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("X-ray Screening")
    window = MainWindow(make_settings())
    model = None if args.no_model else args.model or window.settings.value("model/path", "")
    if model and (args.model or Path(str(model)).is_file()):
        window.review.load_model(str(model), args.device)
    if args.screenshot:
        return _screenshot(app, window, args)
    window.show()
    window.review.ask_analyst_at_first_start()  # before any project opens: it signs from the start
    if args.paths:
        window.open_paths(args.paths)
    return app.exec()


def _quiet_offscreen_plugin() -> None:
    """Drop the offscreen platform's "does not support propagateSizeHints()" warnings, which
    would put lines before --screenshot's own message; every other Qt message still shows."""
    from PySide6.QtCore import qInstallMessageHandler

    def handler(_kind, _context, message: str) -> None:
        if "propagateSizeHints" not in message:
            print(message, file=sys.stderr)

    qInstallMessageHandler(handler)


def _screenshot_problem(paths: Sequence[str]) -> str | None:
    """What makes the first PATH unusable for --screenshot, as the loader says it (missing,
    dangling or looping link, FIFO, device, empty; a folder without scans), or None."""
    from engine.io import ScanLoadError, check_scan_file, list_scans, quote_path

    if not paths:
        return "--screenshot needs a PATH"
    first = Path(paths[0])
    try:
        if first.is_dir():
            if not list_scans(first):
                return f"{quote_path(first)}: is a folder with no scans in it"
            return None
        check_scan_file(first)
    except ScanLoadError as exc:
        return str(exc)
    except (OSError, ValueError) as exc:
        return f"{quote_path(first)}: cannot read ({exc})"
    return None


def _screenshot(app, window, args: argparse.Namespace) -> int:
    """Open the first PATH, wait for it (and the image function), save the window as PNG."""
    from PySide6.QtCore import QEventLoop, QTimer

    if not args.paths:
        print("xray-gui: --screenshot needs a PATH", file=sys.stderr)
        return 2
    width, height = (int(v) for v in args.size.lower().split("x"))
    window.resize(width, height)
    window.show()
    outcome: dict[str, str] = {}
    loop = QEventLoop()
    review = window.review
    window.scanShown.connect(lambda p: (outcome.setdefault("shown", p), loop.quit()))
    window.scanFailed.connect(lambda p, m: (outcome.setdefault("error", m), loop.quit()))
    # only what concerns the scan on screen counts (a folder's next scans are screened ahead)
    on_screen = outcome.get
    review.screenFailed.connect(
        lambda p, m: p == on_screen("shown") and outcome.setdefault("screen error", m)
    )
    review.resultShown.connect(
        lambda p: (
            review.session.model and p == on_screen("shown") and outcome.setdefault("result", p)
        )
    )
    review.modelFailed.connect(lambda p, m: outcome.setdefault("model error", m))
    window.imageShown.connect(lambda name: outcome.__setitem__("function", name))
    for signal in (
        review.resultShown,
        review.screenFailed,
        review.modelChanged,
        review.modelFailed,
        window.imageShown,
    ):
        signal.connect(lambda *_: loop.quit())

    def wait(done: Callable[[], bool], seconds: float = SCREENSHOT_WAIT_S) -> bool:
        """Run the event loop until `done()` holds or `seconds` pass; whether it holds."""
        deadline = time.monotonic() + seconds
        while not done() and time.monotonic() < deadline:
            QTimer.singleShot(int(max(deadline - time.monotonic(), 0) * 1000) + 1, loop.quit)
            loop.exec()
        return done()

    window.open_paths(args.paths[:1] if Path(args.paths[0]).is_file() else args.paths)
    wait(lambda: "shown" in outcome or "error" in outcome)
    if "error" in outcome or "shown" not in outcome:
        print(f"xray-gui: {outcome.get('error', 'timed out loading the scan')}", file=sys.stderr)
        window.close()
        return 2

    # the model's findings, stored in the project or screened now; a model that fails to load
    # or to screen leaves its banner on the picture
    def answered() -> bool:
        return (
            review.session.model is None
            or "screen error" in outcome
            or "result" in outcome
            or review.session.has_prediction(outcome["shown"])
        )

    if not (wait(lambda: not review.session.model_pending) and wait(answered)):
        print(f"xray-gui: the model gave no findings in {SCREENSHOT_WAIT_S} s", file=sys.stderr)
        window.close()
        return 2
    for problem in ("model error", "screen error"):  # on the picture as a banner; said here too
        if problem in outcome:
            print(f"xray-gui: {outcome[problem]}", file=sys.stderr)
    if args.function != "plain":
        window.set_function(args.function)
        if not wait(lambda: outcome.get("function") == args.function, 30):
            print(f"xray-gui: the image function {args.function} was not shown", file=sys.stderr)
            window.close()
            return 2
    for _ in range(5):
        app.processEvents()
    review.settle()  # a debounced refresh still due would make the picture depend on timing
    app.processEvents()
    window.view.fit()
    app.processEvents()
    ok = window.grab().save(args.screenshot)
    window.close()
    if not ok:
        print(f"xray-gui: cannot write {args.screenshot}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
