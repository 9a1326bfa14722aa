"""The material table of the simulator: compositions and densities, attenuation from xraydb.

Compositions follow ../shared/physics.md section 5; mixtures are given as mass fractions of
compounds, and μ = ρ · Σ w_i (μ/ρ)_i with (μ/ρ)_i from xraydb (NIST-grade tables, offline).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Material:
    """A material: density (g/cm³), composition as (formula, mass fraction), nominal Zeff."""

    name: str
    density: float
    composition: tuple[tuple[str, float], ...]
    zeff: float  # nominal, from physics.md: for checks and tables, not used in rendering
    note: str = ""


def _m(name: str, density: float, zeff: float, *parts: tuple[str, float], note: str = ""):
    total = sum(w for _, w in parts)
    return Material(name, density, tuple((f, w / total) for f, w in parts), zeff, note)


_FAT = "C55H98O6"  # a typical triglyceride
_PROTEIN = "C5H8NO2"  # an average amino-acid residue
_SUCROSE = "C12H22O11"

MATERIALS: dict[str, Material] = {
    m.name: m
    for m in (
        _m("cotton", 1.54, 6.9, ("C6H10O5", 1), note="bulk 0.1-0.4 when folded"),
        _m("polyethylene", 0.95, 5.4, ("C2H4", 1)),
        _m("abs", 1.05, 5.8, ("C15H17N", 1)),
        _m("polycarbonate", 1.20, 6.3, ("C16H14O3", 1)),
        _m("pet", 1.38, 6.6, ("C10H8O4", 1)),
        _m("nylon", 1.14, 6.1, ("C12H22N2O2", 1)),
        _m("pvc", 1.39, 13.9, ("C2H3Cl", 1)),
        _m(
            "abs_pvc",
            1.20,
            11.1,
            ("C15H17N", 50),
            ("C2H3Cl", 50),
            note="ABS/PVC alloy sheet, thermoformed into hard luggage shells",
        ),
        _m("paper", 0.80, 8.8, ("C6H10O5", 85), ("CaCO3", 12), ("H2O", 3)),
        _m("polyurethane", 1.20, 6.6, ("C27H36N2O10", 1), note="an elastomer: castor tyres"),
        _m("rubber", 1.15, 10.3, ("C5H8", 60), ("C", 25), ("CaCO3", 10), ("ZnO", 3), ("S", 2)),
        _m("water", 1.00, 7.4, ("H2O", 1)),
        _m("ethanol", 0.79, 6.4, ("C2H6O", 1)),
        _m("oil", 0.92, 5.9, (_FAT, 1), note="cooking oil"),
        _m(
            "marzipan",
            1.25,
            7.0,
            (_SUCROSE, 55),
            (_FAT, 20),
            (_PROTEIN, 10),
            ("C6H10O5", 10),
            ("H2O", 5),
            ("KCl", 1),
        ),
        _m(
            "chocolate",
            1.30,
            6.9,
            (_SUCROSE, 50),
            (_FAT, 32),
            (_PROTEIN, 8),
            ("C6H10O5", 9),
            ("H2O", 1),
            ("KCl", 1.2),
        ),
        _m(
            "cheese",
            1.10,
            7.5,
            ("H2O", 40),
            (_FAT, 33),
            (_PROTEIN, 25),
            ("NaCl", 2),
            ("Ca3P2O8", 1.5),
        ),
        _m("rdx", 1.82, 7.2, ("C3H6N6O6", 1)),
        _m("tnt", 1.65, 7.1, ("C7H5N3O6", 1)),
        _m("petn", 1.77, 7.4, ("C5H8N4O12", 1)),
        _m("glass", 2.50, 12.3, ("SiO2", 73), ("Na2O", 14), ("CaO", 9), ("MgO", 4)),
        _m("ceramic", 2.40, 12.1, ("SiO2", 65), ("Al2O3", 30), ("K2O", 5)),
        _m("mica", 2.83, 12.4, ("KAl3Si3O12H2", 1)),
        _m("aluminium", 2.70, 13.0, ("Al", 1)),
        _m("steel", 7.85, 26.0, ("Fe", 1)),
        _m("stainless", 8.00, 25.8, ("Fe", 70), ("Cr", 18), ("Ni", 9), ("Mn", 2), ("Si", 1)),
        _m("copper", 8.96, 29.0, ("Cu", 1)),
        _m("brass", 8.44, 29.4, ("Cu", 63), ("Zn", 37)),
        _m("nichrome", 8.40, 27.3, ("Ni", 80), ("Cr", 20)),
        _m(
            "fr4",
            1.85,
            14.6,
            ("SiO2", 30),
            ("CaO", 12),
            ("Al2O3", 8),
            ("B2O3", 5),
            ("C18H20O3", 40),
            ("Br", 5),
        ),
        _m(
            "li_ion",
            2.60,
            19.2,
            ("LiCoO2", 35),
            ("C", 22),
            ("Cu", 13),
            ("Al", 7),
            ("C3H4O3", 15),
            ("C2H4", 8),
            note="cell stack, est.",
        ),
        _m("ferrite", 4.80, 23.5, ("Fe2O3", 70), ("MnO", 20), ("ZnO", 10)),
        _m("ndfeb", 7.50, 41.5, ("Nd", 30), ("Fe", 69), ("B", 1)),
        _m("csi", 4.51, 54.0, ("CsI", 1), note="detector scintillator"),
        # Everyday clutter (est.): shoes, toiletries, batteries, coins.
        _m("polypropylene", 0.90, 5.4, ("C3H6", 1)),
        _m(
            "eva",
            0.94,
            5.7,
            ("C2H4", 82),
            ("C4H6O2", 18),
            note="18 % vinyl acetate; foamed to 0.15-0.26 in a sole",
        ),
        _m(
            "leather",
            0.90,
            7.9,
            (_PROTEIN, 80),
            ("H2O", 12),
            (_FAT, 4),
            ("Cr2O3", 3),
            ("Na2SO4", 1),
            note="chrome-tanned",
        ),
        _m("toothpaste", 1.40, 12.0, ("CaCO3", 40), ("H2O", 30), ("C3H8O3", 25), ("SiO2", 5)),
        _m(
            "alkaline",
            3.2,
            24.0,
            ("MnO2", 50),
            ("Zn", 25),
            ("KOH", 10),
            ("C", 5),
            ("H2O", 10),
            note="AA cell core",
        ),
        _m("cupronickel", 8.90, 28.6, ("Cu", 75), ("Ni", 25)),
        # Packed food (est.): jam or honey in a jar, rice, pasta or coffee in a pack (bulk).
        _m("jam", 1.33, 7.4, (_SUCROSE, 60), ("H2O", 39), ("KCl", 1)),
        _m("grain", 0.80, 6.9, ("C6H10O5", 80), (_PROTEIN, 8), ("H2O", 12), note="bulk"),
    )
}


@cache
def _mass_mu(formula: str, energies_kev: tuple[float, ...]) -> np.ndarray:
    """Mass attenuation (cm²/g) of a formula, from the table cache or xraydb."""
    key = ("xraydb", package_version("xraydb"), formula, energies_kev)
    return cached_array("mu", key, lambda: _xraydb_mass_mu(formula, energies_kev))


def _xraydb_mass_mu(formula: str, energies_kev: tuple[float, ...]) -> np.ndarray:
    """xraydb.material_mu(formula, E, density=1), with each element's μ/ρ computed once."""
    import xraydb

    if _known_name(formula):  # xraydb would read the formula of its own material of that name
        energies_ev = np.asarray(energies_kev) * 1000.0
        return np.asarray(xraydb.material_mu(formula, energies_ev, density=1.0), np.float64)
    mass_tot, mu = 0.0, 0.0
    for element, count in xraydb.chemparse(formula).items():
        mass = count * xraydb.atomic_mass(element)
        mu += mass * _element_mass_mu(element, energies_kev)
        mass_tot += mass
    return np.asarray(mu / mass_tot, np.float64)


