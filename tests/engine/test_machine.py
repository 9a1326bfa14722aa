"""`engine.machine`: the CPU's name that benchmark reports print."""

from __future__ import annotations

import builtins
import os

from engine import machine


def test_the_cpu_is_named_from_cpuinfo_and_the_cores_counted() -> None:
    name = machine.cpu_name()
    assert name and "\n" not in name and not name.startswith(":")
    assert machine.cpu_summary() == f"{name}, {os.cpu_count()} cores"


def test_without_cpuinfo_the_platform_names_it(monkeypatch) -> None:
    real_open = builtins.open

    def no_cpuinfo(path, *args, **kwargs):
        if str(path) == "/proc/cpuinfo":
            raise FileNotFoundError(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", no_cpuinfo)
    monkeypatch.setattr(machine.platform, "processor", lambda: "")
    monkeypatch.setattr(machine.platform, "machine", lambda: "x86_64")
    assert machine.cpu_name() == "x86_64"
