"""False colour and material classes of dual-energy X-ray images (industry convention).

Orange is organic (Zeff below ~10), green inorganic and light metals (~10-18), blue metal (above
~18); brightness falls with attenuation, near-air pixels are white and pixels with almost no
high-energy transmission are black (impenetrable).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

ORGANIC_MAX_ZEFF = 10.0
INORGANIC_MAX_ZEFF = 18.0
IMPENETRABLE_T_HIGH = 0.002  # consoles show black (or `opaque_value`) only where almost nothing
# gets through

ORGANIC, INORGANIC, METAL = 1, 2, 3
MATERIAL_NAMES = {ORGANIC: "organic", INORGANIC: "inorganic", METAL: "metal"}

# How findings are outlined everywhere (GUI, CLI pictures): anomalous red, benign a calm blue.
ANOMALY_RGB = (230, 30, 30)
BENIGN_RGB = (40, 170, 220)


def material_classes(zeff: np.ndarray) -> np.ndarray:
    """uint8 class map from Zeff: 1 organic, 2 inorganic, 3 metal."""
    classes = np.full(zeff.shape, INORGANIC, np.uint8)
    classes[zeff < ORGANIC_MAX_ZEFF] = ORGANIC
    classes[zeff >= INORGANIC_MAX_ZEFF] = METAL
    return classes


def material_classes_from_hue(image: np.ndarray, min_saturation: float = 0.18) -> np.ndarray:
    """Class map estimated from the hue of a false-colour RGB image; 0 where there is no colour.

    Used when a scan has no Zeff channel. Greyscale images give 0 everywhere, except pixels too
    dark to carry colour, which a console shows as impenetrable and which count as metal.
    """
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV_FULL).astype(np.float32)
    hue = hsv[..., 0] * (360.0 / 256.0)
    sat = hsv[..., 1] / 255.0
    val = hsv[..., 2] / 255.0
    coloured = (sat >= min_saturation) & (val >= 0.08)
    classes = np.zeros(image.shape[:2], np.uint8)
    classes[coloured & ((hue < 75) | (hue >= 330))] = ORGANIC
    classes[coloured & (hue >= 75) & (hue < 165)] = INORGANIC
    classes[coloured & (hue >= 165) & (hue < 330)] = METAL
    colour_pixels = coloured.mean() > 0.02
    if colour_pixels:
        classes[val < 0.08] = METAL
    return classes


DEFAULT_GAIN = 1.05  # `ColourStyle.gain`: the brightness curve's gain of every version so far


@dataclass(frozen=True)
class ColourStyle:
    """How a console paints Zeff and attenuation: hue, saturation and brightness curves.

    Defaults are fitted to real false-colour scans (SIXray): organics orange at ~35-40°,
    mixtures yellow-green, metals blue at ~205°; saturation grows with attenuation, quickly for
    metals and more slowly for organics, so only thin organic material stays pale. Hue boundaries
    sit at Zeff 10 (75°) and 18 (165°), where `material_classes_from_hue` splits. Brightness
    has a floor: real consoles lift the dark end (in the real benign bags no content pixel is
    darker than V 0.1 and 2.5 % are darker than 0.4), and only impenetrable pixels go black.
    """

    zeff: tuple[float, ...] = (5.0, 7.0, 8.5, 10.0, 11.5, 13.0, 16.0, 18.0, 20.0, 24.0, 30.0)
    hue: tuple[float, ...] = (
        34.0,
        37.0,
        44.0,
        75.0,
        90.0,
        110.0,
        145.0,
        165.0,
        195.0,
        203.0,
        210.0,
    )
    saturation_max: tuple[float, ...] = (
        0.78,
        0.78,
        0.76,
        0.72,
        0.72,
        0.72,
        0.74,
        0.8,
        0.86,
        0.88,
        0.88,
    )
    # −ln T_high at which saturation reaches 63 % of its maximum
    saturation_scale: tuple[float, ...] = (
        0.35,
        0.35,
        0.4,
        0.45,
        0.45,
        0.45,
        0.4,
        0.35,
        0.3,
        0.25,
        0.25,
    )
    # brightness = floor + (1 − floor) · gain · T_high^gamma, fitted to the 136 real benign
    # backgrounds' brightness distribution (docs/simulator-realism.md)
    gamma: float = 0.45
    gain: float = DEFAULT_GAIN
    floor: float = 0.4
    sharpen: float = 0.0  # unsharp-mask amount on brightness, as some consoles apply
    sharpen_range: tuple[float, float] = (1.5, 3.75)  # `jittered`'s: consoles edge-enhance
    # the brightness below which sharpening does not darken a pixel, unless its unsharpened
    # 3×3 neighbourhood is already that dark: the dark side of an edge is not painted black.
    # 0: no floor (real scans are shown as they come; simulator v2.0-v2.10, whose sharpening
    # put half of its black pixels in thin rings round dense items, where the real scans show
    # almost none)
    halo_floor: float = 0.0
    # the share of sharpening's bright overshoot (above the brightest of a pixel's unsharpened
    # 3×3 neighbourhood) that is kept: below 1, the light side of an edge gets a fainter rim.
    # 1: an unsharp mask's full rim of about 3 px round every dense item (simulator v2.0-v2.41),
    # which readers named "soft light halos around blue items"
    halo_keep: float = 1.0
    # σ (px) over which a console averages its darkest pixels (`_smoothed_dark`): real consoles
    # show dense metal smooth, where photon noise would speckle it with black and colour. 0
    # here, so real dual-energy scans are shown (and screened) as the models were trained on
    # them; the simulator's console uses SIM_SMOOTH_DARK (v2.4-v2.6) or 3 px (since v2.7,
    # `SIM_STYLE_V2_7`)
    smooth_dark: float = 0.0
    # σ (px) over which a console averages Zeff within a material (`_denoised_zeff`, edge-
    # preserving): per-pixel Zeff from two noisy channels mottles metal blue and teal where
    # consoles show it evenly coloured. 0 here, as `smooth_dark`
    zeff_denoise: float = 0.0
    # σ (px) of a second, wider edge-preserving average of Zeff where little gets through
    # (`_denoised_dense_zeff`): under a laptop or a toaster, where T_high < 0.3, Zeff's noise
    # (σ ≈ 1.6 there) survives `zeff_denoise` as blue and teal blotches several px across that
    # readers called "speckled blue blocks"; consoles show dense objects evenly coloured. 0 here
    dense_zeff_denoise: float = 0.0
    # amount of a wide unsharp mask on brightness (σ `LOCAL_CONTRAST_PX`), faded out where
    # little gets through (`_local_contrast`): consoles lift the local contrast of thin
    # material, which shows packed clothes as crumpled folds where a plain map of transmission
    # shows them as smooth, flat sheets. 0 here
    local_contrast: float = 0.0
    # T_high (smoothed over `AIR_SMOOTH_PX`) from which a console shows pure white, fading in
    # over the `AIR_RAMP` below it (`_air_white`): consoles normalise air to white, so the
    # real scans' background is flat (grey-level σ 0.4 against our 1.6); per-pixel noise
    # left it speckled with pale, tinted dots. 0 here: no such step
    air_white: float = 0.0
    # how far the Zeff of thin mixtures (8-11) is pulled towards organic (`_thin_organic`):
    # fully at 1 where T_high is above 0.6, fading out by 0.35. The real scans' bright content
    # is orange or clearly green, seldom the pale yellow-green that a few mm of PVC or
    # aluminium under thin cloth, or an edge's halo, paints (coloured pixels brighter than V
    # 0.88 of hue 50-90°: real 1 % of content, v2.21 6 %). 0 here: hue from Zeff alone
    thin_organic: float = 0.0
    # the brightness curve's `gamma` for metal is this times the rest's, ramping in between
    # Zeff `METAL_GAMMA_ZEFF` (`_metal_brightness`): below 1, metal is lighter than organics of
    # its transmission, as a console's two-dimensional table paints it. The real scans' blue
    # pixels' brightness quartiles are 0.52 / 0.65 / 0.79, one curve for every Zeff gives 0.47
    # / 0.54 / 0.63, which readers called navy where real metal is sky blue. 1 here
    metal_gamma: float = 1.0
    # metal's brightness falls linearly with its attenuation (−ln T_high) by this much (times
    # `gain`) a unit, from `gain` at `metal_white` (`_metal_linear`), replacing the curve above
    # as Zeff ramps over `METAL_GAMMA_ZEFF`: the real scans' blue pixels span V 0.40-0.87
    # (10th-90th percentile), where a power curve with the floor gives 0.51-0.78 (flat, even
    # blue bars). 0 here: metal's curve as the rest's
    metal_slope: float = 0.0
    metal_white: float = 0.6
    # the darkest that curve paints metal (the floor the rest has is 0.4): 0 lets dense steel
    # go black, which real consoles keep for what stops the beam
    metal_floor: float = 0.0
    # `jittered` varies `metal_slope` by the factor it varies `gamma` by (drawing nothing
    # more), so a detector meets more than one metal curve; False: one curve (v2.37-v2.39)
    metal_jitter: bool = False
    # the brightness painted, a flat neutral grey, where almost nothing gets through (T_high
    # under `IMPENETRABLE_T_HIGH`; `_opaque_grey`): the real scans' darkest pixels are a dark
    # charcoal (mean RGB 35 / 37 / 34 of those under V 0.18; median saturation 0.15), and none
    # is black (V under 0.1: 1 pixel in 80 million). 0: black (simulator v2.0-v2.43)
    opaque_value: float = 0.0
    # organic hue by brightness: where Zeff is organic (full to 8.5, none from 10), hue moves by
    # this many degrees per unit of brightness (before sharpening) below `organic_hue_pivot`, up
    # where darker and down where lighter (`_organic_hue`): the real scans' orange runs from a
    # yellow-brown 53° at V 0.5 to a peach 35° above V 0.9 (medians of the 136 backgrounds),
    # where the hue of Zeff alone keeps it at 39-45° (readers: "mustard", "ochre", "khaki").
    # 0: Zeff alone
    organic_hue_slope: float = 0.0
    # the brightness at which `organic_hue_slope` leaves the hue as it is (0.8 until simulator
    # v2.73, whose 0.85 with a slope of 50° puts the real scans' hue in every band: see
    # `SIM_STYLE_V2_73`)
    organic_hue_pivot: float = 0.8
    # metal hue by brightness: where Zeff is metal (`METAL_GAMMA_ZEFF`), hue moves towards cyan
    # by this many degrees per unit of the brightness shown (after sharpening) below
    # `METAL_HUE_PIVOT` (`_dark_metal`), as a console whose Zeff under-corrects beam hardening
    # paints thick metal: the real scans' blue runs from a teal 180° at V 0.25 to 204° at V 0.85
    # (medians of the 136 backgrounds), where the hue of Zeff alone keeps it at 196-204°. 0:
    # Zeff alone
    metal_hue_slope: float = 0.0
    # and its saturation lowered by this share per unit of brightness below `METAL_DULL_PIVOT`:
    # the real scans' darkest blue is dull (saturation median 0.60 at V 0.2-0.3, 0.73 at 0.3-0.4,
    # 0.73-0.79 above), where ours stays at 0.76-0.80. 0: as the saturation curve gives
    metal_dull: float = 0.0
    # `jittered`'s hue: σ (degrees) of a shift of every hue anchor together, and of each one's
    # own shift on top. 3 and 2 (simulator v2.0-v2.62) spread the per-scan median hue of our
    # orange 5-5.5° (σ over the scans), where the 136 real backgrounds' spreads 1.9-3.8°
    hue_shift_sd: float = 3.0
    hue_anchor_sd: float = 2.0
    # σ of the log of a factor on the `saturation_max` of every anchor under Zeff
    # `INORGANIC_MAX_ZEFF` together (organic and mixed; metal's is as even as the real scans'),
    # drawn in `jittered` from its `side` generator: the real backgrounds' per-scan median
    # saturation of orange and green spreads 0.07-0.08 (σ over the scans), ours 0.03-0.06 with
    # each anchor varied alone. 0: no such factor (v2.0-v2.62)
    saturation_shift: float = 0.0

    def jittered(
        self, rng: np.random.Generator, side: np.random.Generator | None = None
    ) -> ColourStyle:
        """A random variation of this style, so a detector does not learn one console's palette.

        Draws from `rng` as every version has; `saturation_shift`'s factor last, from `side`,
        so that a style with it leaves `rng`'s numbers as they were (with no `side`, from `rng`,
        which is then one number further on)."""
        shift = rng.normal(0, 3.0) * (self.hue_shift_sd / 3.0)  # the same draws at any σ
        anchor = self.hue_anchor_sd / 2.0
        style = replace(  # every field not drawn here (the console's steps) carried as it is
            self,
            hue=tuple(float(h + shift + rng.normal(0, 2.0) * anchor) for h in self.hue),
            saturation_max=tuple(
                float(np.clip(v * rng.uniform(0.9, 1.1), 0, 1)) for v in self.saturation_max
            ),
            saturation_scale=tuple(
                float(v * rng.uniform(0.8, 1.25)) for v in self.saturation_scale
            ),
            gamma=float(self.gamma * rng.uniform(0.85, 1.15)),
            # 1.0-1.08 about the default 1.05 (every version's), scaled with `gain`: a style's
            # own gain moves its scans' (before stop 62 it was dropped, the range fixed)
            gain=float(rng.uniform(1.0, 1.08) * (self.gain / DEFAULT_GAIN)),
            sharpen=float(rng.uniform(*self.sharpen_range)),
        )
        if self.metal_jitter:
            style = replace(style, metal_slope=self.metal_slope * style.gamma / self.gamma)
        if self.saturation_shift > 0:  # organic and mixed materials; metal's as it was
            together = float(
                np.exp((rng if side is None else side).normal(0, self.saturation_shift))
            )
            style = replace(
                style,
                saturation_max=tuple(
                    float(np.clip(v * together, 0, 1)) if z < INORGANIC_MAX_ZEFF else v
                    for v, z in zip(style.saturation_max, self.zeff, strict=True)
                ),
            )
        return style


DEFAULT_STYLE = ColourStyle()
# The palette before the brightness floor (simulator v2.0, 2026-12-01): demo model v2's simulated
# bags, the demo scans and every projection into real scans (`engine.synth.tip`) use it.
STYLE_V2_0 = ColourStyle(gamma=0.28, floor=0.0, sharpen_range=(1.0, 2.5))
SIM_SMOOTH_DARK = 1.5  # simulator v2.4's console: dense metal solid, not speckled
# Simulator v2.5's console (v2.5, v2.6): v2.4's, with mixtures over metal painted bluer and metal
# less saturated, as in the real scans (blue content hue 191°, saturation 0.72; v2.4's console
# gave 183° and 0.83, which blind readers called teal)
SIM_STYLE_V2_5 = ColourStyle(
    hue=(34.0, 37.0, 44.0, 75.0, 90.0, 110.0, 145.0, 172.0, 200.0, 207.0, 212.0),
    saturation_max=(0.78, 0.78, 0.76, 0.72, 0.72, 0.72, 0.74, 0.76, 0.78, 0.8, 0.8),
    smooth_dark=SIM_SMOOTH_DARK,
)
# Simulator v2.7's console (v2.7-v2.10): v2.5's, averaging its darkest pixels over 3 px
# (over 1.5 px, large areas near the threshold stayed a speckle of black and blue islands), Zeff
# averaged within each material over 1.5 px (metal was mottled blue and teal), and sharpened a
# fifth more, which gives back the edges the mottle made (docs/simulator-realism.md)
SIM_STYLE_V2_7 = replace(
    SIM_STYLE_V2_5, smooth_dark=3.0, zeff_denoise=1.5, sharpen_range=(1.8, 4.5)
)
# Simulator v2.11's console (`SynthConfig.colour`): v2.7's, its sharpening stopped short of
# black (`halo_floor`, at the realism benchmark's black threshold, V < 0.2): half the black
# pixels of v2.7-v2.10 were such rings, and a blind reader counted them on every simulated bag
SIM_STYLE_V2_11 = replace(SIM_STYLE_V2_7, halo_floor=0.21)
# Simulator v2.16's console: v2.11's, with Zeff under dense objects averaged
# over a wider neighbourhood of like Zeff (`dense_zeff_denoise`), so a laptop or a toaster is
# painted evenly, not in blotches of blue and teal, and the local contrast of thin material
# lifted (`local_contrast`), so packed clothes show their folds (docs/simulator-realism.md)
SIM_STYLE_V2_16 = replace(SIM_STYLE_V2_11, dense_zeff_denoise=5.0, local_contrast=0.3)
# Simulator v2.17's console: v2.16's, its metal bluer and its greens leafier
# and less saturated, as in the real scans (sixray_benign backgrounds, 48 of them; blue pixels'
# hue quartiles 188 / 201 / 207°, v2.16 176 / 189 / 201°; green 85 / 95 / 114°, v2.16
# 85 / 106 / 135°, saturation median 0.59, v2.16 0.70): Zeff 16 paints 118° (was 145°), Zeff
# 18 185° (172°), Zeff 20 208° (200°); greens saturate to 0.64-0.7 (0.72-0.74), more slowly
SIM_STYLE_V2_17 = replace(
    SIM_STYLE_V2_16,
    hue=(34.0, 37.0, 44.0, 75.0, 88.0, 100.0, 118.0, 185.0, 208.0, 212.0, 215.0),
    saturation_max=(0.78, 0.78, 0.76, 0.7, 0.66, 0.64, 0.66, 0.76, 0.8, 0.82, 0.82),
    saturation_scale=(0.35, 0.35, 0.4, 0.55, 0.6, 0.6, 0.5, 0.35, 0.3, 0.25, 0.25),
)
# Simulator v2.18's console (v2.18-v2.19): v2.17's, its dense organics more saturated and its
# thin ones paler, as in the real scans (48 of the backgrounds, orange pixels' median saturation
# by brightness band V 0.5 / 0.7 / 0.8 / 0.9: 0.81 / 0.68 / 0.62 / 0.32; v2.17 0.74 / 0.71 /
# 0.64 / 0.47): organics (Zeff 5-8.5) saturate to 0.84-0.88 (0.76-0.78), more slowly
# (`saturation_scale` 0.62, was 0.35-0.4)
SIM_STYLE_V2_18 = replace(
    SIM_STYLE_V2_17,
    saturation_max=(0.88, 0.88, 0.84, *SIM_STYLE_V2_17.saturation_max[3:]),
    saturation_scale=(0.62, 0.62, 0.62, *SIM_STYLE_V2_17.saturation_scale[3:]),
)
# Simulator v2.21's console: v2.18's, air shown pure white from T_high 0.975 (`air_white`):
# the background of our scans was speckled with pale blue and yellow dots (1.7 % of its pixels
# below grey level 250, the real scans' none), which readers named
SIM_STYLE_V2_21 = replace(SIM_STYLE_V2_18, air_white=0.975)
# Simulator v2.22's console: v2.21's, thin mixtures painted towards organic (`thin_organic`):
# readers saw a "lime wash" over shells, floors and wheels, and preferred the orange side of
# every pair (docs/simulator-realism.md)
SIM_STYLE_V2_22 = replace(SIM_STYLE_V2_21, thin_organic=1.0)
# Simulator v2.23's console: v2.22's, light greens sage, not lime: mixtures of Zeff 10-16 paint
# 84 / 97 / 106 / 120° (were 75 / 88 / 100 / 118°) and saturate more slowly (`saturation_scale`
# 1.4-1.6, was 0.55-0.6), to 0.8. The real scans' greens (48 of the backgrounds, hue 60-165°)
# by brightness band V 0.65-0.8 / 0.8-0.9 / 0.9-1: hue medians 89 / 90 / 90°, saturation 0.53
# / 0.29 / 0.16; v2.22 81 / 79 / 88°, 0.64 / 0.57 / 0.42, which a reader called highlighter
SIM_STYLE_V2_23 = replace(
    SIM_STYLE_V2_22,
    hue=(34.0, 37.0, 44.0, 84.0, 97.0, 106.0, 120.0, 185.0, 208.0, 212.0, 215.0),
    saturation_max=(0.88, 0.88, 0.84, 0.8, 0.8, 0.8, 0.72, 0.76, 0.8, 0.82, 0.82),
    saturation_scale=(0.62, 0.62, 0.62, 1.6, 1.6, 1.4, 0.8, 0.35, 0.3, 0.25, 0.25),
)
# Simulator v2.24's console: v2.23's, metal lighter (`metal_gamma` 0.65): blue pixels'
# brightness quartiles 0.55 / 0.63 / 0.72 (v2.23 0.47 / 0.54 / 0.63, real 0.52 / 0.65 / 0.79)
SIM_STYLE_V2_24 = replace(SIM_STYLE_V2_23, metal_gamma=0.65)
# Simulator v2.25's console: v2.24's, sharpened a sixth less (`sharpen_range` 1.5-3.75, v2.7-v2.24
# 1.8-4.5): readers saw our outlines crisp and our tan areas grainy where the real scans are
# soft, and the creases (v2.20) had lifted the core's edges to 0.21-0.24 against the real 0.17
SIM_STYLE_V2_25 = replace(SIM_STYLE_V2_24, sharpen_range=(1.5, 3.75))
# Simulator v2.33's console: v2.25's, dense greens yellow-green, not teal: mixtures of Zeff 11.5 /
# 13 / 16 paint 94 / 96 / 106° (were 97 / 106 / 120°). The real scans' greens (the 136
# backgrounds) by brightness band V 0.4 / 0.5 / 0.6 / 0.7 / 0.8 / 0.9: hue medians 106 / 96 / 96
# / 93 / 93 / 94°; v2.32 (seed 0) 115 / 108 / 102 / 96 / 95 / 97°, v2.33 103 / 98 / 96 / 92 / 92
# / 93°. Readers had named "greens lean teal"
SIM_STYLE_V2_33 = replace(
    SIM_STYLE_V2_25,
    hue=(34.0, 37.0, 44.0, 84.0, 94.0, 96.0, 106.0, 185.0, 208.0, 212.0, 215.0),
)
# Simulator v2.37's console: v2.33's, metal's brightness linear in its attenuation (`metal_slope`
# 0.16 a unit, white at `metal_white` 0.6): the real scans' blue pixels (the 136 backgrounds) span
# V 0.40 / 0.50 / 0.63 / 0.76 / 0.87 (10th / 25th / 50th / 75th / 90th percentile), v2.36 (seed 3)
# 0.51 / 0.57 / 0.64 / 0.71 / 0.78, v2.37 0.38 / 0.51 / 0.65 / 0.78 / 0.88. Blind readers had
# named "flat, even blue rails"
SIM_STYLE_V2_37 = replace(SIM_STYLE_V2_33, metal_slope=0.16, metal_white=0.6)
# Simulator v2.40's console: v2.37's, metal's curve floored at V 0.2 (`metal_floor`; v2.37-v2.39
# painted dense steel black, and black pixels rose from 0.10 % to 0.14 % of seed 3's, the real
# scans' 0.11 %) and its slope varied per scan as `gamma` is (`metal_jitter`)
SIM_STYLE_V2_40 = replace(SIM_STYLE_V2_37, metal_floor=0.2, metal_jitter=True)
# Simulator v2.42's console: v2.40's, sharpening's bright rim halved (`halo_keep` 0.5): readers
# named "soft light halos around blue items"; with the rim halved two readers preferred it in 5
# of 8 and 4 of 8 pairs (1 and 0 against), where with none one of them split 3 to 3
SIM_STYLE_V2_42 = replace(SIM_STYLE_V2_40, halo_keep=0.5)
# Simulator v2.44's console: v2.42's, what stops the beam painted a flat charcoal (`opaque_value`
# 0.14, RGB about 32-36) where it was black: the real scans' darkest pixels are that, none is
# black. Two readers preferred it in 7 of 8 and 3 of 8 pairs (none against; the rest "the same",
# where only a few pixels differ); fading dense colour into the grey they rejected as "smoke"
SIM_STYLE_V2_44 = replace(SIM_STYLE_V2_42, opaque_value=0.14)
# Simulator v2.45's console: v2.44's, organic hue turned with brightness (`organic_hue_slope` 28°
# a unit of V below 0.8): the real scans' orange runs from 53° at V 0.5 to 35° above 0.9, v2.44's
# (seed 3) from 44° to 39°, v2.45's from 49° to 34°. Two readers preferred it in 5 of 8 (none
# against) and 4 of 8 (2 against); at 36° in 4 of 8 (2 against) and 7 of 8 (none), which took
# seed 7's edge ratio to 0.898, under the target
SIM_STYLE_V2_45 = replace(SIM_STYLE_V2_44, organic_hue_slope=28.0)
# Simulator v2.61's console: v2.45's, dark metal painted teal and dull (`metal_hue_slope` 80° and
# `metal_dull` 1.7 a unit of V, on the brightness shown): the real scans' blue pixels (the 136
# backgrounds) have hue medians 180 / 184 / 188 / 194° and saturation 0.60 / 0.73 / 0.79 / 0.78
# at V 0.2 / 0.3 / 0.4 / 0.5 (bands 0.1 wide), v2.60 (seed 3) 204 / 198 / 196 / 196° and 0.80 /
# 0.78 / 0.78 / 0.78, v2.61 180 / 184 / 188 / 192° and 0.63 / 0.73 / 0.77 / 0.78. Two readers
# preferred it in 8 of 8 pairs each: "dark teal or greenish-black, as the real scans' dark metal"
SIM_STYLE_V2_61 = replace(SIM_STYLE_V2_45, metal_hue_slope=80.0, metal_dull=1.7)
# Simulator v2.63's console: v2.61's, varied per scan as the real scans vary (`hue_shift_sd` and
# `hue_anchor_sd` 0.5°, `saturation_shift` 0.1): over the 136 backgrounds, the per-scan median
# hue of orange by brightness band V 0.5-0.7 / 0.7-0.85 / above spreads 3.8 / 2.8 / 1.9° (σ over
# the scans) and of blue 3.1°, v2.62 (seed 3) 5.5 / 5.1 / 5.0° and 5.1°, v2.63 4.6 / 3.4 / 3.1°
# and 3.8°; per-scan median saturation of orange 0.07 / 0.07 / 0.08 and green 0.08, v2.62 0.03 /
# 0.05 / 0.04 and 0.06, v2.63 0.07 / 0.07 / 0.05 and 0.08. Readers had named "an olive cast"
SIM_STYLE_V2_63 = replace(
    SIM_STYLE_V2_61, hue_shift_sd=0.5, hue_anchor_sd=0.5, saturation_shift=0.1
)
# Simulator v2.73's console: v2.63's, thick organics turned yellower (`organic_hue_slope` 50° a
# unit of V below 0.85, was 28° below 0.8): the real scans' orange has median hues 54.5 / 44.0 /
# 37.3° by brightness band (V 0.5-0.7 / 0.7-0.85 / above; the 136 backgrounds), v2.72 46.9 /
# 41.3 / 37.1° (seed 0, 144 bags), v2.73 52.4 / 44.2 / 36.9°. Two pair readers preferred it in 8
# of 8 each ("dense organic less red-brown"); readers of v2.72 had named "muddy brown-ochre"
SIM_STYLE_V2_73 = replace(SIM_STYLE_V2_63, organic_hue_slope=50.0, organic_hue_pivot=0.85)
# Simulator v2.74's console: v2.73's, the brightness curve's `gamma` 0.5 (was 0.45, fitted when
# the bags were emptier): by brightness band (V 0.5-0.6 / 0.6-0.7 / 0.7-0.8 / 0.8-0.9 / above)
# the real scans' orange is 0.060 / 0.116 / 0.200 / 0.317 / 0.289 of it, v2.73's 0.033 / 0.103
# / 0.188 / 0.315 / 0.357 (seed 3, 48 bags), v2.74's 0.047 / 0.121 / 0.201 / 0.312 / 0.312.
# Both set readers of v2.73 named "pale, washed-out peach"; all four readers of v2.74 preferred
# it, at low confidence ("slightly darker, nearer real density")
SIM_STYLE_V2_74 = replace(SIM_STYLE_V2_73, gamma=0.5)
SIM_STYLE = SIM_STYLE_V2_74  # `SynthConfig.colour`; pins name the version's own style


def false_colour(
    high: np.ndarray, zeff: np.ndarray, style: ColourStyle = DEFAULT_STYLE
) -> np.ndarray:
    """uint8 RGB false-colour image from the high-energy transmission and Zeff."""
    t = np.clip(high, 0.0, 1.0).astype(np.float32, copy=False)
    z = np.asarray(zeff, np.float32)
    if style.dense_zeff_denoise > 0:
        z = _denoised_dense_zeff(z, t, style.dense_zeff_denoise)
    if style.smooth_dark > 0:
        t, z = _smoothed_dark(t, z, style.smooth_dark)
    if style.zeff_denoise > 0:
        z = _denoised_zeff(z, style.zeff_denoise)
    if style.thin_organic > 0:
        z = _thin_organic(z, t, style.thin_organic)
    hue, sat_max, sat_scale = _interp(
        z, style.zeff, (style.hue, style.saturation_max, style.saturation_scale)
    )
    # sat = sat_max · (1 − exp(−attenuation / sat_scale)), attenuation = −ln max(t, 1e-6)
    sat = np.log(np.maximum(t, 1e-6))
    np.divide(sat, sat_scale, out=sat)
    np.exp(sat, out=sat)
    np.subtract(1, sat, out=sat)
    np.multiply(sat_max, sat, out=sat)
    val = np.power(t, style.gamma)
    if style.metal_gamma != 1.0:
        _metal_brightness(val, t, z, style.gamma, style.metal_gamma)
    val *= style.gain
    if style.floor:
        val *= 1.0 - style.floor
        val += style.floor
    if style.metal_slope > 0:
        _metal_linear(
            val, t, z, style.gain, style.metal_slope, style.metal_white, style.metal_floor
        )
    if style.organic_hue_slope:
        _organic_hue(hue, val, z, style.organic_hue_slope, style.organic_hue_pivot)
    if style.local_contrast > 0:
        _local_contrast(val, t, style.local_contrast)
    if style.sharpen > 0:
        floor = None
        if style.halo_floor > 0:  # the darkest each pixel may get: its neighbours' or the floor
            floor = np.minimum(cv2.erode(val, np.ones((3, 3), np.uint8)), style.halo_floor)
        ceiling = cv2.dilate(val, np.ones((3, 3), np.uint8)) if style.halo_keep < 1 else None
        detail = np.subtract(val, cv2.GaussianBlur(val, (0, 0), 1.5))
        val += np.multiply(style.sharpen, detail, out=detail)
        if floor is not None:
            np.maximum(val, floor, out=val)
        if ceiling is not None:  # val above the ceiling: ceiling + halo_keep · (val − ceiling)
            over = np.subtract(val, ceiling, out=ceiling)
            np.maximum(over, 0.0, out=over)
            val -= np.multiply(1.0 - style.halo_keep, over, out=over)
    np.clip(val, 0.0, 1.0, out=val)
    if style.metal_hue_slope or style.metal_dull:  # on the brightness shown, edges included
        _dark_metal(hue, sat, val, z, style.metal_hue_slope, style.metal_dull)
    if style.air_white > 0:
        _air_white(val, sat, t, style.air_white)
    if style.opaque_value > 0:
        _opaque_grey(val, sat, t, style.opaque_value)
    else:
        val[t < IMPENETRABLE_T_HIGH] = 0.0
    if hue.size and not (hue.min() >= 0 and hue.max() < 360):  # mod is exact inside
        np.mod(hue, 360.0, out=hue)
    rgb = cv2.cvtColor(cv2.merge([hue, sat, val]), cv2.COLOR_HSV2RGB)
    np.multiply(rgb, 255.0, out=rgb)
    np.add(rgb, 0.5, out=rgb)
    np.clip(rgb, 0, 255, out=rgb)
    return rgb.astype(np.uint8)


THIN_T_HIGH = (0.35, 0.6)  # `_thin_organic` acts from the first T_high, fully from the second
THIN_MIXTURE_ZEFF = (8.0, 9.5, 11.0)  # it pulls Zeff towards the first, as far as the first
# for Zeff up to the second, less and less above it, not at all from the third: the pale
# yellows go, the greens stay (pulling up to 13 took as many greens as yellows: the colour
# classes' distance to the real scans rose from 0.047-0.051 to 0.054-0.067)


def _thin_organic(z: np.ndarray, t: np.ndarray, amount: float) -> np.ndarray:
    """Zeff of thin mixtures pulled towards organic where much gets through (`THIN_T_HIGH`):
    Zeff 8-9.5 to 8, 10 to 8.7, 10.5 to 9.7, 11 and beyond as it was, at `amount` 1 (a
    console's colour table is two-dimensional: thin content is painted orange unless it is
    clearly inorganic). Dense content and metal keep their Zeff."""
    organic, full, clear = THIN_MIXTURE_ZEFF
    pull = np.clip(z - organic, 0.0, None)
    pull *= np.clip((clear - z) / (clear - full), 0.0, 1.0)
    pull *= _ramp(t, *THIN_T_HIGH)
    pull *= amount
    return z - pull


METAL_GAMMA_ZEFF = (16.0, 20.0)  # `metal_gamma` ramps in between: metals in full


def _metal_brightness(
    val: np.ndarray, t: np.ndarray, z: np.ndarray, gamma: float, factor: float
) -> None:
    """`val` (T_high ** `gamma`) with metal's curve, in place: where Zeff passes
    `METAL_GAMMA_ZEFF`, T_high ** (`gamma` × a factor ramping from 1 to `factor`)."""
    metal = z > METAL_GAMMA_ZEFF[0]
    if not metal.any():
        return
    ramp = np.interp(z[metal], METAL_GAMMA_ZEFF, (1.0, factor)).astype(np.float32)
    val[metal] = np.power(t[metal], gamma * ramp)


def _metal_linear(
    val: np.ndarray,
    t: np.ndarray,
    z: np.ndarray,
    gain: float,
    slope: float,
    white: float,
    floor: float = 0.0,
) -> None:
    """`val` with metal's brightness linear in attenuation, in place: where Zeff passes
    `METAL_GAMMA_ZEFF`, towards `gain` · (1 − `slope` · (−ln T_high − `white`)), clipped to
    `floor`-1, as a console's table spreads thin metal (sky blue) and thick (navy) apart."""
    metal = z > METAL_GAMMA_ZEFF[0]
    if not metal.any():
        return
    weight = np.interp(z[metal], METAL_GAMMA_ZEFF, (0.0, 1.0)).astype(np.float32)
    attenuation = -np.log(np.maximum(t[metal], 1e-6))
    linear = np.clip(gain * (1.0 - slope * np.maximum(attenuation - white, 0.0)), floor, 1.0)
    val[metal] += weight * (linear - val[metal])


