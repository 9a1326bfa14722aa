"""Simulated datasets: scans on disk and one COCO JSON of exact ground truth.

Each bag i of a dataset with seed S is drawn from `numpy.random.default_rng([S, i])`, so the
files do not depend on how many worker processes made them. Images are written as
`images/bag_NNNNNN.png` plus `_low`, `_high` (16-bit) and `_zeff` channel files; annotations
carry the anomaly attributes the classifiers train on.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np
from pycocotools import mask as mask_utils

from engine.colour import (
    SIM_SMOOTH_DARK,
    SIM_STYLE,
    SIM_STYLE_V2_5,
    SIM_STYLE_V2_7,
    SIM_STYLE_V2_11,
    SIM_STYLE_V2_16,
    SIM_STYLE_V2_17,
    SIM_STYLE_V2_18,
    SIM_STYLE_V2_21,
    SIM_STYLE_V2_22,
    SIM_STYLE_V2_23,
    SIM_STYLE_V2_24,
    SIM_STYLE_V2_25,
    SIM_STYLE_V2_33,
    SIM_STYLE_V2_37,
    SIM_STYLE_V2_40,
    SIM_STYLE_V2_42,
    SIM_STYLE_V2_44,
    SIM_STYLE_V2_45,
    SIM_STYLE_V2_61,
    SIM_STYLE_V2_63,
    SIM_STYLE_V2_73,
    STYLE_V2_0,
    ColourStyle,
)
from engine.config import to_dict
from engine.io.write import atomic_write_bytes, save_scan
from engine.synth.bag import (
    SIM_V2_0,
    SIM_V2_4,
    SIM_V2_5,
    SIM_V2_6,
    SIM_V2_7,
    SIM_V2_8,
    SIM_V2_9,
    SIM_V2_10,
    SIM_V2_11,
    SIM_V2_12,
    SIM_V2_13,
    SIM_V2_14,
    SIM_V2_18,
    SIM_V2_19,
    SIM_V2_25,
    SIM_V2_26,
    SIM_V2_27,
    SIM_V2_28,
    SIM_V2_29,
    SIM_V2_30,
    SIM_V2_31,
    SIM_V2_33,
    SIM_V2_34,
    SIM_V2_35,
    SIM_V2_37,
    SIM_V2_38,
    SIM_V2_39,
    SIM_V2_40,
    SIM_V2_41,
    SIM_V2_42,
    SIM_V2_45,
    SIM_V2_46,
    SIM_V2_47,
    SIM_V2_48,
    SIM_V2_49,
    SIM_V2_50,
    SIM_V2_51,
    SIM_V2_54,
    SIM_V2_55,
    SIM_V2_56,
    SIM_V2_57,
    SIM_V2_58,
    SIM_V2_59,
    SIM_V2_60,
    SIM_V2_61,
    SIM_V2_62,
    SIM_V2_63,
    SIM_V2_64,
    SIM_V2_65,
    SIM_V2_66,
    SIM_V2_67,
    SIM_V2_68,
    SIM_V2_69,
    SIM_V2_70,
    SIM_V2_71,
    Bag,
    BagConfig,
    ObjectTruth,
    anomaly_visibility,
    check_pairs,
    compose_bag,
)
from engine.synth.objects import CATEGORIES
from engine.synth.parts import side_rng
from engine.synth.scanner import Scanner, ScannerConfig

ANNOTATIONS = "annotations.json"


SCANNER_V2_0 = ScannerConfig()  # the scanner of simulator v2.0-v2.52: no line dips
SCANNER_V2_53 = ScannerConfig(line_dips=0.05)  # v2.53's: one scan in twenty with a line dip
# `SynthConfig.scanner` since v2.54: and Zeff smoothed over a detector pixel where much gets through
SIM_SCANNER = ScannerConfig(line_dips=0.05, zeff_fine=True)


@dataclass(frozen=True)
class SynthConfig:
    """Everything a simulated dataset depends on besides its seed and size."""

    bag: BagConfig = field(default_factory=BagConfig)
    # the scanner: since v2.53 one scan in twenty holds a band where the tube's output dipped
    # (`ScannerConfig.line_dips`), as 7 of the 136 real benign backgrounds do; since v2.54 Zeff
    # is smoothed over a detector pixel, not an image pixel, where much gets through
    # (`ScannerConfig.zeff_fine`), so thin metal stays blue
    scanner: ScannerConfig = field(default_factory=lambda: SIM_SCANNER)
    kvp: tuple[float, ...] = (120.0, 140.0, 160.0)  # tube voltages, one drawn per scan
    # the console palette: since v2.4 it averages its darkest pixels (v2.0-v2.3: smooth_dark 0),
    # since v2.5 it paints metal bluer and less saturated, since v2.7 it shows the darkest
    # patches solid and each material evenly coloured, and sharpens more, since v2.11 its
    # sharpening stops short of black, since v2.16 it paints dense objects evenly and lifts
    # the local contrast of thin material, since v2.17 metal bluer and greens leafier, since
    # v2.18 dense organics more saturated and thin ones paler, since v2.33 dense greens
    # yellow-green, not teal (`colour.SIM_STYLE`)
    colour: ColourStyle = field(default_factory=lambda: SIM_STYLE)
    jitter_colour: bool = True  # vary the console palette per scan (physics.md §3)

    def scanners(self) -> list[ScannerConfig]:
        """The scanner configurations scans are drawn from, one per tube voltage."""
        return [replace(self.scanner, kvp=float(k)) for k in self.kvp] or [self.scanner]


def _pinned(bag: dict, colour: ColourStyle, scanner: ScannerConfig) -> SynthConfig:
    """An earlier simulator version: today's bag with the settings `bag` changed back, and
    that version's console and scanner (before v2.53: no line dips)."""
    return SynthConfig(bag=replace(BagConfig(), **bag), colour=colour, scanner=scanner)


