"""How close simulated false-colour scans look to real ones: pooled image statistics, distances.

`image_statistics` reduces one false-colour RGB image (resized to a common longer side, so
that scale-dependent figures such as edge density compare at about one pixel pitch: an export
is cropped to its bag, whose length is the longer side, portrait or landscape) to raw counts:
six pixel classes, a hue histogram of the coloured pixels, saturation and brightness histograms
of the content pixels and Canny edge counts. Counts pool by summing (`pool`), so a set of real
scans and a set of simulated ones each become one `ImageStats`; `compare` turns two of them into
distances and `summary_table` into a Markdown table for the benchmark's report.

Pooled means hide spread, so `measure_image` also gives per-image figures (`FIGURES`: class
shares, hue, saturation, brightness, edge densities, the bag's size in the frame and the size of
the dense items in it); an `ImageSet` holds both for one set of images, `distributions` compares
two sets figure by figure (medians, 10–90 % quantiles, Wasserstein-1) and `targets` says which of
the simulator's realism goals a simulated set meets against a real one.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

import cv2
import numpy as np
from scipy.stats import wasserstein_distance

SIDE = 640  # every image is resized so that its longer side is this long before counting
# (until 2026-12-03: its width, which measured the real portrait exports, 77 % of them, at 1.3×
# the pitch of the landscape simulated ones)
CLASSES = ("black", "white", "grey", "orange", "green", "blue")
HUE_BINS = 36  # 10° each over [0, 360)
SV_BINS = 50  # over [0, 1]
BLACK_V = 0.2  # V below: black (too dense to penetrate)
GREY_S = 0.12  # S below: white or grey, not coloured
WHITE_V = 0.85  # V above (and S below GREY_S): white, air and near-air
CANNY_LOW, CANNY_HIGH = 50, 150
HUE_CUT = 300.0  # per-image mean hue is given in [HUE_CUT − 360, HUE_CUT): the cut is in violet,
# which false colour hardly uses, so orange (≈ 30°), green and blue means never wrap
BAG_CLOSE_PX = 5  # square closing of the content mask (at SIDE) before finding the bag
ITEM_V = 0.6  # content pixels with V below: dense item (dark or strongly coloured)
BLOCK_PX = 32  # side (at SIDE) of the blocks of `_block_figures`: about 4 cm of a bag
CLEAR_BLOCK_DENSE = 0.05  # a bag block with a smaller share of dense pixels holds only clothes
BRIGHT_BLOCK_V = 0.9  # a content block brighter than this on average holds almost nothing
# pale yellow-green (`_pale_yellow_share`): coloured content brighter than this, of a hue in
# this range, which real consoles seldom show (thin content is orange, or clearly green)
PALE_YELLOW_V = 0.88
PALE_YELLOW_HUE = (50.0, 90.0)
DARK_V = (0.2, 0.3, 0.4, 0.5)  # the dark tail: share of content pixels darker than each
V_BANDS = 5  # brightness bands of the colour-by-brightness counts, 0.2 wide over [0, 1]
# orange pixels are counted by brightness and saturation in bands this wide (`orange_sv`):
# whether thin cloth is as vivid an orange as in real scans, or a pale tan at the same V
ORANGE_SV_BANDS = 10
ORANGE_V_SHOWN = 0.5  # the summary shows the orange bands from this brightness up
# depth bands into the bag (a pixel's distance from its outline over the deepest one's) of the
# colour-by-depth counts: the outermost two are its walls as a leaning fan shows them
DEPTH_EDGES = (0.0, 0.05, 0.12, 0.25, 0.5, 1.0)
MIN_ITEM_SHARE = 2e-4  # smaller item blobs (≈ 60 px at 640×480) are specks and edges, not items
# the rim's texture (`_rim_coherence`): content this bright in the bag's rim, gradients averaged
# over a Gaussian window of this σ (px at SIDE), and at least this many such pixels
RIM_TEXTURE_V = (0.6, 0.95)
RIM_TEXTURE_SIGMA = 3.0
RIM_TEXTURE_MIN_PX = 500
GRAIN_SIGMA = 1.0  # `_organic_grain`: the blur (px) the grain is measured against, cut at 3 σ
GRAIN_INSET = 3  # px kept clear of other classes (a 7×7 erosion), as far as that blur reaches:
# an edge's own contrast is not grain
GRAIN_MIN_PX = 500
# `_organic_coherence`: V blurred by the first σ (px at SIDE), past the weave's pixel grain, and
# gradients averaged over the second: the orientation of the cloth's texture at 2-8 px
ORGANIC_TEXTURE_SIGMAS = (1.0, 4.0)
# `_palette_figures`: (name, class, V band) of each part of a scan's palette whose median hue and
# saturation it gives; the blue band leaves out the darkest metal, which v2.61 turns teal
PALETTE_BANDS = (
    ("dark_orange", "orange", (0.5, 0.7)),
    ("mid_orange", "orange", (0.7, 0.85)),
    ("pale_orange", "orange", (0.85, 1.01)),
    ("green", "green", (0.5, 0.9)),
    ("blue", "blue", (0.3, 0.9)),
)
PALETTE_MIN_PX = 200
# `_band_figures`: the bag's content from this far to this far (px at SIDE) inside its outline,
# where the outline runs down the image (its sides) or across it (its ends); the outline's
# direction from the gradient of its distance map blurred by this σ (px)
SIDE_BAND_PX = (8, 40)
SIDE_BAND_SIGMA = 3.0

# Realism targets for a simulated set against the real backgrounds (see `targets`).
BACKGROUND_SHARE_TOLERANCE = 0.05  # |simulated − real| white share, pooled and per-image median
CLASS_TV_MAX = 0.08  # total-variation distance of the pooled six class shares
EDGE_RATIO_RANGE = (0.9, 1.1)  # simulated / real pooled edge density over all pixels

_HUE_CENTRES = (np.arange(HUE_BINS) + 0.5) * (360.0 / HUE_BINS)
_SV_CENTRES = (np.arange(SV_BINS) + 0.5) / SV_BINS


def _zeros(n: int) -> np.ndarray:
    return np.zeros(n, np.int64)


@dataclass
class ImageStats:
    """Raw counts of one image or of several pooled; every figure derives from these."""

    images: int = 0
    pixels: int = 0
    class_counts: np.ndarray = field(default_factory=lambda: _zeros(len(CLASSES)))
    hue_hist: np.ndarray = field(default_factory=lambda: _zeros(HUE_BINS))  # coloured pixels
    saturation_hist: np.ndarray = field(default_factory=lambda: _zeros(SV_BINS))  # content pixels
    brightness_hist: np.ndarray = field(default_factory=lambda: _zeros(SV_BINS))  # content pixels
    saturation_sum: float = 0.0  # over content pixels, for an exact mean
    brightness_sum: float = 0.0  # over content pixels
    edge_pixels: int = 0  # Canny edge pixels anywhere
    content_edge_pixels: int = 0  # Canny edge pixels on content (non-white) pixels
    # content pixels by brightness band (`V_BANDS`) and class: which colours dark pixels carry
    class_by_brightness: np.ndarray = field(
        default_factory=lambda: np.zeros((V_BANDS, len(CLASSES)), np.int64)
    )
    # the bag's pixels (holes and all) by depth band (`DEPTH_EDGES`) and class: whether its
    # walls and its middle carry the colours they do in real scans
    class_by_depth: np.ndarray = field(
        default_factory=lambda: np.zeros((len(DEPTH_EDGES) - 1, len(CLASSES)), np.int64)
    )
    # orange pixels by (brightness band, saturation band), `ORANGE_SV_BANDS` each over [0, 1]
    orange_sv: np.ndarray = field(
        default_factory=lambda: np.zeros((ORANGE_SV_BANDS, ORANGE_SV_BANDS), np.int64)
    )

    @property
    def class_shares(self) -> dict[str, float]:
        """Share of all pixels in each class, in `CLASSES` order."""
        total = max(self.pixels, 1)
        return {c: float(n) / total for c, n in zip(CLASSES, self.class_counts, strict=True)}

    @property
    def content_pixels(self) -> int:
        """Pixels that are not white (not air)."""
        return self.pixels - int(self.class_counts[CLASSES.index("white")])

    @property
    def content_share(self) -> float:
        """1 − white share: how much of the image the bag and its contents cover."""
        return self.content_pixels / self.pixels if self.pixels else math.nan

    @property
    def edge_density(self) -> float:
        """Share of all pixels that are Canny edges."""
        return self.edge_pixels / self.pixels if self.pixels else math.nan

    @property
    def content_edge_density(self) -> float:
        """Share of content pixels that are Canny edges: clutter, independent of bag size."""
        n = self.content_pixels
        return self.content_edge_pixels / n if n else math.nan

    @property
    def mean_saturation(self) -> float:
        """Mean HSV saturation of the content pixels."""
        n = self.content_pixels
        return self.saturation_sum / n if n else math.nan

    @property
    def mean_brightness(self) -> float:
        """Mean HSV value (brightness) of the content pixels."""
        n = self.content_pixels
        return self.brightness_sum / n if n else math.nan

    def darker_than(self, v: float) -> float:
        """Share of content pixels with brightness below `v` (a multiple of 1 / `SV_BINS`):
        how far a console's dark end reaches."""
        n = self.brightness_hist.sum()
        return float(self.brightness_hist[: round(v * SV_BINS)].sum() / n) if n else math.nan