@cache
def _element_mass_mu(element: str, energies_kev: tuple[float, ...]) -> np.ndarray:
    import xraydb

    return xraydb.mu_elam(element, np.asarray(energies_kev) * 1000.0)


@cache
def _known_name(formula: str) -> bool:
    """Whether xraydb's material list has a material named (or with the formula) `formula`."""
    import xraydb

    known = xraydb.get_materials()
    return formula.lower() in known or any(
        formula.lower() == m.formula.lower() and m.formula != formula for m in known.values()
    )


def formula_mass_mu(formula: str, energies_kev: np.ndarray) -> np.ndarray:
    """Mass attenuation coefficient μ/ρ (cm²/g) of a chemical formula at energies (keV)."""
    return _mass_mu(formula, tuple(float(e) for e in np.atleast_1d(energies_kev)))


_ELEMENT = re.compile(r"([A-Z][a-z]?)(\d*\.?\d*)")


@cache
def material_elements(name: str) -> frozenset[str]:
    """The chemical elements in material `name`."""
    elements = set()
    for formula, _ in MATERIALS[name].composition:
        tokens = _ELEMENT.findall(formula)
        if "".join(e + n for e, n in tokens) == formula:  # plain formulas, as all of ours are
            elements.update(e for e, _ in tokens)
        else:
            import xraydb

            elements.update(xraydb.chemparse(formula))
    return frozenset(elements)