# Simulator v2.0 (2026-12-01), demo model v2's domain and the demo scans': bags and palette
# (configs/synth/sim_v2_0.yaml says the same; a test keeps them equal).
SIM_V2_0_CONFIG = _pinned(SIM_V2_0, STYLE_V2_0, SCANNER_V2_0)
# Simulator v2.2 (2026-12-02), demo model v3's domain: v2.1's bags with box shells and the
# palette with a brightness floor (configs/synth/sim_v2_2.yaml says the same).
SIM_V2_2_CONFIG = SynthConfig(
    scanner=SCANNER_V2_0,
    bag=replace(
        BagConfig(),
        **{**SIM_V2_4, "shell_corners": None, "cables": 3.5, "coiled_cables": False, "spread": 1},
    ),
    colour=ColourStyle(gamma=0.45, floor=0.4, sharpen_range=(1.5, 3.75), smooth_dark=0.0),
)
# Simulator v2.4 (2026-12-02), the defaults before v2.5 (configs/synth/sim_v2_4.yaml says the
# same): rounded shells, clutter spread into the gaps, an upright fan with its source in the
# middle, the console that averages its darkest pixels.
SIM_V2_4_CONFIG = _pinned(SIM_V2_4, ColourStyle(smooth_dark=SIM_SMOOTH_DARK), SCANNER_V2_0)

