"""PatchCore (Roth et al., CVPR 2022): a benign-only scorer on the detector's FPN features.

`model.py` holds the memory bank, its greedy k-centre coreset and the scoring; it is fitted, not
trained by gradient steps (`engine.classification.train` calls its `fit`).
"""

from engine.classification.patchcore.model import PatchCore, greedy_coreset

__all__ = ["PatchCore", "greedy_coreset"]
