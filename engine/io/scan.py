"""The in-memory scan every part of the product works on."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import EngineError
from engine.io.files import quote_path


class ScanLoadError(EngineError):
    """A scan could not be loaded; the message is one line naming the file and the problem."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = " ".join(str(problem).split())  # always one line
        super().__init__(f"{quote_path(self.path)}: {self.problem}")  # a newline in a name too

    def __reduce__(self):
        """(path, problem) again, so the error crosses a process pool whole (a worker's
        exception is pickled; the default would call __init__ with the message alone)."""
        return type(self), (self.path, self.problem)


@dataclass(frozen=True)
class ScanMeta:
    """Where a scan came from and what it was before conversion."""

    path: str
    format: str  # png, jpeg, bmp, tiff, dicom, side-by-side, dual-pair
    dtype: str  # dtype of the stored pixels, e.g. "uint8", "uint16"
    size: tuple[int, int]  # original (width, height) of the display image
    sources: tuple[str, ...] = ()  # every file read, display image first
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Scan:
    """A bag scan: the display image plus the dual-energy channels when the source has them.

    image: uint8 RGB, H×W×3, what the analyst sees.
    low, high: float32 H×W transmissions in (0, 1] of the low- and high-energy detector layers.
    zeff: float32 H×W effective atomic number.
    """

    image: np.ndarray
    meta: ScanMeta
    low: np.ndarray | None = None
    high: np.ndarray | None = None
    zeff: np.ndarray | None = None

    def __post_init__(self) -> None:
        h, w = self.image.shape[:2]
        if self.image.dtype != np.uint8 or self.image.shape != (h, w, 3):
            raise ValueError(f"display image must be uint8 H×W×3, got {self.image.shape}")
        for name in ("low", "high", "zeff"):
            channel = getattr(self, name)
            if channel is not None and channel.shape != (h, w):
                raise ValueError(f"{name} is {channel.shape}, display image is {(h, w)}")

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def has_dual_energy(self) -> bool:
        return self.low is not None and self.high is not None

    @property
    def channels(self) -> list[str]:
        """Names of the channels present, display image first."""
        names = ["rgb"]
        names += [n for n in ("low", "high", "zeff") if getattr(self, n) is not None]
        return names

    def describe(self) -> dict:
        """A JSON-ready summary, as printed by `xray-engine info`."""
        return {
            "path": self.meta.path,
            "format": self.meta.format,
            "width": self.width,
            "height": self.height,
            "dtype": self.meta.dtype,
            "channels": self.channels,
            "dual_energy": self.has_dual_energy,
            "sources": list(self.meta.sources),
        }
