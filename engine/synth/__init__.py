"""The dual-energy X-ray simulator: scanner physics now, bags and objects next (issue 3)."""
