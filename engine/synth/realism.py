"""How close simulated false-colour scans look to real ones: pooled image statistics, distances.

`image_statistics` reduces one false-colour RGB image (resized to a common width, so that
scale-dependent figures such as edge density compare) to raw counts: six pixel classes, a hue
histogram of the coloured pixels, saturation and brightness histograms of the content pixels and
Canny edge counts. Counts pool by summing (`pool`), so a set of real scans and a set of simulated
ones each become one `ImageStats`; `compare` turns two of them into distances and
`summary_table` into a Markdown table for the benchmark's report.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy.stats import wasserstein_distance

WIDTH = 640  # every image is resized to this width before counting
CLASSES = ("black", "white", "grey", "orange", "green", "blue")
HUE_BINS = 36  # 10° each over [0, 360)
SV_BINS = 50  # over [0, 1]
BLACK_V = 0.2  # V below: black (too dense to penetrate)
GREY_S = 0.12  # S below: white or grey, not coloured
WHITE_V = 0.85  # V above (and S below GREY_S): white, air and near-air
CANNY_LOW, CANNY_HIGH = 50, 150

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


def resize_to_width(rgb: np.ndarray, width: int = WIDTH) -> np.ndarray:
    """Resize keeping the aspect ratio; INTER_AREA to shrink, INTER_LINEAR to enlarge."""
    h, w = rgb.shape[:2]
    if w == width:
        return rgb
    height = max(1, round(h * width / w))
    interp = cv2.INTER_AREA if width < w else cv2.INTER_LINEAR
    return cv2.resize(rgb, (width, height), interpolation=interp)


def hsv_degrees(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hue in degrees [0, 360), S and V in [0, 1] of a uint8 RGB image (float conversion)."""
    hsv = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2HSV)
    hue = np.mod(hsv[..., 0], 360.0)  # float conversion can round up to exactly 360
    return hue, hsv[..., 1], hsv[..., 2]


def classify_pixels(rgb: np.ndarray) -> np.ndarray:
    """Class index per pixel (into `CLASSES`) of a uint8 RGB image, at its own size."""
    hue, s, v = hsv_degrees(rgb)
    return _classify(hue, s, v)


def _classify(hue: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
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


def image_statistics(rgb: np.ndarray, width: int = WIDTH) -> ImageStats:
    """Counts of one uint8 RGB (H×W×3) false-colour image after resizing it to `width`."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected a uint8 H×W×3 RGB image, got {rgb.dtype} {rgb.shape}")
    rgb = np.ascontiguousarray(resize_to_width(rgb, width))
    hue, s, v = hsv_degrees(rgb)
    labels = _classify(hue, s, v)
    coloured = labels >= CLASSES.index("orange")
    content = labels != CLASSES.index("white")
    edges = cv2.Canny(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), CANNY_LOW, CANNY_HIGH) > 0
    return ImageStats(
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
    )


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
    `edge_density_ratio`: ours / real Canny edge density of content pixels;
    `content_share_diff`: ours − real share of non-white pixels.
    """
    real_shares = np.array(list(real.class_shares.values()))
    our_shares = np.array(list(ours.class_shares.values()))
    return {
        "hue_js": js_divergence(real.hue_hist, ours.hue_hist),
        "class_tv": float(0.5 * np.abs(real_shares - our_shares).sum()),
        "saturation_w1": _w1(real.saturation_hist, ours.saturation_hist),
        "brightness_w1": _w1(real.brightness_hist, ours.brightness_hist),
        "edge_density_ratio": _ratio(ours.content_edge_density, real.content_edge_density),
        "content_share_diff": ours.content_share - real.content_share,
    }


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
            f"edge_density_ratio {_f(distances['edge_density_ratio'])}",
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
