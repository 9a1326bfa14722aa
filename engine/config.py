"""Typed configs: dataclasses hold the defaults, YAML files and `key=value` overrides the changes.

`load_config(SynthConfig, "configs/synth/small.yaml", ["bag.max_objects=2"])` starts from the
dataclass defaults, applies the file, then the overrides (values parsed with a safe YAML loader,
never `eval`). Unknown keys are errors that list the known ones, so a typo never passes silently.

Everything is checked when the config is read, before a run folder exists: types (a bool is not
an int), the choices and ranges of the engine's own fields (`FIELD_RULES`: `solver.amp`, a model
name from its registry, a batch of at least 1), and the YAML itself: a regular file of at most
MAX_CONFIG_BYTES of UTF-8, no duplicate keys, no anchors or aliases (alias bombs), at most
MAX_DEPTH levels of nesting and MAX_NODES values. Messages name the file and the key, and show
values cut short.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml

from engine.errors import EngineError
from engine.io.files import FileCheckError, one_line, quote_path, read_regular_file

T = TypeVar("T")

MAX_CONFIG_BYTES = 64 << 10  # our configs are a few hundred bytes; pure-Python YAML is slow
MAX_DEPTH = 16  # levels of nesting in a YAML document (the configs use 2)
MAX_NODES = 5_000  # values in one document (the largest config has ~60): parsing stays < 1 s


class ConfigError(EngineError, ValueError):
    """A config file or override is unreadable, names an unknown key, or has a bad value."""


def _shown(value: Any) -> str:
    """A value as a message shows it: its repr on one line, cut to 60 characters."""
    try:
        text = repr(value)
    except RecursionError:
        return "a deeply nested value"
    return one_line(text, 60)


# ----- YAML ------------------------------------------------------------------------------------
class _ConfigLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses what a config never needs: anchors and aliases (a 388-byte
    alias bomb grows to gigabytes), duplicate keys (the second would silently win) and nesting
    deeper than MAX_DEPTH (Python's recursion limit) or more than MAX_NODES values."""

    _depth = 0
    _nodes = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases (&name, *name) are not allowed", event.start_mark
            )
        if self._depth >= MAX_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"nested more than {MAX_DEPTH} levels deep", event.start_mark
            )
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise yaml.composer.ComposerError(
                None, None, f"more than {MAX_NODES} values", event.start_mark
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key: let PyYAML say so
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"duplicate key {_shown(key)}",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep)


def yaml_problem(exc: yaml.YAMLError) -> str:
    """A YAML error in one short line: 'duplicate key 'epochs' (line 3, column 3)'."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
        mark = exc.problem_mark
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        return one_line(exc.problem, 200) + at
    return one_line(exc, 200)


def parse_yaml(text: str) -> Any:
    """`text` as YAML with the config loader's limits; yaml.YAMLError when it breaks them."""
    return yaml.load(text, Loader=_ConfigLoader)


# ----- value rules ----------------------------------------------------------------------------
Rule = Callable[[Any], str | None]  # None when the value is fine, else what was expected


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _at_least(low: float, what: str = "a number") -> Rule:
    return lambda v: None if _number(v) and v >= low else f"{what} of at least {low:g}"


def _above(low: float) -> Rule:
    return lambda v: None if _number(v) and v > low else f"a number above {low:g}"


def _between(low: float, high: float, *, open_high: bool = False) -> Rule:
    end = ")" if open_high else "]"

    def rule(v: Any) -> str | None:
        ok = _number(v) and low <= v and (v < high if open_high else v <= high)
        return None if ok else f"a number in [{low:g}, {high:g}{end}"

    return rule


def _each(rule: Rule) -> Rule:
    def check(values: Any) -> str | None:
        for v in values:
            problem = rule(v)
            if problem:
                return f"a list in which each value is {problem}"
        return None

    return check


def _low_high(rule: Rule) -> Rule:
    """A (low, high) range whose values each pass `rule`."""
    each = _each(rule)

    def check(values: Any) -> str | None:
        problem = each(values)
        if problem or values[0] <= values[1]:
            return problem
        return "a range (low, high) with low ≤ high"

    return check


def _not_empty(values: Any) -> str | None:
    return None if len(values) else "at least one value"


def _one_of(choices: Iterable[str]) -> Rule:
    choices = tuple(choices)
    return lambda v: None if v in choices else f"one of {', '.join(choices)}"


def _from(module: str, name: str) -> Rule:
    """One of the names `module.name` holds (a tuple, or a function listing a registry),
    imported only when the field is given."""

    def rule(v: Any) -> str | None:
        found = getattr(importlib.import_module(module), name)
        choices = found() if callable(found) else found
        return None if v in choices else f"one of {', '.join(choices)}"

    return rule


