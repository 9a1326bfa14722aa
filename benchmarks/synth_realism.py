"""How close simulated false-colour scans look to real SIXray ones: per-image and pooled figures.

Generates `--n` simulated bags (or reads an existing dataset with `--data`) and measures them and
the real benign SIXray bags listed in ../shared/data/sixray_benign_backgrounds.txt (or those of
another list or folder, `--real`) with `engine.synth.realism`: per-image figures (medians, 10–90 %
quantiles and Wasserstein-1 distances), the pooled figures and their distances, and the realism
targets with pass or fail. Writes a contact sheet of [real | simulated] rows; with
`--shuffle-sheet` also a blind one (real and simulated tiles shuffled, unlabelled, each cropped to
its bag) with a key file beside it, and the same sheet shrunk to `GLANCE_WIDTH` px for a
first-impression test (a reader who looks once, without zooming; `--shuffle-seed` repeats a
layout, so two versions of the same bags can be shown on the same sheet to different readers);
with `--json` every figure, for before/after tables. The bags it generates follow the defaults,
changed by `--config FILE` (a pinned version, `configs/synth/sim_v2_62.yaml`) and `KEY=VALUE`
overrides as `xray-engine synth` takes them (`bag.max_objects=0`: bags without objects of
interest, as the real benign bags are).

With `--pairs-with DIR`, a second simulated dataset of the same seed (another version or setting
of the simulator), also a paired sheet for judging a change: real tiles on top, then `--pairs`
numbered pairs "A | B" of the same bag from both datasets, the sides drawn at random, each the
same quarter of the bag in both (the whole bag with `--pairs-whole`; with `--pairs-changed` the
quarter where the two differ most, for a change to a small part such as the wheels; bags the
two draw the same are left out), and a key beside it. Give the sheet alone to a reader who has
seen neither the key nor the change and ask, pair by pair, which side looks more like the real
scans and why; readers tell a change far better this way than on a blind sheet
(docs/simulator-realism.md).

Run: `.venv/bin/python benchmarks/synth_realism.py [--n 24] [--seed 0] [--workers 2]
[--config FILE] [KEY=VALUE ...] [--data DIR] [--real DIR|LIST] [--sheet PATH] [--sheet-rows 24]
[--shuffle-sheet [--shuffle-seed N]] [--json PATH]
[--pairs-with DIR [--pairs 6] [--pairs-whole | --pairs-changed]]`.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import re
import sys
import tempfile
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from engine.machine import cpu_summary
from engine.synth.realism import (
    FIGURES,
    SIDE,
    ImageSet,
    bag_box,
    compare,
    distribution_table,
    distributions,
    measure_image,
    pooled_figures,
    summary_table,
    targets,
    targets_table,
)

REPO = Path(__file__).resolve().parents[1]
REAL_DEFAULT = REPO.parent / "shared" / "data" / "sixray_benign_backgrounds.txt"
SHEET_DEFAULT = REPO / "out" / "synth_realism.png"
TILE_W, TILE_H = 320, 240
GAP = 4  # px of grey between tiles
GAP_GREY = (170, 170, 170)
HEADER_H = 22  # px strip at the top for the column labels
BLIND_COLUMNS = 6  # tiles per row of the blind sheet
GLANCE_WIDTH = 1200  # px: the blind sheet as a contact sheet is seen at a glance, ~200 px a tile
BLIND_MARGIN = 0.03  # of the bag box's size, kept around the bag when cropping for the blind sheet
_SIM_NAME = re.compile(r"bag_\d{6}\.png")  # the false-colour image, not _low/_high/_zeff


def machine() -> str:
    """Platform, CPU model and core count, for the report's header."""
    return f"{platform.platform()}; {cpu_summary()}"


def real_images(folder: Path) -> list[Path]:
    """The real false-colour scans in `folder`: *.jpg and *.png, without the *_mask.png files."""
    paths = [*folder.glob("*.jpg"), *folder.glob("*.png")]
    return sorted(p for p in paths if not p.name.endswith("_mask.png"))


