"""exemplar_vc: exemplar-based video colorization.

The public names below load on first use (PEP 562), so ``import exemplar_vc.config`` (or
any other submodule) loads only what that module needs, and ``import exemplar_vc`` alone
loads neither torch nor the reference bank.

>>> import exemplar_vc
>>> callable(exemplar_vc.colorize)
True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from .errors import ExemplarVCError, InputError
    from .exemplars import UserReferences
    from .pipeline import ColorizationResult, Stage1Plan, VideoColorizer, colorize
    from .propagation import ColorizedFrame
    from .types import Exemplar, ExemplarSource, KeyFrame, VideoPlan

# public name -> the module that defines it
_LAZY = {
    "VideoColorizer": ".pipeline",
    "ColorizationResult": ".pipeline",
    "Stage1Plan": ".pipeline",
    "colorize": ".pipeline",
    "ColorizedFrame": ".propagation",
    "Exemplar": ".types",
    "ExemplarSource": ".types",
    "KeyFrame": ".types",
    "VideoPlan": ".types",
    "UserReferences": ".exemplars",
    "ExemplarVCError": ".errors",
    "InputError": ".errors",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    try:  # a submodule used as an attribute, e.g. exemplar_vc.io after `import exemplar_vc`
        return importlib.import_module(f".{name}", __name__)
    except ModuleNotFoundError as e:
        if e.name != f"{__name__}.{name}":
            raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