def _materials(values: Any) -> str | None:
    """One or more of `engine.synth.materials.MATERIALS`, one of which a bag draws."""
    return _not_empty(values) or _each(_from("engine.synth.materials", "MATERIALS"))(values)


_DEVICE = re.compile(r"(auto|cpu|mps|cuda(:\d+)?)")


def _clutter_mix(pairs: Any) -> str | None:
    """(kind, frequency) pairs of `engine.synth.clutter.CLUTTER`'s kinds, frequencies ≥ 0."""
    from engine.synth.clutter import CLUTTER

    for kind, frequency in pairs:
        if kind not in CLUTTER or kind == "garment":
            return f"a clutter kind, one of {sorted(set(CLUTTER) - {'garment'})}, not {kind!r}"
        if not _number(frequency) or frequency < 0:
            return f"a frequency of at least 0 for {kind}, not {_shown(frequency)}"
    return None


def _device(v: Any) -> str | None:
    return None if _DEVICE.fullmatch(v) else "auto, cpu, cuda or cuda:N"


_WHOLE = "a whole number"
_SOLVER: dict[str, Rule] = {
    "batch_size": _at_least(1, _WHOLE),
    "epochs": _at_least(1, _WHOLE),
    "max_iters": _at_least(1, _WHOLE),
    "max_minutes": _above(0),
    "warmup_iters": _at_least(0, _WHOLE),
    "lr_per_16": _above(0),
    "lr": _above(0),
    "momentum": _between(0, 1, open_high=True),
    "weight_decay": _at_least(0),
    "warmup_factor": _between(0, 1),
    "lr_steps": _each(_between(0, 1)),
    "gamma": _above(0),
    "clip_grad_norm": _above(0),
    "amp": _from("engine.runtime", "AMP_MODES"),
}
_RUN: dict[str, Rule] = {
    "seed": _at_least(0, _WHOLE),
    "device": _device,
    "eval_every": _at_least(1, _WHOLE),
    "checkpoint_every": _at_least(1, _WHOLE),
}

