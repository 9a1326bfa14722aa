"""Write THIRD_PARTY_LICENSES: every distribution a frozen build carries, with its licence.

For each installed distribution that owns a file PyInstaller collected (the spec lists them in
`<workpath>/collected-files.txt`), or, without that list, each distribution the project needs at
run time: name, version, licence field and classifiers, home page, and the text of every licence
file the distribution ships. Then the Python interpreter, PyInstaller's bootloader, the Debian
packages whose shared libraries were collected (their copyright files), and the Qt/PySide6 LGPL
notice with the LGPL-3.0 and GPL-3.0 texts (packaging/licenses/).

    python packaging/third_party_licenses.py --out THIRD_PARTY_LICENSES \
        [--collected build/package/work/xray-screening/collected-files.txt]
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterable
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement

HERE = Path(__file__).resolve().parent
PROJECT = "xray-screening"
RULE = "=" * 78
LICENCE_NAME = re.compile(r"(LICEN[CS]E|COPYING|NOTICE|AUTHORS)", re.IGNORECASE)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_closure(root: str = PROJECT) -> list[md.Distribution]:
    """The installed distributions `root` needs at run time (extras left out), root excluded."""
    found: dict[str, md.Distribution] = {}
    todo = [root]
    while todo:
        name = canonical(todo.pop())
        if name in found:
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        found[name] = dist
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({**default_environment(), "extra": ""}):
                todo.append(req.name)
    found.pop(canonical(root), None)
    return sorted(found.values(), key=lambda d: canonical(d.metadata["Name"]))


def owners(collected: Iterable[str]) -> tuple[list[md.Distribution], set[str]]:
    """The distributions owning any collected file; and the collected files no distribution
    owns (the interpreter's own modules, system libraries)."""
    by_path: dict[str, md.Distribution] = {}
    for dist in md.distributions():
        for file in dist.files or []:
            by_path[str(Path(dist.locate_file(file)).resolve())] = dist
    dists: dict[str, md.Distribution] = {}
    orphans: set[str] = set()
    for line in collected:
        path = str(Path(line).resolve())
        dist = by_path.get(path)
        if dist is None:
            orphans.add(path)
        elif canonical(dist.metadata["Name"]) not in (PROJECT, "pyinstaller"):  # see bootloader
            dists.setdefault(canonical(dist.metadata["Name"]), dist)
    return sorted(dists.values(), key=lambda d: canonical(d.metadata["Name"])), orphans


def licence_field(dist: md.Distribution) -> str:
    """License-Expression, else a short License field, with the licence classifiers."""
    meta = dist.metadata
    parts = []
    expression = meta.get("License-Expression")
    field = (meta.get("License") or "").strip()
    if expression:
        parts.append(expression)
    elif field and len(field) <= 200 and "\n" not in field:
        parts.append(field)
    elif field:
        parts.append("see the licence text below")
    classifiers = [
        c.split("::")[-1].strip()
        for c in meta.get_all("Classifier") or []
        if c.startswith("License")
    ]
    if classifiers:
        parts.append("classifiers: " + "; ".join(classifiers))
    return " | ".join(parts) or "UNKNOWN (no licence metadata)"


def licence_texts(dist: md.Distribution) -> list[tuple[str, str]]:
    """(name, text) of each licence file the distribution ships; a long License field when the
    distribution ships no file (some put the whole text there)."""
    texts: list[tuple[str, str]] = []
    seen: set[str] = set()
    declared = dist.metadata.get_all("License-File") or []
    candidates = []
    for rel in dist.files or []:
        parts = Path(str(rel)).parts
        in_info = parts and parts[0].endswith((".dist-info", ".egg-info"))
        if in_info and (
            LICENCE_NAME.search(str(rel)) or any(str(rel).endswith(d) for d in declared)
        ):
            candidates.append(rel)
    for rel in sorted(candidates, key=str):
        path = Path(dist.locate_file(rel))
        if not path.is_file() or str(rel) in seen:
            continue
        seen.add(str(rel))
        shown = str(Path(*Path(str(rel)).parts[1:]))
        texts.append((shown, path.read_text(encoding="utf-8", errors="replace")))
    field = (dist.metadata.get("License") or "").strip()
    if not texts and ("\n" in field or len(field) > 200):
        texts.append(("License field of the package metadata", field))
    return texts


def debian_copyrights(paths: Iterable[str]) -> list[tuple[str, str, str]]:
    """(package, version, copyright text) of the Debian packages owning the collected system
    libraries (empty where dpkg is missing: the build is not on Debian/Ubuntu)."""
    if shutil.which("dpkg-query") is None:
        return []
    packages: set[str] = set()
    for path in paths:
        if not re.search(r"\.so(\.|$)", path):
            continue
        for candidate in {path, re.sub(r"^/usr/", "/", path), "/usr" + path}:
            out = subprocess.run(
                ["dpkg-query", "-S", candidate], capture_output=True, text=True, check=False
            )
            if out.returncode == 0:
                packages.add(out.stdout.split(":", 1)[0].strip())
                break
    found = []
    for package in sorted(packages):
        version = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True
        ).stdout.strip()
        copyright_file = Path("/usr/share/doc") / package / "copyright"
        text = copyright_file.read_text(errors="replace") if copyright_file.is_file() else ""
        found.append((package, version, text or "(no copyright file installed)"))
    return found


