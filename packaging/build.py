"""`make package`: check the demo model, freeze the application, write its licences, build a .deb.

    python packaging/build.py [--model resources/models/demo.xsb] [--no-deb]

Steps, each stopping the build with one clear line when it fails:
1. the model to ship loads with the engine's own bundle loader (no model, a broken one: stop,
   before anything is built);
2. PyInstaller builds packaging/xray-screening.spec into build/package/dist-tmp/;
3. the folder gets THIRD_PARTY_LICENSES, licenses/, the desktop entry and icons, and must answer
   `xray-engine --version`;
4. only then it replaces dist/xray-screening/ (a rename: never a half-built dist/ folder);
5. packaging/deb.py makes dist/xray-screening_<version>_<arch>.deb from it (Linux with dpkg-deb).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
NAME = "xray-screening"
DEFAULT_MODEL = ROOT / "resources" / "models" / "demo.xsb"


class BuildError(Exception):
    """A reason to stop the build, said in one line."""


def project_version() -> str:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["version"]


def check_model(path: Path) -> None:
    """The model must be a bundle the engine loads: the same check `xray-engine screen` makes."""
    if not path.is_file():
        hint = " (make demo-model builds it)" if path == DEFAULT_MODEL else ""
        raise BuildError(f"no model bundle at {path}{hint}; nothing was built")
    sys.path.insert(0, str(ROOT))
    from engine.bundle import BundleError, load_bundle

    try:
        load_bundle(path)
    except BundleError as exc:
        raise BuildError(f"{exc}; nothing was built") from None
    except Exception as exc:  # a torch unpickling error of a truncated file, say
        raise BuildError(
            f"{path}: not a usable model bundle ({type(exc).__name__}: {exc}); nothing was built"
        ) from None


def check_tools() -> None:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        raise BuildError(
            "PyInstaller is not installed: pip install -r packaging/requirements.txt "
            "(make package does it)"
        ) from None


def staged_model(model: Path, work: Path) -> Path:
    """The spec ships the model as resources/models/demo.xsb: copy another file to that name."""
    if model.resolve() == DEFAULT_MODEL.resolve():
        return DEFAULT_MODEL
    staged = work / "model" / "demo.xsb"
    staged.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model, staged)
    return staged


def windows_icon() -> None:
    """build/xray-screening.ico from the 256 px PNG, for the spec's executables on Windows."""
    from PIL import Image

    ico = ROOT / "build" / f"{NAME}.ico"
    ico.parent.mkdir(parents=True, exist_ok=True)
    png = ROOT / "resources" / "icons" / f"{NAME}-256.png"
    Image.open(png).save(ico, sizes=[(16, 16), (32, 32), (48, 48), (256, 256)])


def freeze(work: Path, model: Path) -> Path:
    """Run PyInstaller into work/dist-tmp; the built folder (log in work/pyinstaller.log)."""
    if sys.platform == "win32":
        windows_icon()
    tmp_dist = work / "dist-tmp"
    shutil.rmtree(tmp_dist, ignore_errors=True)
    log = work / "pyinstaller.log"
    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--distpath",
        str(tmp_dist),
        "--workpath",
        str(work / "work"),
        str(PACKAGING / f"{NAME}.spec"),
    ]
    env = {**os.environ, "XRAY_PACKAGE_MODEL": str(model)}
    print(f"package: PyInstaller (log: {log.relative_to(ROOT)}) ...", flush=True)
    with open(log, "w", encoding="utf-8") as out:
        done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    if done.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-15:]
        print("\n".join(tail), file=sys.stderr)
        raise BuildError(f"PyInstaller failed (exit {done.returncode}); see {log}")
    return tmp_dist / NAME


def desktop_entry() -> str:
    """The desktop entry of the frozen app: the same file, with its executable's name."""
    text = (PACKAGING / f"{NAME}.desktop").read_text(encoding="utf-8")
    lines = []
    for line in text.splitlines():
        key = line.split("=", 1)[0]
        if key == "Exec":
            line = f"Exec={NAME} %F"
        elif key == "TryExec":
            line = f"TryExec={NAME}"
        elif key == "StartupWMClass":
            line = f"StartupWMClass={NAME}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def finish(folder: Path, work: Path) -> None:
    """Licences, desktop entry and icons into the folder; then it must start."""
    licences = folder / "licenses"
    licences.mkdir(exist_ok=True)
    for file in sorted((PACKAGING / "licenses").iterdir()):
        shutil.copyfile(file, licences / file.name)
    collected = work / "work" / NAME / "collected-files.txt"
    subprocess.run(
        [
            sys.executable,
            str(PACKAGING / "third_party_licenses.py"),
            "--out",
            str(folder / "THIRD_PARTY_LICENSES"),
            "--collected",
            str(collected),
        ],
        check=True,
    )
    share = folder / "share"
    (share / "applications").mkdir(parents=True, exist_ok=True)
    (share / "applications" / f"{NAME}.desktop").write_text(desktop_entry(), encoding="utf-8")
    icons = ROOT / "resources" / "icons"
    for size in (48, 256):
        target = share / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(icons / f"{NAME}-{size}.png", target / f"{NAME}.png")
    scalable = share / "icons" / "hicolor" / "scalable" / "apps"
    scalable.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(icons / f"{NAME}.svg", scalable / f"{NAME}.svg")
    if os.name == "posix":  # the demo model and scans where a person looks for them
        link = folder / "resources"
        if not link.exists():
            link.symlink_to(Path("_internal") / "resources")
    cli = folder / ("xray-engine.exe" if os.name == "nt" else "xray-engine")
    done = subprocess.run([str(cli), "--version"], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise BuildError(f"the frozen xray-engine does not start: {done.stderr.strip()[-400:]}")


def replace_folder(built: Path, dist: Path) -> Path:
    """Move the finished folder to dist/xray-screening, replacing an older one by renames."""
    dist.mkdir(parents=True, exist_ok=True)
    final = dist / NAME
    old = dist / f".{NAME}.old"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    built.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return final


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="bundle to ship")
    parser.add_argument("--no-deb", action="store_true", help="the folder only")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "package")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        check_model(args.model)
        check_tools()
        args.work.mkdir(parents=True, exist_ok=True)
        model = staged_model(args.model, args.work)
        built = freeze(args.work, model)
        finish(built, args.work)
        folder = replace_folder(built, args.dist)
        frozen_s = time.monotonic() - started
        print(
            f"package: {folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder} "
            f"({frozen_s / 60:.1f} min)"
        )
        if not args.no_deb and sys.platform.startswith("linux"):
            sys.path.insert(0, str(PACKAGING))
            from deb import DebError, build_deb

            try:
                deb = build_deb(folder, args.dist, project_version(), args.work / "deb-root")
            except DebError as exc:
                raise BuildError(str(exc)) from None
            print(f"package: {deb} ({(time.monotonic() - started) / 60:.1f} min in all)")
    except BuildError as exc:
        print(f"make package: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
