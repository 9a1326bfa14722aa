"""The anomaly-map classifier (`mobilenet_v3_map`): taught where the anomaly is, cell by cell.

`model.py` holds the network, its pooled crop score and its map-and-label training loss.
"""

from engine.classification.anomaly_map.model import UNKNOWN, AnomalyMapClassifier

__all__ = ["UNKNOWN", "AnomalyMapClassifier"]
