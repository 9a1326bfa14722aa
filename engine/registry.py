"""One kind of registry for the models of both stages, in the manner of torchvision's get_model.

`DETECTORS` and `CLASSIFIERS` are `Registry`s: a builder is added with `@REGISTRY.register(name)`,
`names()` lists them and `build(name, num_classes, **kwargs)` makes one; `build_from_architecture`
remakes a model from what a checkpoint recorded of it. Keywords that are None are dropped, so a
config's or the CLI's unset default never overrides a builder's own (timm's trick).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from torch import nn

from engine.errors import UnknownModelError

Builder = Callable[..., nn.Module]


class Registry:
    """Named model builders of one kind ("detector", "classifier")."""

    def __init__(self, kind: str, min_classes: int, classes_note: str = "") -> None:
        self.kind = kind
        self.min_classes = min_classes
        self.classes_note = classes_note  # why at least `min_classes`, for the error
        self._builders: dict[str, Builder] = {}

    def register(self, name: str) -> Callable[[Builder], Builder]:
        """Decorator adding a builder under `name`; a name is registered once."""

        def wrap(builder: Builder) -> Builder:
            if name in self._builders:
                raise ValueError(f"{self.kind} {name!r} is registered already")
            self._builders[name] = builder
            return builder

        return wrap

    def names(self) -> list[str]:
        """The names `build` accepts, sorted."""
        return sorted(self._builders)

    def __contains__(self, name: object) -> bool:
        return name in self._builders

    def check(self, name: str) -> None:
        """UnknownModelError (a KeyError) naming the closest names when `name` is not one."""
        if name not in self._builders:
            close = difflib.get_close_matches(name, list(self._builders), n=3, cutoff=0.4)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            known = ", ".join(self.names())
            raise UnknownModelError(f"unknown {self.kind} {name!r}{hint} Known: {known}")

    def build(self, name: str, num_classes: int, **kwargs: Any) -> nn.Module:
        """A model by registered name, with its builder's defaults for keywords given as None."""
        self.check(name)
        if num_classes < self.min_classes:
            raise ValueError(
                f"num_classes {self.classes_note}must be at least {self.min_classes}, "
                f"got {num_classes}"
            )
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        return self._builders[name](num_classes=num_classes, **kwargs)

    def build_from_architecture(self, arch: dict, **extra: Any) -> nn.Module:
        """A model of the shape a checkpoint's `architecture` recorded (weights not loaded)."""
        kwargs = {k: v for k, v in arch.items() if k not in ("name", "num_classes")}
        return self.build(arch["name"], arch["num_classes"], **kwargs, **extra)
