"""Realism statistics: pixel classes, pooling, per-image figures, targets, and the benchmark."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.synth.realism import (
    BACKGROUND_SHARE_TOLERANCE,
    CLASS_TV_MAX,
    CLASSES,
    EDGE_RATIO_RANGE,
    FIGURES,
    ImageSet,
    ImageStats,
    bag_box,
    compare,
    distribution_table,
    distributions,
    image_figures,
    image_set,
    image_statistics,
    measure_image,
    pool,
    spread,
    summary_table,
    targets,
    targets_table,
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


def test_resizes_to_a_longer_side_of_640():
    assert image_statistics(solid(ORANGE, h=300, w=200)).pixels == 427 * 640
    assert image_statistics(solid(ORANGE, h=100, w=1280)).pixels == 640 * 50


def test_identical_statistics_are_at_zero_distance():
    st = image_statistics(busy(1))
    d = compare(st, st)
    assert d["hue_js"] == pytest.approx(0.0, abs=1e-12)
    assert d["class_tv"] == 0.0
    assert d["saturation_w1"] == pytest.approx(0.0, abs=1e-12)
    assert d["brightness_w1"] == pytest.approx(0.0, abs=1e-12)
    assert d["content_edge_density_ratio"] == 1.0
    assert d["content_share_diff"] == 0.0


def test_colour_by_brightness_tells_dark_green_from_pale_green():
    """The class shares alike, the joint (brightness band, class) distance is not: dark green
    against pale green is all the way apart."""
    dark, pale = image_statistics(solid((20, 110, 20))), image_statistics(solid((150, 240, 150)))
    d = compare(dark, pale)
    assert d["class_tv"] == 0.0
    assert d["class_brightness_tv"] == pytest.approx(1.0)
    assert compare(dark, dark)["class_brightness_tv"] == 0.0
    green = CLASSES.index("green")
    assert dark.class_by_brightness[:, green].sum() == dark.content_pixels
    assert pool([dark, pale]).class_by_brightness.sum() == 2 * dark.content_pixels


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
    a, b = busy(2, h=320), quadrants(h=320)
    # one above the other: both 640 wide, the pair 640 tall, so none is resized
    _assert_pooled_equal(
        pool([image_statistics(a), image_statistics(b)]),
        image_statistics(np.vstack([a, b])),
        seam=640,
    )
    # side by side: the halves counted at a longer side of 480, the pair at the default 640
    a, b = busy(3, w=320), busy(4, w=320)
    _assert_pooled_equal(
        pool([image_statistics(a, side=480), image_statistics(b, side=480)]),
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


def test_portrait_and_landscape_images_are_counted_at_one_longer_side():
    """A portrait export and the same bag turned to landscape count alike: each is resized so
    its longer side is 640 (a portrait one resized to 640 wide was counted at 1.3× the pitch)."""
    landscape = busy(8, h=600, w=800)
    portrait = np.ascontiguousarray(np.rot90(landscape))
    st_l, st_p = image_statistics(landscape), image_statistics(portrait)
    assert st_l.pixels == st_p.pixels == 640 * 480
    np.testing.assert_allclose(shares(st_l), shares(st_p), atol=1e-3)
    assert st_l.edge_density == pytest.approx(st_p.edge_density, rel=0.02)


def test_summary_table_lists_every_statistic():
    real, ours = image_statistics(busy(6)), image_statistics(busy(7))
    table = summary_table(real, ours, compare(real, ours))
    lines = table.splitlines()
    assert lines[0].startswith("| statistic | real | simulated | distance |")
    for c in CLASSES:
        assert f"| {c} share |" in table
    for key in (
        "hue_js",
        "class_tv",
        "saturation_w1",
        "brightness_w1",
        "content_edge_density_ratio",
    ):
        assert key in table
    assert all(line.count("|") == 5 for line in lines)


def test_the_dark_tail_counts_content_pixels_below_each_brightness():
    # 100 content pixels at V ≈ 0.25 (dark grey-orange), 300 at V ≈ 0.7, the rest white
    rgb = np.full((20, 40, 3), 255, np.uint8)
    rgb.reshape(-1, 3)[:100] = (64, 40, 16)
    rgb.reshape(-1, 3)[100:400] = (178, 120, 40)
    st = image_statistics(rgb, side=40)
    assert st.darker_than(0.2) == 0.0
    assert st.darker_than(0.3) == pytest.approx(0.25)
    assert st.darker_than(0.8) == pytest.approx(1.0)
    assert "content darker than V 0.2 / 0.3 / 0.4 / 0.5" in summary_table(st, st, compare(st, st))


# --- per-image figures ------------------------------------------------------------------------

WHITE = (255, 255, 255)
DENSE_BLUE = (20, 40, 120)  # V ≈ 0.47: below ITEM_V, a dense item
N_PIXELS = 640 * 480


def test_half_white_image_has_background_share_one_half_and_a_half_height_bag():
    img = solid(WHITE)
    img[240:] = ORANGE
    fig = image_figures(img)
    assert fig["white_share"] == 0.5 and fig["orange_share"] == 0.5
    assert fig["bag_width"] == 1.0 and fig["bag_height"] == 0.5 and fig["bag_area"] == 0.5
    assert fig["item_count"] == 0 and math.isnan(fig["item_area_median"])


def test_the_bag_is_the_largest_closed_region_and_its_box_is_in_image_shares():
    img = solid(WHITE)
    img[60:300, 100:400] = ORANGE
    img[60:300, 250:252] = WHITE  # a 2-px seam: the closing joins the halves into one bag
    img[10:13, 600:603] = BLUE  # a speck away from the bag: not the bag
    fig = image_figures(img)
    assert fig["bag_width"] == pytest.approx(300 / 640)
    assert fig["bag_height"] == pytest.approx(240 / 480)
    assert fig["bag_area"] == pytest.approx(300 * 240 / N_PIXELS)
    assert bag_box(img) == (100, 60, 400, 300)


def test_bag_box_is_given_in_the_images_own_pixels():
    img = solid(WHITE, h=960, w=1280)
    img[120:600, 200:800] = ORANGE
    assert bag_box(img) == (200, 120, 800, 600)
    assert image_figures(img)["bag_width"] == pytest.approx(600 / 1280)
    assert bag_box(solid(WHITE)) is None
    assert image_figures(solid(WHITE))["bag_area"] == 0.0


def test_items_are_dense_blobs_with_plain_and_pixel_weighted_median_areas():
    img = solid(WHITE)
    img[40:440, 40:600] = ORANGE  # the bag: bright, not dense
    img[100:140, 100:140] = DENSE_BLUE  # 1,600 px
    img[200:260, 300:380] = DENSE_BLUE  # 4,800 px
    img[400:403, 500:503] = DENSE_BLUE  # 9 px: a speck, under MIN_ITEM_SHARE
    fig = image_figures(img)
    assert fig["item_count"] == 2
    assert fig["item_area_median"] == pytest.approx((1600 + 4800) / 2 / N_PIXELS)
    assert fig["item_area_pixel_median"] == pytest.approx(4800 / N_PIXELS)


def test_packing_figures_give_the_bag_s_dense_share_and_its_clear_blocks():
    """Dense pixels (V < 0.6) as a share of the bag alone, not of the image; blocks of 32 px,
    a grid from the bag's box's corner, wholly inside the bag count as clear under 5 % dense.
    A gap inside the bag is a place its packing left empty: counted in, dense nowhere."""
    img = solid(WHITE)
    img[32:448, 64:576] = ORANGE  # 416 × 512 px: 13 × 16 whole blocks
    img[64:128, 64:192] = DENSE_BLUE  # 2 × 4 blocks wholly dense
    img[320:322, 320:352] = DENSE_BLUE  # 64 px: 1/16 of one block, over 5 %: not clear
    img[400:401, 448:480] = DENSE_BLUE  # 32 px: 1/32 of another, under 5 %: still clear
    fig = image_figures(img)
    assert fig["dense_share"] == pytest.approx((8 * 1024 + 64 + 32) / (416 * 512))
    assert fig["clear_block_share"] == pytest.approx((13 * 16 - 8 - 1) / (13 * 16))
    off = solid(WHITE)
    off[16:464, 16:624] = ORANGE  # off the image's 32-px grid: 14 × 19 blocks from its corner
    off[100:200, 300:400] = WHITE  # a gap in the packing, wider than the bag's closing
    off[16:464, 16:32] = DENSE_BLUE  # half of each block of the first column
    fig = image_figures(off)
    assert fig["dense_share"] == pytest.approx(16 / 608)
    assert fig["clear_block_share"] == pytest.approx((14 * 19 - 14) / (14 * 19))
    blank = image_figures(solid(WHITE))
    assert math.isnan(blank["dense_share"]) and math.isnan(blank["clear_block_share"])


def test_edges_are_counted_by_depth_into_the_bag_rim_and_core():
    """A bag with stripes only along its walls has edges in its rim and none in its core; the
    same stripes in the middle give the reverse. No bag: neither figure."""
    walls, middle, plain = solid(WHITE), solid(WHITE), solid(WHITE)
    for img in (walls, middle, plain):
        img[40:440, 40:600] = ORANGE  # the bag: 400 px high, so its deepest pixel is 200 in
    for x in range(50, 590, 8):  # dark stripes 3 px wide, every 8 px
        walls[45:85, x : x + 3] = DENSE_BLUE  # within 45 px of the top wall: its rim
    for x in range(250, 390, 8):
        middle[220:260, x : x + 3] = DENSE_BLUE  # 180 px or more from every wall: its core
    fig = image_figures(walls)
    assert fig["edge_density_rim"] > 0.05 and fig["edge_density_core"] == 0.0
    fig, bare = image_figures(middle), image_figures(plain)
    assert fig["edge_density_core"] > 0.01 and bare["edge_density_core"] == 0.0
    assert fig["edge_density_rim"] == bare["edge_density_rim"] > 0  # the bag's outline alone
    empty = image_figures(solid(WHITE))
    assert math.isnan(empty["edge_density_rim"]) and math.isnan(empty["edge_density_core"])


def test_mean_hue_is_circular_and_none_without_coloured_pixels():
    img = solid((230, 46, 76))  # hue 350°
    img[:, 320:] = (230, 76, 46)  # hue 10°
    fig = image_figures(img)
    assert fig["hue_mean"] == pytest.approx(0.0, abs=0.5)  # not 180°
    assert fig["hue_variance"] == pytest.approx(1 - math.cos(math.radians(10)), abs=1e-3)
    orange = image_figures(solid(ORANGE))
    assert orange["hue_mean"] == pytest.approx(31.6, abs=0.1)
    assert orange["hue_variance"] == pytest.approx(0.0, abs=1e-6)
    assert math.isnan(image_figures(solid(WHITE))["hue_mean"])


def test_measure_image_gives_every_figure_and_the_same_counts_as_image_statistics():
    img = busy(11)
    stats, fig = measure_image(img)
    assert set(fig) == set(FIGURES)
    whole = image_statistics(img)
    np.testing.assert_array_equal(stats.class_counts, whole.class_counts)
    assert stats.edge_pixels == whole.edge_pixels
    assert fig["edge_density"] == whole.edge_density
    assert fig["saturation_mean"] == pytest.approx(whole.mean_saturation)


def test_distributions_give_spreads_and_the_wasserstein_distance():
    low, high = solid(WHITE), solid(WHITE)
    high[240:] = ORANGE
    real, ours = image_set([low, low, low]), image_set([high, high])
    comparisons = distributions(real, ours)
    white = comparisons["white_share"]
    assert white.real.median == 1.0 and white.real.n == 3
    assert white.ours.median == white.ours.p10 == white.ours.p90 == 0.5
    assert white.w1 == pytest.approx(0.5)
    assert comparisons["hue_mean"].real.n == 0 and math.isnan(comparisons["hue_mean"].w1)
    assert spread(np.array([0.0, 1.0, 2.0, 3.0, 4.0])) == (2.0, 0.4, 3.6, 5)
    table = distribution_table(comparisons)
    assert all(line.count("|") == 5 for line in table.splitlines())
    assert "| white (background) share | 1 [1–1] | 0.5 [0.5–0.5] | 0.5 |" in table


def _set(
    white: float, edges: float, orange: float | None = None, median_white: float | None = None
) -> ImageSet:
    """An `ImageSet` of 1,000 pooled pixels with the given shares, and one per-image figure."""
    orange = 1 - white if orange is None else orange
    counts = np.zeros(len(CLASSES), np.int64)
    counts[CLASSES.index("white")] = round(1000 * white)
    counts[CLASSES.index("orange")] = round(1000 * orange)
    counts[CLASSES.index("blue")] = 1000 - counts.sum()
    pooled = ImageStats(images=1, pixels=1000, class_counts=counts, edge_pixels=round(1000 * edges))
    per_image = white if median_white is None else median_white
    return ImageSet(pooled, [{"white_share": per_image}])


def test_targets_pass_within_their_goals_and_fail_outside():
    real = _set(0.30, 0.10)
    assert [t.ok for t in targets(real, real)] == [True] * 4
    assert [t.ok for t in targets(real, _set(0.34, 0.105))] == [True] * 4

    background, median, tv, edges = targets(real, _set(0.36, 0.10, median_white=0.32))
    assert not background.ok and background.value == pytest.approx(0.06)
    assert median.ok and median.value == pytest.approx(0.02)
    assert tv.ok and tv.value == pytest.approx(0.06)  # white up 0.06, orange down 0.06
    assert edges.ok and edges.value == pytest.approx(1.0)

    background, median, tv, edges = targets(real, _set(0.30, 0.115, orange=0.60))
    assert background.ok and median.ok
    assert not tv.ok and tv.value == pytest.approx(0.10)  # 0.10 of orange became blue
    assert not edges.ok and edges.value == pytest.approx(1.15)
    assert not targets(real, _set(0.30, 0.089))[3].ok
    assert targets(real, _set(0.30, 0.091))[3].ok


def test_targets_goal_constants_and_a_nan_value_fails():
    assert (BACKGROUND_SHARE_TOLERANCE, CLASS_TV_MAX, EDGE_RATIO_RANGE) == (0.05, 0.08, (0.9, 1.1))
    real = _set(0.30, 0.10)
    no_figures = ImageSet(real.pooled, [{"white_share": math.nan}])
    median = targets(real, no_figures)[1]
    assert math.isnan(median.value) and not median.ok
    table = targets_table(targets(real, no_figures))
    assert table.count("PASS") == 3 and table.count("FAIL") == 1


# --- the benchmark script ---------------------------------------------------------------------


def _benchmark():
    """The benchmark script as a module, registered so that its dataclasses resolve."""
    name = "synth_realism_bench"
    if name not in sys.modules:
        path = REPO / "benchmarks" / "synth_realism.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


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


def test_read_list_looks_beside_it_then_in_sixray_benign_and_notes_a_bad_line(tmp_path):
    bench = _benchmark()
    _write_png(tmp_path / "a.png", busy(12, h=60, w=80))
    _write_png(tmp_path / "sixray_benign" / "b.png", busy(13, h=60, w=80))
    listing = tmp_path / "list.txt"
    listing.write_text("# real backgrounds\na.png\n\n  b.png  \nmissing.jpg\n", encoding="utf-8")
    found, missing = bench.read_list(listing)
    assert found == [tmp_path / "a.png", tmp_path / "sixray_benign" / "b.png"]
    assert len(missing) == 1 and missing[0].startswith("missing.jpg: not found")
    assert bench.real_scans(tmp_path) == ([tmp_path / "a.png"], [])  # a folder: its scans


def test_benchmark_with_a_list_skips_bad_entries_and_writes_json_and_a_blind_sheet(
    tmp_path, capsys
):
    bench = _benchmark()
    real = tmp_path / "lists"
    for i, name in enumerate(("r0.png", "r1.png", "r2.png")):
        _write_png(real / "sixray_benign" / name, busy(20 + i, h=200, w=150))
    (real / "sixray_benign" / "broken.jpg").write_bytes(b"not a JPEG")
    listing = real / "backgrounds.txt"
    listing.write_text("r0.png\nr1.png\nbroken.jpg\ngone.jpg\nr2.png\n", encoding="utf-8")
    data = tmp_path / "synth"
    for i in range(2):
        _write_png(data / "images" / f"bag_00000{i}.png", busy(30 + i))
    sheet, figures = tmp_path / "out" / "sheet.png", tmp_path / "out" / "figures.json"
    argv = ["--data", str(data), "--real", str(listing), "--sheet", str(sheet)]
    rc = bench.main([*argv, "--sheet-rows", "2", "--shuffle-sheet", "--json", str(figures)])
    captured = capsys.readouterr()
    assert rc == 0
    skipped = [line for line in captured.err.splitlines() if line.startswith("skipped:")]
    assert len(skipped) == 2
    assert any("gone.jpg" in s for s in skipped) and any("broken.jpg" in s for s in skipped)
    out = captured.out
    assert "real: 3 images" in out and "(2 skipped)" in out
    assert "| per-image figure | real median [10–90 %] |" in out and "## Targets:" in out
    assert cv2.imread(str(sheet)).shape == _sheet_shape(bench, 2)

    blind = cv2.imread(str(tmp_path / "out" / "sheet_blind.png"))
    assert blind.shape == (
        bench.GAP + bench.TILE_H + bench.GAP,
        bench.GAP + 4 * (bench.TILE_W + bench.GAP),
        3,
    )
    glance = cv2.imread(str(tmp_path / "out" / "sheet_glance.png"))  # the same, shrunk
    assert glance.shape[1] == min(blind.shape[1], bench.GLANCE_WIDTH)
    assert abs(glance.shape[0] / glance.shape[1] - blind.shape[0] / blind.shape[1]) < 0.01
    small = cv2.resize(blind, glance.shape[1::-1], interpolation=cv2.INTER_AREA)
    assert np.abs(glance.astype(int) - small).max() <= 1
    narrow = np.zeros((30, 40, 3), np.uint8)
    assert bench._shrunk(narrow, bench.GLANCE_WIDTH) is narrow  # narrower: as it is
    key = (tmp_path / "out" / "sheet_blind_key.txt").read_text(encoding="utf-8").splitlines()
    entries = [line.split() for line in key if not line.startswith("#")]
    assert sorted(e[2] for e in entries) == ["real", "real", "simulated", "simulated"]
    assert {(e[0], e[1]) for e in entries} == {("r1", f"c{c}") for c in range(1, 5)}

    # --shuffle-seed repeats a layout: the same bags drawn by another version, the same places
    other = tmp_path / "other"
    for i in range(2):
        _write_png(other / "images" / f"bag_00000{i}.png", busy(40 + i))
    keys = []
    for folder, name in ((data, "one"), (other, "two")):
        out = tmp_path / name / "sheet.png"
        argv = ["--data", str(folder), "--real", str(listing), "--sheet", str(out)]
        flags = ["--sheet-rows", "2", "--shuffle-sheet", "--shuffle-seed", "7"]
        assert bench.main([*argv, *flags]) == 0
        keys.append((out.parent / "sheet_blind_key.txt").read_text(encoding="utf-8"))
    assert keys[0] == keys[1] and "shuffle seed 7" in keys[0]
    for bad in (["--shuffle-sheet", "--shuffle-seed", "-1"], ["--shuffle-seed", "7"]):
        with pytest.raises(SystemExit):
            bench.main([*argv, *bad])
    capsys.readouterr()

    report = json.loads(figures.read_text(encoding="utf-8"))
    assert report["real"]["images"] == 3 and len(report["real"]["skipped"]) == 2
    assert report["simulated"]["images"] == 2
    assert set(report["per_image"]) == set(FIGURES)
    assert report["per_image"]["white_share"]["real"]["n"] == 3
    assert len(report["targets"]) == 4 and all(isinstance(t["ok"], bool) for t in report["targets"])
    assert set(report["images"]["real"]) == {"r0.png", "r1.png", "r2.png"}
    assert set(report["pooled"]["real"]) >= {"white_share", "edge_density"}


def test_default_real_backgrounds_list_resolves_every_name():
    bench = _benchmark()
    if not bench.REAL_DEFAULT.is_file():
        pytest.skip(f"real background list not found at {bench.REAL_DEFAULT} (dev checkout only)")
    found, missing = bench.read_list(bench.REAL_DEFAULT)
    assert missing == [] and len(found) == 136
    fig = image_figures(bench.load_rgb(found[0]))
    assert fig["bag_area"] > 0.5  # real scans are cropped close around the bag


def test_benchmark_generates_bags_of_the_config_and_overrides_it_is_given(
    tmp_path, real_dir, capsys, monkeypatch
):
    import engine.synth.dataset as dataset

    bench = _benchmark()
    made = {}

    def fake_write(out, n, seed, *, config, workers, progress):  # one bag, and what was asked
        made.update(n=n, seed=seed, config=config)
        _write_png(Path(out) / "images" / "bag_000000.png", busy(11))

    monkeypatch.setattr(dataset, "write_dataset", fake_write)
    config = tmp_path / "few.yaml"
    config.write_text("bag:\n  clutter: [3, 5]\n", encoding="utf-8")
    figures = tmp_path / "figures.json"
    args = ["--n", "3", "--seed", "5", "--real", str(real_dir), "--sheet", str(tmp_path / "s.png")]
    args += ["--config", str(config), "bag.max_objects=0", "--json", str(figures)]  # intermixed
    assert bench.main(args) == 0
    bag = made["config"].bag
    assert (made["n"], made["seed"], bag.max_objects, bag.clutter) == (3, 5, 0, (3, 5))
    assert f"seed 5, config {config}, bag.max_objects=0" in capsys.readouterr().out
    simulated = json.loads(figures.read_text(encoding="utf-8"))["simulated"]
    assert (simulated["config"], simulated["overrides"]) == (str(config), ["bag.max_objects=0"])


def test_benchmark_refuses_a_bad_override_and_settings_for_an_existing_dataset(
    tmp_path, real_dir, capsys
):
    bench = _benchmark()
    sheet = ["--real", str(real_dir), "--sheet", str(tmp_path / "s.png")]
    assert bench.main([*sheet, "bag.no_such_setting=1"]) == 2
    assert "no_such_setting" in capsys.readouterr().err
    assert not (tmp_path / "s.png").exists()
    with pytest.raises(SystemExit) as exit_info:
        bench.main([*sheet, "--data", str(tmp_path), "bag.max_objects=0"])
    assert exit_info.value.code == 2
    assert "not those of --data" in capsys.readouterr().err


@pytest.mark.slow
def test_benchmark_generates_bags_and_writes_the_sheet(tmp_path, real_dir, capsys):
    bench = _benchmark()
    sheet = tmp_path / "sheet.png"
    rc = bench.main(["--n", "2", "--workers", "1", "--sheet", str(sheet), "--real", str(real_dir)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "generation:" in out and "simulated: 2 images" in out
    assert cv2.imread(str(sheet)).shape == _sheet_shape(bench, 2)


def test_benchmark_writes_a_paired_sheet_of_the_same_bags_with_its_key(tmp_path, real_dir, capsys):
    """`--pairs-with`: real tiles on top, then pairs A | B of the same bags from both datasets,
    two a row, each side named in the key; a second dataset missing or of other bags is an
    error (exit 2)."""
    bench = _benchmark()
    first, second = tmp_path / "v1", tmp_path / "v2"
    for i in range(3):
        _write_png(first / "images" / f"bag_00000{i}.png", busy(40 + i))
        _write_png(second / "images" / f"bag_00000{i}.png", busy(50 + i))
    sheet = tmp_path / "out" / "sheet.png"
    argv = ["--data", str(first), "--real", str(real_dir), "--sheet", str(sheet)]
    assert bench.main([*argv, "--pairs-with", str(second), "--pairs", "3"]) == 0
    assert "paired sheet:" in capsys.readouterr().out
    rows = 1 + 2  # the real tiles, then two pairs a row
    shape = (
        bench.GAP + rows * (bench.TILE_H + bench.GAP),
        bench.GAP + 4 * (bench.TILE_W + bench.GAP),
    )
    assert cv2.imread(str(tmp_path / "out" / "sheet_pairs.png")).shape[:2] == shape
    key = (tmp_path / "out" / "sheet_pairs_key.txt").read_text(encoding="utf-8").splitlines()
    pairs = [line.split() for line in key if not line.startswith("#")]
    assert [p[0] for p in pairs] == ["1", "2", "3"]
    assert all(sorted(p[1:3]) == ["first", "second"] for p in pairs)
    assert sorted(p[3] for p in pairs) == [f"bag_00000{i}.png" for i in range(3)]

    _write_png(second / "images" / "bag_000001.png", busy(41))  # drawn the same: left out
    assert bench.main([*argv, "--pairs-with", str(second), "--pairs", "3"]) == 0
    key = (tmp_path / "out" / "sheet_pairs_key.txt").read_text(encoding="utf-8").splitlines()
    assert sorted(line.split()[3] for line in key if not line.startswith("#")) == [
        "bag_000000.png",
        "bag_000002.png",
    ]

    other = tmp_path / "other"
    _write_png(other / "images" / "bag_000009.png", busy(60))
    assert bench.main([*argv, "--pairs-with", str(other)]) == 2
    assert "no bag of the same name" in capsys.readouterr().err
    assert bench.main([*argv, "--pairs-with", str(tmp_path / "missing")]) == 2
    assert "not found" in capsys.readouterr().err


def test_benchmark_writes_two_set_sheets_of_the_same_whole_bags_with_their_key(
    tmp_path, real_dir, capsys
):
    """`--sets-with`: two sheets, each the real bags on top and then the same whole bags in the
    same order, one sheet from each dataset, which is which in the key; bags both draw the same
    are left out, and a second dataset of other bags is an error (exit 2)."""
    bench = _benchmark()
    first, second = tmp_path / "v1", tmp_path / "v2"
    for i in range(3):
        _write_png(first / "images" / f"bag_00000{i}.png", busy(40 + i))
        _write_png(second / "images" / f"bag_00000{i}.png", busy(50 + i))
    _write_png(second / "images" / "bag_000001.png", busy(41))  # drawn the same: left out
    sheet = tmp_path / "out" / "sheet.png"
    argv = ["--data", str(first), "--real", str(real_dir), "--sheet", str(sheet)]
    assert bench.main([*argv, "--sets-with", str(second), "--sets", "5"]) == 0
    assert "set sheets:" in capsys.readouterr().out
    key = (tmp_path / "out" / "sheet_sets_key.txt").read_text(encoding="utf-8").splitlines()
    sides = dict(line.split(" = ") for line in key if line.startswith("set "))
    assert sorted(sides.values()) == ["first", "second"]
    assert [line[2:] for line in key if line.startswith("# bag_")] == [
        "bag_000000.png",
        "bag_000002.png",
    ]
    shape = (  # a row of real bags, then the two bags, four a row
        bench.GAP + 2 * (bench.TILE_H + bench.GAP),
        bench.GAP + 4 * (bench.TILE_W + bench.GAP),
    )
    sheets = {s: bench.load_rgb(tmp_path / "out" / f"sheet_set{s}.png") for s in "AB"}
    assert all(sheet.shape[:2] == shape for sheet in sheets.values())
    y, x = bench.GAP + bench.TILE_H + bench.GAP, bench.GAP  # the first bag on each sheet
    for side, data in sides.items():
        tile = sheets[side[-1]][y : y + bench.TILE_H, x : x + bench.TILE_W]
        shown = bench.letterbox(bench.crop_to_bag(bench.load_rgb(
            (first if data == "first" else second) / "images" / "bag_000000.png")))  # fmt: skip
        assert np.abs(tile.astype(int) - shown.astype(int)).max() <= 2  # PNG round trip
    real_rows = [s[: bench.GAP + bench.TILE_H] for s in sheets.values()]
    np.testing.assert_array_equal(*real_rows)  # the same real bags on both
    expected = [
        bench.letterbox(bench.crop_to_bag(bench.load_rgb(real_dir / f"{n}.png"))) for n in "ab"
    ]
    top = [
        real_rows[0][bench.GAP :, x : x + bench.TILE_W]
        for x in range(bench.GAP, 4 * (bench.TILE_W + bench.GAP), bench.TILE_W + bench.GAP)
    ]
    shown = [t for t in top if (t < 250).any()]  # the rest is padding
    assert len(shown) == 2  # both real bags (not the mask beside one), each once
    for tile in shown:
        assert min(np.abs(tile.astype(int) - e.astype(int)).max() for e in expected) <= 2

    other = tmp_path / "other"
    _write_png(other / "images" / "bag_000009.png", busy(60))
    assert bench.main([*argv, "--sets-with", str(other)]) == 2
    assert "no bag of the same name" in capsys.readouterr().err


def test_paired_sheet_can_show_the_quarter_where_the_versions_differ(tmp_path, real_dir):
    """`--pairs-changed`: each pair shows the quarter where the two versions differ in the most
    pixels (a change to the wheels shows, wherever they are); bags of two sizes are an error."""
    bench = _benchmark()
    a = busy(40)
    b = a.copy()
    b[100:140, 500:600] = (20, 90, 200)  # top right: a part drawn differently
    b[300:304, 10:14] = (20, 90, 200)  # a few pixels bottom left
    assert bench.most_changed_quarter(a, b) == (0, 1)  # (row, column)
    assert bench.most_changed_quarter(b, a) == (0, 1)
    with pytest.raises(ValueError, match="differ in size"):
        bench.most_changed_quarter(a, a[:200])

    first, second = tmp_path / "v1", tmp_path / "v2"
    _write_png(first / "images" / "bag_000000.png", a)
    _write_png(second / "images" / "bag_000000.png", b)
    real = sorted(real_dir.iterdir())
    sheet, key = bench.paired_sheet(real, first, second, 1, seed=0, changed=True)
    assert "differ most" in key[0]
    # the pair (second row, first two tiles) is that quarter of each version, letterboxed; the
    # label sits in the tiles' top left corner, so the rest is compared
    y, gap = bench.GAP + bench.TILE_H + bench.GAP, bench.GAP
    shown = [
        sheet[y + 40 : y + bench.TILE_H, x : x + bench.TILE_W]
        for x in (gap, gap + bench.TILE_W + gap)
    ]
    quarters = [bench.letterbox(bench.load_rgb(d / "images" / "bag_000000.png")[:240, 320:])
                for d in (first, second)]  # fmt: skip
    expected = [q[40:] for q in quarters]
    assert any(np.array_equal(shown[0], e) for e in expected)
    assert any(np.array_equal(shown[1], e) for e in expected)
    assert not np.array_equal(shown[0], shown[1])


def test_block_figures_find_the_bright_gaps_a_bag_s_contents_leave():
    """Content blocks of about 4 cm (32 px), averaged over their content pixels: their median
    brightness, and the share brighter than V 0.9 (a gap in the packing). Blocks less than nine
    tenths content do not count, and the background in those that do is not averaged in."""
    pale = (250, 225, 190)  # V 0.98, saturation 0.24: content, not background
    dark = (150, 90, 30)  # V 0.59
    bag = solid(WHITE)
    bag[48:464, 48:592] = dark  # off the block grid: the rim's blocks are partly background
    bag[48:464, 400:592] = pale
    blocks = bag.reshape(15, 32, 20, 32, 3)  # the 32-px grid from the corner
    counted = (blocks != WHITE).any(axis=-1).mean(axis=(1, 3)) >= 0.9
    # wholly pale from x = 416 (column 13); column 12 is half pale, half dark: V 0.78
    pale_share = np.mean([c >= 13 for r in range(15) for c in range(20) if counted[r, c]])
    fig = image_figures(bag)
    assert fig["bright_block_share"] == pytest.approx(pale_share)
    assert 0.3 < pale_share < 0.45  # an uneven split: the median is a dark block's
    assert fig["block_brightness_median"] == pytest.approx(150 / 255, abs=0.01)
    # a bag of V 0.894 whose edge blocks are 29/32 content: averaged with their background
    # (V 1) they would be brighter than 0.9; over their content alone they are not
    edge = solid(WHITE)
    edge[3:477, 3:637] = (228, 190, 150)
    assert image_figures(edge)["bright_block_share"] == 0.0
    assert math.isnan(image_figures(solid(WHITE))["bright_block_share"])


def test_pale_yellow_share_counts_bright_lime_content_only():
    """`pale_yellow_share`: of the content pixels, those coloured, brighter than V 0.88 and of a
    hue between 50 and 90°: a pale lime patch counts, pale orange, dark lime and clear green do
    not; with no content it is nan."""
    bag = solid(WHITE)
    bag[100:400, 100:200] = (240, 250, 170)  # pale lime: hue ~68°, V 0.98, S 0.32
    bag[100:400, 200:300] = (250, 215, 160)  # pale orange: hue ~37°
    bag[100:400, 300:400] = (150, 170, 60)  # dark lime: V 0.67
    bag[100:400, 400:500] = (170, 245, 170)  # pale green: hue 120°
    bag[100:400, 500:600] = (228, 232, 222)  # near grey of a lime hue: background, not content
    assert image_figures(bag)["pale_yellow_share"] == pytest.approx(0.25, abs=0.01)
    assert math.isnan(image_figures(solid(WHITE))["pale_yellow_share"])


def test_class_by_depth_tells_a_green_walled_bag_from_one_green_in_the_middle():
    """`class_by_depth`: the bag's pixels by depth band into it and class, so a bag with green
    walls round orange contents and one with an orange rim round a green middle differ there
    (`class_depth_tv`) while their pooled class shares can be alike."""
    from engine.synth.realism import DEPTH_EDGES, pooled_figures

    def bag(rim: tuple, middle: tuple) -> np.ndarray:
        img = solid((255, 255, 255))
        img[40:440, 60:580] = rim
        img[70:410, 90:550] = middle  # 30 px in: ~15 % of the 200 px to the bag's middle
        return img

    walled, cored = image_statistics(bag(GREEN, ORANGE)), image_statistics(bag(ORANGE, GREEN))
    assert walled.class_by_depth.shape == (len(DEPTH_EDGES) - 1, len(CLASSES))
    assert walled.class_by_depth.sum() == 400 * 520  # every pixel of the bag, none outside
    orange, green = CLASSES.index("orange"), CLASSES.index("green")
    assert walled.class_by_depth[0, green] == walled.class_by_depth[0].sum()  # 0-5 %: the wall
    assert walled.class_by_depth[-1, orange] == walled.class_by_depth[-1].sum()  # the middle
    assert cored.class_by_depth[-1, green] == cored.class_by_depth[-1].sum()
    assert compare(walled, cored)["class_depth_tv"] > 0.9
    assert compare(walled, walled)["class_depth_tv"] == 0
    figures = pooled_figures(pool([walled, cored]))
    assert figures["bag_0_0.05_deep_green_share"] == pytest.approx(0.5, abs=1e-9)
    assert "class by depth into the bag" in summary_table(walled, cored, compare(walled, cored))


def test_orange_by_brightness_and_saturation_tells_vivid_cloth_from_pale_tan():
    """`orange_sv`: orange pixels by brightness and saturation band, so cloth of one hue and
    brightness painted vivid or pale tan differs there (`orange_sv_tv`), not in class shares."""
    from engine.synth.realism import ORANGE_SV_BANDS, pooled_figures

    def bag(saturation: float) -> np.ndarray:
        img = solid((255, 255, 255))
        hsv = np.full((300, 400, 3), (15, round(255 * saturation), round(255 * 0.85)), np.uint8)
        img[90:390, 120:520] = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)  # hue 30°, V 0.85
        return img

    vivid, tan = image_statistics(bag(0.7)), image_statistics(bag(0.35))
    assert vivid.orange_sv.shape == (ORANGE_SV_BANDS, ORANGE_SV_BANDS)
    assert vivid.orange_sv.sum() == vivid.class_counts[CLASSES.index("orange")]
    assert compare(vivid, tan)["class_tv"] == 0  # orange both: the class shares cannot tell
    assert compare(vivid, tan)["orange_sv_tv"] == 1.0
    assert compare(vivid, vivid)["orange_sv_tv"] == 0
    figures = pooled_figures(vivid)
    assert figures["orange_v0.8_0.9_share"] == 1.0
    assert figures["orange_v0.8_0.9_saturation"] == pytest.approx(0.75, abs=0.01)
    assert figures["orange_v0.5_0.6_share"] == 0 and math.isnan(
        figures["orange_v0.5_0.6_saturation"]
    )
    table = summary_table(vivid, tan, compare(vivid, tan))
    assert "orange with V 0.8–0.9: share / mean S | 1.00 / S 0.75 | 1.00 / S 0.35" in table


def test_rim_coherence_tells_streaks_along_the_wall_from_blotches():
    """`rim_coherence`: a bag whose light rim is streaked along its walls scores near 1, the same
    bag grained the same amount in no direction well below; no bag, or too little light rim,
    gives nan."""
    from engine.synth.realism import _bag_distance, _depth_of, _rim_coherence

    bag = np.zeros((240, 320), np.uint8)
    bag[20:220, 20:300] = 1
    depth = _depth_of(_bag_distance(bag))
    inward = cv2.distanceTransform(bag, cv2.DIST_L2, 5)
    streaked = 0.8 + 0.05 * np.sin(inward * (2 * np.pi / 4.0))
    noise = np.random.default_rng(0).standard_normal((60, 80)).astype(np.float32)
    blotches = 0.8 + 0.05 * cv2.resize(noise, (320, 240), interpolation=cv2.INTER_CUBIC)
    along, none = _rim_coherence(streaked * bag, depth), _rim_coherence(blotches * bag, depth)
    assert along > 0.9 and none < 0.7, (along, none)
    assert math.isnan(_rim_coherence(streaked, None))
    assert math.isnan(_rim_coherence(np.full((240, 320), 0.3), depth))  # no light rim


def test_organic_coherence_tells_streaked_orange_from_texture_that_runs_every_way():
    """`organic_coherence`: orange streaked one way at a few pixels scores near 1, blotches of
    the same scale that run every way well under it; the pixel grain is blurred away first, and
    too little orange gives nan. `image_figures` reports it."""
    from engine.synth.realism import _organic_coherence, image_figures

    orange = np.full((200, 200), CLASSES.index("orange"), np.uint8)
    x = np.arange(200, dtype=np.float32)
    streaks = np.tile(0.7 + 0.05 * np.sin(2 * np.pi * x / 9.0), (200, 1))
    rng = np.random.default_rng(3)
    blotches = 0.7 + cv2.GaussianBlur(
        rng.standard_normal((200, 200)).astype(np.float32), (0, 0), 2.0
    )
    grain = 0.02 * rng.standard_normal((200, 200)).astype(np.float32)
    assert _organic_coherence(streaks + grain, orange) > 0.9
    assert _organic_coherence(blotches, orange) < 0.6
    assert math.isnan(_organic_coherence(blotches, np.zeros_like(orange)))

    rgb = np.full((240, 320, 3), 255, np.uint8)
    rgb[40:200, 40:280] = (230, 150, 60)
    assert "organic_coherence" in image_figures(rgb)


def test_organic_grain_measures_the_pixel_scale_grain_of_orange_away_from_its_edges():
    """`organic_grain`: orange grained at the pixel scale scores its grain, smooth orange about
    nothing, however many sharp edges cross it (an inset as far as the blur reaches keeps them
    out); too little orange gives nan. `image_figures` reports it."""
    from engine.synth.realism import _organic_grain, image_figures

    orange = np.full((200, 200), CLASSES.index("orange"), np.uint8)
    smooth = np.full((200, 200), 0.8, np.float32)
    striped = smooth.copy()
    striped[::8] = 0.3  # dark lines 7 px apart: other pixels' edges, not grain
    labels = orange.copy()
    labels[::8] = CLASSES.index("blue")
    noise = np.random.default_rng(1).standard_normal((200, 200)).astype(np.float32)
    grained = smooth + 0.02 * noise
    assert _organic_grain(smooth, orange) == pytest.approx(0.0, abs=1e-6)
    assert _organic_grain(striped, labels) == pytest.approx(0.0, abs=1e-6)
    assert 0.008 < _organic_grain(grained, orange) < 0.02
    assert math.isnan(_organic_grain(grained, np.zeros_like(orange)))

    rng = np.random.default_rng(2)
    rgb = np.full((240, 320, 3), 255, np.uint8)
    rgb[40:200, 40:280] = (230, 150, 60)
    flat = image_figures(rgb)["organic_grain"]
    rgb[40:200, 40:280] = np.clip(rgb[40:200, 40:280] + rng.normal(0, 8, (160, 240, 1)), 0, 255)
    assert image_figures(rgb)["organic_grain"] > flat + 0.005


def test_palette_figures_give_each_band_s_median_hue_and_saturation():
    """`_palette_figures`: a scan whose dark orange is hue 50° and saturation 0.8 and whose blue
    is 200° and 0.7 gives those medians for those bands and nan for the bands it lacks; they
    reach the report as per-image figures."""
    from engine.synth.realism import FIGURES, PALETTE_BANDS, image_figures

    hsv = np.zeros((480, 640, 3), np.float32)  # as measured: not resized, no blended edges
    hsv[...] = (0.0, 0.0, 1.0)  # white air
    hsv[40:240, 40:600] = (50.0, 0.8, 0.6)  # dark orange
    hsv[280:440, 40:600] = (200.0, 0.7, 0.6)  # blue
    rgb = np.clip(cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB) * 255 + 0.5, 0, 255).astype(np.uint8)
    figures = image_figures(rgb)
    assert figures["dark_orange_hue"] == pytest.approx(50.0, abs=1.0)
    assert figures["dark_orange_saturation"] == pytest.approx(0.8, abs=0.02)
    assert figures["blue_hue"] == pytest.approx(200.0, abs=1.0)
    assert figures["blue_saturation"] == pytest.approx(0.7, abs=0.02)
    for band in ("mid_orange", "pale_orange", "green"):
        assert math.isnan(figures[f"{band}_hue"]) and math.isnan(figures[f"{band}_saturation"])
    assert {f"{name}_hue" for name, _, _ in PALETTE_BANDS} <= set(FIGURES)


def test_band_figures_tell_a_bag_s_pale_sides_from_its_pale_ends():
    """`side_band_brightness` and `end_band_brightness`: the mean V 8-40 px inside the bag's
    outline where it runs down the image (its left and right sides) and across it (its ends);
    a pale band inside the sides raises the first alone. No bag: nan."""
    from engine.synth.realism import SIDE, _band_figures, image_figures

    rgb = np.full((SIDE * 3 // 4, SIDE, 3), 255, np.uint8)  # measured at this size as it is
    rgb[40:440, 60:580] = (150, 80, 20)  # a dark orange bag
    even = image_figures(rgb)
    assert even["side_band_brightness"] == pytest.approx(even["end_band_brightness"], abs=0.02)
    pale = rgb.copy()
    for cols in (slice(60, 110), slice(530, 580)):  # its sides' walls, 50 px, pale
        pale[40:440, cols] = (250, 200, 150)
    sided = image_figures(pale)
    assert sided["side_band_brightness"] > even["side_band_brightness"] + 0.2
    assert sided["end_band_brightness"] == pytest.approx(even["end_band_brightness"], abs=0.05)
    turned = image_figures(np.ascontiguousarray(np.transpose(pale, (1, 0, 2))))
    assert turned["end_band_brightness"] > turned["side_band_brightness"] + 0.2
    assert all(math.isnan(v) for v in _band_figures(None, np.zeros((4, 4))).values())
