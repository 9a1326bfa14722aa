"""Typed configs: defaults from dataclasses, changes from YAML and key=value, typos refused."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from engine.config import ConfigError, from_dict, load_config, parse_override, to_dict


@dataclass(frozen=True)
class Inner:
    rate: float = 0.1
    sizes: tuple[int, ...] = (1, 2)
    pair: tuple[float, float] = (0.5, 1.5)
    name: str | None = None


@dataclass(frozen=True)
class Outer:
    inner: Inner = field(default_factory=Inner)
    steps: int = 10
    flag: bool = False


def test_defaults_without_file_or_overrides():
    assert load_config(Outer) == Outer()


def test_yaml_holds_only_differences_and_overrides_come_last(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("steps: 20\ninner:\n  rate: 1\n  sizes: [3, 4, 5]\n")
    config = load_config(Outer, path, ["inner.rate=0.25", "flag=true", "inner.name=demo"])
    assert config == Outer(Inner(0.25, (3, 4, 5), (0.5, 1.5), "demo"), 20, True)
    assert isinstance(config.inner.rate, float) and isinstance(config.inner.sizes, tuple)


def test_to_dict_round_trips_through_from_dict():
    config = Outer(Inner(2.0, (7,), (1.0, 2.0), "x"), 3, True)
    assert from_dict(Outer, to_dict(config)) == config
    assert to_dict(config)["inner"]["sizes"] == [7]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["inner.speed=3"], r"unknown key\(s\) \['speed'\]; known: \['name', 'pair'"),
        (["steps=many"], "config.steps: expected int"),
        (["inner.pair=[1, 2, 3]"], "expected 2 values"),
        (["inner=5"], "expected a mapping"),
        (["steps"], "not key=value"),
        (["inner.sizes=7"], "expected a list"),
    ],
)
def test_bad_overrides_are_refused_with_the_reason(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(Outer, None, overrides)


def test_bad_files_are_refused_with_the_file_name(tmp_path):
    missing = tmp_path / "none.yaml"
    with pytest.raises(ConfigError, match=r"none\.yaml: cannot read config"):
        load_config(Outer, missing)
    broken = tmp_path / "broken.yaml"
    broken.write_text("steps: [1,\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml: not valid YAML"):
        load_config(Outer, broken)
    listing = tmp_path / "list.yaml"
    listing.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_config(Outer, listing)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert load_config(Outer, empty) == Outer()


def test_override_values_are_yaml_never_code():
    assert parse_override("a.b=[1, 2]") == {"a": {"b": [1, 2]}}
    assert parse_override("a=__import__('os')") == {"a": "__import__('os')"}


def test_a_nested_config_keeps_its_fields_own_defaults_where_a_file_changes_some():
    """SynthConfig's console smooths its darks where a bare ColourStyle does not: changing
    one colour key must not drop the others back to ColourStyle's class defaults."""
    from engine.synth.dataset import SynthConfig

    default = SynthConfig().colour
    assert default.smooth_dark > 0
    changed = load_config(SynthConfig, None, ["colour.floor=0.2"]).colour
    assert changed.floor == 0.2 and changed.smooth_dark == default.smooth_dark
    assert load_config(SynthConfig, None, ["colour.smooth_dark=0"]).colour.smooth_dark == 0.0
