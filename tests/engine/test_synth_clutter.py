"""Clutter items: how often each kind comes, and cables packed as people pack them."""

from __future__ import annotations

from collections import Counter

import numpy as np

from engine.synth.clutter import CLUTTER, cable, random_clutter


def _turned_deg(points: np.ndarray) -> float:
    """Net turning of a polyline, in degrees: each loop wound one way adds 360."""
    d = np.diff(points, axis=0)
    heading = np.unwrap(np.arctan2(d[:, 1], d[:, 0]))
    return float(np.degrees(abs(heading[-1] - heading[0])))


def _cable_path(model) -> np.ndarray:
    jacket = next(p for p in model.parts if p.role == "jacket")
    return np.asarray(jacket.solid.points)


def test_coiled_cables_mostly_loop_and_dropped_ones_wander():
    rng = np.random.default_rng(0)
    coiled = [_turned_deg(_cable_path(cable(rng, coiled=True))) for _ in range(200)]
    dropped = [_turned_deg(_cable_path(cable(rng))) for _ in range(200)]
    assert 0.6 < np.mean(np.array(coiled) > 2 * 360) < 0.9  # three in four wound 2-6 times
    assert np.mean(np.array(dropped) > 2 * 360) < 0.1
    for model in (cable(rng, coiled=True) for _ in range(20)):
        assert max(model.size[:2]) <= 26 + 10  # still packed into 26 cm, plug and brick aside


def test_clutter_frequencies_can_be_overridden():
    def kinds(**kw) -> Counter:
        rng = np.random.default_rng(1)
        return Counter(random_clutter(rng, exclude=("garment",), **kw).category for _ in range(600))

    default, fewer = kinds(), kinds(frequencies={"cable": 1.0})
    total = sum(w for name, (w, _) in CLUTTER.items() if name != "garment")
    assert abs(default["cable"] / 600 - CLUTTER["cable"][0] / total) < 0.05
    assert fewer["cable"] < default["cable"] / 2
    assert kinds(frequencies={"cable": 0.0})["cable"] == 0


def test_a_wound_transformer_lets_through_what_a_real_brick_does():
    """`wound`: an E-core with half-filled windows around its centre leg, not a solid cube in
    solid copper; the random numbers drawn are the same either way."""
    from engine.synth.clutter import _charger_parts
    from engine.synth.scanner import Scanner
    from engine.synth.shapes import Canvas

    scanner = Scanner()
    least = {}
    for wound in (False, True):
        rng = np.random.default_rng(5)
        canvas = Canvas(80, 100, 0.1)
        canvas.draw(_charger_parts(rng, (5.0, 4.0), wound))
        _, t_high = scanner.transmissions(canvas.maps)
        least[wound] = float(t_high.min())
        assert rng.random() == np.random.default_rng(5).uniform(size=4)[-1]  # 3 drawn, then this
    assert least[False] < 0.002  # the solid version: black
    assert least[True] > 5 * least[False]
    for solid in ("ferrite", "copper"):
        assert any(p.material == solid and p.sign < 0 for p in _charger_parts(rng, (0, 0), True))
