"""The hot loops of stage 2: global correspondence, local attention, warping."""

from .correspondence import CorrespondenceResult, correspondence
from .local_attention import LocalAttentionResult, local_attention

__all__ = ["CorrespondenceResult", "correspondence", "LocalAttentionResult", "local_attention"]
