"""Stage 1: exemplars for key frames, from the user's images (more sources plug in here)."""

from .base import Exemplar, ExemplarSource, KeyFrame
from .embedding import global_embedding, luminance_of
from .user import UserReferences

__all__ = ["Exemplar", "ExemplarSource", "KeyFrame", "UserReferences", "global_embedding", "luminance_of"]
