"""Stage 1 of the dual CNN: find and segment the six object classes (Qt-free)."""

from engine.detection.models import build_detector, detector_family, list_detectors

__all__ = ["build_detector", "detector_family", "list_detectors"]
