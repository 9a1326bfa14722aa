"""Opening a file that is read whole: regular files only, and the size checked before reading.

Scans, model bundles and configs all come from users. A FIFO would block a read forever,
`/dev/zero` would fill the memory, a folder or a dangling link gives an odd error: each is
refused here from `os.stat` with a message in words, before a byte is read. Files are opened
with `O_NONBLOCK`, so a FIFO swapped in after the check cannot block either.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from engine.errors import EngineError

_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class FileCheckError(EngineError, ValueError):
    """A file cannot be read whole: `problem` says why in words, without the file's name."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{quote_path(path)}: {problem}")

    def __reduce__(self):
        """(path, problem) again, so the error crosses a process pool whole (a worker's
        exception is pickled; the default would call __init__ with the message alone)."""
        return type(self), (self.path, self.problem)


def quote_path(path: str | Path) -> str:
    """The path as printed in a one-line message: as is, or quoted (repr) when it holds a
    newline, a tab or another character that is not printable."""
    text = str(path)
    return text if text.isprintable() else repr(text)


def one_line(text: object, limit: int = 200) -> str:
    """`text` on one line (runs of whitespace become one space), cut to `limit` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def describe_size(n: int) -> str:
    """A byte count in words: '312 bytes', '256 KiB', '1.5 GiB'."""
    if n < 1024:
        return f"{n} bytes"
    for unit, shift in (("KiB", 10), ("MiB", 20), ("GiB", 30)):
        if n < 1 << (shift + 10) or unit == "GiB":
            return f"{n / (1 << shift):.4g} {unit}"
    return f"{n} bytes"  # not reached


def check_regular_file(
    path: str | Path, *, max_bytes: int | None = None, folder: str = "a folder, not a file"
) -> os.stat_result:
    """`os.stat` of `path` when it is a non-empty regular file of at most `max_bytes`;
    FileCheckError otherwise (missing, dangling or looping link, folder, FIFO, device, empty,
    too big). `folder` is what to call a folder."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        problem = "file not found"
        if os.path.islink(path):
            problem = "dangling symbolic link (its target does not exist)"
        raise FileCheckError(path, problem) from None
    except PermissionError:
        raise FileCheckError(path, "permission denied") from None
    except OSError as exc:
        raise FileCheckError(path, _os_problem(exc)) from None
    except ValueError:  # a NUL byte in the name
        raise FileCheckError(path, "file name holds a NUL character") from None
    _check_mode(path, st, max_bytes, folder)
    return st


def _check_mode(path: str | Path, st: os.stat_result, max_bytes: int | None, folder: str) -> None:
    if stat.S_ISDIR(st.st_mode):
        raise FileCheckError(path, f"is {folder}")
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _KINDS if test(st.st_mode)), "a special file")
        raise FileCheckError(path, f"is {kind}, not a regular file")
    if st.st_size == 0:
        raise FileCheckError(path, "file is empty (0 bytes)")
    if max_bytes is not None and st.st_size > max_bytes:
        raise FileCheckError(
            path,
            f"file is {describe_size(st.st_size)}, over the limit of {describe_size(max_bytes)}",
        )


def _os_problem(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link loop (too many levels of links)"
    if exc.errno == errno.ENAMETOOLONG:
        return "file name too long"
    if exc.errno == errno.ENOTDIR:
        return "file not found (a folder on its path is a file)"
    if exc.errno == errno.EACCES:
        return "permission denied"
    return f"cannot read file ({exc.strerror or exc})"


def open_regular_file(
    path: str | Path, *, max_bytes: int | None = None, folder: str = "a folder, not a file"
) -> BinaryIO:
    """A binary file object for reading `path`, after the checks of `check_regular_file`."""
    check_regular_file(path, max_bytes=max_bytes, folder=folder)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except PermissionError:
        raise FileCheckError(path, "permission denied") from None
    except OSError as exc:
        raise FileCheckError(path, _os_problem(exc)) from None
    try:
        _check_mode(path, os.fstat(fd), max_bytes, folder)  # the file opened is the one checked
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def read_regular_file(
    path: str | Path, *, max_bytes: int, folder: str = "a folder, not a file"
) -> bytes:
    """The bytes of `path` (at most `max_bytes`), after the checks of `check_regular_file`."""
    with open_regular_file(path, max_bytes=max_bytes, folder=folder) as f:
        try:
            data = f.read(max_bytes + 1)
        except OSError as exc:
            raise FileCheckError(path, _os_problem(exc)) from None
    if not data:
        raise FileCheckError(path, "file is empty (0 bytes)")
    if len(data) > max_bytes:  # it grew after the check
        raise FileCheckError(path, f"file is over the limit of {describe_size(max_bytes)}")
    return data
