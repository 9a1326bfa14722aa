"""The scan viewer: a pyqtgraph ViewBox showing one image with zoom, pan and pixel read-out."""

from xray_gui.viewer.scan_view import ScanView

__all__ = ["ScanView"]
