"""Stage 2: global and local correspondence, bidirectional propagation, guided upsampling."""

from .engine import ColorizedFrame, PropagationEngine
from .frames import FrameData, PreparedExemplar, analyse_frame, prepare_exemplar
from .fusion import DirectionState, merge_directions, step
from .upsample import guided_filter, upsample_chroma

__all__ = [
    "ColorizedFrame",
    "PropagationEngine",
    "FrameData",
    "PreparedExemplar",
    "analyse_frame",
    "prepare_exemplar",
    "DirectionState",
    "merge_directions",
    "step",
    "guided_filter",
    "upsample_chroma",
]
