"""How close simulated false-colour scans look to real SIXray ones: pooled statistics, distances.

Generates `--n` simulated bags (or reads an existing dataset with `--data`), pools the image
statistics of `engine.synth.realism` over them and over the real SIXray samples in
../shared/data/sixray, prints a Markdown table of the figures and their distances, and writes a
contact sheet of [real | simulated] pairs for a look by eye.

Run: `.venv/bin/python benchmarks/synth_realism.py [--n 24] [--seed 0] [--workers 2]
[--data DIR] [--real DIR] [--sheet PATH]`.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

from engine.synth.realism import ImageStats, compare, image_statistics, pool, summary_table

REPO = Path(__file__).resolve().parents[1]
REAL_DEFAULT = REPO.parent / "shared" / "data" / "sixray"
SHEET_DEFAULT = REPO / "out" / "synth_realism.png"
TILE_W, TILE_H = 320, 240
GAP = 4  # px of grey between tiles
GAP_GREY = (170, 170, 170)
HEADER_H = 22  # px strip at the top for the column labels
_SIM_NAME = re.compile(r"bag_\d{6}\.png")  # the false-colour image, not _low/_high/_zeff


def machine() -> str:
    """Platform, CPU model and core count, for the report's header."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.platform()}; {model}, {os.cpu_count()} cores"


def real_images(folder: Path) -> list[Path]:
    """The real false-colour scans in `folder`: *.jpg and *.png, without the *_mask.png files."""
    paths = [*folder.glob("*.jpg"), *folder.glob("*.png")]
    return sorted(p for p in paths if not p.name.endswith("_mask.png"))


def simulated_images(dataset: Path) -> list[Path]:
    """The false-colour images `images/bag_NNNNNN.png` of a simulated dataset."""
    return sorted(p for p in (dataset / "images").glob("bag_*.png") if _SIM_NAME.fullmatch(p.name))


def load_rgb(path: Path) -> np.ndarray:
    """A uint8 RGB image from disk (OpenCV reads BGR)."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise OSError(f"cannot read image {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def letterbox(rgb: np.ndarray, width: int = TILE_W, height: int = TILE_H) -> np.ndarray:
    """`rgb` scaled to fit width×height, keeping its aspect, centred on white."""
    h, w = rgb.shape[:2]
    scale = min(width / w, height / h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(rgb, (nw, nh), interpolation=interp)
    tile = np.full((height, width, 3), 255, np.uint8)
    y, x = (height - nh) // 2, (width - nw) // 2
    tile[y : y + nh, x : x + nw] = small
    return tile


def contact_sheet(real: Sequence[np.ndarray], simulated: Sequence[np.ndarray]) -> np.ndarray:
    """RGB sheet of [real | simulated] tile rows, one per real tile, simulated ones cycled."""
    rows = len(real)
    width = 3 * GAP + 2 * TILE_W
    height = HEADER_H + rows * (TILE_H + GAP) + GAP
    sheet = np.empty((height, width, 3), np.uint8)
    sheet[:] = GAP_GREY
    sheet[:HEADER_H] = 255
    font = cv2.FONT_HERSHEY_SIMPLEX
    for col, label in enumerate(("real", "simulated")):
        (tw, th), _ = cv2.getTextSize(label, font, 0.5, 1)
        x = GAP + col * (TILE_W + GAP) + (TILE_W - tw) // 2
        cv2.putText(sheet, label, (x, (HEADER_H + th) // 2), font, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    for r in range(rows):
        y = HEADER_H + r * (TILE_H + GAP)
        pair = (real[r], simulated[r % len(simulated)] if simulated else None)
        for col, tile in enumerate(pair):
            x = GAP + col * (TILE_W + GAP)
            sheet[y : y + TILE_H, x : x + TILE_W] = 255 if tile is None else tile
    return sheet


def measure(paths: Sequence[Path]) -> tuple[ImageStats, list[np.ndarray]]:
    """Pooled statistics of the images at `paths`, and their contact-sheet tiles."""
    stats, tiles = [], []
    for path in paths:
        rgb = load_rgb(path)
        stats.append(image_statistics(rgb))
        tiles.append(letterbox(rgb))
    return pool(stats), tiles


def _report(
    args: argparse.Namespace, real_paths: list[Path], data: Path, gen_s: float | None
) -> int:
    sim_paths = simulated_images(data)
    if not sim_paths:
        print(f"error: no simulated images images/bag_NNNNNN.png under {data}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    real, real_tiles = measure(real_paths)
    ours, sim_tiles = measure(sim_paths)
    stats_s = time.perf_counter() - start
    distances = compare(real, ours)

    print(f"# synth_realism — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"# {machine()}; Python {platform.python_version()}, OpenCV {cv2.__version__}")
    print(f"# real: {len(real_paths)} images from {args.real}")
    source = f"from {data}" if args.data else f"generated, seed {args.seed}"
    print(f"# simulated: {len(sim_paths)} images {source}")
    if gen_s is not None:
        print(
            f"# generation: {gen_s:.1f} s for {args.n} bags with {args.workers} worker(s) "
            f"({gen_s / max(args.n, 1):.2f} s/bag)"
        )
    print(f"# statistics: {stats_s:.1f} s for {len(real_paths) + len(sim_paths)} images")
    print()
    print(summary_table(real, ours, distances))
    print()
    sheet = contact_sheet(real_tiles, sim_tiles)
    args.sheet.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(args.sheet), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)):
        print(f"error: cannot write the contact sheet {args.sheet}", file=sys.stderr)
        return 1
    print(f"contact sheet: {args.sheet}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, generate (or read) simulated bags, print the figures, write the sheet."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=24, help="simulated bags to generate")
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulated dataset")
    parser.add_argument("--workers", type=int, default=2, help="generator worker processes")
    parser.add_argument("--data", type=Path, help="existing simulated dataset (skips generation)")
    parser.add_argument("--real", type=Path, default=REAL_DEFAULT, help="real SIXray scans")
    parser.add_argument("--sheet", type=Path, default=SHEET_DEFAULT, help="contact sheet PNG")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")
    if args.workers < 1:
        parser.error("--workers must be at least 1")

    if not args.real.is_dir():
        print(
            f"error: real scans folder not found: {args.real} (give one with --real)",
            file=sys.stderr,
        )
        return 2
    real_paths = real_images(args.real)
    if not real_paths:
        print(f"error: no *.jpg or *.png scans in {args.real}", file=sys.stderr)
        return 2
    if args.data is not None:
        if not args.data.is_dir():
            print(f"error: simulated dataset not found: {args.data}", file=sys.stderr)
            return 2
        return _report(args, real_paths, args.data, None)

    from engine.synth.dataset import write_dataset  # the simulator only when generating

    with tempfile.TemporaryDirectory(prefix="synth_realism_") as tmp:
        start = time.perf_counter()
        write_dataset(tmp, args.n, args.seed, workers=args.workers, progress=False)
        gen_s = time.perf_counter() - start
        return _report(args, real_paths, Path(tmp), gen_s)


if __name__ == "__main__":
    sys.exit(main())
