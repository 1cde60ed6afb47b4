"""Stage 1: exemplars for key frames from three sources behind one protocol:
the user's images, a FAISS reference bank, and an automatic colorizer."""

from .bank import BankEntry, ReferenceBank, SearchHit
from .base import Exemplar, ExemplarSource, KeyFrame
from .chain import ChainedSources
from .colorizer_source import ColorizerSource
from .embedding import encoder_signature, global_embedding, luminance_of
from .rerank import dense_features, match_score
from .retriever import Retriever
from .user import UserReferences

__all__ = [
    "BankEntry",
    "ChainedSources",
    "ColorizerSource",
    "Exemplar",
    "ExemplarSource",
    "KeyFrame",
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
