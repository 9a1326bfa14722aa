"""Realism statistics: pixel classes, hue bins, pooling, distances, and the benchmark end to end."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.synth.realism import (
    CLASSES,
    ImageStats,
    compare,
    image_statistics,
    pool,
    summary_table,
)

REPO = Path(__file__).resolve().parents[2]
ORANGE = (230, 140, 40)  # hue ≈ 31.6°
BLACK, GREY, GREEN, BLUE = (10, 10, 10), (128, 128, 128), (40, 200, 60), (40, 80, 220)


def solid(colour: tuple[int, int, int], h: int = 480, w: int = 640) -> np.ndarray:
    return np.full((h, w, 3), colour, np.uint8)


def quadrants(h: int = 480, w: int = 640) -> np.ndarray:
    img = np.empty((h, w, 3), np.uint8)
    img[: h // 2, : w // 2] = BLACK
    img[: h // 2, w // 2 :] = GREY
    img[h // 2 :, : w // 2] = GREEN
    img[h // 2 :, w // 2 :] = BLUE
    return img


def busy(seed: int, h: int = 480, w: int = 640) -> np.ndarray:
    """White background with random coloured rectangles: every class and plenty of edges."""
    rng = np.random.default_rng(seed)
    img = solid((255, 255, 255), h, w)
    colours = [BLACK, GREY, GREEN, BLUE, ORANGE, (250, 200, 120), (90, 160, 230)]
    for _ in range(30):
        x0, y0 = int(rng.integers(0, w - 20)), int(rng.integers(0, h - 20))
        x1, y1 = x0 + int(rng.integers(10, w // 3)), y0 + int(rng.integers(10, h // 3))
        img[y0:y1, x0:x1] = colours[int(rng.integers(len(colours)))]
    return img


def shares(st: ImageStats) -> np.ndarray:
    return np.array([st.class_shares[c] for c in CLASSES])


def test_all_white_is_white_with_no_content():
    st = image_statistics(solid((255, 255, 255)))
    assert st.class_shares["white"] == 1.0
    assert st.content_share == 0.0
    assert st.hue_hist.sum() == 0 and st.saturation_hist.sum() == 0
    assert st.edge_pixels == 0


def test_pure_orange_is_orange_and_peaks_in_the_30_to_40_degree_bin():
    st = image_statistics(solid(ORANGE))
    assert st.class_shares["orange"] == 1.0
    assert st.content_share == 1.0
    assert int(np.argmax(st.hue_hist)) == 3
    assert st.hue_hist[3] == st.pixels
    assert st.mean_saturation == pytest.approx(190 / 230, abs=1e-3)
    assert st.mean_brightness == pytest.approx(230 / 255, abs=1e-3)


def test_quadrants_are_black_grey_green_blue():
    st = image_statistics(quadrants())
    got = st.class_shares
    for c in ("black", "grey", "green", "blue"):
        assert got[c] == pytest.approx(0.25)
    assert got["white"] == got["orange"] == 0.0
    green_bin, blue_bin = int(127.5 // 10), int(226.7 // 10)
    assert st.hue_hist.sum() == st.hue_hist[green_bin] + st.hue_hist[blue_bin]
    assert st.edge_pixels > 0


def test_resizes_to_width_640():
    st = image_statistics(solid(ORANGE, h=300, w=200))
    assert st.pixels == 640 * 960


def test_identical_statistics_are_at_zero_distance():
    st = image_statistics(busy(1))
    d = compare(st, st)
    assert d["hue_js"] == pytest.approx(0.0, abs=1e-12)
    assert d["class_tv"] == 0.0
    assert d["saturation_w1"] == pytest.approx(0.0, abs=1e-12)
    assert d["brightness_w1"] == pytest.approx(0.0, abs=1e-12)
    assert d["edge_density_ratio"] == 1.0
    assert d["content_share_diff"] == 0.0


def test_white_against_orange_is_at_total_variation_one():
    white, orange = image_statistics(solid((255, 255, 255))), image_statistics(solid(ORANGE))
    d = compare(white, orange)
    assert d["class_tv"] == pytest.approx(1.0)
    assert d["content_share_diff"] == pytest.approx(1.0)
    assert math.isnan(d["hue_js"])  # no coloured pixels on one side: undefined


def test_hue_js_is_one_for_disjoint_hues():
    d = compare(image_statistics(solid(ORANGE)), image_statistics(solid(BLUE)))
    assert d["hue_js"] == pytest.approx(1.0)


def _assert_pooled_equal(pooled: ImageStats, whole: ImageStats, seam: int) -> None:
    assert pooled.images == 2 and whole.images == 1
    assert pooled.pixels == whole.pixels
    np.testing.assert_array_equal(pooled.class_counts, whole.class_counts)
    np.testing.assert_array_equal(pooled.hue_hist, whole.hue_hist)
    np.testing.assert_array_equal(pooled.saturation_hist, whole.saturation_hist)
    np.testing.assert_array_equal(pooled.brightness_hist, whole.brightness_hist)
    assert pooled.mean_saturation == pytest.approx(whole.mean_saturation, rel=1e-6)
    assert pooled.mean_brightness == pytest.approx(whole.mean_brightness, rel=1e-6)
    # the Canny pass over the joined image sees the seam (`seam` px long, edges up to 2 px wide
    # on it), the separate passes do not; elsewhere the edges are the same
    assert abs(pooled.edge_pixels - whole.edge_pixels) <= 2 * seam
    assert abs(pooled.content_edge_pixels - whole.content_edge_pixels) <= 2 * seam


def test_pool_equals_the_images_stacked():
    a, b = busy(2), quadrants()
    # one above the other: both 640 wide, so neither is resized
    _assert_pooled_equal(
        pool([image_statistics(a), image_statistics(b)]),
        image_statistics(np.vstack([a, b])),
        seam=640,
    )
    # side by side: the halves counted at width 320, the 640-wide pair at the default width
    a, b = busy(3, w=320), busy(4, w=320)
    _assert_pooled_equal(
        pool([image_statistics(a, width=320), image_statistics(b, width=320)]),
        image_statistics(np.hstack([a, b])),
        seam=480,
    )


def test_a_1280_wide_image_and_its_640_downscale_agree():
    big = busy(5, h=960, w=1280)
    small = cv2.resize(big, (640, 480), interpolation=cv2.INTER_AREA)
    st_big, st_small = image_statistics(big), image_statistics(small)
    assert st_big.pixels == st_small.pixels == 640 * 480
    np.testing.assert_allclose(shares(st_big), shares(st_small), atol=1e-3)
    assert st_big.edge_density == pytest.approx(st_small.edge_density, rel=0.02)


def test_summary_table_lists_every_statistic():
    real, ours = image_statistics(busy(6)), image_statistics(busy(7))
    table = summary_table(real, ours, compare(real, ours))
    lines = table.splitlines()
    assert lines[0].startswith("| statistic | real | simulated | distance |")
    for c in CLASSES:
        assert f"| {c} share |" in table
    for key in ("hue_js", "class_tv", "saturation_w1", "brightness_w1", "edge_density_ratio"):
        assert key in table
    assert all(line.count("|") == 5 for line in lines)


# --- the benchmark script ---------------------------------------------------------------------


def _benchmark():
    path = REPO / "benchmarks" / "synth_realism.py"
    spec = importlib.util.spec_from_file_location("synth_realism_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write_png(path: Path, rgb: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


@pytest.fixture
def real_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "real"
    _write_png(folder / "a.png", busy(8, h=150, w=200))
    _write_png(folder / "b.png", busy(9, h=240, w=160))
    _write_png(folder / "a_mask.png", solid((0, 0, 0), 150, 200))  # must be left out
    return folder


def _sheet_shape(bench, rows: int) -> tuple[int, int, int]:
    h = bench.HEADER_H + rows * (bench.TILE_H + bench.GAP) + bench.GAP
    return (h, 3 * bench.GAP + 2 * bench.TILE_W, 3)


def test_benchmark_exits_2_without_real_scans(tmp_path, capsys):
    bench = _benchmark()
    assert (
        bench.main(["--real", str(tmp_path / "missing"), "--sheet", str(tmp_path / "s.png")]) == 2
    )
    assert "not found" in capsys.readouterr().err


def test_benchmark_reads_an_existing_dataset(tmp_path, real_dir, capsys):
    bench = _benchmark()
    data = tmp_path / "synth"
    _write_png(data / "images" / "bag_000000.png", busy(10))
    _write_png(data / "images" / "bag_000000_zeff.png", solid((0, 0, 0)))  # must be left out
    sheet = tmp_path / "sheets" / "sheet.png"
    rc = bench.main(["--data", str(data), "--real", str(real_dir), "--sheet", str(sheet)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "real: 2 images" in out and "simulated: 1 images" in out
    assert "| statistic | real | simulated | distance |" in out
    assert cv2.imread(str(sheet)).shape == _sheet_shape(bench, 2)


@pytest.mark.slow
def test_benchmark_generates_bags_and_writes_the_sheet(tmp_path, real_dir, capsys):
    bench = _benchmark()
    sheet = tmp_path / "sheet.png"
    rc = bench.main(["--n", "2", "--workers", "1", "--sheet", str(sheet), "--real", str(real_dir)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "generation:" in out and "simulated: 2 images" in out
    assert cv2.imread(str(sheet)).shape == _sheet_shape(bench, 2)