AIR_SMOOTH_PX = 1.5  # `_air_white` judges air on T_high smoothed this much: air's noise, σ
# 0.008 a pixel, falls to 0.0015, so no pixel of air stays grey
AIR_RAMP = 0.015  # and fades white in over this much T_high below `ColourStyle.air_white`


def _air_white(val: np.ndarray, sat: np.ndarray, t: np.ndarray, air: float) -> None:
    """Show air white, in place: where T_high smoothed over `AIR_SMOOTH_PX` reaches `air`,
    brightness 1 and no saturation, fading in over `AIR_RAMP` below it, as consoles
    normalise the empty tunnel; thinner content than that stays as it was."""
    white = _ramp(cv2.GaussianBlur(t, (0, 0), AIR_SMOOTH_PX), air - AIR_RAMP, air)
    val += white * (1.0 - val)
    sat *= 1.0 - white


DARK_T_HIGH = 0.02  # below it a console's denoising shows (`_smoothed_dark`)


def _opaque_grey(val: np.ndarray, sat: np.ndarray, t: np.ndarray, grey: float) -> None:
    """Paint where almost nothing gets through (T_high under `IMPENETRABLE_T_HIGH`) a flat,
    neutral dark grey, `grey` (`ColourStyle.opaque_value`) where T is at that threshold and a
    tenth darker where none gets through: the colour around it keeps its hue to the edge."""
    opaque = t < IMPENETRABLE_T_HIGH
    if not opaque.any():
        return
    val[opaque] = grey * (0.9 + 0.1 * (t[opaque] / IMPENETRABLE_T_HIGH))  # t is 0-1 already
    sat[opaque] = 0.0


