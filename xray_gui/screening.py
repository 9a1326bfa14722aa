"""The screening thread: loads a model bundle and runs the dual-CNN pipeline off the GUI thread.

The window tells the thread which scans it wants, most wanted first (the scan on screen, then the
next few in the queue to screen ahead); a new wish list replaces the old one, so scans the analyst
skipped past are never screened. A scan already being screened finishes (a forward pass cannot
be interrupted) and its result is kept: it is still valid. Results carry the model generation
they were made with, so a result from a model that was since replaced is ignored.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

from PySide6.QtCore import QThread, Signal

# Findings below this detector score are not kept at all; the score slider works above it.
SCORE_FLOOR = 0.05


@dataclass(frozen=True)
class ModelInfo:
    """What the window needs to know about the loaded model."""

    path: str
    name: str
    device: str  # e.g. "CPU (bf16)" or "NVIDIA H100 (CUDA)"
    categories: tuple[str, ...]
    score_threshold: float  # the bundle's operating points, the sliders' defaults
    anomaly_threshold: float
    has_classifier: bool
    generation: int
    judged: tuple[str, ...] = ()  # the classes that get an anomaly score


class ScreeningThread(QThread):
    """Owns the Screener; all model work happens in `run`, on this thread."""

    modelLoaded = Signal(object)  # ModelInfo
    modelFailed = Signal(str, str)  # bundle path, one-line message
    screeningStarted = Signal(str)  # scan path
    screened = Signal(str, object, int)  # scan path, BagResult, model generation
    screenFailed = Signal(str, str, int)  # scan path, one-line message, model generation

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("screening")
        self._cond = threading.Condition()
        self._wanted: list[str] = []
        self._model_job: tuple[str, str] | None = None
        self._stopping = False
        self._generation = 0
        self._screener = None
        self.busy_path: str | None = None  # the scan being screened now, for the window

    # ----- called from the GUI thread -----------------------------------------------------
    def load_model(self, path: str, device: str = "auto") -> None:
        """Load a bundle in the background; pending screening (for the old model) is dropped."""
        with self._cond:
            self._model_job = (str(path), device)
            self._wanted = []
            self._cond.notify()

    def want(self, paths: list[str]) -> None:
        """Screen these scans, first one first; replaces whatever was waiting."""
        with self._cond:
            busy = self.busy_path  # being screened already: its result is on the way
            self._wanted = [p for p in dict.fromkeys(str(p) for p in paths) if p != busy]
            self._cond.notify()

    def stop(self) -> None:
        """Drop waiting work and end the thread once the scan in hand is done (a forward pass
        cannot be interrupted; destroying a running QThread would abort the application)."""
        with self._cond:
            self._stopping = True
            self._wanted = []
            self._model_job = None
            self._cond.notify()
        self.wait()

    # ----- the thread ---------------------------------------------------------------------
    def run(self) -> None:
        while True:
            with self._cond:
                while not (self._stopping or self._model_job or self._wanted):
                    self._cond.wait()
                if self._stopping:
                    return
                model_job, self._model_job = self._model_job, None
                path = None if model_job else self._wanted.pop(0)
                generation = self._generation
                self.busy_path = path
            if model_job:
                self._load(*model_job)
            elif self._screener is not None:
                self._screen(path, generation)

    def _load(self, path: str, device: str) -> None:
        try:
            from engine.bundle import BundleError
            from engine.pipeline import Screener

            screener = Screener.from_bundle(path, device)
        except (BundleError, ValueError, OSError) as exc:
            self.modelFailed.emit(path, _one_line(exc))
            return
        except Exception as exc:  # a thread must never die: say what happened instead
            self.modelFailed.emit(path, f"{type(exc).__name__}: {_one_line(exc)}")
            return
        info = ModelInfo(
            path=path,
            name=screener.name or os.path.basename(path),
            device=screener.device_name,
            categories=tuple(screener.categories),
            score_threshold=screener.score_threshold,
            anomaly_threshold=screener.anomaly_threshold,
            has_classifier=screener.has_classifier,
            judged=screener.judged_categories,
            generation=self._generation + 1,
        )
        screener.score_threshold = min(SCORE_FLOOR, screener.score_threshold)
        with self._cond:
            self._generation += 1
            self._screener = screener
        self.modelLoaded.emit(info)

    def _screen(self, path: str, generation: int) -> None:
        from engine.io import ScanLoadError

        self.screeningStarted.emit(path)
        start = time.perf_counter()
        try:
            result = self._screener(path)
        except ScanLoadError as exc:
            self.screenFailed.emit(path, _one_line(exc), generation)
            return
        except Exception as exc:
            self.screenFailed.emit(path, f"{type(exc).__name__}: {_one_line(exc)}", generation)
            return
        finally:
            with self._cond:
                self.busy_path = None
        result.timings.setdefault("wall", (time.perf_counter() - start) * 1000)
        self.screened.emit(path, result, generation)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:400]