# Simulator v2.5 (2026-12-02), the defaults before v2.6 (configs/synth/sim_v2_5.yaml says the
# same): soft bags end on their piping.
SIM_V2_5_CONFIG = _pinned(SIM_V2_5, SIM_STYLE_V2_5, SCANNER_V2_0)
# Simulator v2.6 (2026-12-02), the defaults before v2.7 (configs/synth/sim_v2_6.yaml says the
# same): objects of interest laid in where they fall; dark patches speckled, metal mottled.
SIM_V2_6_CONFIG = _pinned(SIM_V2_6, SIM_STYLE_V2_5, SCANNER_V2_0)
# Simulator v2.7 (2026-12-03), the defaults before v2.8 (configs/synth/sim_v2_7.yaml says the
# same): nine bags in ten across the belt, in the configured (landscape) frame.
SIM_V2_7_CONFIG = _pinned(SIM_V2_7, SIM_STYLE_V2_7, SCANNER_V2_0)
# Simulator v2.8 (2026-12-03), the defaults before v2.9 (configs/synth/sim_v2_8.yaml says the
# same): a soft bag's walls show only their 1-3 folds, and every screw along a bag's edges is
# seen face-on.
SIM_V2_8_CONFIG = _pinned(SIM_V2_8, SIM_STYLE_V2_7, SCANNER_V2_0)
# Simulator v2.9 (2026-12-03), the defaults before v2.10 (configs/synth/sim_v2_9.yaml says the
# same): half the bags trolleys, two in three of their frame plates PVC, bags cropped tighter.
SIM_V2_9_CONFIG = _pinned(SIM_V2_9, SIM_STYLE_V2_7, SCANNER_V2_0)
# Simulator v2.10 (2026-12-03), the defaults before v2.11 (configs/synth/sim_v2_10.yaml says the
# same): all clothes folded, 38-66 clutter items, bare side walls, hardware that could stand out
# of the shell, wide handle tubes, half of them steel, keys in pinwheels.
SIM_V2_10_CONFIG = _pinned(SIM_V2_10, SIM_STYLE_V2_7, SCANNER_V2_0)
# Simulator v2.11 (2026-12-03), the defaults before v2.12 (configs/synth/sim_v2_11.yaml says the
# same): clothes cut sharp at their edges.
SIM_V2_11_CONFIG = _pinned(SIM_V2_11, SIM_STYLE_V2_11, SCANNER_V2_0)
# Simulator v2.12 (2026-12-03), the defaults before v2.13 (configs/synth/sim_v2_12.yaml says the
# same): no cloth filling the bag's depth, fewer ribs and creases round its walls.
SIM_V2_12_CONFIG = _pinned(SIM_V2_12, SIM_STYLE_V2_11, SCANNER_V2_0)
# Simulator v2.13 (2026-12-03), the defaults before v2.14 (configs/synth/sim_v2_13.yaml says the
# same): umbrellas a ladder of eight even ribs, packed as often as v2.12's.
SIM_V2_13_CONFIG = _pinned(SIM_V2_13, SIM_STYLE_V2_11, SCANNER_V2_0)
# Simulator v2.14 (2026-12-03), the defaults before v2.15 (configs/synth/sim_v2_14.yaml says the
# same): rounded corners in 4 facets of 22.5°, the bag's box 1.02-1.08 of the frame.
SIM_V2_14_CONFIG = _pinned(SIM_V2_14, SIM_STYLE_V2_11, SCANNER_V2_0)
# Simulator v2.15 (2026-12-03), the defaults before v2.16 (configs/synth/sim_v2_15.yaml says the
# same): Zeff under dense objects averaged as elsewhere, blotched blue and teal.
SIM_V2_15_CONFIG = _pinned(SIM_V2_18, SIM_STYLE_V2_11, SCANNER_V2_0)
# Simulator v2.16 (2026-12-03), the defaults before v2.17 (configs/synth/sim_v2_16.yaml says the
# same): metal tealer, greens more saturated and spread towards teal.
SIM_V2_16_CONFIG = _pinned(SIM_V2_18, SIM_STYLE_V2_16, SCANNER_V2_0)
# Simulator v2.17 (2026-12-03), the defaults before v2.18 (configs/synth/sim_v2_17.yaml says the
# same): dense organics less saturated, thin ones deeper orange.
SIM_V2_17_CONFIG = _pinned(SIM_V2_18, SIM_STYLE_V2_17, SCANNER_V2_0)
# Simulator v2.18 (2026-12-03), the defaults before v2.19 (configs/synth/sim_v2_18.yaml says the
# same): a toaster's slot guards solid plates.
SIM_V2_18_CONFIG = _pinned(SIM_V2_18, SIM_STYLE_V2_18, SCANNER_V2_0)
# Simulator v2.19 (2026-12-03), the defaults before v2.20 (configs/synth/sim_v2_19.yaml says the
# same): garments without creases.
SIM_V2_19_CONFIG = _pinned(SIM_V2_19, SIM_STYLE_V2_18, SCANNER_V2_0)
# Simulator v2.20 (2026-12-03), the defaults before v2.21 (configs/synth/sim_v2_20.yaml says the
# same): v2.25's bags, air shown as the detector saw it.
SIM_V2_20_CONFIG = _pinned(SIM_V2_25, SIM_STYLE_V2_18, SCANNER_V2_0)
# Simulator v2.21 (2026-12-03), the defaults before v2.22 (configs/synth/sim_v2_21.yaml says the
# same): v2.25's bags, thin mixtures coloured by their Zeff alone.
SIM_V2_21_CONFIG = _pinned(SIM_V2_25, SIM_STYLE_V2_21, SCANNER_V2_0)
# Simulator v2.22 (2026-12-03), the defaults before v2.23 (configs/synth/sim_v2_22.yaml says the
# same): v2.25's bags, light greens lime.
SIM_V2_22_CONFIG = _pinned(SIM_V2_25, SIM_STYLE_V2_22, SCANNER_V2_0)
# Simulator v2.23 (2026-12-03), the defaults before v2.24 (configs/synth/sim_v2_23.yaml says the
# same): v2.25's bags, metal on the organics' brightness curve.
SIM_V2_23_CONFIG = _pinned(SIM_V2_25, SIM_STYLE_V2_23, SCANNER_V2_0)
# Simulator v2.24 (2026-12-03), the defaults before v2.25 (configs/synth/sim_v2_24.yaml says the
# same): v2.25's bags, sharpened as since v2.7.
SIM_V2_24_CONFIG = _pinned(SIM_V2_25, SIM_STYLE_V2_24, SCANNER_V2_0)
# Simulator v2.25 (2026-12-03), the defaults before v2.26 (configs/synth/sim_v2_25.yaml says the
# same): handle tubes 2.0-3.6 cm wide, three in four aluminium, with walls of 1.2 mm (0.5 mm of
# steel).
SIM_V2_25_CONFIG = _pinned(SIM_V2_25, SIM_STYLE_V2_25, SCANNER_V2_0)
# Simulator v2.26 (2026-12-03), the defaults before v2.27 (configs/synth/sim_v2_26.yaml says the
# same): items placed within the room their box leaves, so they crowd the bag's middle, and a
# soft bag's folds and seams of bare fabric.
SIM_V2_26_CONFIG = _pinned(SIM_V2_26, SIM_STYLE_V2_25, SCANNER_V2_0)
# Simulator v2.27 (2026-12-04), the defaults before v2.28 (configs/synth/sim_v2_27.yaml says the
# same): a soft bag's wall cloth folded in sharp outlines, stacked by the fan's lean into rings.
SIM_V2_27_CONFIG = _pinned(SIM_V2_27, SIM_STYLE_V2_25, SCANNER_V2_0)
# Simulator v2.28 (2026-12-04), the defaults before v2.29 (configs/synth/sim_v2_28.yaml says the
# same): half the bags turned by up to 35° on the belt, the rest by up to 8°, framed whole.
SIM_V2_28_CONFIG = _pinned(SIM_V2_28, SIM_STYLE_V2_25, SCANNER_V2_0)
# Simulator v2.29 (2026-12-04), the defaults before v2.30 (configs/synth/sim_v2_29.yaml says the
# same): a trolley's wheels on the four corners of its outline.
SIM_V2_29_CONFIG = _pinned(SIM_V2_29, SIM_STYLE_V2_25, SCANNER_V2_0)
# Simulator v2.30 (2026-12-04), the defaults before v2.31 (configs/synth/sim_v2_30.yaml says the
# same): a soft bag's wall cloth twice as grainy as v2.28's.
SIM_V2_30_CONFIG = _pinned(SIM_V2_30, SIM_STYLE_V2_25, SCANNER_V2_0)
# Simulator v2.31 (2026-12-04), the defaults before v2.32 (configs/synth/sim_v2_31.yaml says the
# same): a trolley's spinners all turned alike, a steel pin out to a bare axle.
SIM_V2_31_CONFIG = _pinned(SIM_V2_31, SIM_STYLE_V2_25, SCANNER_V2_0)
# Simulator v2.32 (2026-12-05), the defaults before v2.33 (configs/synth/sim_v2_32.yaml says the
# same): v2.33's bags (handle tubes bare), dense greens painted teal.
SIM_V2_32_CONFIG = _pinned(SIM_V2_33, SIM_STYLE_V2_25, SCANNER_V2_0)
# Simulator v2.33 (2026-12-05), the defaults before v2.34 (configs/synth/sim_v2_33.yaml says the
# same): a trolley's handle tubes bare, without feet, screws or rivets.
SIM_V2_33_CONFIG = _pinned(SIM_V2_33, SIM_STYLE_V2_33, SCANNER_V2_0)
# Simulator v2.34 (2026-12-05), the defaults before v2.35 (configs/synth/sim_v2_34.yaml says the
# same): a soft bag's wall cloth grained isotropically over 2.5 mm.
SIM_V2_34_CONFIG = _pinned(SIM_V2_34, SIM_STYLE_V2_33, SCANNER_V2_0)
# Simulator v2.35 (2026-12-05), the defaults before v2.36 (configs/synth/sim_v2_35.yaml says the
# same): the wall cloth's streaks wandering and long.
SIM_V2_35_CONFIG = _pinned(SIM_V2_35, SIM_STYLE_V2_33, SCANNER_V2_0)
# Simulator v2.36 (2026-12-05), the defaults before v2.37 (configs/synth/sim_v2_36.yaml says the
# same): today's bags, metal's brightness on the power curve (flat, even blue).
SIM_V2_36_CONFIG = _pinned(SIM_V2_37, SIM_STYLE_V2_33, SCANNER_V2_0)
# Simulator v2.37 (2026-12-05), the defaults before v2.38 (configs/synth/sim_v2_37.yaml says the
# same): plain handle tubes, each face's piping its own shape, buckles solid plates.
SIM_V2_37_CONFIG = _pinned(SIM_V2_37, SIM_STYLE_V2_37, SCANNER_V2_0)
# Simulator v2.38 (2026-12-05), the defaults before v2.39 (configs/synth/sim_v2_38.yaml says the
# same): a trolley's swivelled spinners on polyurethane tyres, orange.
SIM_V2_38_CONFIG = _pinned(SIM_V2_38, SIM_STYLE_V2_37, SCANNER_V2_0)
# Simulator v2.39 (2026-12-05), the defaults before v2.40 (configs/synth/sim_v2_39.yaml says the
# same): webs in both handle tubes, through each other; dense metal painted black.
SIM_V2_39_CONFIG = _pinned(SIM_V2_39, SIM_STYLE_V2_37, SCANNER_V2_0)
# Simulator v2.40 (2026-12-05), the defaults before v2.41 (configs/synth/sim_v2_40.yaml says the
# same): a bag's face D-rings of 3 mm wire and its buckles' bars 3.5 by 3 mm, hairlines.
SIM_V2_40_CONFIG = _pinned(SIM_V2_40, SIM_STYLE_V2_40, SCANNER_V2_0)
# Simulator v2.41 (2026-12-05), the defaults before v2.42 (configs/synth/sim_v2_41.yaml says the
# same): a third of the strewn small pieces lipsticks and USB sticks; sharpening's full rim.
SIM_V2_41_CONFIG = _pinned(SIM_V2_41, SIM_STYLE_V2_40, SCANNER_V2_0)
# Simulator v2.42 (2026-12-05), the defaults before v2.43 (configs/synth/sim_v2_42.yaml says the
# same): a sixth of the strewn small pieces rings.
SIM_V2_42_CONFIG = _pinned(SIM_V2_42, SIM_STYLE_V2_42, SCANNER_V2_0)
# Simulator v2.43 (2026-12-05), the defaults before v2.44 (configs/synth/sim_v2_43.yaml says the
# same): v2.45's bags on a console that paints what stops the beam black.
SIM_V2_43_CONFIG = _pinned(SIM_V2_45, SIM_STYLE_V2_42, SCANNER_V2_0)
# Simulator v2.44 (2026-12-05), the defaults before v2.45 (configs/synth/sim_v2_44.yaml says the
# same): v2.45's bags on a console whose organic hue follows Zeff alone.
SIM_V2_44_CONFIG = _pinned(SIM_V2_45, SIM_STYLE_V2_44, SCANNER_V2_0)
# Simulator v2.45 (2026-12-05), the defaults before v2.46 (configs/synth/sim_v2_45.yaml says the
# same): a zip on a face a round wire.
SIM_V2_45_CONFIG = _pinned(SIM_V2_45, SIM_STYLE_V2_45, SCANNER_V2_0)
# Simulator v2.46 (2026-12-05), the defaults before v2.47 (configs/synth/sim_v2_46.yaml says the
# same): a bag's face D-rings round and its buckles square-cut frames.
SIM_V2_46_CONFIG = _pinned(SIM_V2_46, SIM_STYLE_V2_45, SCANNER_V2_0)
# Simulator v2.47 (2026-12-05), the defaults before v2.48 (configs/synth/sim_v2_47.yaml says the
# same): every hard shell of polycarbonate.
SIM_V2_47_CONFIG = _pinned(SIM_V2_47, SIM_STYLE_V2_45, SCANNER_V2_0)
# Simulator v2.48 (2026-12-05), the defaults before v2.49 (configs/synth/sim_v2_48.yaml says the
# same): a trolley's side handle an ABS bar inside its wall.
SIM_V2_48_CONFIG = _pinned(SIM_V2_48, SIM_STYLE_V2_45, SCANNER_V2_0)
# Simulator v2.49 (2026-12-05), the defaults before v2.50 (configs/synth/sim_v2_49.yaml says the
# same): a trolley's swivelled spinners' turrets flat discs.
SIM_V2_49_CONFIG = _pinned(SIM_V2_49, SIM_STYLE_V2_45, SCANNER_V2_0)
# Simulator v2.50 (2026-12-05), the defaults before v2.51 (configs/synth/sim_v2_50.yaml says the
# same): one trolley frame plate in three PVC.
SIM_V2_50_CONFIG = _pinned(SIM_V2_50, SIM_STYLE_V2_45, SCANNER_V2_0)
# Simulator v2.51 (2026-12-05), the defaults before v2.52 (configs/synth/sim_v2_51.yaml says the
# same): a belt's buckle a frame of square-cut bars.
SIM_V2_51_CONFIG = _pinned(SIM_V2_51, SIM_STYLE_V2_45, SCANNER_V2_0)
# Simulator v2.52 (2026-12-05), the defaults before v2.53 (configs/synth/sim_v2_52.yaml says the
# same): v2.54's bags and today's console, on a scanner whose output never dipped.
SIM_V2_52_CONFIG = _pinned(SIM_V2_54, SIM_STYLE_V2_45, SCANNER_V2_0)
# Simulator v2.53 (2026-12-05), the defaults before v2.54 (configs/synth/sim_v2_53.yaml says the
# same): v2.54's bags and today's console; Zeff smoothed over an image pixel everywhere.
SIM_V2_53_CONFIG = _pinned(SIM_V2_54, SIM_STYLE_V2_45, SCANNER_V2_53)
# Simulator v2.54 (2026-12-05), the defaults before v2.55 (configs/synth/sim_v2_54.yaml says the
# same): a soft bag's piping wire 1.6-3 mm.
SIM_V2_54_CONFIG = _pinned(SIM_V2_54, SIM_STYLE_V2_45, SIM_SCANNER)
# Simulator v2.55 (2026-12-05), the defaults before v2.56 (configs/synth/sim_v2_55.yaml says the
# same): the frame cropped looser round the bag; a garment's crumple drawn from the bag's numbers.
SIM_V2_55_CONFIG = _pinned(SIM_V2_55, SIM_STYLE_V2_45, SIM_SCANNER)
# Simulator v2.56 (2026-12-05), the defaults before v2.57 (configs/synth/sim_v2_56.yaml says the
# same): a trolley's frame plate square.
SIM_V2_56_CONFIG = _pinned(SIM_V2_56, SIM_STYLE_V2_45, SIM_SCANNER)
# Simulator v2.57 (2026-12-05), the defaults before v2.58 (configs/synth/sim_v2_57.yaml says the
# same): a trolley's handle tubes 0.6 of its width apart.
SIM_V2_57_CONFIG = _pinned(SIM_V2_57, SIM_STYLE_V2_45, SIM_SCANNER)
# Simulator v2.58 (2026-12-05), the defaults before v2.59 (configs/synth/sim_v2_58.yaml says the
# same): an inline wheel's housing standing out of the trolley's end.
SIM_V2_58_CONFIG = _pinned(SIM_V2_58, SIM_STYLE_V2_45, SIM_SCANNER)
# Simulator v2.59 (2026-12-05), the defaults before v2.60 (configs/synth/sim_v2_59.yaml says the
# same): every bag's face buckles and D-rings alike.
SIM_V2_59_CONFIG = _pinned(SIM_V2_59, SIM_STYLE_V2_45, SIM_SCANNER)
# Simulator v2.60 (2026-12-05), the defaults before v2.61 (configs/synth/sim_v2_60.yaml says the
# same): dark metal painted navy, its hue and saturation from Zeff and attenuation alone.
SIM_V2_60_CONFIG = _pinned(SIM_V2_60, SIM_STYLE_V2_45, SIM_SCANNER)
# Simulator v2.61 (2026-12-05), the defaults before v2.62 (configs/synth/sim_v2_61.yaml says the
# same): objects of interest at any heading.
SIM_V2_61_CONFIG = _pinned(SIM_V2_61, SIM_STYLE_V2_61, SIM_SCANNER)
# Simulator v2.62 (2026-12-05), the defaults before v2.63 (configs/synth/sim_v2_62.yaml says the
# same): the console's hue varied per scan by σ 3° together and 2° each anchor, its saturation
# each anchor alone.
SIM_V2_62_CONFIG = _pinned(SIM_V2_62, SIM_STYLE_V2_61, SIM_SCANNER)
# Simulator v2.63 (2026-12-05), the defaults before v2.64 (configs/synth/sim_v2_63.yaml says the
# same): one bag in every scan.
SIM_V2_63_CONFIG = _pinned(SIM_V2_63, SIM_STYLE_V2_63, SIM_SCANNER)
# Simulator v2.64 (2026-12-05), the defaults before v2.65 (configs/synth/sim_v2_64.yaml says the
# same): garments' cloth smooth at the millimetre scale.
SIM_V2_64_CONFIG = _pinned(SIM_V2_64, SIM_STYLE_V2_63, SIM_SCANNER)
# Simulator v2.65 (2026-12-05), the defaults before v2.66 (configs/synth/sim_v2_65.yaml says the
# same): the belt down the image, garments within the walls, the bag anywhere along the belt.
SIM_V2_65_CONFIG = _pinned(SIM_V2_65, SIM_STYLE_V2_63, SIM_SCANNER)
# Simulator v2.66 (2026-12-05), the defaults before v2.67 (configs/synth/sim_v2_66.yaml says the
# same): the fan's source always at the image's top.
SIM_V2_66_CONFIG = _pinned(SIM_V2_66, SIM_STYLE_V2_63, SIM_SCANNER)
# Simulator v2.67 (2026-12-06), the defaults before v2.68 (configs/synth/sim_v2_67.yaml says the
# same): four or five pairs of shoes in a mid-sized trolley, every sole filled rubber.
SIM_V2_67_CONFIG = _pinned(SIM_V2_67, SIM_STYLE_V2_63, SIM_SCANNER)
# Simulator v2.68 (2026-12-06), the defaults before v2.69 (configs/synth/sim_v2_68.yaml says the
# same): every bag packed about alike for its size.
SIM_V2_68_CONFIG = _pinned(SIM_V2_68, SIM_STYLE_V2_63, SIM_SCANNER)
# Simulator v2.69 (2026-12-06), the defaults before v2.70 (configs/synth/sim_v2_69.yaml says the
# same): every trolley's handle tubes alike.
SIM_V2_69_CONFIG = _pinned(SIM_V2_69, SIM_STYLE_V2_63, SIM_SCANNER)
# Simulator v2.70 (2026-12-06), the defaults before v2.71 (configs/synth/sim_v2_70.yaml says the
# same): every trolley's handle tubes' walls as `tube_walls`.
SIM_V2_70_CONFIG = _pinned(SIM_V2_70, SIM_STYLE_V2_63, SIM_SCANNER)
# Simulator v2.71 (2026-12-06), the defaults before v2.72 (configs/synth/sim_v2_71.yaml says the
# same): every bag's face buckles steel.
SIM_V2_71_CONFIG = _pinned(SIM_V2_71, SIM_STYLE_V2_63, SIM_SCANNER)
# Simulator v2.72 (2026-12-06), the defaults before v2.73 (configs/synth/sim_v2_72.yaml says the
# same): today's bags, v2.63's console, whose thick organics are redder.
SIM_V2_72_CONFIG = _pinned({}, SIM_STYLE_V2_63, SIM_SCANNER)
# Simulator v2.73 (2026-12-06), the defaults before v2.74 (configs/synth/sim_v2_73.yaml says the
# same): today's bags, v2.73's console, whose brightness curve is lighter.
SIM_V2_73_CONFIG = _pinned({}, SIM_STYLE_V2_73, SIM_SCANNER)