def _smoothed_dark(t: np.ndarray, z: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """T_high and Zeff averaged over `sigma` px where under 2 % gets through, fully at T = 0
    and fading out at `DARK_T_HIGH`: there photon noise is as large as the signal, and
    coloured as it is it speckles dense metal with black and yellow-green dots that real
    consoles, which denoise, never show."""
    soft_t = cv2.GaussianBlur(t, (0, 0), sigma)
    weight = np.clip(1.0 - soft_t / DARK_T_HIGH, 0.0, 1.0)
    if not weight.any():
        return t, z
    t = t + weight * (soft_t - t)
    z = z + weight * (cv2.GaussianBlur(z, (0, 0), sigma) - z)
    return t, z


# the bilateral filter's σ in Zeff units: a neighbour 3 apart weighs 0.61 of a like one, 5 apart
# 0.25, so noise of a few units is averaged and an edge from organic (~7) to metal (~26) is not
ZEFF_DENOISE_RANGE = 3.0


def _denoised_zeff(z: np.ndarray, sigma: float) -> np.ndarray:
    """Zeff averaged over `sigma` px among neighbours of a like Zeff (a bilateral filter):
    the noise within one material goes, the edges between materials stay."""
    radius = max(int(np.ceil(2 * sigma)), 1)
    return cv2.bilateralFilter(np.asarray(z, np.float32), 2 * radius + 1, ZEFF_DENOISE_RANGE, sigma)


ORGANIC_HUE_ZEFF = (10.0, 8.5)  # `_organic_hue` starts below the first Zeff, in full below
# the second


def _organic_hue(
    hue: np.ndarray, val: np.ndarray, z: np.ndarray, slope: float, pivot: float
) -> None:
    """Turn organic hue with brightness (`ColourStyle.organic_hue_slope`): `slope` degrees
    per unit of V below `pivot`, yellower where darker, redder where lighter."""
    weight = _ramp(z, *ORGANIC_HUE_ZEFF)
    weight *= np.subtract(pivot, val)
    hue += np.multiply(slope, weight, out=weight)


METAL_HUE_PIVOT = 0.6  # the brightness from which `_dark_metal` leaves metal's hue as it is
METAL_DULL_PIVOT = 0.4  # and its saturation


def _dark_metal(
    hue: np.ndarray, sat: np.ndarray, val: np.ndarray, z: np.ndarray, slope: float, dull: float
) -> None:
    """Paint dark metal teal and dull, in place (`ColourStyle.metal_hue_slope`, `metal_dull`):
    hue `slope` degrees towards cyan per unit of V below `METAL_HUE_PIVOT`, saturation down by
    the share `dull` per unit below `METAL_DULL_PIVOT`; in full where Zeff passes
    `METAL_GAMMA_ZEFF`."""
    metal = _ramp(z, *METAL_GAMMA_ZEFF)
    if slope:
        hue -= slope * metal * np.maximum(METAL_HUE_PIVOT - val, 0.0)
    if dull:
        sat *= 1.0 - np.minimum(dull * metal * np.maximum(METAL_DULL_PIVOT - val, 0.0), 1.0)


def _ramp(t: np.ndarray, start: float, full: float) -> np.ndarray:
    """0 at and beyond `start`, rising linearly to 1 at and beyond `full` (either order): how
    much of an effect that depends on T_high (or Zeff) acts at each pixel."""
    return np.clip((t - start) / (full - start), 0.0, 1.0)


LOCAL_CONTRAST_PX = 6.0  # σ of `_local_contrast`'s blur: folds and creases a cm or two across
LOCAL_CONTRAST_T_HIGH = (0.1, 0.3)  # `_local_contrast` starts above the first, in full above the
# second: below, what it would lift is photon noise


def _local_contrast(val: np.ndarray, t: np.ndarray, amount: float) -> None:
    """Lift `val`'s detail against its `LOCAL_CONTRAST_PX` surroundings by `amount`, in place,
    where T_high is above `LOCAL_CONTRAST_T_HIGH`: a console's enhancement of thin material."""
    weight = _ramp(t, *LOCAL_CONTRAST_T_HIGH)
    lifted = weight > 0
    if not lifted.any():
        return
    detail = np.subtract(val, cv2.GaussianBlur(val, (0, 0), LOCAL_CONTRAST_PX))
    detail *= weight
    # only where it acts: a NaN nearby (0 · NaN) leaves the pixels it does not reach as they were
    val[lifted] += amount * detail[lifted]


DENSE_T_HIGH = (0.3, 0.1)  # `_denoised_dense_zeff` starts below the first, in full below the second
DENSE_ZEFF_RANGE = 6.0  # its bilateral σ in Zeff units: teal (18) and blue (24) merge, organic
# (~7) and metal (~26) stay apart
DENSE_ZEFF_KEEP = 6.0  # Zeff units: a pixel this far from the average moves only 1/e of the way
# to it (a 1 px wire of Zeff 30 over a toaster's 18 keeps 29.4), where noise moves nearly all


def _denoised_dense_zeff(z: np.ndarray, t: np.ndarray, sigma: float) -> np.ndarray:
    """Zeff averaged over `sigma` px (σ; the kernel is cut at about 1.2 σ) among neighbours of
    a like Zeff where T_high is under `DENSE_T_HIGH`, blended in as T falls: there two noisy
    channels leave blotches that the 1.5 px `_denoised_zeff` keeps. Computed at half resolution
    (a few ms, where a full-size kernel of this reach costs 70 ms a bag) and scaled back;
    elsewhere Zeff is left as it is."""
    weight = _ramp(t, *DENSE_T_HIGH)
    if not weight.any():
        return z
    h, w = z.shape
    half = cv2.resize(
        np.asarray(z, np.float32), (max(w // 2, 1), max(h // 2, 1)), interpolation=cv2.INTER_AREA
    )
    radius = max(int(np.ceil(sigma / 2)), 1)
    half = cv2.bilateralFilter(half, 2 * radius + 1, DENSE_ZEFF_RANGE, sigma / 2)
    smooth = cv2.resize(half, (w, h), interpolation=cv2.INTER_LINEAR)
    change = smooth - z
    # a pixel far from its neighbourhood's average is detail (a screw, a wire), not noise: kept
    weight *= np.exp(-np.square(change / DENSE_ZEFF_KEEP))
    # only where it acts: a NaN nearby (0 · NaN) leaves the pixels it does not reach as they were
    return np.where(weight > 0, z + weight * change, z).astype(np.result_type(z, np.float32))


def _interp(x: np.ndarray, xp, tables) -> list[np.ndarray]:
    """`np.interp(x, xp, fp).astype(np.float32)` of float32 `x` for each fp of `tables`.

    One search for all tables, by counting the knots at or below each x (few knots, so faster
    than a binary search), then NumPy's own float64 arithmetic, slope·(x − xp[j]) + fp[j], so
    the values are the same; a last knot of slope 0 gives fp[-1] at and beyond the end.
    """
    xp = np.asarray(xp, np.float64)
    n = len(xp)
    if x.dtype != np.float32 or n < 2 or n > 255 or np.any(np.diff(xp) <= 0) or np.isnan(x).any():
        return [np.asarray(np.interp(x, xp, fp), np.float32) for fp in tables]
    j = np.zeros(x.shape, np.uint8)
    for knot in xp[1:]:
        j += x >= _f32_at_least(knot)  # the same as float64(x) >= knot
    j = j.reshape(-1, 1)

    def gather(table: np.ndarray) -> np.ndarray:  # table[j]; cv2.LUT is a fast uint8 gather
        lut = np.zeros(256, np.float64)
        lut[: len(table)] = table
        return cv2.LUT(j, lut).reshape(x.shape)

    offset = np.clip(x, xp[0], xp[-1], dtype=np.float64)
    offset -= gather(xp)
    out = []
    for fp in tables:
        fp = np.asarray(fp, np.float64)
        value = gather(np.append((fp[1:] - fp[:-1]) / (xp[1:] - xp[:-1]), 0.0))
        value *= offset
        value += gather(fp)
        out.append(value.astype(np.float32))
    return out


def _f32_at_least(value: float) -> np.float32:
    """The smallest float32 not below `value`."""
    f = np.float32(value)
    return f if float(f) >= value else np.nextafter(f, np.float32(np.inf))


def transmission_grey(t: np.ndarray) -> np.ndarray:
    """uint8 RGB greyscale rendering of a transmission image (white is air)."""
    v = np.clip(np.power(np.clip(t, 0.0, 1.0), 0.6) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return np.repeat(v[:, :, None], 3, axis=2)


def dual_energy_display(
    low: np.ndarray, high: np.ndarray, zeff: np.ndarray | None = None
) -> np.ndarray:
    """Display image for raw dual-energy channels: false colour with Zeff, else greyscale.

    Without a Zeff channel the greyscale mixes both layers; turning raw channels into Zeff needs
    the scanner's calibration, which the raw files do not carry.
    """
    if zeff is not None:
        return false_colour(high, zeff)
    return transmission_grey(np.sqrt(low * high))
