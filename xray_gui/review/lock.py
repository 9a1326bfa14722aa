"""The lock of a review project: one application instance writes a project, the others read it.

`<project>.lock` beside the project file holds `{"user", "host", "pid", "since", "token"}`. It
is created with `O_CREAT | O_EXCL`, so of two instances exactly one gets it, and it is removed
on close. The holder touches it (its mtime is the heartbeat) on every save and every
`HEARTBEAT_S` from the GUI.

A lock is stale, and is taken over, when its host is this host and its pid is no longer running
(a crash or a kill), or when nobody has touched it for `STALE_AFTER_S` (a crash on another host
sharing the folder, or a pid since reused by an unrelated process); a lock file without a
readable owner counts as stale after `INCOMPLETE_AFTER_S` (its creator died between creating
and writing it). Before every save the holder checks that the lock is still its own, so an
instance that was taken over (it slept through `STALE_AFTER_S`) cannot overwrite the work of
the new holder: it is told so instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import stat
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

HEARTBEAT_S = 60.0  # how often the GUI touches a held lock
STALE_AFTER_S = 15 * 60.0  # a lock untouched this long is abandoned, whoever holds it
INCOMPLETE_AFTER_S = 10.0  # a lock file still without an owner after this is abandoned
LOCK_SUFFIX = ".lock"


@dataclass(frozen=True)
class LockOwner:
    """Who holds a project: what the read-only banner names."""

    user: str
    host: str
    pid: int
    since: str  # local ISO time the lock was taken
    token: str = ""

    def describe(self) -> str:
        """E.g. "ana on ws-12 (pid 4711, since 2025-03-01 09:12)"."""
        if self.pid == 0:
            return "another instance (its lock file names no owner)"
        since = self.since.replace("T", " ")[:16]
        return f"{self.user} on {self.host} (pid {self.pid}, since {since})"


UNKNOWN_OWNER = LockOwner("an unknown instance", "an unknown host", 0, "?")


def lock_path(project_path: Path) -> Path:
    return Path(project_path).with_name(Path(project_path).name + LOCK_SUFFIX)


class ProjectLock:
    """The lock file of one project, as one store holds (or tries to hold) it."""

    def __init__(self, project_path: Path) -> None:
        self.path = lock_path(project_path)
        self.token = uuid.uuid4().hex
        self.held = False

    def acquire(self, user: str) -> LockOwner | None:
        """Take the lock: None when this store holds it now, else who holds it.

        OSError when no lock file can be made there (a read-only folder): saving will fail too.
        """
        owner = UNKNOWN_OWNER
        for _ in range(3):  # a stale lock is broken, then created again; others may race
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                raw, age = _read(self.path)
                if raw is None:  # gone meanwhile: try again
                    continue
                owner = _parse(raw)
                if not _is_stale(owner, age):
                    return owner or UNKNOWN_OWNER
                self._break(raw)
                continue
            me = LockOwner(
                user=_clean(user),
                host=_clean(socket.gethostname()),
                pid=os.getpid(),
                since=datetime.now().astimezone().isoformat(timespec="seconds"),
                token=self.token,
            )
            try:
                os.write(fd, json.dumps(me.__dict__).encode())
                os.fsync(fd)
            except OSError:
                os.close(fd)
                self.path.unlink(missing_ok=True)
                raise
            os.close(fd)
            self.held = True
            return None
        return owner or UNKNOWN_OWNER

    def holder(self) -> LockOwner | None:
        """None while this store still holds the lock; else who does (UNKNOWN_OWNER: nobody)."""
        if not self.held:
            return UNKNOWN_OWNER
        raw, _ = _read(self.path)
        owner = _parse(raw) if raw is not None else None
        if owner is not None and owner.token == self.token:
            return None
        self.held = False
        return owner or UNKNOWN_OWNER

    def heartbeat(self) -> LockOwner | None:
        """Touch the lock so others see this instance alive; who holds it when we no longer do."""
        owner = self.holder()
        if owner is None:
            self.touch()
        return owner

    def touch(self) -> None:
        with contextlib.suppress(OSError):  # the next touch tries again; the age is generous
            os.utime(self.path)

    def remove_leftovers(self) -> None:
        """Delete what killed take-overs left beside the lock (`<lock>.stale-<token>` files)."""
        pattern = re.compile(re.escape(self.path.name) + r"\.stale-[0-9a-f]{32}")
        try:
            candidates = list(self.path.parent.iterdir())
        except OSError:
            return
        for candidate in candidates:
            if pattern.fullmatch(candidate.name) and not candidate.is_symlink():
                with contextlib.suppress(OSError):
                    candidate.unlink()

    def release(self) -> None:
        """Remove the lock file if it is still this store's."""
        if self.held and self.holder() is None:
            with contextlib.suppress(OSError):  # left behind: stale by its dead pid or age
                self.path.unlink()
        self.held = False

    def _break(self, raw: bytes) -> bool:
        """Remove a stale lock whose content is `raw`; False when another instance got there."""
        aside = self.path.with_name(f"{self.path.name}.stale-{self.token}")
        try:
            os.replace(self.path, aside)
        except OSError:  # gone, or not ours to move: acquire() reports whoever it names
            return False
        same = _read(aside)[0] in (raw, None)
        if not same:  # a fresh lock was taken meanwhile: put it back
            with contextlib.suppress(OSError):  # else its holder finds it lost at its next save
                os.link(aside, self.path)
        with contextlib.suppress(OSError):  # a folder named like a lock: left aside
            aside.unlink()
        return same


def _read(path: Path) -> tuple[bytes | None, float]:
    """The lock file's bytes and age in seconds from its mtime; (None, 0) when it is gone.

    A FIFO, device or folder by the lock's name gives b"" (no owner) and is never opened.
    """
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            return b"", time.time() - st.st_mtime
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            raw = os.read(fd, 4096)
        finally:
            os.close(fd)
    except FileNotFoundError:
        return None, 0.0
    except OSError:  # unreadable (permissions): judged by its age alone
        return b"", _age(path)
    return raw, time.time() - st.st_mtime


def _age(path: Path) -> float:
    try:
        return time.time() - os.lstat(path).st_mtime
    except OSError:
        return 0.0


def _parse(raw: bytes) -> LockOwner | None:
    """The owner written in a lock file; None when it has none (empty or garbled)."""
    try:
        d = json.loads(raw)
        pid = d["pid"]
        if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
            return None
        return LockOwner(
            _clean(d["user"]), _clean(d["host"]), pid, _clean(d["since"]), str(d.get("token", ""))
        )
    except (ValueError, TypeError, KeyError, RecursionError):
        return None


def _is_stale(owner: LockOwner | None, age: float) -> bool:
    if owner is None:
        return age > INCOMPLETE_AFTER_S
    if owner.host == _clean(socket.gethostname()) and not pid_alive(owner.pid):
        return True
    return age > STALE_AFTER_S


def pid_alive(pid: int) -> bool:
    """Whether process `pid` runs on this host (a zombie does not); True where unknown."""
    if os.name != "posix":
        return True  # no cheap check: the lock's age decides
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    except OSError:
        return True
    try:  # killed but not yet reaped by its parent: dead for our purpose
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def _clean(value: object) -> str:
    """A lock field fit for a one-line banner: printable, at most 64 characters."""
    text = "".join(c if c.isprintable() else "?" for c in str(value))
    return text[:64] or "?"
