"""`xray-engine` commands on scans: `info` (what a file holds) and `screen` (findings)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from engine.cli.common import max_pixels_option, os_error
from engine.io import DEFAULT_MAX_SIDE, ScanLoadError, load_scan, quote_path
from engine.io.files import one_line
from engine.io.load import LAYOUTS


class _JsonLines:
    """A JSON Lines file written line by line: each line in one write and flushed to the OS at
    once, so a run that crashes keeps every line written before, and no line half-written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
        self._fd = os.open(path, flags, 0o666)

    def append(self, record: dict) -> None:
        data = memoryview((json.dumps(record) + "\n").encode())
        while data:
            data = data[os.write(self._fd, data) :]

    def __enter__(self) -> _JsonLines:
        return self

    def __exit__(self, *exc) -> None:
        os.close(self._fd)


def _cmd_info(args: argparse.Namespace) -> int:
    """Print one JSON object per scan; bad files get a one-line message on stderr and exit 2."""
    status = 0
    if args.high is not None and len(args.paths) != 1:
        print(
            "xray-engine info: --high pairs with exactly one PATH (the low channel)",
            file=sys.stderr,
        )
        return 2
    for path in args.paths:
        try:
            scan = load_scan(
                path,
                args.high,
                layout=args.layout,
                max_side=args.max_side,
                max_pixels=args.max_pixels,
            )
        except ScanLoadError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 2
            continue
        print(json.dumps(scan.describe()), flush=True)
    return status


def _cmd_screen(args: argparse.Namespace) -> int:
    """Screen scans with a bundle: results.jsonl, one line per scan written as soon as it is
    screened, and annotated PNGs. A scan that cannot be read or screened, for whatever reason,
    is reported on one line and recorded with its error; the others go on."""
    from tqdm import tqdm

    from engine.pipeline import Screener

    out = Path(args.out)
    try:
        (out / "annotated").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(
            f"xray-engine screen: cannot write to {quote_path(out)}: {os_error(exc)}",
            file=sys.stderr,
        )
        return 2
    paths = _screen_inputs(args.inputs)
    if not paths:
        shown = ", ".join(quote_path(p) for p in args.inputs[:3])
        print(f"xray-engine screen: no scans in {shown}", file=sys.stderr)
        return 2
    screener = Screener.from_bundle(args.model, device=args.device)
    try:
        results = _JsonLines(out / "results.jsonl")
    except OSError as exc:
        where = quote_path(out / "results.jsonl")
        print(f"xray-engine screen: cannot write {where}: {os_error(exc)}", file=sys.stderr)
        return 2
    failed, names = 0, set()
    with results:
        for path in tqdm(paths, desc="screen", unit="scan", disable=args.quiet):
            record = _screen_one(screener, path, out, names, args)
            if "error" in record:
                failed += 1
                tqdm.write(f"skipped: {quote_path(path)}: {record['error']}", file=sys.stderr)
            try:
                results.append(record)
            except OSError as exc:
                where = quote_path(results.path)
                print(f"xray-engine screen: cannot write {where}: {os_error(exc)}", file=sys.stderr)
                return 2
    print(f"{len(paths) - failed} screened, {failed} skipped: {out / 'results.jsonl'}")
    return 0


def _screen_inputs(inputs: Sequence[str]) -> list[Path]:
    """The scans of folders (as listed by list_scans) and files, in the order given."""
    from engine.io import list_scans

    paths: list[Path] = []
    for item in map(Path, inputs):
        try:
            paths += list_scans(item) if item.is_dir() else [item]
        except OSError:
            paths.append(item)  # an unreadable folder: load_scan reports it as that scan
    return paths


def _screen_one(screener, path: Path, out: Path, names: set[str], args) -> dict:
    """Load, screen and draw one scan; its results.jsonl record, with `error` when it failed."""
    from engine.io.write import atomic_write_bytes, encode_png
    from engine.pipeline import ScreeningError

    try:
        scan = load_scan(
            path, companions=screener.crops.get("mode") == "dual", max_pixels=args.max_pixels
        )
        result = screener(scan)
        image = encode_png(result.draw(scan.image))
    except ScanLoadError as exc:
        return {"path": str(path), "error": exc.problem}
    except ScreeningError as exc:
        return {"path": str(path), "error": one_line(exc, 300)}
    except MemoryError:
        return {"path": str(path), "error": "not enough memory to screen this scan"}
    except Exception as exc:  # one scan's failure, whatever it is, never ends the run
        problem = f"screening failed ({type(exc).__name__}: {one_line(exc, 200)})"
        return {"path": str(path), "error": problem}
    record = result.to_dict(with_masks=args.masks)
    name = _annotated_name(path, names)
    try:
        atomic_write_bytes(out / "annotated" / name, image)
        record["annotated"] = f"annotated/{name}"
    except OSError as exc:
        record["annotated_error"] = f"cannot write annotated/{name}: {os_error(exc)}"
    return record


def _annotated_name(path: Path, taken: set[str]) -> str:
    """`a.png` for a.png, `a.jpg.png` for a.jpg, `a-2.png` for a second a.png: never reused."""
    base = path.stem if path.suffix.lower() == ".png" else path.name
    name, n = f"{base}.png", 1
    while name.lower() in taken:
        n += 1
        name = f"{base}-{n}.png"
    taken.add(name.lower())
    return name


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's commands to the `xray-engine` parser."""
    info = sub.add_parser("info", help="describe scans as JSON (format, size, channels)")
    info.add_argument("paths", nargs="+", metavar="PATH", help="scan files")
    info.add_argument("--high", metavar="PATH", help="high-energy file pairing with PATH (low)")
    info.add_argument(
        "--layout",
        choices=LAYOUTS,
        default="auto",
        help="side-by-side [low | high] export or single image (default: auto)",
    )
    info.add_argument(
        "--max-side",
        type=int,
        default=DEFAULT_MAX_SIDE,
        help=f"refuse images larger than this a side (default: {DEFAULT_MAX_SIDE})",
    )
    max_pixels_option(info)
    info.set_defaults(func=_cmd_info)

    screen = sub.add_parser(
        "screen",
        help="screen scans with a model bundle: results.jsonl and annotated PNGs",
        description="Folders or files. OUT/results.jsonl gets one line per scan as soon as it "
        "is screened (a scan that cannot be read or screened gets its error there and one line "
        "on stderr, and the run goes on; exit 0); OUT/annotated/ gets a PNG per scan (a.png, "
        "a.jpg.png, ...). Exit 2 when the model or OUT cannot be used.",
    )
    screen.add_argument("inputs", nargs="+", metavar="INPUT", help="scan files or folders")
    screen.add_argument("--model", required=True, help="model bundle (.xsb)")
    screen.add_argument("--out", required=True, help="output folder")
    screen.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    screen.add_argument("--masks", action="store_true", help="write instance masks (RLE)")
    screen.add_argument("--quiet", action="store_true", help="no progress bar")
    max_pixels_option(screen)
    screen.set_defaults(func=_cmd_screen)