_scanners: dict[ScannerConfig, Scanner] = {}  # per worker process: each takes ~0.5 s to build


def _scanner(config: ScannerConfig) -> Scanner:
    if config not in _scanners:
        _scanners[config] = Scanner(config)
    return _scanners[config]


def _rle(mask: np.ndarray) -> dict:
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle["counts"] = rle["counts"].decode("ascii")
    return rle


def mask_bbox(mask: np.ndarray) -> list[float]:
    """COCO box [x, y, width, height] (px) of a non-empty boolean mask."""
    rows, cols = np.nonzero(mask)
    x0, y0 = int(cols.min()), int(rows.min())
    return [float(x0), float(y0), float(cols.max() - x0 + 1), float(rows.max() - y0 + 1)]


def bag_annotations(bag: Bag, image_id: int) -> list[dict]:
    """COCO annotations (ids left to the caller) for the objects of one bag."""
    return [object_annotation(obj, image_id) for obj in bag.objects]


def object_annotation(obj: ObjectTruth, image_id: int) -> dict:
    """One object's COCO annotation (id left to the caller) with its anomaly attributes."""
    anomaly = obj.anomaly_mask if obj.anomalous and obj.anomaly_mask is not None else None
    return {
        "image_id": image_id,
        "category_id": CATEGORIES.index(obj.category) + 1,
        "bbox": mask_bbox(obj.mask),
        "segmentation": _rle(obj.mask),
        "area": float(obj.mask.sum()),
        "iscrowd": 0,
        "attributes": {
            "anomalous": bool(obj.anomalous),
            "anomaly_type": obj.anomaly_type,
            "anomaly_bbox": mask_bbox(anomaly) if anomaly is not None and anomaly.any() else None,
            "anomaly_segmentation": _rle(anomaly) if anomaly is not None else None,
            "anomaly_visibility": obj.anomaly_visibility,
            "anomaly_cover": obj.anomaly_cover,
            "design": obj.design,
        },
    }


