"""How fast a judge's training crops come, read from the scans against preloaded windows.

A judge on a GPU is fed by its DataLoader workers: each crop read from the scans decodes a whole
scan (a dual-energy one is four PNGs), while `data.preload` (`ObjectCrops.preload`) reads each
object's neighbourhood once and cuts every later crop from memory. This times one training
epoch of both in the same run, with the same workers, and prints crops/s and their ratio; then
the seconds per training epoch with a new DataLoader per epoch against one stream of batches
from one set of workers (`EpochLoader`), which is what a judge's short epochs cost.

    python benchmarks/judge_crops.py --data DIR_OR_COCO [--category laptop] [--mode dual]
                                     [--workers 2] [--size 192]

With no --data it simulates 96 bags of `configs/synth/learnability.yaml` first (~20 s).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.classification.data import ObjectCrops  # noqa: E402
from engine.machine import cpu_summary  # noqa: E402

REPEATS = 5  # passes over the crops per timing, so the workers' start is a small share


def _epoch(dataset: ObjectCrops, workers: int, batch: int) -> float:
    """Seconds per pass over `dataset` through a DataLoader, as training draws it (in order, so
    each worker's cache of 16 decoded scans never holds the next one)."""
    dataset.set_epoch(1)
    order = list(range(len(dataset))) * REPEATS
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=batch, sampler=order, num_workers=workers
    )
    started = time.perf_counter()
    for _ in loader:
        pass
    return (time.perf_counter() - started) / REPEATS


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, help="COCO JSON or simulated dataset folder")
    p.add_argument("--category", default="laptop")
    p.add_argument("--mode", default="dual", choices=("rgb", "dual"))
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--size", type=int, default=192)
    p.add_argument("--batch", type=int, default=32)
    args = p.parse_args()
    if args.data is not None:
        return _measure(args, args.data)
    from engine.config import load_config
    from engine.synth.dataset import SynthConfig, write_dataset

    learnability = REPO / "configs/synth/learnability.yaml"
    config = load_config(SynthConfig, learnability, [f"bag.categories=[{args.category}]"])
    with tempfile.TemporaryDirectory(prefix="judge_crops_") as tmp:
        print(f"simulating 96 bags into {tmp} ...", flush=True)
        write_dataset(Path(tmp), 96, seed=7, config=config, workers=args.workers, progress=False)
        return _measure(args, Path(tmp))


def _measure(args: argparse.Namespace, data: Path) -> int:
    """Crops/s read from the scans against preloaded windows, then per-epoch stream timing."""

    def dataset() -> ObjectCrops:
        return ObjectCrops(
            data,
            size=args.size,
            mode=args.mode,
            train=True,
            categories=[args.category],
            anomaly_maps=True,
        )

    read = dataset()
    n = len(read)
    _epoch(read, args.workers, args.batch)  # warm the OS file cache: both read from RAM
    from_scans = _epoch(read, args.workers, args.batch)
    held = dataset()
    started = time.perf_counter()
    held.preload(args.workers)
    preload_s = time.perf_counter() - started
    from_memory = _epoch(held, args.workers, args.batch)
    print(
        f"{cpu_summary()}, {args.workers} workers; {n} {args.category} crops, "
        f"{args.mode}, {args.size} px"
    )
    print(f"read from the scans: {n / from_scans:7.1f} crops/s")
    print(f"preloaded windows:   {n / from_memory:7.1f} crops/s  (preload {preload_s:.1f} s once)")
    print(f"ratio: {from_scans / from_memory:.1f}x")
    fresh, lasting = _training_epochs(held, args.workers, args.batch)
    print(f"training epochs, preloaded: a DataLoader per epoch {fresh:.2f} s/epoch,")
    stream = "one stream from one set of workers (EpochLoader)"
    print(f"  {stream} {lasting:.2f} s/epoch: {fresh / lasting:.1f}x")
    return 0


EPOCHS = 8


def _training_epochs(dataset: ObjectCrops, workers: int, batch: int) -> tuple[float, float]:
    """Seconds per epoch as training draws them: a new DataLoader each epoch (`epoch_loader`)
    against one stream from one set of workers (`EpochLoader`)."""
    from engine.runtime import Distributed
    from engine.training import EpochLoader, epoch_loader

    one = Distributed()
    times = []
    for lasting in (False, True):
        loader = EpochLoader(dataset, batch_size=batch, seed=0, ddp=one, num_workers=workers)
        started = time.perf_counter()
        for epoch in range(EPOCHS):
            if lasting:
                batches = loader(epoch, 0)
            else:
                batches = epoch_loader(
                    dataset, epoch, 0, batch_size=batch, seed=0, ddp=one, num_workers=workers
                )
            for _ in batches:
                pass
        times.append((time.perf_counter() - started) / EPOCHS)
    return times[0], times[1]


if __name__ == "__main__":
    sys.exit(main())
