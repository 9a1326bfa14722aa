"""Fingerprint every simulator pin: a hash of the pixels of a few bags made from each config.

A change to the simulator must leave every older version's bags the same to the bit (each
`configs/synth/sim_v2_*.yaml` pins one). Run this before and after the change and compare the
two listings (`diff`): only the defaults, today's pin and the configs that follow the defaults
(`cabin`, `learnability*`) may differ.

    .venv/bin/python scripts/pin_hashes.py [--n 3] [--seed 11] [--workers 2] [NAME ...] > before.txt

Prints one line per config, "NAME HASH": the first 16 hex digits of a SHA-256 over each image's
file name and pixels (colour, low, high and Zeff images, in name order), so the PNG encoder's
version does not matter. NAME is a file stem under configs/synth/ or "defaults" (no config).

It sees a change only where those bags show it: a setting that acts on one bag in several (a
PVC frame plate, a dip in the tube's output) may leave all three as they were. The settings
themselves are checked by tests/engine/test_synth_dataset.py, which keeps every pin equal to
its `SIM_V2_*_CONFIG`; more bags (`--n`) see more.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from pathlib import Path

import cv2

from engine.config import load_config
from engine.synth.dataset import SynthConfig, write_dataset

CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "synth"


def pin_hash(name: str, n: int, seed: int, workers: int) -> str:
    """The fingerprint of `n` bags of `seed` made from config `name` ("defaults": none)."""
    config = (
        SynthConfig() if name == "defaults" else load_config(SynthConfig, CONFIGS / f"{name}.yaml")
    )
    with tempfile.TemporaryDirectory() as tmp:
        write_dataset(tmp, n, seed, config=config, workers=workers, progress=False)
        digest = hashlib.sha256()
        for path in sorted(Path(tmp, "images").glob("*.png")):
            digest.update(path.name.encode())
            digest.update(cv2.imread(str(path), cv2.IMREAD_UNCHANGED).tobytes())
    return digest.hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="config stems (default: all, then defaults)")
    parser.add_argument("--n", type=int, default=3, help="bags per config")
    parser.add_argument("--seed", type=int, default=11, help="dataset seed")
    parser.add_argument("--workers", type=int, default=2, help="generator processes")
    args = parser.parse_args(argv)
    names = args.names or [*sorted(p.stem for p in CONFIGS.glob("*.yaml")), "defaults"]
    for name in names:
        if name != "defaults" and not (CONFIGS / f"{name}.yaml").is_file():
            print(f"error: no config {CONFIGS / name}.yaml", file=sys.stderr)
            return 2
        print(name, pin_hash(name, args.n, args.seed, args.workers), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
