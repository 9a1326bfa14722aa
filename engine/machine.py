"""What machine this is, for the figures benchmarks print: the CPU's name and its cores.

Kept free of torch and Qt, so a benchmark that times its own start-up pays nothing for it.
"""

from __future__ import annotations

import os
import platform


def cpu_name() -> str:
    """The CPU's model name (Linux's /proc/cpuinfo), else what `platform` knows."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def cpu_summary() -> str:
    """'<CPU name>, <N> cores'."""
    return f"{cpu_name()}, {os.cpu_count()} cores"