# What the type alone does not say about the engine's training configs: "<module>.<class>" ->
# {field: rule}. Checked on the values a file or an override gives (defaults are valid).
FIELD_RULES: dict[str, dict[str, Rule]] = {
    "engine.detection.config.DataConfig": {
        "categories": _not_empty,
        "min_sizes": _each(_at_least(1, _WHOLE)),
        "max_size": _at_least(1, _WHOLE),
        "hflip": _between(0, 1),
        "num_workers": _at_least(0, _WHOLE),
        "val_max_images": _at_least(1, _WHOLE),
    },
    "engine.detection.config.ModelConfig": {
        "name": _from("engine.detection.models", "list_detectors"),
        "norm": _from("engine.detection.models", "NORMS"),
        "trainable_backbone_layers": _between(0, 5),
        "min_size": _at_least(1, _WHOLE),
        "max_size": _at_least(1, _WHOLE),
        "rpn_batch_size_per_image": _at_least(1, _WHOLE),
        "box_batch_size_per_image": _at_least(1, _WHOLE),
        "box_detections_per_img": _at_least(1, _WHOLE),
    },
    "engine.detection.config.SolverConfig": _SOLVER,
    "engine.detection.config.RunConfig": _RUN,
    "engine.classification.config.CropConfig": {
        "size": _at_least(0, _WHOLE),
        "margin": _at_least(0),
        "mode": _one_of(("rgb", "dual")),
    },
    "engine.classification.config.ClassifierDataConfig": {
        "categories": _not_empty,
        "num_workers": _at_least(0, _WHOLE),
    },
    "engine.classification.config.ClassifierModelConfig": {
        "name": _from("engine.classification.models", "list_classifiers"),
        "input_size": _at_least(1, _WHOLE),
        "k": _at_least(1, _WHOLE),
    },
    "engine.classification.config.ClassifierSolverConfig": _SOLVER,
    "engine.synth.bag.BagConfig": {
        "cables": _at_least(0),
        "spread": _at_least(1, _WHOLE),
        "host_spread": _at_least(1, _WHOLE),
        "shell_corners": _each(_above(0)),
        "fan_lean": _each(_at_least(0)),
        "fringe": _each(_at_least(0)),
        "clutter_mix": _clutter_mix,
        "turned_share": _between(0, 1),
        "lengthwise_share": _between(0, 1),
        "wall_creases": _low_high(_between(0, 20)),
        "side_fittings": _between(0, 1),
        "trinket_rings": _between(0, 1),  # the share of strewn rings kept
        "piping_wires": _low_high(_between(0.01, 1)),  # cm: a piping wire's radius
        "rolled_clothes": _between(0, 1),
        "soft_cloth": _between(0, 1.5),  # the blur stays within a garment's 2-cm margin
        # cm of solid cloth: 5 is 7.7 g/cm², and a bag's `fullness` (up to 2) scales it
        "packed_fill": _low_high(_between(0, 5)),
        "fullness": _low_high(_between(0.1, 2)),  # a bag's packing: 2 is twice v2.68's most
        "cloth_creases": _between(0, 3),  # from 1.33 a crease line reaches the floor of 0.2
        "corner_points": _at_least(2, _WHOLE),
        "handle_tubes": _low_high(_between(0.5, 10)),
        "tube_walls": _between(0.1, 10),  # 10: 12 mm aluminium walls, a solid bar of a 2.4 cm tube
        "streak_wander": _between(0, 2),  # cm across their edge
        "streak_length": _between(0.2, 20),  # cm along it
        "tube_metals": lambda v: (
            _not_empty(v) or _each(_from("engine.synth.shell", "TUBE_METALS"))(v)
        ),
        "side_ribs": _low_high(_between(0, 30)),
        "trolley_share": _between(0, 1),
        "carton_share": _between(0, 1),
        "aligned_hosts": _between(0, 1),  # objects of interest squared to the bag
        "pair_share": _between(0, 1),  # scans of two bags side by side
        "cloth_weave": _between(0, 0.5),  # σ of cloth's thickness at its weave's scale (above,
        # clipped at no cloth, it is no longer a σ)
        "rail_spacing": _between(0.2, 0.8),  # the handle tubes' centres, a share of the width
        "rail_walls": _low_high(_between(0.1, 2)),  # a share of `tube_walls`, drawn per trolley
        "plastic_buckles": _between(0, 1),  # the chance a bag's face buckles are nylon
        "fill": _low_high(_above(0)),
        "overrun": _between(0, 0.25),  # a share of the frame's width off each edge
        "bag_kinds": lambda v: _not_empty(v) or _each(_from("engine.synth.bag", "BAG_KINDS"))(v),
        "frame_plates": _materials,
        "hard_shells": _materials,
        "spinner_tyres": _from("engine.synth.materials", "MATERIALS"),
    },
    "engine.synth.scanner.ScannerConfig": {
        "line_dips": _between(0, 1),  # the chance that a scan holds a band of dimmed lines
    },
    "engine.colour.ColourStyle": {
        # a T_high from which air shows white: 0 off; below 0.5, half the beam is stopped and
        # content, not air, would turn white
        "air_white": lambda v: None if v == 0 else _between(0.5, 1)(v),
        "thin_organic": _between(0, 1),  # 1: thin mixtures of Zeff 8-9.5 painted as 8
        "metal_gamma": _between(0.2, 2),  # a factor on `gamma`
        "metal_slope": _between(0, 1),  # brightness a unit of attenuation; 0: off
        "metal_white": _between(0, 5),  # the attenuation at which metal shows white
        "metal_floor": _between(0, 1),  # the darkest metal's linear curve paints
        "gamma": _above(0),
        "gain": _above(0),
        "floor": _between(0, 1, open_high=True),
        "sharpen": _at_least(0),
        "sharpen_range": _each(_at_least(0)),
        "halo_floor": _between(0, 1),
        "halo_keep": _between(0, 1),  # the share of sharpening's bright rim kept
        "opaque_value": _between(0, 0.5),  # the grey where nothing gets through; 0: black
        "organic_hue_slope": _between(-100, 100),  # degrees per unit of brightness
        "organic_hue_pivot": _between(0, 1),  # the brightness it turns about
        "metal_hue_slope": _between(-100, 100),  # degrees per unit of brightness
        "metal_dull": _between(0, 10),  # saturation's share lost per unit of brightness
        "smooth_dark": _at_least(0),
        "zeff_denoise": _at_least(0),
        "dense_zeff_denoise": _between(0, 20),
        "local_contrast": _between(0, 3),
        "hue_shift_sd": _between(0, 30),  # degrees: `jittered`'s hue shift of every anchor
        "hue_anchor_sd": _between(0, 30),  # and of each anchor on top
        "saturation_shift": _between(0, 1),  # σ of the log of a factor on organic saturation
    },
    "engine.classification.config.ClassifierRunConfig": {
        **_RUN,
        "target_fpr": _between(0, 1, open_high=True),
    },
}


