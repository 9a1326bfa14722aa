"""DFL-CNN (Wang et al., CVPR 2018): the VGG-16 network with a discriminative filter bank.

`torch_model.py` holds the pure network and its three-stream loss, `init.py` the filter bank's
k-means initialisation from high-energy patches of each class.
"""

from engine.classification.dfl.init import init_filter_bank
from engine.classification.dfl.torch_model import DFLVGG16

__all__ = ["DFLVGG16", "init_filter_bank"]
