"""exemplar_vc: exemplar-based video colorization.

>>> import exemplar_vc
>>> callable(exemplar_vc.colorize)
True
"""

from ._version import __version__
from .errors import ExemplarVCError, InputError
from .exemplars import Exemplar, ExemplarSource, KeyFrame, UserReferences
from .pipeline import ColorizationResult, VideoColorizer, colorize
from .propagation import ColorizedFrame

__all__ = [
    "__version__",
    "VideoColorizer",
    "ColorizationResult",
    "ColorizedFrame",
    "colorize",
    "Exemplar",
    "ExemplarSource",
    "KeyFrame",
    "UserReferences",
    "ExemplarVCError",
    "InputError",
]
