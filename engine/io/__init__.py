"""Reading bag scans from every format an analyst brings."""

from engine.io.files import quote_path
from engine.io.load import (
    DEFAULT_MAX_SIDE,
    DUAL_CHANNEL_WIDTH,
    check_scan_file,
    companion_files,
    list_scans,
    load_scan,
    to_display,
    to_transmission,
)
from engine.io.readers import DEFAULT_MAX_PIXELS
from engine.io.scan import Scan, ScanLoadError, ScanMeta

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MAX_SIDE",
    "DUAL_CHANNEL_WIDTH",
    "Scan",
    "ScanLoadError",
    "ScanMeta",
    "check_scan_file",
    "companion_files",
    "list_scans",
    "load_scan",
    "quote_path",
    "to_display",
    "to_transmission",
]
