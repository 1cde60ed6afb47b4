"""Named pipeline variants: small builders of frozen configs, listed by name."""

from __future__ import annotations

from typing import Callable

from .config import ColorizerConfig, PropagationConfig
from .errors import InputError

__all__ = ["register_variant", "get_config", "available_variants"]

_VARIANTS: dict[str, Callable[[], ColorizerConfig]] = {}


def register_variant(name: str, builder: Callable[[], ColorizerConfig]) -> None:
    """Add a named variant; ``builder`` returns its config."""
    _VARIANTS[name] = builder


def available_variants() -> list[str]:
    return sorted(_VARIANTS)


def get_config(name: str) -> ColorizerConfig:
    if name not in _VARIANTS:
        raise InputError(f"expected a variant name in {available_variants()} or a folder written by save_pretrained, got {name!r}")
    return _VARIANTS[name]()


register_variant("default", ColorizerConfig)  # the dataclass defaults: one place for them
register_variant("fast", lambda: ColorizerConfig(working_size=256))
register_variant("quality", lambda: ColorizerConfig(working_size=512))
# The hand-written fusion rule (no trained weights), as before the network, at the working
# size it was the default at (the network's speed target is half of its speed there).
register_variant("hand", lambda: ColorizerConfig(working_size=384, propagation=PropagationConfig(fusion="hand")))
