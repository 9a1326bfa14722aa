"""Who signs a review: the analyst's name as the GUI keeps it, or the login name without one.

Qt-free, so the store, scripts and the GUI's name dialog refuse the same names.
"""

from __future__ import annotations

import getpass
import unicodedata

MAX_ANALYST_CHARS = 64  # a name, not a note: it is written into every audit-log entry


def check_analyst_name(text: str) -> str:
    """`text` as a signature, spaces trimmed and runs of them made one; ValueError saying why
    when it is empty or blank, too long, or holds control characters."""
    name = " ".join(str(text).split())
    if not name:
        raise ValueError("Enter a name: decisions and changes are signed with it.")
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in name):
        raise ValueError("A name cannot hold control characters.")
    if len(name) > MAX_ANALYST_CHARS:
        raise ValueError(f"A name is at most {MAX_ANALYST_CHARS} characters long.")
    return name


def login_name() -> str:
    """The operating-system account name: what signs reviews while no analyst name is set."""
    try:
        return getpass.getuser() or "analyst"
    except Exception:  # no login name (containers, some services)
        return "analyst"
