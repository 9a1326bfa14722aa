"""Two instances on one project: one writes, the other reads; stale locks are taken over.

The two-writer tests run real processes (the Qt-free store driven through stdin), as two
application instances on one folder would.
"""

from __future__ import annotations

import gc
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import xray_gui.review.store as store_module
from xray_gui.review import (
    PROJECT_NAME,
    ReviewLockLostError,
    ReviewReadOnlyError,
    ReviewSaveError,
    ReviewStore,
)
from xray_gui.review.lock import INCOMPLETE_AFTER_S, STALE_AFTER_S, lock_path, pid_alive

from .conftest import make_result

ROOT = Path(__file__).resolve().parents[3]

# One application instance: opens the folder's store, then obeys one command per line.
DRIVER = r"""
import sys
from xray_gui.review import ReviewError, ReviewStore
store = ReviewStore(sys.argv[1], analyst=sys.argv[2])
print("read-only" if store.read_only else "writable", flush=True)
for line in sys.stdin:
    command, *args = line.split()
    if command == "decide":
        try:
            store.set_decision(args[0], "clear")
            print("ok", flush=True)
        except ReviewError as exc:
            print(type(exc).__name__, flush=True)
    elif command == "close":
        store.close()
        print("closed", flush=True)
"""


class Instance:
    """A second process with a store open on `folder`."""

    def __init__(self, folder: Path, analyst: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", DRIVER, str(folder), analyst],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self.opened = self._answer()

    def ask(self, line: str) -> str:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self._answer()

    def _answer(self) -> str:
        answer = self.process.stdout.readline().strip()
        if not answer:
            self.process.kill()
            raise AssertionError(f"the instance died: {self.process.stderr.read()[-2000:]}")
        return answer

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=30)


def decided(folder: Path) -> set[str]:
    data = json.loads((folder / PROJECT_NAME).read_bytes())
    return {k for k, scan in data["scans"].items() if scan["analyst"]["decision"]}


def test_two_processes_on_one_folder_lose_no_decision(scan_dir):
    ana = Instance(scan_dir, "ana")
    bob = Instance(scan_dir, "bob")
    try:
        assert (ana.opened, bob.opened) == ("writable", "read-only")
        acknowledged, refused = set(), []
        for i in range(20):  # interleaved, as two analysts at work would be
            for instance, key in ((ana, f"ana_{i}.png"), (bob, f"bob_{i}.png")):
                answer = instance.ask(f"decide {key}")
                if answer == "ok":
                    acknowledged.add(key)
                else:
                    refused.append(answer)
        assert len(acknowledged) == 20 and refused == ["ReviewReadOnlyError"] * 20
        assert decided(scan_dir) == acknowledged
        # ana closes: bob's next action takes the project over, with everything ana saved
        assert ana.ask("close") == "closed"
        for i in range(20, 25):
            assert bob.ask(f"decide bob_{i}.png") == "ok"
            acknowledged.add(f"bob_{i}.png")
        assert decided(scan_dir) == acknowledged  # 25 acknowledged, 25 on disk, none lost
        assert ana.ask("decide ana_99.png") == "ReviewReadOnlyError"  # closed stores refuse
    finally:
        ana.stop()
        bob.stop()
    assert not lock_path(scan_dir / PROJECT_NAME).exists()  # both gone: no lock left


def test_a_lock_left_by_a_killed_process_is_taken_over(scan_dir):
    dead = Instance(scan_dir, "dead")
    assert dead.opened == "writable" and dead.ask("decide bag_1.png") == "ok"
    dead.process.kill()
    dead.process.wait(timeout=30)  # reaped: a zombie would count as dead too
    lock = lock_path(scan_dir / PROJECT_NAME)
    assert json.loads(lock.read_bytes())["pid"] == dead.process.pid
    store = ReviewStore(scan_dir, analyst="ana")
    assert not store.read_only and store.warnings == []
    assert json.loads(lock.read_bytes())["pid"] == os.getpid()
    assert store.decision("bag_1.png") == "clear"  # what the dead one saved is kept
    store.set_decision("bag_2.png", "search")
    store.close()
    assert not lock.exists()


def _write_lock(project: Path, *, host: str, pid: int, age_s: float, raw: bytes | None = None):
    lock = lock_path(project)
    owner = {"user": "carol", "host": host, "pid": pid, "since": "2025-03-01T09:12:00+01:00"}
    lock.write_bytes(json.dumps({**owner, "token": "f" * 32}).encode() if raw is None else raw)
    then = time.time() - age_s
    os.utime(lock, (then, then))
    return lock


@pytest.mark.parametrize(
    ("host", "pid", "age_s", "raw", "stale"),
    [
        ("elsewhere", 1, 60.0, None, False),  # another host, alive by its heartbeat
        ("elsewhere", 1, STALE_AFTER_S + 60, None, True),  # another host, silent too long
        (socket.gethostname(), os.getpid(), 60.0, None, False),  # this host, running
        (socket.gethostname(), os.getpid(), STALE_AFTER_S + 60, None, True),  # pid reused?
        ("elsewhere", 1, 1.0, b"", False),  # being written right now
        ("elsewhere", 1, INCOMPLETE_AFTER_S + 5, b"", True),  # its creator died writing it
        ("elsewhere", 1, INCOMPLETE_AFTER_S + 5, b"\x00garbage{", True),
    ],
    ids=["alive", "silent", "this host", "this host silent", "new", "empty", "garbled"],
)
def test_stale_locks_are_taken_over_and_live_ones_respected(scan_dir, host, pid, age_s, raw, stale):
    project = scan_dir / PROJECT_NAME
    lock = _write_lock(project, host=host, pid=pid, age_s=age_s, raw=raw)
    store = ReviewStore(scan_dir, analyst="ana")
    assert store.read_only is not stale
    if stale:
        assert json.loads(lock.read_bytes())["user"] == "ana" and store.warnings == []
        return
    (message,) = store.warnings
    assert "read-only" in message and "\n" not in message
    if raw is None:
        assert f"carol on {host} (pid {pid}, since 2025-03-01 09:12)" in message
    with pytest.raises(ReviewReadOnlyError, match="in use by"):
        store.set_decision("bag_1.png", "clear")
    assert not project.exists() and lock.exists()  # nothing written, the lock left alone


