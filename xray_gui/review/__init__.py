"""The Qt-free review model: model findings and analyst decisions, exports and statistics.

The GUI observes a `ReviewStore` the way napari's widgets observe its layer model; nothing here
imports Qt, so the same store serves scripts and tests.
"""

from xray_gui.review.export import export_coco, export_voc, export_yolo
from xray_gui.review.project import STATUSES
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
    "ReviewStats",
    "ReviewStore",
    "export_coco",
    "export_voc",
    "export_yolo",
    "review_stats",
    "write_stats_csv",
]