def read_list(path: Path) -> tuple[list[Path], list[str]]:
    """The images a list file names (one a line) and a note for each line that names none.

    A line is looked up beside the list, else in the `sixray_benign/` folder beside it; blank
    lines and `#` comments are skipped.
    """
    folder = path.parent
    found, missing = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        name = line.strip()
        if not name or name.startswith("#"):
            continue
        candidates = (folder / name, folder / "sixray_benign" / name)
        hit = next((c for c in candidates if c.is_file()), None)
        if hit is None:
            missing.append(f"{name}: not found in {folder} nor in {candidates[1].parent}")
        else:
            found.append(hit)
    return found, missing


def real_scans(source: Path) -> tuple[list[Path], list[str]]:
    """The real scans of a folder or a list file, and a note for each list line that names none."""
    return (real_images(source), []) if source.is_dir() else read_list(source)


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


def crop_to_bag(rgb: np.ndarray) -> np.ndarray:
    """`rgb` cropped to its bag's box and a small margin, so framing tells no set from the other."""
    box = bag_box(rgb)
    if box is None:
        return rgb
    x0, y0, x1, y1 = box
    mx, my = math.ceil(BLIND_MARGIN * (x1 - x0)), math.ceil(BLIND_MARGIN * (y1 - y0))
    h, w = rgb.shape[:2]
    return rgb[max(0, y0 - my) : min(h, y1 + my), max(0, x0 - mx) : min(w, x1 + mx)]


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


def grid_sheet(tiles: Sequence[np.ndarray], columns: int = BLIND_COLUMNS) -> np.ndarray:
    """RGB sheet of tiles in rows of `columns`, left to right and top to bottom, unlabelled."""
    cols = max(1, min(columns, len(tiles)))
    rows = max(1, math.ceil(len(tiles) / cols))
    sheet = np.empty((GAP + rows * (TILE_H + GAP), GAP + cols * (TILE_W + GAP), 3), np.uint8)
    sheet[:] = GAP_GREY
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        y, x = GAP + r * (TILE_H + GAP), GAP + c * (TILE_W + GAP)
        sheet[y : y + TILE_H, x : x + TILE_W] = tile
    return sheet


def blind_sheet(
    real: Sequence[tuple[str, np.ndarray]],
    simulated: Sequence[tuple[str, np.ndarray]],
    seed: int,
) -> tuple[np.ndarray, list[str]]:
    """A shuffled, unlabelled grid of as many real as simulated tiles, and its key's lines."""
    k = min(len(real), len(simulated))
    entries = [("real", *e) for e in real[:k]] + [("simulated", *e) for e in simulated[:k]]
    order = np.random.default_rng(seed).permutation(len(entries))
    cols = max(1, min(BLIND_COLUMNS, len(entries)))
    key = [
        f"# {k} real and {k} simulated tiles, {cols} a row, each cropped to its bag; shuffle "
        f"seed {seed}",
        "# row column  set        image",
    ]
    for i, j in enumerate(order):
        kind, name, _ = entries[j]
        r, c = divmod(i, cols)
        key.append(f"r{r + 1} c{c + 1}  {kind:<9}  {name}")
    return grid_sheet([entries[j][2] for j in order], cols), key