def _convert(value: Any, hint: Any, where: str) -> Any:
    """`value` (from YAML) as the annotated type: nested dataclasses, tuples, floats."""
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {_shown(value)}")
        return from_dict(hint, value, where)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _convert(value, args[0], where) if len(args) == 1 else value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {_shown(value)}")
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))
        if len(args) != len(value):
            raise ConfigError(f"{where}: expected {len(args)} values, got {len(value)}")
        pairs = enumerate(zip(value, args, strict=True))
        return tuple(_convert(v, a, f"{where}[{i}]") for i, (v, a) in pairs)
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if hint in (int, float, str, bool) and (
        not isinstance(value, hint) or (hint is int and isinstance(value, bool))
    ):
        raise ConfigError(f"{where}: expected {hint.__name__}, got {_shown(value)}")
    return value


def from_dict(cls: type[T], data: Mapping[str, Any], where: str = "config") -> T:
    """An instance of dataclass `cls` from a mapping that may hold only some of its fields."""
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls) if f.init}
    odd = [k for k in data if not isinstance(k, str)]
    if odd:
        raise ConfigError(f"{where}: keys must be names, got {_shown(odd[0])}")
    unknown = sorted(set(data) - fields)
    if unknown:
        shown = ", ".join(_shown(k) for k in unknown[:5]) + (", …" if len(unknown) > 5 else "")
        raise ConfigError(f"{where}: unknown key(s) [{shown}]; known: {sorted(fields)}")
    rules = FIELD_RULES.get(f"{cls.__module__}.{cls.__qualname__}", {})
    factories = {
        f.name: f.default_factory
        for f in dataclasses.fields(cls)
        if f.default_factory is not dataclasses.MISSING
    }
    values = {}
    for key, value in data.items():
        if isinstance(value, Mapping) and dataclasses.is_dataclass(hints[key]) and key in factories:
            # a nested config's own defaults are its field's (SynthConfig.colour smooths its
            # darks where a bare ColourStyle does not), changed by what `data` gives
            value = merge_config(to_dict(factories[key]()), value)
        values[key] = _convert(value, hints[key], f"{where}.{key}")
        rule = rules.get(key)
        problem = rule(values[key]) if rule is not None and values[key] is not None else None
        if problem:
            raise ConfigError(f"{where}.{key}: expected {problem}, got {_shown(value)}")
    return cls(**values)


def to_dict(config: Any) -> dict:
    """A plain mapping of a config (tuples as lists), ready for YAML or JSON."""
    return _plain(dataclasses.asdict(config))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def merge_config(base: dict, changes: Mapping) -> dict:
    """`base` with `changes` laid over it, nested mappings merged key by key."""
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge_config(out[key], value)
        else:
            out[key] = value
    return out


def parse_override(text: str) -> dict:
    """`"bag.max_objects=2"` as the nested mapping {"bag": {"max_objects": 2}}."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override {_shown(text)} is not key=value")
    parts = key.strip().split(".")
    if len(parts) > MAX_DEPTH:
        raise ConfigError(f"override {_shown(key)}: more than {MAX_DEPTH} dotted parts")
    try:
        value = parse_yaml(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        raise ConfigError(f"override {_shown(text)}: {yaml_problem(exc)}") from None
    out: dict = {}
    node = out
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return out


def load_config(cls: type[T], path: str | Path | None = None, overrides: Iterable[str] = ()) -> T:
    """Defaults of `cls`, changed by the YAML file at `path` and then by `key=value` overrides."""
    data: dict = {}
    if path is not None:
        path = Path(path)
        data = read_config_file(path)
    for text in overrides:
        data = merge_config(data, parse_override(text))
    return from_dict(cls, data, quote_path(path) if path else "config")


def read_config_file(path: str | Path) -> dict:
    """The mapping a YAML config file holds; ConfigError naming the file for anything else
    (not a regular file, over MAX_CONFIG_BYTES, not UTF-8, not YAML, beyond the loader's limits)."""
    where = quote_path(path)
    try:
        raw = read_regular_file(path, max_bytes=MAX_CONFIG_BYTES, folder="a folder, not a file")
    except FileCheckError as exc:
        if exc.problem == "file is empty (0 bytes)":
            return {}  # an empty config changes nothing
        raise ConfigError(f"{where}: cannot read config ({exc.problem})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        byte = raw[exc.start : exc.start + 1].hex()
        raise ConfigError(
            f"{where}: not UTF-8 text (byte 0x{byte} at position {exc.start})"
        ) from None
    try:
        loaded = parse_yaml(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML ({yaml_problem(exc)})") from None
    except RecursionError:
        raise ConfigError(f"{where}: not valid YAML (nested too deeply)") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, Mapping):
        raise ConfigError(f"{where}: a config file must be a mapping of keys to values")
    return dict(loaded)
