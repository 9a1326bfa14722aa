"""Start-up figures of the frozen build against the development install, cold and warm.

    python packaging/measure.py [--dist dist] [--repeat 1]

"Cold": the files of the application (the frozen folder; or the virtual environment's
site-packages and the interpreter's standard library), the model and the scan are dropped from
the page cache first (posix_fadvise DONTNEED, file by file: nothing else on the machine is
touched), so they are read from disk as on a first start after boot. "Warm": the same command
again at once. Every command runs under `env -i PATH=/usr/bin:/bin` with a scratch HOME.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = "xray-screening"
SCAN = ROOT / "resources" / "demo" / "images" / "bag_000014.png"
MODEL = ROOT / "resources" / "models" / "demo.xsb"


def evict(*roots: Path) -> None:
    """Drop these files (folders walked) from the page cache."""
    for root in roots:
        paths = [root] if root.is_file() else (p for p in root.rglob("*") if p.is_file())
        for path in paths:
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                continue
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def commands(which: str, dist: Path, scratch: Path) -> dict[str, list]:
    if which == "frozen":
        engine, gui = dist / NAME / "xray-engine", dist / NAME / NAME
        model = dist / NAME / "_internal" / "resources" / "models" / "demo.xsb"
    else:
        engine, gui = ROOT / ".venv/bin/xray-engine", ROOT / ".venv/bin/xray-gui"
        model = MODEL
    sample = sorted((ROOT.parent / "shared/data/sixray").glob("*.jpg"))[:1] or [SCAN]
    shot = scratch / "shot.png"
    return {
        "xray-engine --help": [engine, "--help"],
        "xray-engine info (real scan)": [engine, "info", sample[0]],
        "xray-engine screen (1 scan, first findings)": [
            engine, "screen", SCAN, "--model", model, "--out", scratch / "out",
            "--device", "cpu", "--quiet",
        ],
        "GUI --screenshot, no model (to window)": [gui, "--screenshot", shot, "--no-model", SCAN],
        "GUI --screenshot, demo model (to first findings)": [
            gui, "--screenshot", shot, "--model", model, "--device", "cpu", SCAN,
        ],
    }  # fmt: skip


def run(argv: list, scratch: Path) -> float:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(scratch),
        "QT_QPA_PLATFORM": "offscreen",
        "XRAY_GUI_SETTINGS": str(scratch / "settings.ini"),
    }
    command = ["env", "-i", *(f"{k}={v}" for k, v in env.items()), *map(str, argv)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=scratch)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({done.returncode}): {done.stderr[-500:]}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--repeat", type=int, default=1, help="runs per figure (median)")
    args = parser.parse_args(argv)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    app_files = {
        "frozen": [args.dist / NAME],
        "dev": [ROOT / ".venv" / "lib", stdlib, ROOT / "engine", ROOT / "xray_gui"],
    }
    rows: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="xray-measure-") as tmp:
        scratch = Path(tmp)
        for which in ("frozen", "dev"):
            for label, argv_ in commands(which, args.dist, scratch).items():
                cold, warm = [], []
                for _ in range(args.repeat):
                    evict(*app_files[which], MODEL, SCAN, args.dist / NAME / "_internal/resources")
                    cold.append(run(argv_, scratch))
                    warm.append(run(argv_, scratch))
                rows.setdefault(label, {})[f"{which} cold"] = statistics.median(cold)
                rows[label][f"{which} warm"] = statistics.median(warm)
                print(f"{which:6} {label:<50} cold {cold[-1]:6.2f} s  warm {warm[-1]:6.2f} s")
                sys.stdout.flush()
    print()
    print("| | frozen, cold | frozen, warm | development, cold | development, warm |")
    print("|---|---|---|---|---|")
    for label, cells in rows.items():
        keys = ("frozen cold", "frozen warm", "dev cold", "dev warm")
        print(f"| {label} | " + " | ".join(f"{cells[k]:.2f} s" for k in keys) + " |")
    print(f"\nload average at the end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
