"""The queue of scans an analyst works through: Qt-free, so it is tested and reused on its own.

Each scan has marks (`BagMarks`: new / screened / reviewed, and whether it alarms), given by
whoever knows the reviews through `marks_of`. A filter (`QUEUE_FILTERS`) chooses which scans the
queue shows; stepping and "next unreviewed" move only among those, and the scan on screen is
always shown, even when it no longer matches (a bag just decided under "unreviewed").
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from engine.io import list_scans

QUEUE_FILTERS = {
    "all": "All",
    "unreviewed": "Unreviewed",
    "alarms": "Alarms",
    "decided": "Decided",
}  # name: the title the queue's filter box shows


@dataclass(frozen=True)
class BagMarks:
    """What the queue shows of a bag: its review status and whether it alarms."""

    status: str = "new"  # new | screened | reviewed (decided)
    alarm: bool = False  # an anomalous finding at the thresholds in force


def passes(filter_name: str, marks: BagMarks) -> bool:
    """Whether a bag with `marks` is one filter `filter_name` shows."""
    if filter_name == "unreviewed":
        return marks.status != "reviewed"
    if filter_name == "alarms":
        return marks.alarm
    if filter_name == "decided":
        return marks.status == "reviewed"
    return True


@dataclass
class QueueEntry:
    path: Path
    error: str | None = None  # the loader's message when the scan failed to open
    added: int = 0  # the order it was queued in (folder order): what `order_as_added` restores


@dataclass
class ScanQueue:
    """Ordered scans with a current position; adding a path already queued only selects it."""

    entries: list[QueueEntry] = field(default_factory=list)
    current: int = -1
    filter: str = "all"  # one of QUEUE_FILTERS
    marks_of: Callable[[Path], BagMarks] | None = field(default=None, repr=False)
    _added: int = field(default=0, repr=False)

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
                    self.entries.append(QueueEntry(f, added=self._added))
                    self._added += 1
                    i = len(self.entries) - 1
                indices.append(i)
        return indices

    def clear(self) -> None:
        self.entries.clear()
        self.current = -1

    # ----- order ----------------------------------------------------------------------------
    def order_by(self, key: Callable[[Path], float | None]) -> None:
        """Put the scans with the highest `key` first (e.g. the model's uncertainty); those
        without one (None: not screened yet) follow in the order they were queued. Ties keep
        their order; the scan on screen stays current wherever it lands."""
        keyed = [(key(e.path), e) for e in self.entries]
        self._reorder(sorted(keyed, key=lambda ke: (ke[0] is None, -(ke[0] or 0.0), ke[1].added)))

    def order_as_added(self) -> None:
        """Back to the order the scans were queued in (folder order)."""
        self._reorder([(None, e) for e in sorted(self.entries, key=lambda e: e.added)])

    def _reorder(self, keyed: list[tuple[float | None, QueueEntry]]) -> None:
        on_screen = self.current_entry
        self.entries = [e for _, e in keyed]
        self.current = self.entries.index(on_screen) if on_screen is not None else -1

    # ----- marks and the filter -----------------------------------------------------------
    def marks(self, index: int) -> BagMarks:
        """The marks of entry `index` (all new while nobody gives them)."""
        return self.marks_of(self.entries[index].path) if self.marks_of else BagMarks()

    def set_filter(self, name: str) -> None:
        """Show only the scans filter `name` passes; ValueError for an unknown one."""
        if name not in QUEUE_FILTERS:
            raise ValueError(f"unknown queue filter {name!r}; known: {', '.join(QUEUE_FILTERS)}")
        self.filter = name

    def matches(self, index: int, marks: BagMarks | None = None) -> bool:
        """Whether entry `index` passes the filter (`marks` when already known)."""
        return passes(self.filter, marks if marks is not None else self.marks(index))

    def shown(self, index: int, marks: BagMarks | None = None) -> bool:
        """Whether the queue shows entry `index`: it passes the filter, or it is on screen."""
        return index == self.current or self.matches(index, marks)

    def counts(self, marks: list[BagMarks] | None = None) -> dict[str, int]:
        """How many scans each filter passes (`marks` of every entry, when already known)."""
        marks = marks if marks is not None else [self.marks(i) for i in range(len(self))]
        return {name: sum(passes(name, m) for m in marks) for name in QUEUE_FILTERS}

    # ----- navigation ---------------------------------------------------------------------
    def step(self, delta: int) -> int | None:
        """Index of the scan `delta` shown scans from the current one, None past either end."""
        if not self.entries or delta == 0:
            return None
        direction = 1 if delta > 0 else -1
        left = abs(delta)
        index = self.current
        while True:
            index += direction
            if not 0 <= index < len(self.entries):
                return None
            if self.matches(index):
                left -= 1
                if left == 0:
                    return index

    def next_unreviewed(self) -> int | None:
        """The next scan the filter shows that has no decision, wrapping round (the current
        one last); None when there is none."""
        n = len(self.entries)
        for offset in range(1, n + 1):
            index = (self.current + offset) % n
            marks = self.marks(index)
            if marks.status != "reviewed" and self.matches(index, marks):
                return index
        return None

    @property
    def current_entry(self) -> QueueEntry | None:
        return self.entries[self.current] if 0 <= self.current < len(self.entries) else None
