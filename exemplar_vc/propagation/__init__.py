"""Stage 2: segments between exemplars, forward and backward passes through a fusion
module, merge, and chroma upsampling onto the full-resolution lightness."""

from .engine import ColorizedFrame, PropagationEngine, exemplar_keys
from .frames import FrameData, PreparedExemplar, analyse_frame, exemplar_chroma, prepare_exemplar
from .segments import Segment, plan_segments
from .upsample import guided_filter, upsample_chroma

__all__ = [
    "ColorizedFrame",
    "PropagationEngine",
    "exemplar_keys",
    "FrameData",
    "PreparedExemplar",
    "analyse_frame",
    "exemplar_chroma",
    "prepare_exemplar",
    "Segment",
    "plan_segments",
    "guided_filter",
    "upsample_chroma",
]
