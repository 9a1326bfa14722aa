"""Active review time: gaps between inputs count up to a cap, waiting for the model not at all."""

from __future__ import annotations

import pytest

from xray_gui.review.activity import ActiveTime


def test_active_time_counts_work_not_waiting_or_idling():
    now = [0.0]
    clock = ActiveTime(idle_after=30.0, clock=lambda: now[0])
    assert clock.stop() == 0.0  # never started
    clock.start(paused=True)  # the scan waits for the model
    now[0] = 15.0
    clock.touch()  # input while waiting: nothing to review yet
    now[0] = 20.0
    clock.resume()  # findings drawn
    now[0] = 25.0
    clock.touch()  # 5 s of work
    now[0] = 625.0
    clock.touch()  # ten minutes away: counts 30 s at most
    now[0] = 627.0
    clock.pause()  # screened again: 2 s counted up to the pause
    now[0] = 700.0
    clock.touch()
    clock.resume()
    now[0] = 703.0
    assert clock.stop() == pytest.approx(5 + 30 + 2 + 3)
    assert clock.stop() == 0.0