@cache
def absorption_edges_kev(element: str) -> np.ndarray:
    """The K, L1, L2 and L3 absorption edges (keV) that `element` has."""

    def from_xraydb() -> np.ndarray:
        import xraydb

        edges = xraydb.xray_edges(element)
        return np.array([edges[n].energy / 1000 for n in ("K", "L1", "L2", "L3") if n in edges])

    return cached_array("edges", ("xraydb", package_version("xraydb"), element), from_xraydb)


# ----- a disk cache of tables whose libraries are slow to import -----------------------------
# xraydb (with SciPy) takes ~1 s to import and spekpy ~1 s more, in every worker process.
def cache_dir() -> Path | None:
    """The table cache: $XRAY_SYNTH_CACHE, else the user's cache folder; None if it is ""."""
    folder = os.environ.get("XRAY_SYNTH_CACHE")
    if folder is None:
        import platformdirs

        return platformdirs.user_cache_path("xray-screening") / "synth"
    return Path(folder) if folder else None


def cached_array(kind: str, key: tuple, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """`compute()`, saved in the cache folder under a digest of `key` and read back next time.

    The file holds the very values computed. A failed read or write (no folder, a read-only one,
    a torn file) only costs the computation.
    """
    folder = cache_dir()
    digest = hashlib.sha256(repr(key).encode()).hexdigest()[:24]
    path = None if folder is None else folder / f"{kind}-{digest}.npy"
    if path is not None:
        with contextlib.suppress(OSError, ValueError, EOFError):
            return np.load(path)
    value = np.asarray(compute())
    if path is not None:
        _save_quietly(path, value)
    return value


def _save_quietly(path: Path, array: np.ndarray) -> None:
    """Save through a temporary file and a rename, so no reader sees half a file."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            np.save(f, array)
        os.replace(tmp, path)
    except OSError:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


@cache
def package_version(name: str) -> str:
    return importlib.metadata.version(name)


def material_mu(name: str, energies_kev: np.ndarray | float) -> np.ndarray:
    """Linear attenuation coefficient μ (1/cm) of material `name` at the given energies (keV)."""
    try:
        material = MATERIALS[name]
    except KeyError:
        raise KeyError(f"unknown material {name!r}; known: {sorted(MATERIALS)}") from None
    energies = tuple(float(e) for e in np.atleast_1d(energies_kev))
    mass_mu = sum(w * _mass_mu(f, energies) for f, w in material.composition)
    return material.density * mass_mu