def resize_to_side(rgb: np.ndarray, side: int = SIDE) -> np.ndarray:
    """Resize keeping the aspect ratio so the longer side is `side`; INTER_AREA to shrink,
    INTER_LINEAR to enlarge."""
    h, w = rgb.shape[:2]
    if max(h, w) == side:
        return rgb
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(rgb, size, interpolation=interp)


def hsv_degrees(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hue in degrees [0, 360), S and V in [0, 1] of a uint8 RGB image (float conversion)."""
    hsv = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2HSV)
    hue = np.mod(hsv[..., 0], 360.0)  # float conversion can round up to exactly 360
    return hue, hsv[..., 1], hsv[..., 2]


def _classify(hue: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Class index per pixel (into `CLASSES`) from hue in degrees, S and V (`hsv_degrees`)."""
    black = v < BLACK_V
    low_s = ~black & (s < GREY_S)
    white = low_s & (v > WHITE_V)
    grey = low_s & ~white
    labels = np.full(hue.shape, CLASSES.index("blue"), np.uint8)
    labels[(hue < 75) | (hue >= 330)] = CLASSES.index("orange")
    labels[(hue >= 75) & (hue < 165)] = CLASSES.index("green")
    labels[grey] = CLASSES.index("grey")
    labels[white] = CLASSES.index("white")
    labels[black] = CLASSES.index("black")
    return labels


def _bins(values: np.ndarray, n: int, top: float) -> np.ndarray:
    """Counts of `values` in `n` equal bins over [0, top]; `top` itself goes in the last bin."""
    index = np.clip((values * (n / top)).astype(np.int64), 0, n - 1)
    return np.bincount(index, minlength=n).astype(np.int64)


def _check_rgb(rgb: np.ndarray) -> None:
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected a uint8 H×W×3 RGB image, got {rgb.dtype} {rgb.shape}")


def _counts(
    rgb: np.ndarray,
) -> tuple[ImageStats, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Counts of `rgb` at its own size, with the hue, S, V, class label and edge planes they
    came from."""
    hue, s, v = hsv_degrees(rgb)
    labels = _classify(hue, s, v)
    coloured = labels >= CLASSES.index("orange")
    orange = labels == CLASSES.index("orange")
    content = labels != CLASSES.index("white")
    edges = cv2.Canny(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), CANNY_LOW, CANNY_HIGH) > 0
    stats = ImageStats(
        images=1,
        pixels=int(labels.size),
        class_counts=np.bincount(labels.ravel(), minlength=len(CLASSES)).astype(np.int64),
        hue_hist=_bins(hue[coloured], HUE_BINS, 360.0),
        saturation_hist=_bins(s[content], SV_BINS, 1.0),
        brightness_hist=_bins(v[content], SV_BINS, 1.0),
        saturation_sum=float(s[content].sum(dtype=np.float64)),
        brightness_sum=float(v[content].sum(dtype=np.float64)),
        edge_pixels=int(edges.sum()),
        content_edge_pixels=int((edges & content).sum()),
        class_by_brightness=_class_by_brightness(v[content], labels[content]),
        orange_sv=_orange_sv(s[orange], v[orange]),
    )
    return stats, hue, s, v, labels, edges


def _orange_sv(s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(V band, S band) counts of orange pixels of saturation `s` and brightness `v`."""
    n = ORANGE_SV_BANDS
    vb = np.clip((v * n).astype(np.int64), 0, n - 1)
    sb = np.clip((s * n).astype(np.int64), 0, n - 1)
    return np.bincount(vb * n + sb, minlength=n * n).reshape(n, n).astype(np.int64)


def _class_by_brightness(v: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(V_BANDS, classes) counts of pixels with brightness `v` and class `labels`."""
    band = np.clip((v * V_BANDS).astype(np.int64), 0, V_BANDS - 1)
    cells = np.bincount(band * len(CLASSES) + labels, minlength=V_BANDS * len(CLASSES))
    return cells.reshape(V_BANDS, len(CLASSES)).astype(np.int64)


def image_statistics(rgb: np.ndarray, side: int = SIDE) -> ImageStats:
    """Counts of one uint8 RGB (H×W×3) false-colour image after resizing it to `side`."""
    return measure_image(rgb, side)[0]


def pool(stats: Iterable[ImageStats]) -> ImageStats:
    """Sum the counts of several images: shares become pixel-weighted over all of them."""
    out = ImageStats()
    for st in stats:
        out.images += st.images
        out.pixels += st.pixels
        out.class_counts = out.class_counts + st.class_counts
        out.hue_hist = out.hue_hist + st.hue_hist
        out.saturation_hist = out.saturation_hist + st.saturation_hist
        out.brightness_hist = out.brightness_hist + st.brightness_hist
        out.saturation_sum += st.saturation_sum
        out.brightness_sum += st.brightness_sum
        out.edge_pixels += st.edge_pixels
        out.content_edge_pixels += st.content_edge_pixels
        out.class_by_brightness = out.class_by_brightness + st.class_by_brightness
        out.class_by_depth = out.class_by_depth + st.class_by_depth
        out.orange_sv = out.orange_sv + st.orange_sv
    return out


def js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen–Shannon divergence (base 2, 0..1) of two count histograms; nan if one is empty."""
    p = np.asarray(p, np.float64)
    q = np.asarray(q, np.float64)
    if p.sum() == 0 or q.sum() == 0:
        return 0.0 if p.sum() == q.sum() else math.nan
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(a: np.ndarray) -> float:
        nz = a > 0
        return float(np.sum(a[nz] * np.log2(a[nz] / m[nz])))

    return min(1.0, max(0.0, (kl(p) + kl(q)) / 2))


def _w1(real: np.ndarray, ours: np.ndarray) -> float:
    if real.sum() == 0 or ours.sum() == 0:
        return 0.0 if real.sum() == ours.sum() else math.nan
    return float(wasserstein_distance(_SV_CENTRES, _SV_CENTRES, real, ours))


def _ratio(ours: float, real: float) -> float:
    if real == 0:
        return 1.0 if ours == 0 else math.inf
    return ours / real


def compare(real: ImageStats, ours: ImageStats) -> dict[str, float]:
    """Distances from real to simulated statistics; 0 (or a ratio of 1) means alike.

    `hue_js`: Jensen–Shannon divergence (base 2) of the hue histograms of coloured pixels;
    `class_tv`: total-variation distance of the six class shares; `saturation_w1`,
    `brightness_w1`: Wasserstein-1 distances of the content pixels' S and V (units of [0, 1]);
    `content_edge_density_ratio`: ours / real Canny edge density of content (non-white) pixels, not
    the target's all-pixel ratio (`targets`);
    `content_share_diff`: ours − real share of non-white pixels; `class_brightness_tv`:
    total-variation distance of the content pixels' joint (brightness band, class) shares, which
    says whether dark pixels carry the colours they do in real scans (the class shares alone
    do not: pale green and dark green count alike); `class_depth_tv`: the same for the bag's
    pixels by depth band into it, which says whether its walls and its middle do;
    `orange_sv_tv`: the same for orange pixels by brightness and saturation band, which says
    whether thin cloth is as vivid an orange at each brightness (or a paler tan).
    """
    return {
        "hue_js": js_divergence(real.hue_hist, ours.hue_hist),
        "class_tv": _tv(real.class_counts, ours.class_counts),
        "saturation_w1": _w1(real.saturation_hist, ours.saturation_hist),
        "brightness_w1": _w1(real.brightness_hist, ours.brightness_hist),
        "content_edge_density_ratio": _ratio(ours.content_edge_density, real.content_edge_density),
        "content_share_diff": ours.content_share - real.content_share,
        "class_brightness_tv": _tv(real.class_by_brightness, ours.class_by_brightness),
        "class_depth_tv": _tv(real.class_by_depth, ours.class_by_depth),
        "orange_sv_tv": _tv(real.orange_sv, ours.orange_sv),
    }


def _tv(real: np.ndarray, ours: np.ndarray) -> float:
    """Total-variation distance of two count arrays as distributions; nan if one is empty."""
    if real.sum() == 0 or ours.sum() == 0:
        return 0.0 if real.sum() == ours.sum() else math.nan
    return float(0.5 * np.abs(real / real.sum() - ours / ours.sum()).sum())


def _dominant_hue(st: ImageStats) -> str:
    if st.hue_hist.sum() == 0:
        return "–"
    k = int(np.argmax(st.hue_hist))
    step = 360 // HUE_BINS
    return f"{k * step}–{(k + 1) * step}°"


def _f(x: float) -> str:
    return f"{x:.3f}"


def summary_table(real: ImageStats, ours: ImageStats, distances: dict[str, float]) -> str:
    """Markdown table: one row per statistic with the real value, ours and the distance."""
    rows: list[tuple[str, str, str, str]] = []
    rs, os_ = real.class_shares, ours.class_shares
    for c in CLASSES:
        rows.append((f"{c} share", _f(rs[c]), _f(os_[c]), f"Δ {os_[c] - rs[c]:+.3f}"))
    rows.append(("class shares (TV distance)", "", "", f"class_tv {_f(distances['class_tv'])}"))
    rows.append(
        (
            "hue of coloured pixels (peak bin)",
            _dominant_hue(real),
            _dominant_hue(ours),
            f"hue_js {_f(distances['hue_js'])}",
        )
    )
    rows.append(
        (
            "mean saturation (content)",
            _f(real.mean_saturation),
            _f(ours.mean_saturation),
            f"saturation_w1 {_f(distances['saturation_w1'])}",
        )
    )
    rows.append(
        (
            "mean brightness (content)",
            _f(real.mean_brightness),
            _f(ours.mean_brightness),
            f"brightness_w1 {_f(distances['brightness_w1'])}",
        )
    )
    rows.append(
        (
            "content darker than V " + " / ".join(f"{v:g}" for v in DARK_V),
            " / ".join(f"{real.darker_than(v):.3f}" for v in DARK_V),
            " / ".join(f"{ours.darker_than(v):.3f}" for v in DARK_V),
            "",
        )
    )
    rows += _brightness_rows(real, ours, distances)
    rows += _depth_rows(real, ours, distances)
    rows += _orange_rows(real, ours, distances)
    rows.append(
        (
            "edge density (all pixels)",
            _f(real.edge_density),
            _f(ours.edge_density),
            f"ratio {_f(_ratio(ours.edge_density, real.edge_density))}",
        )
    )
    rows.append(
        (
            "edge density (content pixels)",
            _f(real.content_edge_density),
            _f(ours.content_edge_density),
            f"content_edge_density_ratio {_f(distances['content_edge_density_ratio'])}",
        )
    )
    rows.append(
        (
            "content share (1 − white)",
            _f(real.content_share),
            _f(ours.content_share),
            f"content_share_diff {distances['content_share_diff']:+.3f}",
        )
    )
    lines = ["| statistic | real | simulated | distance |", "|---|---:|---:|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines)


def _brightness_rows(real: ImageStats, ours: ImageStats, distances: dict[str, float]) -> list:
    """Rows of the summary: the orange / green / blue shares of content pixels in each brightness
    band, then the joint distance (`class_brightness_tv`)."""
    labels = []
    for band in range(V_BANDS):
        lo, hi = band / V_BANDS, (band + 1) / V_BANDS
        share = real.class_by_brightness[band].sum() / max(real.class_by_brightness.sum(), 1)
        labels.append(f"content with V {lo:.1f}–{hi:.1f} ({share:.0%} of real)")
    return _class_rows(
        real.class_by_brightness,
        ours.class_by_brightness,
        labels,
        ("orange", "green", "blue"),
        ("class by brightness band", distances["class_brightness_tv"], "class_brightness_tv"),
    )


def _depth_rows(real: ImageStats, ours: ImageStats, distances: dict[str, float]) -> list:
    """Rows of the summary: the white / orange / green / blue shares of the bag's pixels in each
    depth band into it, then the joint distance (`class_depth_tv`)."""
    labels = [f"bag {lo:.0%}–{hi:.0%} deep" for lo, hi in itertools.pairwise(DEPTH_EDGES)]
    return _class_rows(
        real.class_by_depth,
        ours.class_by_depth,
        labels,
        ("white", "orange", "green", "blue"),
        ("class by depth into the bag", distances["class_depth_tv"], "class_depth_tv"),
    )


def _orange_band(st: ImageStats, band: int) -> tuple[float, float]:
    """(share of the orange pixels, their mean saturation at band centres) in brightness band
    `band` of `st.orange_sv`; nan where there are none."""
    row, total = st.orange_sv[band], st.orange_sv.sum()
    if not row.sum():
        return (0.0 if total else math.nan), math.nan
    centres = (np.arange(ORANGE_SV_BANDS) + 0.5) / ORANGE_SV_BANDS
    return float(row.sum() / total), float(row @ centres / row.sum())


def _orange_bands() -> range:
    """The brightness bands of `orange_sv` that reports show (from `ORANGE_V_SHOWN` up)."""
    return range(round(ORANGE_V_SHOWN * ORANGE_SV_BANDS), ORANGE_SV_BANDS)


def _orange_rows(real: ImageStats, ours: ImageStats, distances: dict[str, float]) -> list:
    """Rows of the summary: per brightness band from `ORANGE_V_SHOWN`, the share of orange pixels
    in it and their mean saturation, then the joint distance (`orange_sv_tv`)."""
    n = ORANGE_SV_BANDS

    def cell(st: ImageStats, band: int) -> str:
        share, saturation = _orange_band(st, band)
        return f"{share:.2f} / S {saturation:.2f}"

    rows = [
        (
            f"orange with V {band / n:.1f}–{(band + 1) / n:.1f}: share / mean S",
            cell(real, band),
            cell(ours, band),
            "",
        )
        for band in _orange_bands()
    ]
    rows.append(
        (
            "orange by brightness and saturation (TV distance)",
            "",
            "",
            f"orange_sv_tv {_f(distances['orange_sv_tv'])}",
        )
    )
    return rows


def _class_rows(
    real: np.ndarray, ours: np.ndarray, labels: list[str], shown: tuple[str, ...], total: tuple
) -> list:
    """One summary row per band (row of the (band, class) counts `real` and `ours`) with the
    shares of the `shown` classes, then `total`'s (label, distance, name) row."""
    columns = [CLASSES.index(c) for c in shown]

    def cell(counts: np.ndarray, band: int) -> str:
        n = counts[band].sum()
        return " / ".join(f"{counts[band, k] / n:.2f}" if n else "–" for k in columns)

    rows = [
        (f"{label}: {' / '.join(shown)}", cell(real, band), cell(ours, band), "")
        for band, label in enumerate(labels)
    ]
    label, distance, name = total
    rows.append((f"{label} (TV distance)", "", "", f"{name} {_f(distance)}"))
    return rows


# --- per-image figures, their distributions, the realism targets ------------------------------

FIGURES: dict[str, str] = {  # per-image figure → its label in the report, in report order
    **{f"{c}_share": f"{'white (background)' if c == 'white' else c} share" for c in CLASSES},
    "hue_mean": "mean hue of coloured pixels (°)",
    "hue_variance": "circular variance of that hue (0..1)",
    "saturation_mean": "mean saturation (content)",
    "brightness_mean": "mean brightness (content)",
    "edge_density": "edge density (all pixels)",
    "content_edge_density": "edge density (content pixels)",
    "edge_density_rim": "edge density, bag's rim (outer 35 % of its depth)",
    "edge_density_core": "edge density, bag's core (inner half of its depth)",
    "rim_coherence": "texture coherence of the bag's light rim (0..1)",
    "organic_grain": "grain of orange: median distance of V from its 1-px blur",
    "organic_coherence": "texture coherence inside orange, past its grain (0..1)",
    "side_band_brightness": "mean brightness 8-40 px inside the bag's left and right sides",
    "end_band_brightness": "mean brightness 8-40 px inside the bag's top and bottom ends",
    **{
        f"{name}_{what}": f"median {what} of {name.replace('_', ' ')}"
        for name, _, _ in PALETTE_BANDS
        for what in ("hue", "saturation")
    },
    "block_brightness_median": "median brightness of content blocks (~4 cm)",
    "bright_block_share": "content blocks brighter than V 0.9 (gaps)",
    "pale_yellow_share": "pale yellow-green content (V > 0.88, hue 50-90°)",
    "bag_width": "bag box width / image width",
    "bag_height": "bag box height / image height",
    "bag_area": "bag box area / image area",
    "dense_share": "dense share of the bag (V < 0.6)",
    "clear_block_share": "bag blocks (~4 cm) under 5 % dense",
    "item_count": "dense items (blobs)",
    "item_area_median": "median item area / image area",
    "item_area_pixel_median": "pixel-weighted median item area / image area",
}


def _hue_figures(hue: np.ndarray) -> dict[str, float]:
    """Circular mean (in [HUE_CUT − 360, HUE_CUT)) and circular variance of hues in degrees."""
    if hue.size == 0:
        return {"hue_mean": math.nan, "hue_variance": math.nan}
    rad = np.deg2rad(hue.astype(np.float64))
    c, s = float(np.cos(rad).mean()), float(np.sin(rad).mean())
    r = math.hypot(c, s)
    mean = (math.degrees(math.atan2(s, c)) - HUE_CUT) % 360.0 + HUE_CUT - 360.0
    return {"hue_mean": mean if r > 1e-9 else math.nan, "hue_variance": 1.0 - r}


def _largest_region(content: np.ndarray) -> np.ndarray | None:
    """uint8 mask of the largest connected region of `content` after a `BAG_CLOSE_PX` closing:
    the bag; None when there is none."""
    kernel = np.ones((BAG_CLOSE_PX, BAG_CLOSE_PX), np.uint8)
    closed = cv2.morphologyEx(content.astype(np.uint8), cv2.MORPH_CLOSE, kernel)
    n, regions, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    if n < 2:
        return None
    return (regions == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))).astype(np.uint8)


def _box_of(region: np.ndarray | None) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1), x1 and y1 exclusive, of a region mask; None without one."""
    if region is None:
        return None
    x, y, w, h = cv2.boundingRect(region)
    return x, y, x + w, y + h


def _bag_box(content: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1), x1 and y1 exclusive, of the largest connected region of a closed mask."""
    return _box_of(_largest_region(content))


RIM_DEPTH, CORE_DEPTH = 0.35, 0.5  # shares of the bag's depth (its deepest pixel: 1)


def _bag_distance(largest: np.ndarray | None) -> np.ndarray | None:
    """Each pixel's distance (px) from the bag's outline (0 outside, holes filled; the image's
    border counts as outside, as a wall on the frame's edge is a wall too); None without a bag.
    `largest`: the bag's region (`_largest_region`)."""
    if largest is None:
        return None
    outline, _ = cv2.findContours(largest, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    bag = cv2.drawContours(np.zeros_like(largest), outline, -1, 1, thickness=-1)  # holes filled
    distance = cv2.distanceTransform(
        cv2.copyMakeBorder(bag, 1, 1, 1, 1, cv2.BORDER_CONSTANT), cv2.DIST_L2, 5
    )
    return distance[1:-1, 1:-1]


def _depth_of(distance: np.ndarray | None) -> np.ndarray | None:
    """`_bag_distance` over the largest such distance: 0 outside, 1 at the bag's deepest."""
    return None if distance is None else distance / max(float(distance.max()), 1e-9)


def _depth_figures(depth: np.ndarray | None, edges: np.ndarray) -> dict[str, float]:
    """Edge density in the bag's rim and in its core, by depth into the bag (`_depth_of`). The
    real scans' edges are densest at the walls and thin out inwards (0.22 → 0.17); a simulator
    that piles its clutter in the middle and draws plain walls shows the reverse with the same
    total."""
    if depth is None:
        return {"edge_density_rim": math.nan, "edge_density_core": math.nan}
    rim, core = (depth > 0) & (depth <= RIM_DEPTH), depth > CORE_DEPTH
    return {
        "edge_density_rim": float(edges[rim].mean()) if rim.any() else math.nan,
        "edge_density_core": float(edges[core].mean()) if core.any() else math.nan,
    }


def _rim_coherence(v: np.ndarray, depth: np.ndarray | None) -> float:
    """Median structure-tensor coherence (1: parallel lines; white noise 0.16, 4-px blotches
    about 0.4) of the light content in the bag's rim (depth ≤ `RIM_DEPTH`, V in
    `RIM_TEXTURE_V`), gradients averaged by a Gaussian of σ `RIM_TEXTURE_SIGMA`, leaving out
    the 3σ next to the bag's outline, whose edge would count. Real soft walls show fine
    streaks along the wall; grain that runs no way reads as blotches and scores lower. nan
    without a bag or with fewer than `RIM_TEXTURE_MIN_PX` such pixels."""
    if depth is None:
        return math.nan
    lo, hi = RIM_TEXTURE_V
    reach = 2 * math.ceil(3 * RIM_TEXTURE_SIGMA) + 1
    inside = cv2.erode((depth > 0).astype(np.uint8), np.ones((reach, reach), np.uint8)) > 0
    rim = inside & (depth <= RIM_DEPTH) & (v > lo) & (v < hi)
    if rim.sum() < RIM_TEXTURE_MIN_PX:
        return math.nan
    return _coherence(v.astype(np.float32), rim, RIM_TEXTURE_SIGMA)


def _coherence(plane: np.ndarray, where: np.ndarray, sigma: float) -> float:
    """Median structure-tensor coherence of `plane` over the mask `where`, its gradients
    averaged by a Gaussian of σ `sigma` (px)."""
    gx, gy = cv2.Sobel(plane, cv2.CV_32F, 1, 0), cv2.Sobel(plane, cv2.CV_32F, 0, 1)
    pairs = ((gx, gx), (gy, gy), (gx, gy))
    jxx, jyy, jxy = (cv2.GaussianBlur(a * b, (0, 0), sigma) for a, b in pairs)
    trace = jxx[where] + jyy[where]
    spread = np.sqrt(np.square(jxx[where] - jyy[where]) + 4 * np.square(jxy[where]))
    return float(np.median(spread / np.maximum(trace, 1e-12)))


def _palette_figures(
    hue: np.ndarray, sat: np.ndarray, v: np.ndarray, labels: np.ndarray
) -> dict[str, float]:
    """Median hue (°) and saturation of each of `PALETTE_BANDS` (a class in a brightness band):
    one scan's palette. Their spread over scans is how much a console's palette varies from
    scan to scan, which simulator v2.63 set to the real scans' (docs/simulator-realism.md). nan
    for a band of fewer than `PALETTE_MIN_PX` pixels."""
    out = {}
    for name, cls, (lo, hi) in PALETTE_BANDS:
        inside = (labels == CLASSES.index(cls)) & (v >= lo) & (v < hi)
        enough = int(inside.sum()) >= PALETTE_MIN_PX
        out[f"{name}_hue"] = float(np.median(hue[inside])) if enough else math.nan
        out[f"{name}_saturation"] = float(np.median(sat[inside])) if enough else math.nan
    return out


def _organic_grain(v: np.ndarray, labels: np.ndarray) -> float:
    """Median |V − V blurred by σ `GRAIN_SIGMA`| over orange pixels `GRAIN_INSET` px from any
    other class: the pixel-scale grain of clothes and other organics, apart from their edges.
    The real scans' is 0.0108 (median of the 136 backgrounds), simulator v2.64's 0.0085:
    smooth cloth. nan with fewer than `GRAIN_MIN_PX` such pixels."""
    inner = _inner_orange(labels)
    if inner.sum() < GRAIN_MIN_PX:
        return math.nan
    size = 2 * GRAIN_INSET + 1  # the blur's kernel: as far as the erosion reaches
    plane = v.astype(np.float32)
    fine = np.abs(plane - cv2.GaussianBlur(plane, (size, size), GRAIN_SIGMA))
    return float(np.median(fine[inner]))


def _inner_orange(labels: np.ndarray) -> np.ndarray:
    """Orange pixels `GRAIN_INSET` px from any other class (a square erosion): the inside of
    clothes and other organics, their edges left out."""
    size = 2 * GRAIN_INSET + 1
    orange = (labels == CLASSES.index("orange")).astype(np.uint8)
    return cv2.erode(orange, np.ones((size, size), np.uint8)) > 0


def _organic_coherence(v: np.ndarray, labels: np.ndarray) -> float:
    """How one-way the texture inside orange is (`_inner_orange`; structure-tensor coherence,
    1: parallel lines, blotches about 0.4), past the pixel grain (`ORGANIC_TEXTURE_SIGMAS`): the
    real scans' clothes hold fine texture that runs every way (median 0.44 over the 136
    backgrounds), simulator v2.72's streaks and folds that run one way (0.63; seed 61, 24
    bags). nan with fewer than `GRAIN_MIN_PX` such pixels."""
    inner = _inner_orange(labels)
    if inner.sum() < GRAIN_MIN_PX:
        return math.nan
    pre, sigma = ORGANIC_TEXTURE_SIGMAS
    return _coherence(cv2.GaussianBlur(v.astype(np.float32), (0, 0), pre), inner, sigma)


def _band_figures(distance: np.ndarray | None, v: np.ndarray) -> dict[str, float]:
    """Mean V of the bag's pixels `SIDE_BAND_PX` inside its outline, apart for its left and
    right sides (the outline running down the image) and its top and bottom ends. The fan shows
    a bag's walls as bands between its two faces: the real scans' sides are dark (0.78, median
    of the 136 backgrounds) and their ends paler (0.85), where v2.65's sides were pale (0.87),
    one far wider than the other, and its ends dark (0.83). `distance`: `_bag_distance` (None
    without a bag). nan where the bag has none."""
    if distance is None:
        return {"side_band_brightness": math.nan, "end_band_brightness": math.nan}
    across_y, across_x = np.gradient(cv2.GaussianBlur(distance, (0, 0), SIDE_BAND_SIGMA))
    near, far = SIDE_BAND_PX
    band = (distance >= near) & (distance < far)
    ends = np.abs(across_y) > np.abs(across_x)  # the distance grows down or up the image
    figures = {}
    for name, part in (("side", band & ~ends), ("end", band & ends)):
        figures[f"{name}_band_brightness"] = float(v[part].mean()) if part.any() else math.nan
    return figures


def _class_by_depth(depth: np.ndarray | None, labels: np.ndarray) -> np.ndarray:
    """(depth bands, classes) counts of the bag's pixels (`_depth_of` > 0) by `DEPTH_EDGES`."""
    bands = len(DEPTH_EDGES) - 1
    if depth is None:
        return np.zeros((bands, len(CLASSES)), np.int64)
    inside = depth > 0
    band = np.clip(np.searchsorted(DEPTH_EDGES, depth[inside], side="left") - 1, 0, bands - 1)
    cells = np.bincount(band * len(CLASSES) + labels[inside], minlength=bands * len(CLASSES))
    return cells.reshape(bands, len(CLASSES)).astype(np.int64)


def _block_figures(v: np.ndarray, content: np.ndarray) -> dict[str, float]:
    """Brightness of the content in blocks of `BLOCK_PX` (those at least nine tenths content,
    averaged over their content pixels): their median, and the share brighter than
    `BRIGHT_BLOCK_V` (nan with none). Real bags are evenly dark; a bag whose contents leave
    gaps (v2.11: a band inside the walls the clothes did not reach) has bright blocks that the
    pooled brightness averages away."""
    n = BLOCK_PX
    rows, cols = v.shape[0] // n, v.shape[1] // n
    cut = (slice(0, rows * n), slice(0, cols * n))
    inside = content[cut].reshape(rows, n, cols, n).sum(axis=(1, 3))
    bright = np.where(content[cut], v[cut], 0.0).reshape(rows, n, cols, n).sum(axis=(1, 3))
    filled = inside >= 0.9 * n * n
    blocks = bright[filled] / inside[filled]  # the mean over the block's content pixels only
    if not blocks.size:
        return {"block_brightness_median": math.nan, "bright_block_share": math.nan}
    return {
        "block_brightness_median": float(np.median(blocks)),
        "bright_block_share": float(np.mean(blocks > BRIGHT_BLOCK_V)),
    }


def _pale_yellow_share(hue: np.ndarray, v: np.ndarray, labels: np.ndarray) -> float:
    """The share of content pixels that are coloured, brighter than `PALE_YELLOW_V` and of a
    hue in `PALE_YELLOW_HUE`: the lime wash readers see on simulated bags (thin mixtures and
    sharpening halos), where the real scans' bright content is orange or clearly green."""
    content = labels != CLASSES.index("white")
    if not content.any():
        return math.nan
    low, high = PALE_YELLOW_HUE
    pale = (labels >= CLASSES.index("orange")) & (v > PALE_YELLOW_V) & (hue >= low) & (hue < high)
    return float(pale.sum() / content.sum())


def _packing_figures(dense: np.ndarray, distance: np.ndarray | None) -> dict[str, float]:
    """How packed one bag is: the share of its pixels that are dense (`ITEM_V`), and the share
    of its `BLOCK_PX` blocks (a grid from the bag's box's corner, the blocks wholly inside it)
    under `CLEAR_BLOCK_DENSE` dense: places holding only clothes. The bag is its outline with
    any gaps in it filled (`distance`, from `_bag_distance`): a gap is a place the packing left
    empty, counted in. Real bags range from half empty to crammed, and leave more clear places
    than v2.68's, every one packed alike (96 bags, seed 3: its lightest tenth 0.125 dense
    against the real 0.063). nan without a bag or a whole block."""
    if distance is None or not (distance > 0).any():
        return {"dense_share": math.nan, "clear_block_share": math.nan}
    inside = distance > 0
    x0, y0, x1, y1 = _box_of(inside.astype(np.uint8))
    n = BLOCK_PX
    rows, cols = (y1 - y0) // n, (x1 - x0) // n
    cut = (slice(y0, y0 + rows * n), slice(x0, x0 + cols * n))
    whole = inside[cut].reshape(rows, n, cols, n).all(axis=(1, 3))
    share = dense[cut].reshape(rows, n, cols, n).mean(axis=(1, 3))[whole]
    clear = float(np.mean(share < CLEAR_BLOCK_DENSE)) if share.size else math.nan
    return {"dense_share": float(dense[inside].mean()), "clear_block_share": clear}


def _item_figures(dense: np.ndarray) -> dict[str, float]:
    """Count and median areas (shares of the image) of the connected blobs of a dense mask.

    Blobs under `MIN_ITEM_SHARE` are left out. The plain median of blob areas leans on that cut
    (most blobs are small); the pixel-weighted one (half of the dense pixels lie in blobs no
    larger) hardly does, so both are given.
    """
    _, _, stats, _ = cv2.connectedComponentsWithStats(dense.astype(np.uint8), connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA].astype(np.float64) / dense.size
    areas = np.sort(areas[areas >= MIN_ITEM_SHARE])
    if areas.size == 0:
        return {"item_count": 0.0, "item_area_median": math.nan, "item_area_pixel_median": math.nan}
    cumulative = np.cumsum(areas)
    pixel_median = float(areas[int(np.searchsorted(cumulative, cumulative[-1] / 2))])
    return {
        "item_count": float(areas.size),
        "item_area_median": float(np.median(areas)),
        "item_area_pixel_median": pixel_median,
    }


def measure_image(rgb: np.ndarray, side: int = SIDE) -> tuple[ImageStats, dict[str, float]]:
    """Counts (to pool) and per-image `FIGURES` of one uint8 RGB image resized to `side`.

    The bag is the largest connected region of non-white pixels after a `BAG_CLOSE_PX` closing;
    its bounding box is given as shares of the image's width, height and area (0 with no bag).
    Items are the connected blobs (8-neighbour) of content pixels darker than `ITEM_V` in HSV
    value: dense or strongly coloured things such as metal, electronics and thick organics.
    """
    _check_rgb(rgb)
    rgb = np.ascontiguousarray(resize_to_side(rgb, side))
    stats, hue, sat, v, labels, edges = _counts(rgb)
    content = labels != CLASSES.index("white")
    figures = {f"{c}_share": share for c, share in stats.class_shares.items()}
    figures.update(_hue_figures(hue[labels >= CLASSES.index("orange")]))
    figures["saturation_mean"] = stats.mean_saturation
    figures["brightness_mean"] = stats.mean_brightness
    figures["edge_density"] = stats.edge_density
    figures["content_edge_density"] = stats.content_edge_density
    bag = _largest_region(content)
    distance = _bag_distance(bag)
    depth = _depth_of(distance)
    figures.update(_depth_figures(depth, edges))
    figures["rim_coherence"] = _rim_coherence(v, depth)
    figures["organic_grain"] = _organic_grain(v, labels)
    figures["organic_coherence"] = _organic_coherence(v, labels)
    figures.update(_band_figures(distance, v))
    figures.update(_palette_figures(hue, sat, v, labels))
    stats.class_by_depth = _class_by_depth(depth, labels)
    figures.update(_block_figures(v, content))
    figures["pale_yellow_share"] = _pale_yellow_share(hue, v, labels)
    h, w = labels.shape
    x0, y0, x1, y1 = _box_of(bag) or (0, 0, 0, 0)
    figures["bag_width"] = (x1 - x0) / w
    figures["bag_height"] = (y1 - y0) / h
    figures["bag_area"] = (x1 - x0) * (y1 - y0) / (w * h)
    dense = content & (v < ITEM_V)
    figures.update(_packing_figures(dense, distance))
    figures.update(_item_figures(dense))
    return stats, figures


def image_figures(rgb: np.ndarray, side: int = SIDE) -> dict[str, float]:
    """The per-image `FIGURES` of one uint8 RGB image resized to `side` (see `measure_image`)."""
    return measure_image(rgb, side)[1]


def bag_box(rgb: np.ndarray, side: int = SIDE) -> tuple[int, int, int, int] | None:
    """The bag's box (x0, y0, x1, y1; exclusive) in `rgb`'s own pixels, found at `side`."""
    _check_rgb(rgb)
    small = resize_to_side(rgb, side)
    box = _bag_box(_classify(*hsv_degrees(small)) != CLASSES.index("white"))
    if box is None:
        return None
    (h, w), (sh, sw) = rgb.shape[:2], small.shape[:2]
    x0, y0, x1, y1 = box
    return (
        math.floor(x0 * w / sw),
        math.floor(y0 * h / sh),
        min(w, math.ceil(x1 * w / sw)),
        min(h, math.ceil(y1 * h / sh)),
    )


@dataclass
class ImageSet:
    """One set of images (real or simulated): their pooled counts and their per-image figures."""

    pooled: ImageStats = field(default_factory=ImageStats)
    figures: list[dict[str, float]] = field(default_factory=list)

    def add(self, stats: ImageStats, figures: dict[str, float]) -> None:
        """Count one more image in, from `measure_image`."""
        self.pooled = pool([self.pooled, stats])
        self.figures.append(figures)

    def values(self, key: str) -> np.ndarray:
        """The finite per-image values of figure `key`: nan ones (no coloured pixel...) left out."""
        values = np.array([f[key] for f in self.figures], np.float64)
        return values[np.isfinite(values)]


def image_set(images: Iterable[np.ndarray], side: int = SIDE) -> ImageSet:
    """An `ImageSet` of uint8 RGB images held in memory."""
    out = ImageSet()
    for rgb in images:
        out.add(*measure_image(rgb, side))
    return out


class Spread(NamedTuple):
    """Median and 10 % / 90 % quantiles of a figure over `n` images (nan when n is 0)."""

    median: float
    p10: float
    p90: float
    n: int


def spread(values: np.ndarray) -> Spread:
    """Median and 10–90 % quantiles of finite values."""
    if len(values) == 0:
        return Spread(math.nan, math.nan, math.nan, 0)
    p10, median, p90 = (float(q) for q in np.quantile(values, [0.1, 0.5, 0.9]))
    return Spread(median, p10, p90, len(values))


class FigureComparison(NamedTuple):
    """One figure over two sets: its spread in each and the Wasserstein-1 distance between them."""

    real: Spread
    ours: Spread
    w1: float


def distributions(real: ImageSet, ours: ImageSet) -> dict[str, FigureComparison]:
    """Every figure of `FIGURES` compared per image: spreads and W1 (in the figure's units)."""
    out = {}
    for key in FIGURES:
        a, b = real.values(key), ours.values(key)
        w1 = float(wasserstein_distance(a, b)) if len(a) and len(b) else math.nan
        out[key] = FigureComparison(spread(a), spread(b), w1)
    return out


def _g(x: float) -> str:
    return "–" if not math.isfinite(x) else f"{x:.3g}"


def _spread_cell(s: Spread) -> str:
    return "–" if s.n == 0 else f"{_g(s.median)} [{_g(s.p10)}–{_g(s.p90)}]"


def distribution_table(comparisons: dict[str, FigureComparison]) -> str:
    """Markdown table: per figure, real and simulated median [10–90 %] and their W1 distance."""
    lines = [
        "| per-image figure | real median [10–90 %] | simulated median [10–90 %] | W1 |",
        "|---|---:|---:|---:|",
    ]
    for key, c in comparisons.items():
        label = FIGURES.get(key, key)
        lines.append(f"| {label} | {_spread_cell(c.real)} | {_spread_cell(c.ours)} | {_g(c.w1)} |")
    return "\n".join(lines)


def pooled_figures(st: ImageStats) -> dict[str, float]:
    """The pooled figures of `st` by name, as `summary_table` shows them (for JSON reports)."""
    figures = {f"{c}_share": share for c, share in st.class_shares.items()}
    peak = int(np.argmax(st.hue_hist)) if st.hue_hist.sum() else -1
    figures["hue_peak_bin_start_deg"] = peak * 360.0 / HUE_BINS if peak >= 0 else math.nan
    figures["saturation_mean"] = st.mean_saturation
    figures["brightness_mean"] = st.mean_brightness
    figures.update({f"darker_than_{v:g}": st.darker_than(v) for v in DARK_V})
    figures["edge_density"] = st.edge_density
    figures["content_edge_density"] = st.content_edge_density
    figures["content_share"] = st.content_share
    for band, (lo, hi) in enumerate(itertools.pairwise(DEPTH_EDGES)):
        n = max(int(st.class_by_depth[band].sum()), 1)
        for c in ("white", "orange", "green", "blue"):
            share = st.class_by_depth[band, CLASSES.index(c)] / n
            figures[f"bag_{lo:g}_{hi:g}_deep_{c}_share"] = float(share)
    for band in _orange_bands():
        lo, hi = band / ORANGE_SV_BANDS, (band + 1) / ORANGE_SV_BANDS
        share, saturation = _orange_band(st, band)
        figures[f"orange_v{lo:g}_{hi:g}_share"] = share
        figures[f"orange_v{lo:g}_{hi:g}_saturation"] = saturation
    return figures


class Target(NamedTuple):
    """One realism goal: the measured value, the goal in words and whether it is met."""

    name: str
    value: float
    goal: str
    ok: bool


def targets(real: ImageSet, ours: ImageSet) -> list[Target]:
    """The simulator's realism targets against real backgrounds, each passed or failed.

    Background (white) share within `BACKGROUND_SHARE_TOLERANCE` of real, pooled and as the
    per-image median; pooled class-share total variation at most `CLASS_TV_MAX`; pooled edge
    density over all pixels, simulated / real, within `EDGE_RATIO_RANGE`. A nan value fails.
    """
    tol = BACKGROUND_SHARE_TOLERANCE
    pooled_diff = ours.pooled.class_shares["white"] - real.pooled.class_shares["white"]
    median_diff = (
        spread(ours.values("white_share")).median - spread(real.values("white_share")).median
    )
    tv = compare(real.pooled, ours.pooled)["class_tv"]
    ratio = _ratio(ours.pooled.edge_density, real.pooled.edge_density)
    lo, hi = EDGE_RATIO_RANGE
    return [
        Target(
            "background share, pooled: sim − real",
            pooled_diff,
            f"within ±{tol}",
            abs(pooled_diff) <= tol,
        ),
        Target(
            "background share, median: sim − real",
            median_diff,
            f"within ±{tol}",
            abs(median_diff) <= tol,
        ),
        Target("colour-class TV distance, pooled", tv, f"≤ {CLASS_TV_MAX}", tv <= CLASS_TV_MAX),
        Target("edge density, pooled: sim / real", ratio, f"{lo}–{hi}", lo <= ratio <= hi),
    ]


def targets_table(results: Iterable[Target]) -> str:
    """Markdown table of the targets with PASS or FAIL."""
    lines = ["| target | value | goal | result |", "|---|---:|---|---|"]
    for t in results:
        lines.append(f"| {t.name} | {_f(t.value)} | {t.goal} | {'PASS' if t.ok else 'FAIL'} |")
    return "\n".join(lines)
