"""How unsure the model is about a bag, so the review queue can put the least certain first.

Review → Order queue by uncertainty sorts screened bags by `bag_uncertainty`: a finding whose
detection score sits near the detection threshold, or whose anomaly score sits near the anomaly
threshold, is where the analyst's decision moves the model most when `improve` learns from it
(uncertainty sampling, the plainest active-learning rule). A bag is as uncertain as its least
certain finding; a bag with no finding at all counts as certain (0), and an unscreened bag has
no figure (None) and keeps its place after the screened ones.
"""

from __future__ import annotations

from engine.results import BagResult, Finding


def margin(value: float, threshold: float) -> float:
    """How far `value` lies from `threshold`, as a share (0–1) of the room on its side of it."""
    room = threshold if value < threshold else 1.0 - threshold
    if room <= 0:
        return 1.0
    return min(1.0, abs(value - threshold) / room)


def finding_uncertainty(
    finding: Finding, score_threshold: float, anomaly_threshold: float
) -> float:
    """1 at a threshold, 0 far from both. The anomaly score counts in full for a finding shown at
    `score_threshold` and, for one under it, only as much as the finding is near to being shown."""
    detection = 1.0 - margin(finding.score, score_threshold)
    if finding.anomaly_score is None:
        return detection
    anomaly = 1.0 - margin(finding.anomaly_score, anomaly_threshold)
    if finding.score < score_threshold:
        anomaly *= detection
    return max(detection, anomaly)


def bag_uncertainty(
    result: BagResult | None, score_threshold: float, anomaly_threshold: float
) -> float | None:
    """The least certain finding's `finding_uncertainty`; 0 with none, None unscreened."""
    if result is None:
        return None
    return max(
        (finding_uncertainty(f, score_threshold, anomaly_threshold) for f in result.findings),
        default=0.0,
    )
