"""Background work for the GUI: loading scans and computing image functions off the GUI thread.

One ImageWorker lives in its own QThread; the window sends it requests through queued signals
and numbers each request, so a result that arrives after the analyst moved on is ignored, and a
request already superseded when the worker reaches it is skipped without being computed.
"""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, QThread, Signal, Slot

from engine.enhance import apply_function
from engine.io import Scan, ScanLoadError, load_scan


class ImageWorker(QObject):
    """Runs load_scan and image functions; lives in a worker thread."""

    loaded = Signal(int, object, float)  # request id, Scan, seconds
    loadFailed = Signal(int, str, str)  # request id, path, one-line message
    enhanced = Signal(int, str, object)  # request id, function name, uint8 RGB image
    enhanceFailed = Signal(int, str, str)  # request id, function name, message

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._latest_load = 0
        self._latest_enhance = 0

    def supersede(self, load_id: int | None = None, enhance_id: int | None = None) -> None:
        """Mark requests older than these ids as stale (called from the GUI thread)."""
        with self._lock:
            if load_id is not None:
                self._latest_load = max(self._latest_load, load_id)
            if enhance_id is not None:
                self._latest_enhance = max(self._latest_enhance, enhance_id)

    def _stale(self, request_id: int, kind: str) -> bool:
        with self._lock:
            latest = self._latest_load if kind == "load" else self._latest_enhance
        return request_id < latest

    @Slot(int, str)
    def load(self, request_id: int, path: str) -> None:
        if self._stale(request_id, "load"):
            return
        start = time.perf_counter()
        try:
            scan = load_scan(path)
        except ScanLoadError as exc:
            self.loadFailed.emit(request_id, path, str(exc))
            return
        except Exception as exc:  # load_scan promises ScanLoadError; never let a thread die
            self.loadFailed.emit(request_id, path, f"{path}: {type(exc).__name__}: {exc}")
            return
        self.loaded.emit(request_id, scan, time.perf_counter() - start)

    @Slot(int, str, object)
    def enhance(self, request_id: int, name: str, scan: Scan) -> None:
        if self._stale(request_id, "enhance"):
            return
        try:
            image = apply_function(name, scan)
        except Exception as exc:
            self.enhanceFailed.emit(request_id, name, f"{name}: {type(exc).__name__}: {exc}")
            return
        self.enhanced.emit(request_id, name, image)


class WorkerThread:
    """Owns a QThread running one ImageWorker; `stop()` ends it cleanly."""

    def __init__(self) -> None:
        self.thread = QThread()
        self.thread.setObjectName("image-worker")
        self.worker = ImageWorker()
        self.worker.moveToThread(self.thread)
        self.thread.start()

    def stop(self) -> None:
        self.thread.quit()
        self.thread.wait(10_000)
