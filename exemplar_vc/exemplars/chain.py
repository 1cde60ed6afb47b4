"""Several exemplar sources in priority order: each key frame takes the first that serves it."""

from __future__ import annotations

from typing import Sequence

from ..errors import InputError
from ..modeling.encoder import LuminanceEncoder
from ..types import Exemplar, ExemplarSource, KeyFrame

__all__ = ["ChainedSources"]


class ChainedSources:
    """E.g. ``ChainedSources(UserReferences(explicit=...), Retriever(bank), ColorizerSource())``:
    explicit exemplars first, the bank for the other key frames, the colorizer for the rest.

    Frames a source returns without being asked (explicit exemplars) are kept as well.
    ``explicit_frames`` is the union of the sources', so the pipeline makes them key frames.
    """

    def __init__(self, *sources: ExemplarSource):
        if not sources or not all(isinstance(s, ExemplarSource) for s in sources):
            raise InputError(f"expected one or more ExemplarSource objects, got {[type(s).__name__ for s in sources]}")
        self.sources = sources

    @property
    def explicit_frames(self) -> list[int]:
        return sorted({f for s in self.sources for f in getattr(s, "explicit_frames", [])})

    def exemplars_for(self, keyframes: Sequence[KeyFrame], encoder: LuminanceEncoder) -> list[Exemplar]:
        found: dict[int, Exemplar] = {}
        for source in self.sources:
            todo = [k for k in keyframes if k.index not in found]
            if not todo and found:
                break
            for ex in source.exemplars_for(todo, encoder):
                found.setdefault(ex.frame, ex)
        return [found[f] for f in sorted(found)]
