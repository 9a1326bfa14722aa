"""Reading bag scans from every format an analyst brings."""

from engine.io.load import (
    DEFAULT_MAX_SIDE,
    DUAL_CHANNEL_WIDTH,
    companion_files,
    list_scans,
    load_scan,
    to_display,
    to_transmission,
)
from engine.io.scan import Scan, ScanLoadError, ScanMeta

__all__ = [
    "DEFAULT_MAX_SIDE",
    "DUAL_CHANNEL_WIDTH",
    "Scan",
    "ScanLoadError",
    "ScanMeta",
    "companion_files",
    "list_scans",
    "load_scan",
    "to_display",
    "to_transmission",
]
