"""The scanner model: tube spectrum (spekpy), sandwich detector, noise, blur, Zeff calibration.

A Scanner is built once per configuration (spectrum, detector responses, energy bins, the Zeff
lookup table) and then renders any number of scenes given as per-material thickness maps:
Beer-Lambert per energy bin, A_b = Σ_k μ_k(E_b)·t_k, summed with each detector layer's weights.

Rendering first folds the maps into a few basis-material channels (physics.md §2): every material
without an absorption edge in the spectrum is polyethylene, aluminium, iron and copper mixed so
that its ln T stays within 3·10⁻⁴ of its own; a material with an edge (NdFeB, CsI, FR4's bromine)
keeps its own channel. `ScannerConfig(basis_materials=False)` renders every material as itself.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cached_property

import cv2
import numpy as np

from engine.colour import DEFAULT_STYLE, ColourStyle, false_colour
from engine.io import Scan, ScanMeta, to_transmission
from engine.io.write import transmission_to_uint16
from engine.synth.materials import (
    absorption_edges_kev,
    cached_array,
    formula_mass_mu,
    material_elements,
    material_mu,
    package_version,
)
from engine.synth.parts import side_rng

# Elements of the Zeff calibration wedges (Z = 5..30 without the gases).
_WEDGE_ELEMENTS = {
    5: "B",
    6: "C",
    11: "Na",
    12: "Mg",
    13: "Al",
    14: "Si",
    15: "P",
    16: "S",
    19: "K",
    20: "Ca",
    22: "Ti",
    23: "V",
    24: "Cr",
    25: "Mn",
    26: "Fe",
    27: "Co",
    28: "Ni",
    29: "Cu",
    30: "Zn",
}
# Oxygen/nitrogen as compounds: water (7.4) and a polymer (5.4-6) anchor the organic end.
_WEDGE_COMPOUNDS = {5.4: ("C2H4", 0.95), 6.6: ("C10H8O4", 1.38), 7.4: ("H2O", 1.0)}

# Materials whose mixtures stand in for every material without an absorption edge in the spectrum.
BASIS_MATERIALS = ("polyethylene", "aluminium", "steel", "copper")
BASIS_TOLERANCE = 3e-4  # largest |Δ ln T| of a basis mix; a material fitting worse keeps a channel
_BLOCK_PX = 4096  # pixels rendered at a time: a block's energy-bin rows stay in the CPU cache


@dataclass(frozen=True)
class ScannerConfig:
    """Tube, detector and noise parameters; (est.) defaults from ../shared/physics.md."""

    kvp: float = 140.0
    anode_angle: float = 12.0  # degrees
    filtration_al_mm: float = 2.0
    belt_pvc_mm: float = 2.0
    front_csi_mm: float = 0.3  # low-energy layer
    filter_cu_mm: float = 0.5
    back_csi_mm: float = 3.0  # high-energy layer
    n_bins: int = 16
    detector_pitch_cm: float = 0.08
    photons_per_pixel: float = 1.1e4  # in air, per 0.8 mm pixel per line, fan centre
    fan_edge_photons: float = 0.7  # share of the centre's photons at the fan's edges
    electronic_noise: float = 0.002  # of the air signal
    blur_front_px: float = 0.6
    blur_back_px: float = 0.8
    gain_error: float = 0.003  # per detector channel, residual after air calibration
    scatter: float = 0.0  # share of the air signal added as a uniform background
    # the chance that a scan holds one band of lines where the tube's output dipped
    # (`_line_dip`): 7 of the 136 real benign backgrounds show one, about 1 % of the image high
    # across its whole width, tinted pale orange over air. 0: none (simulator v2.0-v2.52)
    line_dips: float = 0.0
    # Zeff smoothed over σ 1 detector pixel (`detector_pitch_cm`) where much gets through,
    # over 1 image pixel where little does (`Scanner.display_zeff`); False: 1 image pixel
    # everywhere (v2.0-v2.53), which at the simulator's coarser pitch (about 1.5 mm: each bag
    # fitted to its frame) spreads thin metal's Zeff over twice the width the recipe means
    zeff_fine: bool = False
    basis_materials: bool = True  # render through basis-material channels; False: each material

    def to_dict(self) -> dict:
        return asdict(self)


def _smoothed(z: np.ndarray, sigma_px: float) -> np.ndarray:
    """`z` under a Gaussian of `sigma_px` (itself where that is 0 or less)."""
    return cv2.GaussianBlur(z, (0, 0), sigma_px) if sigma_px > 0 else z


ZEFF_FINE_T_HIGH = (0.15, 0.35)  # `display_zeff` starts its finer smoothing above the first
LINE_DIP_WHERE = (0.4, 0.7)  # where a dip's band lies, as shares of the image's height
LINE_DIP_SIGMA = (0.003, 0.005)  # its σ, as a share of the height: ~1 % high at half depth
LINE_DIP_DEPTH = (0.05, 0.12)  # the share of the tube's output lost at its middle


def _line_dip(height: int, rng: np.random.Generator) -> np.ndarray:
    """Each line's share of the tube's output (float32, `height`) in a scan whose output dipped
    for a few lines: a Gaussian band (`LINE_DIP_*`), the same on every channel and at both
    energies. A reference detector corrects most of such a dip, not all; the rest shows as a
    faint band across the whole image, air included, as in some real scans."""
    rows = np.arange(height, dtype=np.float32)
    middle = rng.uniform(*LINE_DIP_WHERE) * height
    sigma = max(rng.uniform(*LINE_DIP_SIGMA) * height, 0.5)
    depth = rng.uniform(*LINE_DIP_DEPTH)
    return (1 - depth * np.exp(-0.5 * np.square((rows - middle) / sigma))).astype(np.float32)


@dataclass(frozen=True)
class LayerResponse:
    """One detector layer's response on the fine energy grid and in its energy bins.

    weights: fluence × energy × absorption, normalised to sum 1 (the air signal is 1).
    noise_weights: fluence × energy² × absorption / (Σ fluence × energy × absorption)², so that
    the variance of T from N0 incident photons is Σ noise_weights·e^-A / N0.
    """

    energies: np.ndarray  # fine grid (keV)
    weights: np.ndarray
    noise_weights: np.ndarray
    bin_edges: np.ndarray  # indices into the fine grid, n_bins + 1
    mean_energy: float  # signal-weighted mean absorbed energy (keV)

    def bin_sums(self, values: np.ndarray) -> np.ndarray:
        e = self.bin_edges
        return np.add.reduceat(values, e[:-1])

    @cached_property
    def bin_weights(self) -> np.ndarray:
        return self.bin_sums(self.weights)

    @cached_property
    def bin_noise_weights(self) -> np.ndarray:
        return self.bin_sums(self.noise_weights)

    def bin_average(self, values: np.ndarray) -> np.ndarray:
        """Signal-weighted mean of `values` (on the fine grid) within each bin."""
        return self.bin_sums(values * self.weights) / self.bin_weights


class Scanner:
    """A configured dual-energy line scanner; `render` turns thickness maps into images."""

    def __init__(self, config: ScannerConfig | None = None) -> None:
        self.config = config or ScannerConfig()
        self.energies, self.fluence = _spectrum(self.config)
        self.front, self.back = _layers(self.config, self.energies, self.fluence)
        self._mu_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._basis_cache: dict[str, np.ndarray | None] = {}
        self._zeff_lut = _ZeffTable(self)
        n = len(self.front.bin_weights)
        # (4, 2·n_bins): front signal, front variance, back signal, back variance from e^-A.
        weights = np.zeros((4, 2 * n), np.float32)
        weights[0, :n], weights[1, :n] = self.front.bin_weights, self.front.bin_noise_weights
        weights[2, n:], weights[3, n:] = self.back.bin_weights, self.back.bin_noise_weights
        self._layer_weights = weights

    # ----- attenuation per bin ------------------------------------------------------------
    def _bin_mu(self, material: str) -> tuple[np.ndarray, np.ndarray]:
        """Signal-weighted mean μ per bin for the front and back layers (two arrays of n_bins)."""
        if material not in self._mu_cache:
            mu = material_mu(material, self.energies)
            self._mu_cache[material] = (self.front.bin_average(mu), self.back.bin_average(mu))
        return self._mu_cache[material]

    def _mu_matrix(self, materials: list[str]) -> np.ndarray:
        """float32 (2·n_bins, K): bin-mean μ of each material, front layer bins then back."""
        cols = [np.concatenate(self._bin_mu(m)) for m in materials]
        return np.stack(cols, axis=1).astype(np.float32)

    def basis_mix(self, material: str) -> np.ndarray | None:
        """Amounts of BASIS_MATERIALS (cm per cm) that attenuate like `material`, or None.

        None for a material with an absorption edge inside the spectrum or one no mix reproduces
        to BASIS_TOLERANCE in ln T: it is rendered as its own channel.
        """
        if material not in self._basis_cache:
            self._basis_cache[material] = _fit_basis(self, material)
        return self._basis_cache[material]

    def channels(self, materials: list[str]) -> tuple[list[str], np.ndarray]:
        """The channels rendering `materials` and the float32 (channels × materials) mix.

        BASIS_MATERIALS then each material that keeps its own channel; with
        `basis_materials=False` every material is its own channel.
        """
        if not self.config.basis_materials:
            return list(materials), np.eye(len(materials), dtype=np.float32)
        mixes = [self.basis_mix(m) for m in materials]
        names = list(BASIS_MATERIALS)
        table = np.zeros((len(names) + sum(mix is None for mix in mixes), len(materials)))
        for k, (m, mix) in enumerate(zip(materials, mixes, strict=True)):
            if mix is None:
                table[len(names), k] = 1.0
                names.append(m)
            else:
                table[: len(BASIS_MATERIALS), k] = mix
        return names, table.astype(np.float32)

    def signals(self, thickness: dict[str, np.ndarray], exact: bool = False):
        """Per layer: (T, variance of T per incident photon) of the maps' common shape.

        The binned path folds the maps into channels (basis materials, or each material with
        `basis_materials=False`) and renders block by block: one matrix product of the
        (bins × channels) μ table with the channels, one exp and one product with the layers'
        weights, in float32. `exact` integrates the fine grid in float64.
        """
        shape = np.broadcast_shapes(*(np.shape(t) for t in thickness.values()))
        if exact:
            return self._signals_exact(thickness, shape)
        if self.config.basis_materials:
            return self._signals_blocks(thickness, shape)
        return self._signals_per_material(thickness, shape)

    def _signals_blocks(self, thickness: dict[str, np.ndarray], shape: tuple[int, ...]):
        materials = list(thickness)
        names, mix = self.channels(materials)
        neg_mu = -self._mu_matrix(names)  # (2·n_bins, channels)
        n_px = int(np.prod(shape))
        flat = [
            np.broadcast_to(np.asarray(thickness[m], np.float32), shape).reshape(-1)
            for m in materials
        ]
        out = np.empty((4, n_px), np.float32)
        block = max(min(_BLOCK_PX, n_px), 1)
        stack = np.empty((len(materials), block), np.float32)
        chans = np.empty((len(names), block), np.float32)
        att = np.empty((neg_mu.shape[0], block), np.float32)
        for i0 in range(0, n_px, block):
            i1 = min(i0 + block, n_px)
            n = i1 - i0
            for row, t in zip(stack, flat, strict=True):
                row[:n] = t[i0:i1]
            np.matmul(mix, stack[:, :n], out=chans[:, :n])
            np.matmul(neg_mu, chans[:, :n], out=att[:, :n])
            np.exp(att[:, :n], out=att[:, :n])
            np.matmul(self._layer_weights, att[:, :n], out=out[:, i0:i1])
        return [
            (out[0].reshape(shape), out[1].reshape(shape)),
            (out[2].reshape(shape), out[3].reshape(shape)),
        ]

    def _signals_per_material(self, thickness: dict[str, np.ndarray], shape: tuple[int, ...]):
        """The reference binned path: every material its own row of the μ table."""
        materials = list(thickness)
        stack = np.empty((len(materials), int(np.prod(shape))), np.float32)
        for row, m in zip(stack, materials, strict=True):
            row[:] = np.broadcast_to(np.asarray(thickness[m], np.float32), shape).ravel()
        transmitted = self._mu_matrix(materials) @ stack  # attenuation per bin and pixel
        np.negative(transmitted, out=transmitted)
        np.exp(transmitted, out=transmitted)
        out = []
        n = len(self.front.bin_weights)  # the μ table's rows: front bins, then back bins
        for layer, rows in ((self.front, transmitted[:n]), (self.back, transmitted[n:])):
            signal = layer.bin_weights.astype(np.float32) @ rows
            variance = layer.bin_noise_weights.astype(np.float32) @ rows
            out.append((signal.reshape(shape), variance.reshape(shape)))
        return out

    def _signals_exact(self, thickness: dict[str, np.ndarray], shape: tuple[int, ...]):
        out = []
        for layer in (self.front, self.back):
            att = np.zeros((*shape, 1), np.float64)
            for m, t in thickness.items():
                att = att + material_mu(m, self.energies) * np.asarray(t, np.float64)[..., None]
            e = np.exp(-att)
            out.append((e @ layer.weights, e @ layer.noise_weights))
        return out

    def transmissions(
        self, thickness: dict[str, np.ndarray], *, exact: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Noiseless (T_low, T_high) for per-material thickness maps (cm), any common shape.

        `exact` integrates over the fine energy grid instead of the bins (the reference).
        """
        (t_low, _), (t_high, _) = self.signals(thickness, exact)
        return t_low, t_high

    def render(
        self,
        thickness: dict[str, np.ndarray],
        rng: np.random.Generator | None = None,
        *,
        pitch_cm: float | None = None,
        belt_across: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(T_low, T_high) float32 with photon and electronic noise, blur, gain streaks and, with
        `line_dips`, now and then a band of lines where the tube's output dipped.

        Rows are the belt direction and columns the detector channels, so a channel's gain
        error runs as a streak along the belt, and a dip across it. `belt_across`: the maps are
        an export turned a quarter (`BagConfig.belt_across_image`), rows the detector channels
        and columns the belt: the streaks run across the image and the fan's weak edges are its
        top and bottom; its band (`line_dips`) still lies across the image, as in the real scans,
        now a group of detector channels whose gain drifted from its reference rather than a
        dip of the tube. Without `rng` the images
        are noiseless; with `line_dips`, `rng` must be numpy's default (PCG64) generator, whose
        state seeds the dip's own numbers (`parts.side_rng`). An image
        resampled to a coarser `pitch_cm` than the detector's collects more photons per pixel
        and shows less scintillator blur in pixels.
        """
        cfg = self.config
        zoom = 1.0 if pitch_cm is None else pitch_cm / cfg.detector_pitch_cm
        result = []
        layers = self.signals(thickness, exact=False)
        channels = np.shape(layers[0][0])[0 if belt_across else -1]  # the detector's channels
        # Fewer photons towards the fan's edges (inverse square and heel effect, est.).
        across = np.linspace(-1.0, 1.0, channels, dtype=np.float32) if channels > 1 else np.zeros(1)
        photons = cfg.photons_per_pixel * zoom**2 * (1 - (1 - cfg.fan_edge_photons) * across**2)
        photons = (photons[:, None] if belt_across else photons[None, :]).astype(np.float32)
        dip = None  # a band where the tube's output dipped, on random numbers of its own
        if rng is not None and cfg.line_dips > 0:
            own = side_rng(rng, b"line dip")
            if own.random() < cfg.line_dips:
                dip = _line_dip(np.shape(layers[0][0])[0], own)
        # In place on the fresh signal arrays; the same operations in the same order as
        # t + sd·noise etc., so the images are the same to the bit.
        for (t, variance), blur in zip(layers, (cfg.blur_front_px, cfg.blur_back_px), strict=True):
            t = np.asarray(t, np.float32)
            if cfg.scatter:
                t = t * (1 - cfg.scatter) + cfg.scatter
            if rng is not None:  # quantum noise, blurred by the scintillator like the signal
                sd = np.sqrt(np.divide(variance, photons, dtype=np.float32))
                noise = rng.standard_normal(t.shape, dtype=np.float32)
                t += np.multiply(sd, noise, out=noise)
            if blur > 0:
                t = cv2.GaussianBlur(t, (0, 0), blur / zoom)
            if rng is not None:  # then the read-out: electronic noise and channel gains
                noise = rng.standard_normal(t.shape, dtype=np.float32)
                t += np.multiply(noise, cfg.electronic_noise, out=noise)
                gains = 1 + cfg.gain_error * rng.standard_normal(channels, dtype=np.float32)
                t *= gains[:, None] if belt_across else gains[None, :]
                if dip is not None:
                    t *= dip[:, None]
            result.append(np.clip(t, 1.0 / 65535, 1.0, out=t))
        return result[0], result[1]

    # ----- colour -------------------------------------------------------------------------
    def zeff(self, t_low: np.ndarray, t_high: np.ndarray, smooth_px: float = 1.0) -> np.ndarray:
        """Effective atomic number per pixel from the calibration table, lightly smoothed."""
        return _smoothed(self._zeff_lut.lookup(t_low, t_high), smooth_px)

    def display_zeff(
        self, t_low: np.ndarray, t_high: np.ndarray, pitch_cm: float | None = None
    ) -> np.ndarray:
        """`zeff` as a scan of `pitch_cm` pixels shows it: with `zeff_fine`, smoothed over one
        detector pixel where T_high is above `ZEFF_FINE_T_HIGH`'s second value, over one image
        pixel below its first, blended between: thin metal keeps its Zeff over its own width,
        while where little gets through, Zeff's noise stays averaged (finer there, dense
        items speckle navy and teal)."""
        if not self.config.zeff_fine or pitch_cm is None:
            return self.zeff(t_low, t_high)
        raw = self._zeff_lut.lookup(t_low, t_high)  # looked up once, smoothed both ways
        coarse = _smoothed(raw, 1.0)
        fine = _smoothed(raw, self.config.detector_pitch_cm / pitch_cm)
        weight = np.clip(
            (cv2.GaussianBlur(t_high, (0, 0), 1.0) - ZEFF_FINE_T_HIGH[0])
            / (ZEFF_FINE_T_HIGH[1] - ZEFF_FINE_T_HIGH[0]),
            0.0,
            1.0,
        )
        return (coarse + weight * (fine - coarse)).astype(np.float32)

    def false_colour(
        self, t_low: np.ndarray, t_high: np.ndarray, style: ColourStyle = DEFAULT_STYLE
    ) -> np.ndarray:
        """uint8 RGB false-colour image as a console shows it."""
        return false_colour(t_high, self.zeff(t_low, t_high), style)

    def scan(
        self,
        thickness: dict[str, np.ndarray],
        rng: np.random.Generator | None = None,
        name: str = "<simulated>",
        *,
        pitch_cm: float | None = None,
        style: ColourStyle = DEFAULT_STYLE,
        belt_across: bool = False,
    ) -> Scan:
        """Render thickness maps into a Scan: false colour, low, high and Zeff (16-bit exact).
        `belt_across`: the maps are an export turned a quarter (`render`)."""
        t_low, t_high = self.render(thickness, rng, pitch_cm=pitch_cm, belt_across=belt_across)
        # Quantise as the 16-bit files will, so a saved and reloaded scan is the same scan.
        t_low, t_high = (to_transmission(transmission_to_uint16(t)) for t in (t_low, t_high))
        zeff = self.display_zeff(t_low, t_high, pitch_cm)
        h, w = t_low.shape
        meta = ScanMeta(name, "simulated", "uint16", (w, h), (), {"kvp": str(self.config.kvp)})
        return Scan(false_colour(t_high, zeff, style), meta, low=t_low, high=t_high, zeff=zeff)


def _spectrum(cfg: ScannerConfig) -> tuple[np.ndarray, np.ndarray]:
    """Energies (keV) and photon fluence after tube filtration and the belt, unit-normalised."""
    energies, fluence = _tube_spectrum(cfg.kvp, cfg.anode_angle, cfg.filtration_al_mm)
    if cfg.belt_pvc_mm > 0:
        fluence = fluence * np.exp(-material_mu("pvc", energies) * cfg.belt_pvc_mm / 10)
    return energies, fluence / fluence.sum()


_tube_spectra: dict[tuple[float, float, float], tuple[np.ndarray, np.ndarray]] = {}


def _tube_spectrum(kvp: float, anode_angle: float, filtration_al_mm: float):
    """spekpy's filtered tube spectrum (keV, fluence), kept in memory and in the table cache.

    spekpy takes ~1 s to import and ~0.6 s per spectrum, in every worker process; the cached
    arrays are the same float64 values (see `materials.cached_array`).
    """
    key = (float(kvp), float(anode_angle), float(filtration_al_mm))
    if key not in _tube_spectra:
        spectrum = cached_array(
            "spectrum",
            ("spekpy", package_version("spekpy"), key),
            lambda: np.stack(_spekpy_spectrum(*key)),
        )
        _tube_spectra[key] = (spectrum[0].copy(), spectrum[1].copy())
    return _tube_spectra[key]


def _spekpy_spectrum(kvp: float, anode_angle: float, filtration_al_mm: float):
    import spekpy

    spek = spekpy.Spek(kvp=kvp, th=anode_angle)
    spek.filter("Al", filtration_al_mm)
    energies, fluence = spek.get_spectrum()
    keep = fluence > fluence.max() * 1e-6
    return energies[keep].astype(np.float64), fluence[keep].astype(np.float64)


def _ln_transmission(scanner: Scanner, bin_mu: np.ndarray, thick: np.ndarray) -> np.ndarray:
    """(len(thick), 2) binned ln T of the front and back layers for μ rows `bin_mu` (2·n_bins)."""
    n = len(scanner.front.bin_weights)
    out = []
    for layer, part in ((scanner.front, bin_mu[:n]), (scanner.back, bin_mu[n:])):
        out.append(np.log(np.exp(-np.outer(thick, part)) @ layer.bin_weights))
    return np.stack(out, axis=1)


def _fit_basis(scanner: Scanner, material: str) -> np.ndarray | None:
    """The BASIS_MATERIALS mix attenuating like `material`, or None (see `Scanner.basis_mix`).

    Least squares on the linearised error in ln T of both layers at 40 thicknesses, from thin
    to the thickness that leaves the high layer 1/65535 of air (beyond it a pixel is black):
    each bin counts by its share of the transmitted signal at that thickness, so hardened
    spectra weigh the high bins.
    """
    if material in BASIS_MATERIALS:
        return np.eye(len(BASIS_MATERIALS))[BASIS_MATERIALS.index(material)]
    if _has_edge(material, scanner.energies[0], scanner.energies[-1]):
        return None
    n = len(scanner.front.bin_weights)
    mu = np.concatenate(scanner._bin_mu(material))
    basis = np.stack([np.concatenate(scanner._bin_mu(b)) for b in BASIS_MATERIALS], axis=1)
    t_max = np.log(65535.0) / (mu[n:] @ scanner.back.bin_weights)
    thick = np.geomspace(t_max * 1e-3, t_max, 40)
    rows, target = [], []
    for layer, part in ((scanner.front, slice(0, n)), (scanner.back, slice(n, None))):
        share = layer.bin_weights * np.exp(-np.outer(thick, mu[part]))
        share /= share.sum(axis=1, keepdims=True)
        rows.append(thick[:, None] * share @ basis[part])
        target.append(thick * (share @ mu[part]))
    mix = np.linalg.lstsq(np.concatenate(rows), np.concatenate(target), rcond=None)[0]
    check = np.geomspace(t_max * 1e-4, 2 * t_max, 200)
    reference = _ln_transmission(scanner, mu, check)
    error = np.abs(_ln_transmission(scanner, basis @ mix, check) - reference)
    visible = reference[:, 1] > -np.log(65535.0)
    return mix if error[visible].max() <= BASIS_TOLERANCE else None


def _has_edge(material: str, e_min_kev: float, e_max_kev: float) -> bool:
    """Whether an element of `material` has a K or L absorption edge within the energies."""
    return any(
        ((e_min_kev <= edges) & (edges <= e_max_kev)).any()
        for edges in map(absorption_edges_kev, material_elements(material))
    )


def _layers(cfg: ScannerConfig, energies: np.ndarray, fluence: np.ndarray):
    mu_csi = material_mu("csi", energies)
    mu_cu = material_mu("copper", energies)
    absorbed_front = 1 - np.exp(-mu_csi * cfg.front_csi_mm / 10)
    reaching_back = np.exp(-mu_csi * cfg.front_csi_mm / 10) * np.exp(-mu_cu * cfg.filter_cu_mm / 10)
    absorbed_back = reaching_back * (1 - np.exp(-mu_csi * cfg.back_csi_mm / 10))
    return (
        _layer(energies, fluence, absorbed_front, cfg.n_bins),
        _layer(energies, fluence, absorbed_back, cfg.n_bins),
    )


def _layer(energies, fluence, absorbed, n_bins) -> LayerResponse:
    raw = fluence * energies * absorbed
    total = raw.sum()
    weights = raw / total
    noise = fluence * energies**2 * absorbed / total**2
    cumulative = np.cumsum(weights)
    inner = np.searchsorted(cumulative, np.arange(1, n_bins) / n_bins) + 1
    edges = np.unique(np.concatenate([[0], inner, [len(energies)]]))
    return LayerResponse(energies, weights, noise, edges, float((weights * energies).sum()))


class _ZeffTable:
    """(−ln T_H, R = ln T_L / ln T_H) → Zeff, from simulated step wedges of known Z."""

    def __init__(self, scanner: Scanner, n_x: int = 192, n_r: int = 192, x_max: float = 7.0):
        self.x_grid = np.linspace(0.02, x_max, n_x)
        wedges: dict[float, np.ndarray] = {}
        areal = np.geomspace(1e-3, 120.0, 160)  # g/cm²
        for z, symbol in _WEDGE_ELEMENTS.items():
            wedges[float(z)] = self._wedge(scanner, symbol, areal)
        for z, (formula, _density) in _WEDGE_COMPOUNDS.items():
            wedges[z] = self._wedge(scanner, formula, areal)
        zs = np.array(sorted(wedges))
        # R of each Z at each x on the grid, interpolated along the areal density.
        r_of_z = np.empty((len(zs), n_x))
        for i, z in enumerate(zs):
            x, r = wedges[z]
            r_of_z[i] = np.interp(self.x_grid, x, r)
        self.r_grid = np.linspace(r_of_z.min(), r_of_z.max(), n_r)
        table = np.empty((n_x, n_r), np.float32)
        for j in range(n_x):
            order = np.argsort(r_of_z[:, j])
            table[j] = np.interp(self.r_grid, r_of_z[order, j], zs[order])
        self.table = table

    @staticmethod
    def _wedge(scanner: Scanner, formula: str, areal: np.ndarray):
        mass_mu = formula_mass_mu(formula, scanner.energies)
        signals = []
        for layer in (scanner.front, scanner.back):  # binned, exactly as `render` computes
            att = np.exp(-np.outer(areal, layer.bin_average(mass_mu)))
            signals.append(att @ layer.bin_weights)
        lo, hi = -np.log(signals[0]), -np.log(signals[1])
        return hi, lo / np.maximum(hi, 1e-9)

    def lookup(self, t_low: np.ndarray, t_high: np.ndarray) -> np.ndarray:
        x = -np.log(np.clip(t_high, 1e-6, 1.0)).astype(np.float32)
        lo = -np.log(np.clip(t_low, 1e-6, 1.0)).astype(np.float32)
        r = lo / np.maximum(x, 1e-3)
        fx = (np.clip(x, self.x_grid[0], self.x_grid[-1]) - self.x_grid[0]) / (
            self.x_grid[1] - self.x_grid[0]
        )
        fr = (np.clip(r, self.r_grid[0], self.r_grid[-1]) - self.r_grid[0]) / (
            self.r_grid[1] - self.r_grid[0]
        )
        z = cv2.remap(
            self.table,
            fr.astype(np.float32),
            fx.astype(np.float32),
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        # Near air the ratio is pure noise: call it organic-light, as consoles show white there.
        return np.where(x < 0.02, np.float32(7.0), z).astype(np.float32)
