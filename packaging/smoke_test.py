"""`make package-test`: the frozen build, run without Python, against the development install.

    python packaging/smoke_test.py [--dist dist] [--no-deb] [--times build/package/times.json]

Every frozen command runs under `env -i PATH=/usr/bin:/bin` (plus HOME and, for the GUI,
QT_QPA_PLATFORM=offscreen and a settings file, all in a scratch folder): no virtual
environment, no PYTHONPATH. The development install's commands (.venv/bin) run the same way and
their outputs are compared: `info` on a real scan (../shared/data/sixray), `screen` on two demo
scans with the demo model (same findings; boxes to 0.5 px, scores to 0.002), `synth` with no
table cache and a cache folder that cannot be written (spekpy and xraydb data, spawn workers),
the same one-line errors for a bad scan, a missing model and a missing display, and the GUI's
`--screenshot`. Then the .deb is installed into a scratch root (`dpkg --root`, else `dpkg -x`),
run from there, and removed, and nothing may be left.

Each check is a function `check_*(ctx)` that raises AssertionError; tests/integration/
test_packaging.py runs them one by one, this script runs them all and prints the timings.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = "xray-screening"
SAMPLES = ROOT.parent / "shared" / "data" / "sixray"
DEMO_SCANS = ("bag_000014.png", "bag_000018.png")
BOX_TOL = 0.5  # px
SCORE_TOL = 0.002


@dataclass
class Context:
    """Where the frozen build, the development install and a scratch folder are."""

    dist: Path
    scratch: Path
    venv_bin: Path = ROOT / ".venv" / "bin"
    times: dict[str, float] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return self.dist / NAME

    @property
    def frozen_model(self) -> Path:
        return self.folder / "_internal" / "resources" / "models" / "demo.xsb"

    def deb(self) -> Path | None:
        found = sorted(self.dist.glob(f"{NAME}_*.deb"))
        return found[-1] if found else None

    def env(self, gui: bool = False, tag: str = "", **extra: str) -> dict[str, str]:
        """An empty environment: PATH to the system's binaries only, a scratch HOME (one per
        `tag`: the GUI keeps its review state there, so frozen and dev must not share one)."""
        home = self.scratch / f"home{tag}"
        home.mkdir(exist_ok=True)
        env = {"PATH": "/usr/bin:/bin", "HOME": str(home)}
        if gui:
            env["QT_QPA_PLATFORM"] = "offscreen"
            env["XRAY_GUI_SETTINGS"] = str(home / "settings.ini")
        env.update(extra)
        return env

    def run(
        self,
        argv: list,
        *,
        gui: bool = False,
        tag: str = "",
        timed: str | None = None,
        env=None,
        timeout=900,
    ) -> subprocess.CompletedProcess:
        """Run argv under `env -i`, from the scratch folder; time it under `timed`."""
        env = env if env is not None else self.env(gui, tag)
        command = ["env", "-i", *(f"{k}={v}" for k, v in env.items()), *map(str, argv)]
        started = time.perf_counter()
        done = subprocess.run(
            command, capture_output=True, text=True, cwd=self.scratch, timeout=timeout
        )
        if timed:
            self.times[timed] = round(time.perf_counter() - started, 2)
        return done

    def frozen(self, command: str) -> Path:
        return self.folder / command

    def dev(self, command: str) -> Path:
        return self.venv_bin / ("xray-gui" if command == NAME else command)


def _ok(done: subprocess.CompletedProcess, what: str) -> None:
    assert done.returncode == 0, f"{what}: exit {done.returncode}\n{done.stderr[-2000:]}"


def sample_scan() -> Path | None:
    """A real SIXray scan beside a dev checkout, else the first bundled demo scan (a clone
    without ../shared, as in CI)."""
    found = sorted(SAMPLES.glob("*.jpg")) if SAMPLES.is_dir() else []
    found = found or sorted((ROOT / "resources" / "demo" / "images").glob("*.png"))
    return found[0] if found else None


# ----- the checks ------------------------------------------------------------------------------
def check_help(ctx: Context) -> None:
    """Both frozen executables start with no Python around; cold start to --help timed."""
    for command in ("xray-engine", NAME):
        done = ctx.run([ctx.frozen(command), "--help"], timed=f"frozen {command} --help")
        _ok(done, f"frozen {command} --help")
        assert "usage:" in done.stdout, done.stdout
        dev = ctx.run([ctx.dev(command), "--help"], timed=f"dev {command} --help")
        _ok(dev, f"dev {command} --help")
    version = ctx.run([ctx.frozen("xray-engine"), "--version"])
    _ok(version, "frozen xray-engine --version")
    assert version.stdout.split() == ctx.run([ctx.dev("xray-engine"), "--version"]).stdout.split()


def check_info(ctx: Context) -> None:
    """`info` on a real sample scan (a demo scan without one): the same JSON as the
    development install."""
    scan = sample_scan()
    assert scan is not None, f"no sample scan in {SAMPLES} nor demo scans in resources/demo"
    frozen = ctx.run([ctx.frozen("xray-engine"), "info", scan], timed="frozen info")
    dev = ctx.run([ctx.dev("xray-engine"), "info", scan], timed="dev info")
    _ok(frozen, "frozen info")
    _ok(dev, "dev info")
    assert json.loads(frozen.stdout) == json.loads(dev.stdout), (frozen.stdout, dev.stdout)


def _screen(ctx: Context, which: str) -> list[dict]:
    out = ctx.scratch / f"screen-{which}"
    shutil.rmtree(out, ignore_errors=True)
    scans = [ROOT / "resources" / "demo" / "images" / n for n in DEMO_SCANS]
    exe = ctx.frozen("xray-engine") if which == "frozen" else ctx.dev("xray-engine")
    model = ctx.frozen_model if which == "frozen" else ROOT / "resources" / "models" / "demo.xsb"
    done = ctx.run(
        [exe, "screen", *scans, "--model", model, "--out", out, "--device", "cpu", "--quiet"],
        timed=f"{which} screen (2 scans)",
    )
    _ok(done, f"{which} screen")
    lines = (out / "results.jsonl").read_text().splitlines()
    assert len(lines) == len(scans), lines
    for name in DEMO_SCANS:
        assert (out / "annotated" / name).is_file(), f"{which}: no annotated {name}"
    return [json.loads(line) for line in lines]


def compare_results(frozen: list[dict], dev: list[dict]) -> None:
    """Same scans, same findings (label, anomalous), boxes and scores within the tolerances."""
    for a, b in zip(frozen, dev, strict=True):
        assert "error" not in a, a
        assert Path(a["path"]).name == Path(b["path"]).name
        assert a["image_size"] == b["image_size"]
        assert a["anomalous"] == b["anomalous"], (a["path"], a["anomalous"], b["anomalous"])
        fa, fb = a["findings"], b["findings"]
        assert len(fa) == len(fb), f"{a['path']}: {len(fa)} findings frozen, {len(fb)} dev"
        for x, y in zip(fa, fb, strict=True):
            assert (x["label"], x["anomalous"]) == (y["label"], y["anomalous"]), (x, y)
            assert (
                max(abs(p - q) for p, q in zip(x["box_xyxy"], y["box_xyxy"], strict=True))
                <= BOX_TOL
            )
            assert abs(x["score"] - y["score"]) <= SCORE_TOL, (x["score"], y["score"])
            if x["anomaly_score"] is None or y["anomaly_score"] is None:
                assert x["anomaly_score"] == y["anomaly_score"]
            else:
                assert abs(x["anomaly_score"] - y["anomaly_score"]) <= SCORE_TOL


def check_screen(ctx: Context) -> None:
    """`screen` on two demo scans with the demo model: the same findings and scores."""
    frozen = _screen(ctx, "frozen")
    dev = _screen(ctx, "dev")
    compare_results(frozen, dev)
    assert any(r["findings"] for r in frozen), "no findings at all on the demo scans"


def check_synth(ctx: Context) -> None:
    """`synth` computes spekpy/xraydb tables in the frozen app (no cache; an unwritable one),
    with two spawn workers, and writes the same annotations as the development install."""
    outs = {}
    for which, exe in (("frozen", ctx.frozen("xray-engine")), ("dev", ctx.dev("xray-engine"))):
        for cache in ("", "/proc/xray-synth-cache"):  # none; one that cannot be made
            out = ctx.scratch / f"synth-{which}-{'none' if not cache else 'ro'}"
            shutil.rmtree(out, ignore_errors=True)
            done = ctx.run(
                [exe, "synth", "--out", out, "--n", "2", "--seed", "7", "--workers", "2"],
                env=ctx.env(XRAY_SYNTH_CACHE=cache),
                timed=f"{which} synth (2 bags, no cache)" if not cache else None,
            )
            _ok(done, f"{which} synth (XRAY_SYNTH_CACHE={cache!r})")
            outs[which, cache] = json.loads((out / "annotations.json").read_text())
    reference = outs["dev", ""]
    for key, written in outs.items():
        assert written.get("annotations") == reference.get("annotations"), key


def _first_line(text: str) -> str:
    return next((line for line in text.splitlines() if line.strip()), "")


def check_errors(ctx: Context) -> None:
    """A bad scan, a missing file, a missing model, no display: the same exit codes and the
    same first line on stderr as the development install."""
    bad = ctx.scratch / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 8)
    missing = ctx.scratch / "missing.xsb"
    scan = ROOT / "resources" / "demo" / "images" / DEMO_SCANS[0]
    cases = {
        "bad scan": (["xray-engine", "info", bad], False),
        "missing scan": (["xray-engine", "info", ctx.scratch / "nope.png"], False),
        "missing model": (
            ["xray-engine", "screen", scan, "--model", missing, "--out", ctx.scratch / "o"],
            False,
        ),
        "gui bad scan": ([NAME, "--screenshot", ctx.scratch / "x.png", bad], True),
        "no display": ([NAME, "--no-model"], None),
    }
    for what, (argv, gui) in cases.items():
        results = []
        for tag, exe in (("-frozen", ctx.frozen(argv[0])), ("-dev", ctx.dev(argv[0]))):
            env = ctx.env(bool(gui), tag)
            if gui is None:  # no display: no DISPLAY, no WAYLAND_DISPLAY, xcb (Qt's default)
                env["QT_QPA_PLATFORM"] = "xcb"
            done = ctx.run([exe, *argv[1:]], env=env, timeout=120)
            results.append((done.returncode, _first_line(done.stderr)))
        (frozen_rc, frozen_err), (dev_rc, dev_err) = results
        assert frozen_rc == dev_rc and frozen_rc != 0, (what, results)
        assert frozen_err == dev_err, (what, frozen_err, dev_err)


def check_screenshot(ctx: Context) -> None:
    """The frozen GUI renders a screenshot with the demo model, as the development one does."""
    shots = {}
    for which, exe, model in (
        ("frozen", ctx.frozen(NAME), ctx.frozen_model),
        ("dev", ctx.dev(NAME), ROOT / "resources" / "models" / "demo.xsb"),
    ):
        # each screens its own copy: a review project beside the scan would hold the findings
        # of the first run, and the checkout's demo folder stays as it was
        folder = ctx.scratch / f"scan-{which}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        demo = ROOT / "resources" / "demo" / "images"
        for companion in demo.glob(Path(DEMO_SCANS[0]).stem + "*"):  # _low, _high, _zeff too
            shutil.copy2(companion, folder)
        scan = folder / DEMO_SCANS[0]
        out = ctx.scratch / f"screenshot-{which}.png"
        out.unlink(missing_ok=True)
        done = ctx.run(
            [exe, "--screenshot", out, "--model", model, "--device", "cpu", scan],
            gui=True,
            tag=f"-{which}",
            timed=f"{which} GUI --screenshot",
        )
        _ok(done, f"{which} --screenshot")
        assert out.is_file() and out.stat().st_size > 10_000, f"{which}: no screenshot"
        shots[which] = out
    import numpy as np
    from PIL import Image

    a = np.asarray(Image.open(shots["frozen"]).convert("RGB"), dtype=np.int16)
    b = np.asarray(Image.open(shots["dev"]).convert("RGB"), dtype=np.int16)
    assert a.shape == b.shape, (a.shape, b.shape)
    differ = float((np.abs(a - b).max(axis=2) > 16).mean())
    ctx.times["screenshot pixels differing"] = round(differ, 4)
    assert differ < 0.02, f"frozen and dev screenshots differ in {differ:.1%} of pixels"


def check_deb(ctx: Context) -> None:
    """Install the .deb into a scratch root, run it from there, remove it: nothing left."""
    deb = ctx.deb()
    assert deb is not None, f"no {NAME}_*.deb in {ctx.dist}"
    root = ctx.scratch / "root"
    shutil.rmtree(root, ignore_errors=True)
    admin = root / "var" / "lib" / "dpkg"
    for sub in ("info", "updates", "triggers"):
        (admin / sub).mkdir(parents=True)
    (admin / "status").touch()
    install = subprocess.run(
        ["dpkg", f"--root={root}", "--force-depends", "--force-script-chrootless",
         "--log=/dev/null", "-i", str(deb)],
        capture_output=True, text=True,
    )  # fmt: skip
    installed = install.returncode == 0
    if not installed:  # no dpkg database here: unpack only
        shutil.rmtree(root, ignore_errors=True)
        unpack = subprocess.run(["dpkg", "-x", str(deb), str(root)], capture_output=True, text=True)
        assert unpack.returncode == 0, unpack.stderr
    opt = root / "opt" / NAME
    for command in ("xray-engine", NAME):
        assert os.readlink(root / "usr" / "bin" / command) == f"/opt/{NAME}/{command}"
    assert (root / "usr" / "share" / "applications" / f"{NAME}.desktop").is_file()
    assert (root / "usr/share/icons/hicolor/256x256/apps" / f"{NAME}.png").is_file()
    done = ctx.run([opt / "xray-engine", "--help"], timed="deb xray-engine --help")
    _ok(done, "xray-engine --help from the .deb")
    scan = sample_scan()
    if scan is not None:
        _ok(ctx.run([opt / "xray-engine", "info", scan]), "xray-engine info from the .deb")
    if not installed:
        ctx.times["deb install"] = -1  # dpkg -x only
        return
    remove = subprocess.run(
        ["dpkg", f"--root={root}", "--force-script-chrootless", "--log=/dev/null",
         "--purge", NAME],
        capture_output=True, text=True,
    )  # fmt: skip
    assert remove.returncode == 0, remove.stderr
    left = [
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.relative_to(root).parts[:3] != ("var", "lib", "dpkg") and not p.is_dir()
    ]
    assert not left, f"left after dpkg --purge: {left[:10]}"
    left_dirs = [p for p in ("opt", "usr") if (root / p).exists()]
    assert not left_dirs, f"folders left after dpkg --purge: {left_dirs}"


CHECKS = [
    check_help,
    check_info,
    check_screen,
    check_synth,
    check_errors,
    check_screenshot,
    check_deb,
]


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--no-deb", action="store_true", help="skip the .deb check")
    parser.add_argument("--times", type=Path, default=ROOT / "build" / "package" / "times.json")
    args = parser.parse_args(argv)
    if not (args.dist / NAME / "xray-engine").is_file():
        print(f"package-test: no frozen build in {args.dist / NAME}: run make package first")
        return 2
    failed = 0
    with tempfile.TemporaryDirectory(prefix="xray-package-test-") as scratch:
        ctx = Context(args.dist.resolve(), Path(scratch))
        for check in CHECKS:
            if args.no_deb and check is check_deb:
                continue
            started = time.perf_counter()
            try:
                check(ctx)
            except AssertionError as exc:
                failed += 1
                print(f"FAIL {check.__name__}: {str(exc)[:1500]}")
            else:
                print(f"ok   {check.__name__} ({time.perf_counter() - started:.0f} s)")
            sys.stdout.flush()
    ctx.times["folder MiB"] = round(folder_size(ctx.folder) / 2**20)
    deb = ctx.deb()
    if deb is not None:
        ctx.times["deb MiB"] = round(deb.stat().st_size / 2**20)
    for key, value in ctx.times.items():
        print(f"  {key:<36} {value}")
    args.times.parent.mkdir(parents=True, exist_ok=True)
    args.times.write_text(json.dumps(ctx.times, indent=1) + "\n")
    passed = len(CHECKS) - (1 if args.no_deb else 0) - failed
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
