"""One registry for both stages: names, hints for a mistyped one, defaults kept for None."""

from __future__ import annotations

import pytest
from torch import nn

from engine.classification.models import CLASSIFIERS, list_classifiers
from engine.detection.models import DETECTORS, list_detectors
from engine.registry import Registry


def test_a_registry_builds_by_name_and_keeps_builder_defaults_for_none():
    models = Registry("toy", 2)

    @models.register("linear")
    def linear(num_classes: int, width: int = 8) -> nn.Module:
        return nn.Linear(width, num_classes)

    assert models.names() == ["linear"] and "linear" in models
    assert models.build("linear", 3, width=None).in_features == 8  # None: the builder's own
    again = models.build_from_architecture({"name": "linear", "num_classes": 4, "width": 5})
    assert (again.in_features, again.out_features) == (5, 4)
    with pytest.raises(KeyError, match="did you mean linear"):
        models.build("linaer", 3)
    with pytest.raises(ValueError, match="at least 2"):
        models.build("linear", 1)
    with pytest.raises(ValueError, match="registered already"):
        models.register("linear")(linear)


def test_both_stages_list_their_models_through_one_kind_of_registry():
    assert isinstance(DETECTORS, Registry) and isinstance(CLASSIFIERS, Registry)
    assert list_detectors() == DETECTORS.names() and "maskrcnn_resnet50_fpn" in DETECTORS
    assert list_classifiers() == CLASSIFIERS.names() and "mobilenet_v3_map" in CLASSIFIERS
    with pytest.raises(ValueError, match="counts the background"):
        DETECTORS.build("maskrcnn_resnet18_fpn", 1)
