"""Stage 1: exemplars for key frames from three sources behind one protocol:
the user's images, a FAISS reference bank, and an automatic colorizer."""

from .assign import AssignmentRule, Decision
from .bank import BankConfig, BankEntry, ReferenceBank, SearchHit
from .base import Exemplar, ExemplarSource, KeyFrame
from .chain import AutoFill, ChainedSources
from .colorizer_source import ColorizerSource
from .descriptor import ContentDescriptor, DescriptorConfig
from .embedding import encoder_signature, global_embedding, luminance_of
from .rerank import MIN_MATCH_SCORE, dense_features, match_score
from .retriever import Retriever
from .user import UserReferences

__all__ = [
    "AssignmentRule",
    "AutoFill",
    "BankConfig",
    "BankEntry",
    "ChainedSources",
    "ColorizerSource",
    "ContentDescriptor",
    "Decision",
    "DescriptorConfig",
    "Exemplar",
    "ExemplarSource",
    "KeyFrame",
    "MIN_MATCH_SCORE",
    "ReferenceBank",
    "Retriever",
    "SearchHit",
    "UserReferences",
    "dense_features",
    "encoder_signature",
    "global_embedding",
    "luminance_of",
    "match_score",
]
