"""Detector speed on this machine at 640×480: torchvision's default settings against ours.

For each detector: inference milliseconds per image with torchvision's defaults (resize to
800/1333, fp32, `torch.no_grad`) and with ours (native 480/640, `torch.inference_mode`, bf16
autocast and channels-last each kept only where they are faster), measured in the same run, and
the ratio; then training images per second (batch 2, native size, fp32 and bf16). Weights are
random (nothing is downloaded), so both settings keep only detections scoring 0.5 or more:
post-processing then costs what it costs for a trained model, not 100 random masks.

    .venv/bin/python benchmarks/detection.py [--models maskrcnn_resnet18_fpn ...] [--repeats 3]
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

import torch

from engine.detection import build_detector, detector_family, list_detectors


def _scan() -> torch.Tensor:
    """A simulated bag scan of 640×480 pixels (either way up) as a float image tensor."""
    from engine.io import load_scan
    from engine.synth.dataset import write_dataset

    with tempfile.TemporaryDirectory() as tmp:
        write_dataset(tmp, 1, seed=3, progress=False)
        image = load_scan(f"{tmp}/images/bag_000000.png", companions=False).image
    return torch.from_numpy(image).permute(2, 0, 1).float() / 255


def _model(name: str, min_size: int, max_size: int) -> torch.nn.Module:
    thresh = "score_thresh" if detector_family(name) == "retinanet" else "box_score_thresh"
    model = build_detector(name, 7, min_size=min_size, max_size=max_size, **{thresh: 0.5})
    return model.eval()


def _time(fn, repeats: int) -> float:
    fn()  # warm-up: first calls allocate and pick kernels
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def inference(name: str, image: torch.Tensor, repeats: int) -> dict:
    """ms per image: torchvision defaults, and each of our settings."""
    default = _model(name, 800, 1333)

    def run_default(model=default):
        with torch.no_grad():
            model([image])

    out = {"default": _time(run_default, repeats)}
    ours = _model(name, 480, 640)
    for layout in ("nchw", "channels_last"):
        if layout == "channels_last":
            ours = ours.to(memory_format=torch.channels_last)
        for dtype in (None, torch.bfloat16):

            def run(dtype=dtype, ours=ours):
                with (
                    torch.inference_mode(),
                    torch.autocast("cpu", torch.bfloat16, enabled=dtype is not None),
                ):
                    ours([image])

            out[f"{layout}/{'bf16' if dtype else 'fp32'}"] = _time(run, repeats)
    return out


def training(name: str, image: torch.Tensor, steps: int) -> dict:
    """Training images per second, batch 2 at native size, fp32 and bf16 autocast."""
    h, w = image.shape[1:]
    masks = torch.zeros(3, h, w, dtype=torch.uint8)
    boxes = torch.tensor([[40.0, 60, 240, 260], [300, 100, 560, 380], [100, 300, 200, 420]])
    for m, (x0, y0, x1, y1) in zip(masks, boxes.int().tolist(), strict=True):
        m[y0:y1, x0:x1] = 1
    target = {"boxes": boxes, "labels": torch.tensor([1, 6, 3]), "masks": masks}
    out = {}
    for label, dtype in (("fp32", None), ("bf16", torch.bfloat16)):
        model = build_detector(name, 7).train()
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

        def step(model=model, optimizer=optimizer, dtype=dtype):
            with torch.autocast("cpu", torch.bfloat16, enabled=dtype is not None):
                loss = sum(model([image, image.flip(-1)], [target, target]).values())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

        out[label] = 2000 / _time(step, steps)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list_detectors(), help="detectors to time")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per setting (median)")
    parser.add_argument("--train-steps", type=int, default=3, help="timed training steps")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    image = _scan()
    print(f"# detection — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"# {platform.platform()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; random weights, detections ≥ 0.5 kept"
    )
    print("\nInference, ms per 640×480 image (median of", args.repeats, "runs):\n")
    print(
        "| detector | torchvision default | ours fp32 | ours bf16 | +channels-last fp32 | "
        "+channels-last bf16 | ours best | speed-up | train img/s fp32 | train img/s bf16 |"
    )
    print("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|")
    for name in args.models:
        ms = inference(name, image, args.repeats)
        ours = {k: v for k, v in ms.items() if k != "default"}
        best = min(ours, key=ours.get)
        train = training(name, image, args.train_steps)
        print(
            f"| {name} | {ms['default']:.0f} | {ms['nchw/fp32']:.0f} | {ms['nchw/bf16']:.0f} | "
            f"{ms['channels_last/fp32']:.0f} | {ms['channels_last/bf16']:.0f} | {best} "
            f"{ours[best]:.0f} | {ms['default'] / ours[best]:.2f}× | {train['fp32']:.2f} | "
            f"{train['bf16']:.2f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
