"""Qt-free evaluation: COCO mAP for detection and segmentation, computed by pycocotools."""

from engine.evaluation.coco import (
    IOU_TYPES,
    METRICS,
    detections_to_coco,
    evaluate_coco,
    format_metrics,
    fully_segmented,
    ground_truth_as_detections,
)

__all__ = [
    "IOU_TYPES",
    "METRICS",
    "detections_to_coco",
    "evaluate_coco",
    "format_metrics",
    "fully_segmented",
    "ground_truth_as_detections",
]
