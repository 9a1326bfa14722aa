"""Stage 2 of the dual CNN: is this object anomalous? (Qt-free)."""
