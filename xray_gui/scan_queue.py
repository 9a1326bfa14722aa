"""The queue of scans an analyst works through: Qt-free, so it is tested and reused on its own."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from engine.io import list_scans


@dataclass
class QueueEntry:
    path: Path
    error: str | None = None  # the loader's message when the scan failed to open


@dataclass
class ScanQueue:
    """Ordered scans with a current position; adding a path already queued only selects it."""

    entries: list[QueueEntry] = field(default_factory=list)
    current: int = -1

    def __len__(self) -> int:
        return len(self.entries)

    def index_of(self, path: str | Path) -> int:
        target = Path(path).resolve()
        for i, entry in enumerate(self.entries):
            if entry.path.resolve() == target:
                return i
        return -1

    def add(self, paths: list[str | Path]) -> list[int]:
        """Queue files, and the scans of folders; returns the indices of what was given."""
        indices = []
        for p in paths:
            p = Path(os.path.abspath(p))  # one spelling per scan, whatever the working directory
            for f in list_scans(p) if p.is_dir() else [p]:
                i = self.index_of(f)
                if i < 0:
                    self.entries.append(QueueEntry(f))
                    i = len(self.entries) - 1
                indices.append(i)
        return indices

    def clear(self) -> None:
        self.entries.clear()
        self.current = -1

    def step(self, delta: int) -> int | None:
        """Index of the scan `delta` places from the current one, None past either end."""
        if not self.entries:
            return None
        target = self.current + delta
        return target if 0 <= target < len(self.entries) else None

    @property
    def current_entry(self) -> QueueEntry | None:
        return self.entries[self.current] if 0 <= self.current < len(self.entries) else None
