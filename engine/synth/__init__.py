"""The dual-energy X-ray simulator: scanner physics, materials, packed bags with the paper's six
object classes and their anomalies, projection into real scans, and COCO datasets on disk."""
