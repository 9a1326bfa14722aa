"""What the `xray-engine` commands share: option types and the split-file rule."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from engine.io import DEFAULT_MAX_PIXELS
from engine.io.files import one_line
from engine.io.load import MAX_PIXELS_ENV

DEBUG_ENV = "XRAY_ENGINE_DEBUG"  # set to 1: an unexpected error shows its traceback


def split_file(data: str, split: str) -> Path:
    """A split dataset folder's `<split>.json` (test, val), else `data` itself: a COCO file, a
    crop tree, or a folder whose `annotations.json` its reader takes (`engine.data.split_files`)."""
    from engine.data import split_files

    return split_files(data).get(split, Path(data))


def os_error(exc: OSError) -> str:
    return one_line(exc.strerror or exc, 200)


def positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text[:40]!r}")
    return value


def max_pixels_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-pixels",
        type=positive_int,
        metavar="N",
        help="refuse images of more than N pixels, read from the header before decoding "
        f"(default: ${MAX_PIXELS_ENV}, else {DEFAULT_MAX_PIXELS:_})",
    )


def report(table: Callable[[list], tuple[list, list]], runs: list[str], csv_path: str) -> int:
    """A report command: `table(results)` of the evaluated runs as Markdown on stdout and as CSV
    to `csv_path` (Table I and Table II share it)."""
    from engine.detection.report import csv_text, find_results, markdown
    from engine.io.write import atomic_write_bytes

    header, rows = table(find_results(runs))
    print(markdown(header, rows))
    atomic_write_bytes(Path(csv_path), csv_text(header, rows).encode())
    print(f"\n{csv_path}")
    return 0
