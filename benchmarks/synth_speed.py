"""Simulator speed: bags per second at 640×480, where the time goes, and the paper-sized set.

Prints the per-stage split of one process (compose the bag, anomaly visibility, render with
noise, Zeff and colour, write four PNGs), then end-to-end `write_dataset` throughput with 1 and
`--workers` processes measured in the same run, and what 3,534 scans (the paper's set) would
take. Target (issue 3): at least 4 bags per second with both cores.

    .venv/bin/python benchmarks/synth_speed.py [--n 48] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

PAPER_SCANS = 3534


def _stages(n: int) -> dict[str, float]:
    """Median milliseconds per stage for `n` bags in this process."""
    from engine.colour import DEFAULT_STYLE
    from engine.io.write import save_scan
    from engine.synth.bag import anomaly_visibility, compose_bag
    from engine.synth.dataset import SynthConfig
    from engine.synth.scanner import Scanner

    config = SynthConfig()
    scanner = Scanner(config.scanner)
    times: dict[str, list[float]] = {k: [] for k in ("compose", "visibility", "render", "save")}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n):
            rng = np.random.default_rng([99, i])
            t0 = time.perf_counter()
            bag = compose_bag(rng, config.bag)
            t1 = time.perf_counter()
            anomaly_visibility(bag, scanner)
            t2 = time.perf_counter()
            scan = scanner.scan(
                bag.canvas.maps, rng, pitch_cm=bag.canvas.pitch, style=DEFAULT_STYLE
            )
            t3 = time.perf_counter()
            save_scan(scan, Path(tmp) / f"bag_{i}")
            t4 = time.perf_counter()
            for key, dt in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                times[key].append(dt * 1000)
    return {k: statistics.median(v) for k, v in times.items()}


def _throughput(n: int, workers: int) -> float:
    """Bags per second of `write_dataset`, process start-up included."""
    from engine.synth.dataset import write_dataset

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        write_dataset(tmp, n, seed=7, workers=workers, progress=False)
        return n / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=48, help="bags per throughput run")
    parser.add_argument("--workers", type=int, default=2, help="processes for the parallel run")
    parser.add_argument("--stage-n", type=int, default=12, help="bags for the per-stage split")
    args = parser.parse_args(argv)

    print(f"# synth_speed — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"# {platform.platform()}; {platform.processor() or 'cpu'}, {os.cpu_count()} cores")
    print(f"# Python {platform.python_version()}, NumPy {np.__version__}; 640×480 scans")
    stages = _stages(args.stage_n)
    total = sum(stages.values())
    print(f"\nOne process, median of {args.stage_n} bags:\n")
    print("| stage | ms per bag | share |")
    print("|---|---:|---:|")
    for key, ms in stages.items():
        print(f"| {key} | {ms:.0f} | {ms / total:.0%} |")
    print(f"| total | {total:.0f} | |")

    one = _throughput(args.n, 1)
    many = _throughput(args.n, args.workers)
    print(f"\n`write_dataset`, {args.n} bags, start-up included:\n")
    print("| workers | bags/s | paper set (3,534 scans) |")
    print("|---:|---:|---:|")
    for workers, rate in ((1, one), (args.workers, many)):
        print(f"| {workers} | {rate:.2f} | {PAPER_SCANS / rate / 60:.1f} min |")
    print(f"\nspeed-up with {args.workers} workers: {many / one:.2f}× (target: at least 4 bags/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