def recompose(
    seed: int, index: int, config: SynthConfig
) -> tuple[Bag, Scanner, ColourStyle, np.random.Generator]:
    """Bag `index` of a dataset of `seed` as `write_dataset` composes it: the bag (its anomalies'
    visibility and cover filled), its scanner, its console style and the generator, ready to
    scan. With the config and code that wrote a dataset it is the same bag as in its files."""
    rng = np.random.default_rng([seed, index])
    variants = config.scanners()
    scanner = _scanner(variants[int(rng.integers(len(variants)))])
    style = config.colour
    if config.jitter_colour:
        style = style.jittered(rng, side=side_rng(rng, b"palette"))
    bag = compose_bag(rng, config.bag)
    anomaly_visibility(bag, scanner)
    return bag, scanner, style, rng


def _make_one(job: tuple[Path, int, int, SynthConfig]) -> tuple[dict, list[dict]]:
    """Compose, render and save bag `index`; returns its image record and annotations."""
    out, seed, index, config = job
    bag, scanner, style, rng = recompose(seed, index, config)
    name = f"bag_{index:06d}"
    scan = scanner.scan(
        bag.canvas.maps,
        rng,
        name=name,
        pitch_cm=bag.canvas.pitch,
        style=style,
        belt_across=bag.belt_across,
    )
    save_scan(scan, out / "images" / name, durable=False)  # made again from the seed
    image = {
        "id": index + 1,
        "file_name": f"images/{name}.png",
        "width": scan.width,
        "height": scan.height,
        "seed": [seed, index],
        "scanner": scanner.config.to_dict(),
        "bag": _plain(bag.info),
        "colour_style": to_dict(style),
        "channels": {r: f"images/{name}_{r}.png" for r in ("low", "high", "zeff")},
    }
    return image, bag_annotations(bag, index + 1)