def section(title: str, lines: Iterable[str]) -> str:
    return "\n".join([RULE, title, RULE, *lines, ""])


def render(dists: list[md.Distribution], system: list[tuple[str, str, str]]) -> str:
    out = [
        f"THIRD-PARTY SOFTWARE IN {PROJECT.upper()}",
        "",
        f"This application bundles the software listed below. Generated by "
        f"packaging/{Path(__file__).name} from the distributions installed in the build "
        "environment.",
        "",
        "Qt and PySide6 are used under the GNU Lesser General Public License v3 (LGPL-3.0): see",
        "the Qt section below and licenses/QT-NOTICE.txt.",
        "",
        "Summary:",
    ]
    rows = [(d.metadata["Name"], d.version, licence_field(d)) for d in dists]
    rows.append(("Python", sys.version.split()[0], "PSF-2.0"))
    rows.append(
        ("PyInstaller bootloader", _pyinstaller_version(), "GPL-2.0 with bootloader exception")
    )
    rows += [(f"{p} (Debian)", v, "see its copyright file below") for p, v, _ in system]
    width = max(len(r[0]) for r in rows) + 2
    vwidth = max(len(r[1]) for r in rows) + 2
    out += [f"  {n:<{width}}{v:<{vwidth}}{lic}" for n, v, lic in rows]
    out.append("")
    out.append(qt_section())
    for dist in dists:
        meta = dist.metadata
        lines = [f"Licence: {licence_field(dist)}"]
        home = meta.get("Home-page") or next(
            (u.split(",", 1)[1].strip() for u in meta.get_all("Project-URL") or []), ""
        )
        if home:
            lines.append(f"Home page: {home}")
        texts = licence_texts(dist)
        if not texts:
            lines.append("(the distribution ships no licence file)")
        for name, text in texts:
            lines += ["", f"----- {name} -----", text.rstrip()]
        out.append(section(f"{meta['Name']} {dist.version}", lines))
    out.append(python_section())
    out.append(pyinstaller_section())
    for package, version, text in system:
        out.append(
            section(f"{package} {version} (Debian package, shared library)", [text.rstrip()])
        )
    return "\n".join(out) + "\n"


def qt_section() -> str:
    notice = (HERE / "licenses" / "QT-NOTICE.txt").read_text(encoding="utf-8")
    return section("Qt and PySide6 (LGPL-3.0)", [notice.rstrip()])


def python_section() -> str:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    licence = stdlib / "LICENSE.txt"
    text = licence.read_text(errors="replace") if licence.is_file() else "PSF License 2.0"
    return section(f"Python {sys.version.split()[0]} (interpreter and standard library)", [text])


def _pyinstaller_version() -> str:
    try:
        return md.version("pyinstaller")
    except md.PackageNotFoundError:
        return "-"


def pyinstaller_section() -> str:
    lines = ["The executables' bootloader is PyInstaller's, GPL-2.0 with an exception that allows"]
    lines.append("distributing it with any program. Its licence:")
    try:
        dist = md.distribution("pyinstaller")
        for name, text in licence_texts(dist):
            lines += ["", f"----- {name} -----", text.rstrip()]
    except md.PackageNotFoundError:
        pass
    return section(f"PyInstaller bootloader {_pyinstaller_version()}", lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="file to write")
    parser.add_argument("--collected", help="collected-files.txt written by the PyInstaller spec")
    args = parser.parse_args(argv)
    if args.collected:
        lines = Path(args.collected).read_text(encoding="utf-8").splitlines()
        dists, orphans = owners(line for line in lines if line.strip())
        system = debian_copyrights(p for p in orphans if not p.startswith(sys.base_prefix))
    else:
        dists, system = runtime_closure(), []
    tmp = Path(args.out).with_name(Path(args.out).name + ".tmp")
    tmp.write_text(render(dists, system), encoding="utf-8")
    tmp.replace(args.out)
    print(f"{args.out}: {len(dists)} distributions, {len(system)} Debian packages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