PAIRS_REAL = 4  # real tiles on top of the paired sheet, for reference


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    """`tile` with `text` in red in its top left corner."""
    tile = tile.copy()
    cv2.putText(tile, text, (6, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (220, 0, 0), 2, cv2.LINE_AA)
    return tile


def _changed_bags(first: Path, second: Path) -> list[str]:
    """The names of the bags both datasets hold, those the two draw differently (all, when none
    differ): a bag both draw the same says nothing about the change."""
    names = sorted(
        {p.name for p in simulated_images(first)} & {p.name for p in simulated_images(second)}
    )
    if not names:
        raise ValueError(f"{first} and {second} hold no bag of the same name")
    differ = [
        n
        for n in names
        if (first / "images" / n).read_bytes() != (second / "images" / n).read_bytes()
    ]
    return differ or names


def _chosen(
    rng: np.random.Generator, names: list[str], n: int, real: Sequence[Path]
) -> tuple[list[str], list[Path]]:
    """`n` of the bags `names` (in order) and `PAIRS_REAL` of the `real` scans, drawn."""
    chosen = [names[i] for i in sorted(rng.choice(len(names), min(n, len(names)), replace=False))]
    picked = [real[i] for i in rng.choice(len(real), min(PAIRS_REAL, len(real)), replace=False)]
    return chosen, picked


def _fresh_seed() -> int:
    """A seed of its own for each sheet, so that no reader learns a layout."""
    return int(np.random.SeedSequence().entropy % 2**32)


def paired_sheet(
    real: Sequence[Path],
    first: Path,
    second: Path,
    n: int,
    seed: int,
    whole: bool = False,
    changed: bool = False,
) -> tuple[np.ndarray, list[str]]:
    """A sheet for judging a change: `PAIRS_REAL` real tiles, then `n` pairs "A | B" of the same
    bags from the datasets `first` and `second`, sides at random, two pairs a row; and its key.

    The bags are drawn among those the two draw differently (all, when none differ). Each pair
    shows one random quarter of the image, the same in both (with `whole`, the bag; with
    `changed`, the quarter where they differ in the most pixels); the real tiles are random
    quarters of their bags, so no side is told by its framing.
    """
    rng = np.random.default_rng(seed)
    names = _changed_bags(first, second)
    chosen, picked = _chosen(rng, names, n, real)

    def cut(rgb: np.ndarray, quarter: tuple[int, int]) -> np.ndarray:
        if whole:
            return letterbox(crop_to_bag(rgb))
        h, w = rgb.shape[:2]
        qy, qx = quarter
        return letterbox(rgb[qy * h // 2 : (qy + 1) * h // 2, qx * w // 2 : (qx + 1) * w // 2])

    # a real export's frame holds more white than ours: its quarters are taken of its bag
    tiles = [cut(crop_to_bag(load_rgb(path)), tuple(rng.integers(0, 2, 2))) for path in picked]
    tiles += [np.full_like(tiles[0], 255)] * (PAIRS_REAL - len(tiles))
    how = "whole bags" if whole else "one quarter of each bag, the same on both sides"
    if changed and not whole:
        how = "the quarter of each bag where the two differ most"
    key = [
        f"# {len(picked)} real tiles on top, then {len(chosen)} pairs A | B, two a row: {how}; "
        f"seed {seed}",
        f"# first = {first}, second = {second}",
        "# pair  A       B       image",
    ]
    for k, name in enumerate(chosen, start=1):
        quarter = tuple(rng.integers(0, 2, 2))
        images = load_rgb(first / "images" / name), load_rgb(second / "images" / name)
        if changed and not whole:
            quarter = most_changed_quarter(*images)
        pair = [cut(images[0], quarter), cut(images[1], quarter)]
        sides = ["first", "second"]
        if rng.random() < 0.5:
            pair.reverse()
            sides.reverse()
        tiles += [_label(pair[0], f"{k}A"), _label(pair[1], f"{k}B")]
        key.append(f"{k:<5} {sides[0]:<7} {sides[1]:<7} {name}")
    return grid_sheet(tiles, PAIRS_REAL), key


SETS_COLUMNS = 4  # whole bags a row on each sheet of `set_sheets`


def set_sheets(
    real: Sequence[Path], first: Path, second: Path, n: int, seed: int
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Two sheets for judging a change as a whole, "set A" and "set B": each `PAIRS_REAL` real
    bags on top, then the same `n` whole bags in the same order, one sheet from `first` and
    the other from `second` (which is which at random); and the key. Where a pair shows one
    part of one bag, a set shows how often a part recurs from bag to bag.

    The bags are drawn among those the two draw differently (all, when none differ)."""
    rng = np.random.default_rng(seed)
    names = _changed_bags(first, second)
    chosen, picked = _chosen(rng, names, n, real)
    top = [letterbox(crop_to_bag(load_rgb(path))) for path in picked]
    top += [np.full((TILE_H, TILE_W, 3), 255, np.uint8)] * (-len(top) % SETS_COLUMNS)  # a row
    sets = [
        top + [letterbox(crop_to_bag(load_rgb(d / "images" / name))) for name in chosen]
        for d in (first, second)
    ]
    sides = ["first", "second"]
    if rng.random() < 0.5:
        sets.reverse()
        sides.reverse()
    key = [
        f"# {len(picked)} real bags on top, then the same {len(chosen)} bags on both sheets; "
        f"seed {seed}",
        f"# first = {first}, second = {second}",
        f"set A = {sides[0]}",
        f"set B = {sides[1]}",
        *(f"# {name}" for name in chosen),
    ]
    return grid_sheet(sets[0], SETS_COLUMNS), grid_sheet(sets[1], SETS_COLUMNS), key


def most_changed_quarter(a: np.ndarray, b: np.ndarray) -> tuple[int, int]:
    """The quarter (row, column) of two same-sized images where the most pixels differ by more
    than 10 levels in some channel: where a change to a small part shows."""
    if a.shape != b.shape:
        raise ValueError(f"the two versions of a bag differ in size: {a.shape} and {b.shape}")
    h, w = a.shape[:2]
    differ = (np.abs(a.astype(np.int16) - b.astype(np.int16)) > 10).any(axis=-1)
    counts = [
        int(differ[qy * h // 2 : (qy + 1) * h // 2, qx * w // 2 : (qx + 1) * w // 2].sum())
        for qy in (0, 1)
        for qx in (0, 1)
    ]
    best = int(np.argmax(counts))
    return best // 2, best % 2


def pick(n: int, k: int) -> list[int]:
    """`k` indices spread evenly over range(n) (all of them when n ≤ k)."""
    if n <= k:
        return list(range(n))
    return sorted({int(i) for i in np.linspace(0, n - 1, k).round()})


@dataclass
class Measured:
    """One set of images measured: figures, names, the sheets' tiles and the files skipped."""

    images: ImageSet = field(default_factory=ImageSet)
    names: list[str] = field(default_factory=list)
    tiles: list[np.ndarray] = field(default_factory=list)  # letterboxed, for the paired sheet
    blind: list[tuple[str, np.ndarray]] = field(default_factory=list)  # (name, bag-cropped tile)
    skipped: list[str] = field(default_factory=list)


def measure(paths: Sequence[Path], tiles_of: Collection[int], blind: bool = False) -> Measured:
    """Figures of the images at `paths`; sheet tiles of those indexed by `tiles_of`.

    An unreadable image is reported on stderr, noted in `skipped` and left out.
    """
    out = Measured()
    for i, path in enumerate(paths):
        try:
            rgb = load_rgb(path)
        except (OSError, cv2.error) as exc:
            out.skipped.append(f"{path}: {exc}")
            print(f"skipped: {path}: unreadable ({exc})", file=sys.stderr)
            continue
        out.images.add(*measure_image(rgb))
        out.names.append(path.name)
        if i in tiles_of:
            out.tiles.append(letterbox(rgb))
            if blind:
                out.blind.append((path.name, letterbox(crop_to_bag(rgb))))
    return out


def _jsonable(x: Any) -> Any:
    """`x` with tuples as lists, numpy scalars as Python ones and nan or ±inf as None."""
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def report_json(
    args: argparse.Namespace, real: Measured, ours: Measured, gen_s: float | None
) -> dict[str, Any]:
    """Every figure of the run, by name, for machine reading (nan and inf become null)."""
    comparisons = distributions(real.images, ours.images)
    return _jsonable(
        {
            "created_utc": f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}",
            "machine": machine(),
            "python": platform.python_version(),
            "opencv": cv2.__version__,
            "longer_side": SIDE,
            "real": {"source": str(args.real), "images": len(real.names), "skipped": real.skipped},
            "simulated": {
                "source": str(args.data) if args.data else "generated",
                "seed": None if args.data else args.seed,
                "config": None if args.data else args.config,
                "overrides": [] if args.data else list(args.overrides),
                "images": len(ours.names),
                "generation_s": gen_s,
                "skipped": ours.skipped,
            },
            "pooled": {
                "real": pooled_figures(real.images.pooled),
                "simulated": pooled_figures(ours.images.pooled),
                "distances": compare(real.images.pooled, ours.images.pooled),
            },
            "per_image": {
                key: {
                    "label": FIGURES[key],
                    "real": c.real._asdict(),
                    "simulated": c.ours._asdict(),
                    "w1": c.w1,
                }
                for key, c in comparisons.items()
            },
            "targets": [t._asdict() for t in targets(real.images, ours.images)],
            "images": {
                "real": dict(zip(real.names, real.images.figures, strict=True)),
                "simulated": dict(zip(ours.names, ours.images.figures, strict=True)),
            },
        }
    )


def _write_png(path: Path, rgb: np.ndarray) -> bool:
    path.parent.mkdir(parents=True, exist_ok=True)
    return bool(cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)))


def _shrunk(sheet: np.ndarray, width: int) -> np.ndarray:
    """`sheet` scaled down (area-averaged) to `width` px wide; as it is if already narrower."""
    h, w = sheet.shape[:2]
    if w <= width:
        return sheet
    return cv2.resize(sheet, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)


def _write_keyed(beside: Path, kind: str, sheets: dict[str, np.ndarray], key: list[str]) -> bool:
    """Write each of `sheets` as `<beside stem>_<its name>.png` and their key as `<beside
    stem>_<kind>_key.txt`, and say where; False (with the error on stderr) when one cannot be
    written."""
    paths = [beside.with_name(f"{beside.stem}_{name}.png") for name in sheets]
    for path, sheet in zip(paths, sheets.values(), strict=True):
        if not _write_png(path, sheet):
            print(f"error: cannot write the {kind} sheet {path}", file=sys.stderr)
            return False
    key_path = beside.with_name(f"{beside.stem}_{kind}_key.txt")
    try:
        key_path.write_text("\n".join(key) + "\n", encoding="utf-8")
    except OSError as exc:
        print(f"error: cannot write the {kind} key {key_path}: {exc}", file=sys.stderr)
        return False
    label = {"pairs": "paired sheet", "sets": "set sheets"}.get(kind, f"{kind} sheet")
    print(f"{label}: {', '.join(map(str, paths))} (key: {key_path})")
    return True


def _report(
    args: argparse.Namespace,
    real_paths: list[Path],
    listed_missing: list[str],
    data: Path,
    gen_s: float | None,
) -> int:
    sim_paths = simulated_images(data)
    if not sim_paths:
        print(f"error: no simulated images images/bag_NNNNNN.png under {data}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    rows = args.sheet_rows
    real = measure(real_paths, set(pick(len(real_paths), rows)), args.shuffle_sheet)
    real.skipped[:0] = listed_missing
    ours = measure(sim_paths, set(range(rows)), args.shuffle_sheet)
    stats_s = time.perf_counter() - start
    if not real.names or not ours.names:
        print("error: no readable real or no readable simulated image", file=sys.stderr)
        return 2
    pooled_real, pooled_ours = real.images.pooled, ours.images.pooled
    results = targets(real.images, ours.images)

    print(f"# synth_realism — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"# {machine()}; Python {platform.python_version()}, OpenCV {cv2.__version__}")
    skipped = f" ({len(real.skipped)} skipped)" if real.skipped else ""
    print(f"# real: {len(real.names)} images from {args.real}{skipped}")
    source = f"from {data}" if args.data else f"generated, seed {args.seed}{_settings(args)}"
    skipped = f" ({len(ours.skipped)} skipped)" if ours.skipped else ""
    print(f"# simulated: {len(ours.names)} images {source}{skipped}")
    if gen_s is not None:
        print(
            f"# generation: {gen_s:.1f} s for {args.n} bags with {args.workers} worker(s) "
            f"({gen_s / max(args.n, 1):.2f} s/bag)"
        )
    n_images = len(real.names) + len(ours.names)
    print(
        f"# statistics: {stats_s:.1f} s for {n_images} images, "
        f"each resized to a longer side of {SIDE} px"
    )
    print()
    print("## Pooled over all images")
    print()
    print(summary_table(pooled_real, pooled_ours, compare(pooled_real, pooled_ours)))
    print()
    print("## Per image")
    print()
    print(distribution_table(distributions(real.images, ours.images)))
    print()
    print(f"## Targets: {sum(t.ok for t in results)} of {len(results)} met")
    print()
    print(targets_table(results))
    print()

    if not _write_png(args.sheet, contact_sheet(real.tiles, ours.tiles)):
        print(f"error: cannot write the contact sheet {args.sheet}", file=sys.stderr)
        return 1
    print(f"contact sheet: {args.sheet}")
    if args.shuffle_sheet:
        seed = _fresh_seed() if args.shuffle_seed is None else args.shuffle_seed
        sheet, key = blind_sheet(real.blind, ours.blind, seed)
        sheets = {"blind": sheet, "glance": _shrunk(sheet, GLANCE_WIDTH)}
        if not _write_keyed(args.sheet, "blind", sheets, key):
            return 1
    if args.pairs_with is not None:
        seed = _fresh_seed()
        try:
            sheet, key = paired_sheet(
                real_paths,
                data,
                args.pairs_with,
                args.pairs,
                seed,
                args.pairs_whole,
                args.pairs_changed,
            )
        except (OSError, ValueError) as exc:
            print(f"error: cannot make the paired sheet: {exc}", file=sys.stderr)
            return 2
        if not _write_keyed(args.sheet, "pairs", {"pairs": sheet}, key):
            return 1
    if args.sets_with is not None:
        seed = _fresh_seed()
        try:
            set_a, set_b, key = set_sheets(real_paths, data, args.sets_with, args.sets, seed)
        except (OSError, ValueError) as exc:
            print(f"error: cannot make the set sheets: {exc}", file=sys.stderr)
            return 2
        if not _write_keyed(args.sheet, "sets", {"setA": set_a, "setB": set_b}, key):
            return 1
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(report_json(args, real, ours, gen_s), indent=1, ensure_ascii=False)
        args.json.write_text(text + "\n", encoding="utf-8")
        print(f"figures: {args.json}")
    return 0


def _settings(args: argparse.Namespace) -> str:
    """How the generated bags depart from the defaults, for the report's header."""
    changes = ([f"config {args.config}"] if args.config else []) + list(args.overrides)
    return f", {', '.join(changes)}" if changes else ", the defaults"


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, generate (or read) simulated bags, print the figures, write the sheets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=24, help="simulated bags to generate")
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulated dataset")
    parser.add_argument("--workers", type=int, default=2, help="generator worker processes")
    parser.add_argument("--data", type=Path, help="existing simulated dataset (skips generation)")
    parser.add_argument(
        "--config", help="the generated bags' synth config YAML (configs/synth/); default: defaults"
    )
    parser.add_argument(
        "overrides",
        nargs="*",
        metavar="KEY=VALUE",
        help="dotted overrides of the generated bags' config, e.g. bag.max_objects=0",
    )
    parser.add_argument(
        "--real",
        type=Path,
        default=REAL_DEFAULT,
        help="real scans: a folder, or a list file of names (looked up beside it or in its "
        "sixray_benign/ sibling)",
    )
    parser.add_argument("--sheet", type=Path, default=SHEET_DEFAULT, help="contact sheet PNG")
    parser.add_argument(
        "--sheet-rows", type=int, default=24, help="[real | simulated] rows on the contact sheet"
    )
    parser.add_argument(
        "--shuffle-sheet",
        action="store_true",
        help="also write a blind sheet (<sheet>_blind.png, shuffled, unlabelled), the same "
        f"{GLANCE_WIDTH} px wide (<sheet>_glance.png) and their key (<sheet>_blind_key.txt)",
    )
    parser.add_argument("--json", type=Path, help="write every figure to this JSON file")
    parser.add_argument(
        "--pairs-with",
        type=Path,
        help="a second simulated dataset of the same seed: also write a paired sheet "
        "(<sheet>_pairs.png, A | B of the same bags, sides random) and its key",
    )
    parser.add_argument("--pairs", type=int, default=6, help="pairs on the paired sheet")
    parser.add_argument(
        "--sets-with",
        type=Path,
        help="a second simulated dataset of the same seed: also write two sheets of the same "
        "whole bags, one from each (<sheet>_setA.png, <sheet>_setB.png, which is which at "
        "random), and their key (<sheet>_sets_key.txt)",
    )
    parser.add_argument("--sets", type=int, default=12, help="bags on each set sheet")
    parser.add_argument(
        "--shuffle-seed",
        type=int,
        default=None,
        help="the blind sheet's shuffle (its key's header names it; default: a fresh one): the "
        "same seed and bag names give the same layout, to show two versions of one sheet",
    )
    framing = parser.add_mutually_exclusive_group()
    framing.add_argument(
        "--pairs-whole", action="store_true", help="whole bags on the paired sheet, not quarters"
    )
    framing.add_argument(
        "--pairs-changed",
        action="store_true",
        help="on the paired sheet, the quarter of each bag where the two differ most",
    )
    args = parser.parse_intermixed_args(argv)  # KEY=VALUE before, between or after options
    if args.n < 1:
        parser.error("--n must be at least 1")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.sheet_rows < 1:
        parser.error("--sheet-rows must be at least 1")
    if args.pairs < 1:
        parser.error("--pairs must be at least 1")
    if args.sets < 1:
        parser.error("--sets must be at least 1")
    if args.shuffle_seed is not None and args.shuffle_seed < 0:
        parser.error("--shuffle-seed must be 0 or more")
    if args.shuffle_seed is not None and not args.shuffle_sheet:
        parser.error("--shuffle-seed lays out the blind sheet: give --shuffle-sheet too")
    if args.data is not None and (args.config is not None or args.overrides):
        parser.error("--config and KEY=VALUE change the bags generated, not those of --data")
    for second in (args.pairs_with, args.sets_with):
        if second is not None and not second.is_dir():
            print(f"error: second simulated dataset not found: {second}", file=sys.stderr)
            return 2

    if not args.real.exists():
        print(
            f"error: real scans not found: {args.real} (give a folder or a list file with --real)",
            file=sys.stderr,
        )
        return 2
    try:
        real_paths, missing = real_scans(args.real)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read the list of real scans {args.real}: {exc}", file=sys.stderr)
        return 2
    for note in missing:
        print(f"skipped: {note}", file=sys.stderr)
    if not real_paths:
        print(f"error: no real scans (*.jpg, *.png) in {args.real}", file=sys.stderr)
        return 2
    if args.data is not None:
        if not args.data.is_dir():
            print(f"error: simulated dataset not found: {args.data}", file=sys.stderr)
            return 2
        return _report(args, real_paths, missing, args.data, None)

    from engine.config import ConfigError, load_config  # the simulator only when generating
    from engine.synth.dataset import SynthConfig, write_dataset

    try:
        config = load_config(SynthConfig, args.config, args.overrides)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="synth_realism_") as tmp:
        start = time.perf_counter()
        write_dataset(tmp, args.n, args.seed, config=config, workers=args.workers, progress=False)
        gen_s = time.perf_counter() - start
        return _report(args, real_paths, missing, Path(tmp), gen_s)


if __name__ == "__main__":
    sys.exit(main())
