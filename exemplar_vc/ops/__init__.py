"""The hot loops of stage 2: global correspondence, local attention, warping.

Each op is a ``torch.library`` custom op (``exemplar_vc::<name>``) with a reference
implementation (``reference``), an ATen CPU path, a Triton GPU path, a fake kernel and
autograd; ``backend_info()`` says which path runs where, and why. See docs/ops.md.
"""

from .backend import backend_info
from .correspondence import Correspondence, CorrespondenceResult, correspondence
from .local_attention import LocalAttention, LocalAttentionResult, local_attention
from .warp import Warp, WarpResult, warp, warp_replicate

__all__ = [
    "backend_info",
    "Correspondence",
    "CorrespondenceResult",
    "correspondence",
    "LocalAttention",
    "LocalAttentionResult",
    "local_attention",
    "Warp",
    "WarpResult",
    "warp",
    "warp_replicate",
]
