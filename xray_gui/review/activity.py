"""Active review time: how long the analyst worked on a scan, not how long it was on screen.

Qt-free: the GUI calls `touch()` on every keyboard or mouse input, `pause()` while the scan waits
for the model (there is nothing to review yet) and `resume()` when its findings are drawn.
"""

from __future__ import annotations

import time
from collections.abc import Callable

IDLE_AFTER_S = 30.0  # a pause between inputs counts at most this long: the analyst is away


class ActiveTime:
    """Seconds of work on the scan on screen.

    Time between two inputs counts, each gap at most `idle_after` seconds (looking at a bag
    without touching anything is work; a coffee break is not); nothing counts while paused.
    """

    def __init__(
        self, idle_after: float = IDLE_AFTER_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.idle_after = idle_after
        self.clock = clock
        self.seconds = 0.0
        self.paused = False
        self._last: float | None = None  # the last input (or start, or resume); None: stopped

    def start(self, *, paused: bool = False) -> None:
        """A new scan is on screen: count from zero (from `resume()` when `paused`)."""
        self.seconds = 0.0
        self.paused = paused
        self._last = self.clock()

    def touch(self) -> None:
        """The analyst did something: the time since the last input counts (capped)."""
        if self._last is None or self.paused:
            return
        now = self.clock()
        self.seconds += min(max(now - self._last, 0.0), self.idle_after)
        self._last = now

    def pause(self) -> None:
        """Stop counting (waiting for the model); the time up to now still counts."""
        self.touch()
        self.paused = True

    def resume(self) -> None:
        """Count again from now."""
        if self._last is None:
            return
        self.paused = False
        self._last = self.clock()

    def stop(self) -> float:
        """The scan leaves the screen: its active seconds (0 when never started)."""
        self.touch()
        seconds, self.seconds, self._last = self.seconds, 0.0, None
        return seconds