def _plain(info: dict) -> dict:
    return {k: (float(v) if isinstance(v, np.floating) else v) for k, v in info.items()}


_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@contextlib.contextmanager
def _one_thread_each():
    """Worker processes start with one BLAS thread each: the processes are the parallelism."""
    saved = {k: os.environ.get(k) for k in _THREAD_VARS}
    os.environ.update(dict.fromkeys(_THREAD_VARS, "1"))
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _init_worker() -> None:
    cv2.setNumThreads(1)


@contextlib.contextmanager
def worker_map(workers: int) -> Iterator[Callable[[Callable, Iterable], Iterator]]:
    """An ordered `imap(fn, items)`: a spawn pool of `workers` processes, or in-process for 1.

    `fn` must be a module-level function (it is pickled by name); one pool serves every call
    made inside the `with` block, so worker caches live across them. In-process, BLAS and
    OpenMP run one thread as each worker does: a multi-threaded float32 matrix product sums
    in another order, which moves transmissions in the last bits (and now and then a 16-bit
    pixel), so files made in-process would differ from those made by workers.
    """
    if workers <= 1:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):  # every pool, as `_one_thread_each` gives the workers
            yield map
        return
    with (
        _one_thread_each(),
        multiprocessing.get_context("spawn").Pool(workers, initializer=_init_worker) as pool,
    ):
        yield lambda fn, items: pool.imap(fn, items, chunksize=1)


