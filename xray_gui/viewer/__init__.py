"""The scan viewer: a pyqtgraph ViewBox showing one image with zoom, pan and pixel read-out,
and the findings overlay drawn on it."""

from xray_gui.viewer.overlay import FindingsOverlay, describe
from xray_gui.viewer.scan_view import ScanView

__all__ = ["FindingsOverlay", "ScanView", "describe"]
