"""The hot loops of stage 2: global correspondence, local attention, warping.

Each op is a ``torch.library`` custom op (``exemplar_vc::<name>``) with a reference
implementation (``reference``), an ATen CPU path, a Triton GPU path, a fake kernel and
autograd; ``backend_info()`` says which path runs where, and why.
"""

from .correspondence import Correspondence, CorrespondenceResult, correspondence
from .local_attention import LocalAttentionResult, local_attention

__all__ = [
    "Correspondence",
    "CorrespondenceResult",
    "correspondence",
    "LocalAttentionResult",
    "local_attention",
]