def write_coco(out: Path, results: Iterable[tuple[dict, list[dict]]], info: dict) -> Path:
    """Number the annotations of `(image, annotations)` pairs and write `out/annotations.json`."""
    images, annotations = [], []
    for image, anns in results:
        images.append(image)
        for ann in anns:
            annotations.append({"id": len(annotations) + 1, **ann})
    coco = {
        "info": info,
        "categories": [
            {"id": i + 1, "name": c, "supercategory": "object"} for i, c in enumerate(CATEGORIES)
        ],
        "images": images,
        "annotations": annotations,
    }
    path = out / ANNOTATIONS
    atomic_write_bytes(path, json.dumps(coco, indent=1).encode())
    return path


def write_dataset(
    out: str | Path,
    n: int,
    seed: int = 0,
    *,
    config: SynthConfig | None = None,
    bag_config: BagConfig | None = None,
    scanner_config: ScannerConfig | None = None,
    workers: int = 1,
    progress: bool = True,
) -> Path:
    """Write `n` simulated bags and `annotations.json` under `out`; returns the JSON's path.

    `bag_config` and `scanner_config` replace those parts of `config`. Bag i is drawn from
    `default_rng([seed, i])`, so the files do not depend on `workers`.
    """
    from tqdm import tqdm

    out = Path(out)
    config = config or SynthConfig()
    if bag_config is not None:
        config = replace(config, bag=bag_config)
    if scanner_config is not None:
        config = replace(config, scanner=scanner_config)
    check_pairs(config.bag)  # before any file: not from a worker at its first bag
    (out / "images").mkdir(parents=True, exist_ok=True)
    jobs = [(out, seed, i, config) for i in range(n)]
    results: list[tuple[dict, list[dict]]] = []
    with (
        tqdm(total=n, desc="synth", unit="bag", disable=not progress) as bar,
        worker_map(workers) as imap,
    ):
        for r in imap(_make_one, jobs):
            results.append(r)
            bar.update()
    info = {
        "description": "engine.synth simulated dual-energy X-ray bags",
        "seed": seed,
        "config": to_dict(config),
    }
    return write_coco(out, results, info)
