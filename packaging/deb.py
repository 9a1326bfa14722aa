"""A Debian package of the frozen folder, with dpkg-deb alone (no debhelper).

    python packaging/deb.py dist/xray-screening [--out dist] [--compress zstd]

It owns exactly these paths, so `dpkg -r` leaves nothing behind:
    /opt/xray-screening/                          the frozen folder
    /usr/bin/xray-screening, /usr/bin/xray-engine symlinks into it
    /usr/share/applications/xray-screening.desktop
    /usr/share/icons/hicolor/{48x48,256x256,scalable}/apps/xray-screening.{png,svg}
    /usr/share/doc/xray-screening/copyright       points to THIRD_PARTY_LICENSES
No maintainer scripts: dpkg's triggers refresh the icon cache and the desktop database. Depends
lists the Debian packages of the shared libraries the folder needs and does not carry.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

NAME = "xray-screening"
PREFIX = Path("/opt") / NAME
COMMANDS = ("xray-screening", "xray-engine")
# Loaded only when present (the GPU driver): never a dependency
OPTIONAL_LIBS = re.compile(r"^lib(cuda|nvidia-|nvcuvid|nvrtc|cudadebugger)")
# Sonames the build machine may lack, and the package that gives each on Debian/Ubuntu
KNOWN_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libdbus-1.so.3": "libdbus-1-3",
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
}


class DebError(Exception):
    """The .deb cannot be built; one line."""


def elf_files(folder: Path):
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with open(path, "rb") as f:
                if f.read(4) == b"\x7fELF":
                    yield path


def needed_sonames(folder: Path) -> tuple[set[str], set[str]]:
    """(sonames some ELF file in the folder needs, file names the folder has)."""
    needed: set[str] = set()
    files = [p for p in elf_files(folder)]
    for chunk in range(0, len(files), 200):
        out = subprocess.run(
            ["readelf", "-d", "-W", *map(str, files[chunk : chunk + 200])],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        needed.update(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out))
    have = {p.name for p in folder.rglob("*")}
    return needed, have


def system_library_path(soname: str) -> str | None:
    out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.strip().split(" => ")
        if len(parts) == 2 and parts[0].split(" ")[0] == soname and "x86-64" in parts[0]:
            return parts[1].strip()
    for line in out.splitlines():  # other architectures: any match
        parts = line.strip().split(" => ")
        if len(parts) == 2 and parts[0].split(" ")[0] == soname:
            return parts[1].strip()
    return None


def owning_package(path: str) -> str | None:
    real = os.path.realpath(path)
    for candidate in dict.fromkeys([path, real, re.sub(r"^/usr/", "/", real), "/usr" + real]):
        out = subprocess.run(["dpkg-query", "-S", candidate], capture_output=True, text=True)
        if out.returncode == 0:
            return out.stdout.split(":", 1)[0].split(",")[0].strip()
    return None


def depends(folder: Path) -> tuple[list[str], list[str]]:
    """(Depends entries, sonames resolved by no package): the libraries the folder needs and
    does not ship, by the packages that give them on this machine."""
    needed, have = needed_sonames(folder)
    packages: set[str] = set()
    unknown = []
    for soname in sorted(needed - have):
        if OPTIONAL_LIBS.match(soname) or soname.startswith("ld-linux"):
            continue
        path = system_library_path(soname)
        package = owning_package(path) if path else None
        package = package or KNOWN_PACKAGES.get(soname)
        if package is None:
            unknown.append(soname)
        else:
            packages.add(package)
    entries = []
    for package in sorted(packages):
        if package == "libc6":  # built against this glibc: ask for at least its version
            version = subprocess.run(
                ["dpkg-query", "-W", "-f=${Version}", "libc6"], capture_output=True, text=True
            ).stdout
            upstream = re.match(r"\d+\.\d+", version)
            entries.append(f"libc6 (>= {upstream.group(0)})" if upstream else "libc6")
        else:
            entries.append(package)
    return entries, unknown


def installed_size_kib(root: Path) -> int:
    total = 0
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink() and "DEBIAN" not in path.parts:
            total += (path.stat().st_size + 1023) // 1024
    return total


def architecture() -> str:
    return subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()


def stage(folder: Path, root: Path) -> None:
    """The file tree of the package under `root` (the frozen folder hard-linked, not copied)."""
    shutil.rmtree(root, ignore_errors=True)
    opt = root / PREFIX.relative_to("/")
    opt.parent.mkdir(parents=True)
    try:
        subprocess.run(["cp", "-al", str(folder), str(opt)], check=True, capture_output=True)
    except subprocess.CalledProcessError:  # another file system: copy
        shutil.rmtree(opt, ignore_errors=True)
        shutil.copytree(folder, opt, symlinks=True)
    usr = root / "usr"
    (usr / "bin").mkdir(parents=True)
    for command in COMMANDS:
        (usr / "bin" / command).symlink_to(PREFIX / command)
    share = folder / "share"
    for rel in [p.relative_to(share) for p in share.rglob("*") if p.is_file()]:
        target = usr / "share" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(share / rel, target)
    doc = usr / "share" / "doc" / NAME
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(
        "X-ray Screening workstation.\n\n"
        f"The application and the third-party software it bundles, with their licences, are\n"
        f"listed in {PREFIX}/THIRD_PARTY_LICENSES; Qt/PySide6 (LGPL-3.0): see\n"
        f"{PREFIX}/licenses/QT-NOTICE.txt.\n",
        encoding="utf-8",
    )
    for path in [root, *root.rglob("*")]:  # dpkg wants no group/other-writable files
        if not path.is_symlink():
            mode = path.stat().st_mode
            if mode & 0o022:
                path.chmod(mode & ~0o022)


def control(root: Path, folder: Path, version: str) -> str:
    entries, unknown = depends(folder)
    if unknown:
        print(f"deb: no package found for {', '.join(unknown)} (left out of Depends)")
    lines = [
        f"Package: {NAME}",
        f"Version: {version}",
        f"Architecture: {architecture()}",
        "Maintainer: X-ray Screening developers <xray-screening@localhost>",
        f"Installed-Size: {installed_size_kib(root)}",
        f"Depends: {', '.join(entries)}" if entries else "",
        "Section: science",
        "Priority: optional",
        "Description: X-ray baggage screening workstation",
        " Analyst's workstation for X-ray baggage screening: object-wise anomaly",
        " detection (a detector and anomaly classifiers) and review. Ships a demo",
        " model trained on simulated scans and the xray-engine command line.",
        f" Installed under {PREFIX}; runs without a system Python.",
    ]
    return "\n".join(line for line in lines if line) + "\n"


def build_deb(
    folder: Path, out: Path, version: str, root: Path, compress: str | None = None
) -> Path:
    """Build <out>/xray-screening_<version>_<arch>.deb from the frozen folder."""
    if shutil.which("dpkg-deb") is None:
        raise DebError("dpkg-deb not found: the .deb is built on Debian or Ubuntu only")
    compress = compress or os.environ.get("DEB_COMPRESS", "zstd")
    stage(folder, root)
    (root / "DEBIAN").mkdir()
    (root / "DEBIAN" / "control").write_text(control(root, folder, version), encoding="utf-8")
    deb = out / f"{NAME}_{version}_{architecture()}.deb"
    tmp = deb.with_name(deb.name + ".tmp")
    level = {"zstd": "3", "xz": "6", "gzip": "6"}.get(compress, "6")
    level = os.environ.get("DEB_COMPRESS_LEVEL", level)
    print(f"deb: dpkg-deb -Z{compress} -z{level} ...", flush=True)
    done = subprocess.run(
        [
            "dpkg-deb",
            "--root-owner-group",
            f"-Z{compress}",
            f"-z{level}",
            "--build",
            str(root),
            str(tmp),
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise DebError(f"dpkg-deb failed: {done.stderr.strip()[-400:]}")
    tmp.replace(deb)
    shutil.rmtree(root, ignore_errors=True)
    return deb


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from build import ROOT, project_version

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="the frozen folder (dist/xray-screening)")
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument("--compress", choices=("zstd", "xz", "gzip", "none"))
    args = parser.parse_args(argv)
    try:
        deb = build_deb(
            args.folder,
            args.out,
            project_version(),
            ROOT / "build" / "package" / "deb-root",
            args.compress,
        )
    except DebError as exc:
        print(f"deb: {exc}", file=sys.stderr)
        return 2
    print(deb)
    return 0


if __name__ == "__main__":
    sys.exit(main())