def test_a_read_only_store_shows_and_keeps_findings_in_memory_only(store, scan_dir):
    project = scan_dir / PROJECT_NAME
    saved = project.read_bytes()
    second = ReviewStore(scan_dir, analyst="bob")
    assert second.read_only and second.has_prediction("bag_1.png")
    second.set_prediction("new.png", make_result(scan_dir / "new.png"), device="CPU")
    second.add_review_time("bag_1.png", 12.0)
    assert second.objects("new.png") and not second.dirty
    for act in (
        lambda: second.accept("bag_1.png", "m0"),
        lambda: second.add_object("bag_1.png", (1, 1, 9, 9), "iron"),
        lambda: second.set_note("bag_1.png", "hm"),
        lambda: second.undo(),
    ):
        with pytest.raises(ReviewReadOnlyError):
            act()
    with pytest.raises(ReviewSaveError, match="held by ana"):
        second.save()
    assert project.read_bytes() == saved
    # the holder closes: the second store takes over, with the holder's work and its own findings
    store.reject("bag_1.png", "m1")
    store.close()
    second.accept("bag_1.png", "m0")
    assert not second.read_only
    assert [o.status for o in second.objects("bag_1.png")][:2] == ["accepted", "rejected"]
    second.close()
    again = ReviewStore(scan_dir)
    assert again.has_prediction("new.png")
    assert [o.status for o in again.objects("bag_1.png")][:2] == ["accepted", "rejected"]


def test_a_store_taken_over_refuses_to_overwrite_and_saves_aside(
    store, scan_dir, tmp_path, monkeypatch
):
    monkeypatch.setattr(store_module.platformdirs, "user_data_path", lambda app: tmp_path / app)
    project = scan_dir / PROJECT_NAME
    store.accept("bag_1.png", "m0")
    # another instance judged this one dead (it slept through STALE_AFTER_S) and took over
    _write_lock(project, host="elsewhere", pid=1, age_s=0.0)
    saved = project.read_bytes()
    with pytest.raises(ReviewLockLostError, match=r"carol on elsewhere .* took it over"):
        store.set_decision("bag_1.png", "suspect")
    assert project.read_bytes() == saved and store.read_only and store.dirty
    with pytest.raises(ReviewReadOnlyError):
        store.set_decision("bag_2.png", "clear")
    kept = store.save_aside()
    assert kept.is_relative_to(tmp_path / "xray-gui") and not store.dirty
    assert ReviewStore(scan_dir, kept).decision("bag_1.png") == "suspect"
    assert json.loads(lock_path(project).read_bytes())["user"] == "carol"  # theirs, untouched


def test_heartbeat_touches_the_lock_and_notices_a_take_over(store, scan_dir):
    lock = lock_path(scan_dir / PROJECT_NAME)
    os.utime(lock, (time.time() - 600, time.time() - 600))
    assert store.heartbeat() and time.time() - lock.stat().st_mtime < 60
    _write_lock(scan_dir / PROJECT_NAME, host="elsewhere", pid=1, age_s=0.0)
    assert not store.heartbeat() and store.read_only and store.locked_by.user == "carol"


def test_a_forgotten_store_releases_its_lock(scan_dir):
    lock = lock_path(scan_dir / PROJECT_NAME)
    store = ReviewStore(scan_dir)
    assert lock.exists()
    del store
    gc.collect()
    assert not lock.exists()
    with ReviewStore(scan_dir) as held:
        assert lock.exists() and not held.read_only
    assert not lock.exists()


def test_move_to_takes_the_lock_of_the_new_file(store, scan_dir, tmp_path):
    target = tmp_path / "elsewhere" / "review.json"
    target.parent.mkdir()
    other = ReviewStore(scan_dir, target)  # holds the target
    with pytest.raises(ReviewSaveError, match="in use by"):
        store.move_to(target)
    assert store.project_path == scan_dir / PROJECT_NAME and not store.read_only
    other.close()
    store.move_to(target)
    assert lock_path(target).exists() and not lock_path(scan_dir / PROJECT_NAME).exists()


def test_a_zombie_process_counts_as_dead():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while pid_alive(child.pid) and time.monotonic() < deadline:
        time.sleep(0.05)  # exited, not reaped: a zombie
    assert not pid_alive(child.pid)
    child.wait()
    assert pid_alive(os.getpid())


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_by_the_lock_name_is_never_opened(scan_dir):
    lock = lock_path(scan_dir / PROJECT_NAME)
    os.mkfifo(lock)
    os.utime(lock, (time.time() - 60, time.time() - 60))  # no owner, and old: stale
    store = ReviewStore(scan_dir)  # would hang reading it
    assert not store.read_only and json.loads(lock.read_bytes())["pid"] == os.getpid()
