"""The Qt-free review model: model findings and analyst decisions, exports and statistics.

The GUI observes a `ReviewStore`, and the `ReviewSession` around it (the scan on screen, its
selection, the open projects), the way napari's widgets observe its layer model; nothing here
imports Qt, so the same store and session serve scripts and tests.
"""

from xray_gui.review.export import export_coco, export_voc, export_yolo
from xray_gui.review.project import STATUSES
from xray_gui.review.session import ReviewSession
from xray_gui.review.stats import ReviewStats, review_stats, write_stats_csv
from xray_gui.review.store import (
    DECISIONS,
    PROJECT_NAME,
    ReviewError,
    ReviewLockLostError,
    ReviewObject,
    ReviewReadOnlyError,
    ReviewSaveError,
    ReviewStore,
)

__all__ = [
    "DECISIONS",
    "PROJECT_NAME",
    "STATUSES",
    "ReviewError",
    "ReviewLockLostError",
    "ReviewObject",
    "ReviewReadOnlyError",
    "ReviewSaveError",
    "ReviewSession",
    "ReviewStats",
    "ReviewStore",
    "export_coco",
    "export_voc",
    "export_yolo",
    "review_stats",
    "write_stats_csv",
]
