"""Frozen config dataclasses to and from plain data, generically over nesting.

- ``apply_overrides(config, {"propagation": {"fill_in": True}, "working_size": 320})``:
  dicts merge into nested frozen dataclasses (a new config; nothing is mutated);
- ``parse_assignment("propagation.fill_in=true", config)``: a command-line assignment as
  such a dict, the value parsed by the field's declared type;
- ``config_to_dict`` / ``config_from_dict``: JSON-able data and back (``save_pretrained``);
- ``load_toml(path)``: a TOML file of overrides (``--config``).

Everything is driven by the dataclasses' own fields and type hints (bool, int, float,
str, paths, ``X | None``, tuples and nested dataclasses), so a sub-config added later
works without changes here. Mistakes raise ``InputError`` naming the valid keys or the
expected type.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from pathlib import Path
from typing import Any, Mapping

from .errors import InputError

__all__ = ["apply_overrides", "parse_assignment", "merge_dicts", "config_to_dict", "config_from_dict", "load_toml"]

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")
_NONE = ("none", "null")


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _field_names(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def _unknown(key: str, cls: type, where: str) -> InputError:
    return InputError(f"expected a setting of {where or cls.__name__}, one of {_field_names(cls)}; got {key!r}")


def _optional_inner(tp: Any) -> Any | None:
    """X for ``X | None`` / ``Optional[X]``, else None."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return args[0]
    return None


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """``value`` (a Python value, or a string from the command line) as type ``tp``."""
    inner = _optional_inner(tp)
    if inner is not None:
        if value is None or (isinstance(value, str) and value.strip().lower() in _NONE):
            return None
        return _coerce(value, inner, where)
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if isinstance(value, Mapping):
            return _merge(tp(), value, where)
        raise InputError(f"expected {where} as a table of settings {_field_names(tp)}, got {value!r}")
    origin = typing.get_origin(tp)
    if origin is tuple:
        args = typing.get_args(tp)
        if isinstance(value, str):
            value = [v for v in value.strip().strip("()[]").split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise InputError(f"expected {where} as a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            kinds = [args[0]] * len(value)
        elif len(args) != len(value):
            raise InputError(f"expected {where} as {len(args)} values, got {len(value)}: {value!r}")
        else:
            kinds = list(args)
        return tuple(_coerce(v, k, f"{where}[{i}]") for i, (v, k) in enumerate(zip(value, kinds)))
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        raise InputError(f"expected {where} as true or false, got {value!r}")
    if tp in (int, float):
        return _number(value, tp, where)
    if tp is str:
        if isinstance(value, os.PathLike):
            return os.fspath(value)
        if isinstance(value, str):
            return value
        raise InputError(f"expected {where} as a string, got {value!r}")
    if tp is Path:
        if isinstance(value, (str, os.PathLike)):
            return Path(value)
        raise InputError(f"expected {where} as a path, got {value!r}")
    return value  # a type this module does not know: taken as given


def _number(value: Any, tp: type, where: str) -> int | float:
    """An int (or, for a float field, an int or float) as is, or parsed from a string."""
    accepted = (int,) if tp is int else (int, float)
    if isinstance(value, accepted) and not isinstance(value, bool):
        return tp(value)
    if isinstance(value, str):
        try:
            return tp(value.strip())
        except ValueError:
            pass
    raise InputError(f"expected {where} as {'an integer' if tp is int else 'a number'}, got {value!r}")


def _merge(config: Any, overrides: Mapping[str, Any], where: str) -> Any:
    cls = type(config)
    hints = _hints(cls)
    names = _field_names(cls)
    changes = {}
    for key, value in overrides.items():
        if key not in names:
            raise _unknown(key, cls, where)
        path = f"{where}.{key}" if where else key
        tp = hints[key]
        current = getattr(config, key)
        if dataclasses.is_dataclass(current) and isinstance(value, Mapping):
            changes[key] = _merge(current, value, path)
        else:
            changes[key] = _coerce(value, tp, path)
    try:
        return dataclasses.replace(config, **changes)
    except InputError:
        raise
    except (TypeError, ValueError) as e:
        raise InputError(f"expected valid settings for {where or cls.__name__}, got {dict(overrides)!r} ({e})") from e


def apply_overrides(config: Any, overrides: Mapping[str, Any]) -> Any:
    """A copy of the frozen dataclass ``config`` with ``overrides`` applied.

    Keys are field names; a dict for a nested dataclass field is merged into it (other
    fields keep their values), anything else replaces the field after conversion to the
    field's type. An unknown key raises ``InputError`` listing the valid ones.

    >>> from exemplar_vc.config import ColorizerConfig
    >>> cfg = apply_overrides(ColorizerConfig(), {"propagation": {"fill_in": True}, "working_size": 320})
    >>> cfg.propagation.fill_in, cfg.working_size, cfg.propagation.fill_in_low
    (True, 320, 0.3)
    """
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise TypeError(f"expected a dataclass instance, got {type(config).__name__}")
    if not isinstance(overrides, Mapping):
        raise InputError(f"expected overrides as a mapping of setting names to values, got {type(overrides).__name__}")
    return _merge(config, overrides, "")


def parse_assignment(text: str, config: Any) -> dict[str, Any]:
    """``"propagation.fill_in=true"`` -> ``{"propagation": {"fill_in": True}}``, the value
    parsed by the type of that field of ``config`` (bool, int, float, str, ...).

    >>> from exemplar_vc.config import ColorizerConfig
    >>> parse_assignment("propagation.fill_in_low=0.25", ColorizerConfig())
    {'propagation': {'fill_in_low': 0.25}}
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise InputError(f"expected a setting as KEY=VALUE (e.g. propagation.fill_in=true), got {text!r}")
    parts = key.split(".")
    node: Any = config
    for i, part in enumerate(parts):
        cls = type(node)
        if part not in _field_names(cls):
            raise _unknown(part, cls, ".".join(parts[:i]))
        child = getattr(node, part)
        if i < len(parts) - 1:
            if not dataclasses.is_dataclass(child):
                raise InputError(f"expected {'.'.join(parts[: i + 1])} to be a group of settings, but it is a single value; use {'.'.join(parts[: i + 1])}=VALUE")
            node = child
    if dataclasses.is_dataclass(getattr(node, parts[-1])):
        raise InputError(f"expected a single setting, but {key} is a group of settings {_field_names(type(getattr(node, parts[-1])))}")
    value = _coerce(raw.strip(), _hints(type(node))[parts[-1]], key)
    out: dict[str, Any] = {parts[-1]: value}
    for part in reversed(parts[:-1]):
        out = {part: out}
    return out


def merge_dicts(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Nested dicts merged, ``extra`` winning (for several ``--set`` on one group)."""
    out = dict(base)
    for k, v in extra.items():
        out[k] = merge_dicts(out[k], v) if isinstance(v, Mapping) and isinstance(out.get(k), Mapping) else v
    return out


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return config_to_dict(value)
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def config_to_dict(config: Any) -> dict[str, Any]:
    """Nested plain data (dicts, lists, numbers, strings, None) for JSON."""
    return {f.name: _plain(getattr(config, f.name)) for f in dataclasses.fields(config)}


def config_from_dict(cls: type, data: Mapping[str, Any]) -> Any:
    """``cls`` rebuilt from ``config_to_dict`` output; keys missing from ``data`` keep
    their defaults, unknown keys raise ``InputError``.

    >>> from exemplar_vc.config import ColorizerConfig
    >>> config_from_dict(ColorizerConfig, config_to_dict(ColorizerConfig())) == ColorizerConfig()
    True
    """
    return apply_overrides(cls(), data)


def load_toml(path: str | os.PathLike) -> dict[str, Any]:
    """The settings in a TOML file, as nested dicts (tables are groups of settings)."""
    import tomllib

    p = Path(path)
    if not p.is_file():
        raise InputError(f"expected a TOML config file, but {str(p)!r} does not exist")
    try:
        with open(p, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"expected a valid TOML config file, could not parse {str(p)!r} ({e})") from e
