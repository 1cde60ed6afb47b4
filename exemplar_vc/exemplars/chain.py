"""Exemplar sources combined: in priority order per key frame (``ChainedSources``), or a
source whose unserved shots the colorizer fills (``AutoFill``)."""

from __future__ import annotations

from typing import Sequence

from ..errors import InputError
from ..modeling.encoder import LuminanceEncoder
from ..types import Exemplar, ExemplarSource, KeyFrame

__all__ = ["ChainedSources", "AutoFill"]


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


class AutoFill:
    """An ``ExemplarSource``: ``source`` first; then ``fill`` (the image colorizer,
    ``ColorizerSource``) colours every key frame of each shot that ``source`` left without
    any exemplar. A shot that has a trusted exemplar keeps it, and its other key frames
    get their colour by propagation from it, not from the weaker colorizer.

    ``explicit_frames`` and ``sources`` are those of ``source`` (the pipeline makes
    explicit frames key frames; size checks look into ``sources``).
    """

    def __init__(self, source: ExemplarSource, fill: ExemplarSource):
        if not isinstance(source, ExemplarSource) or not isinstance(fill, ExemplarSource):
            raise InputError(f"expected two ExemplarSource objects, got {type(source).__name__} and {type(fill).__name__}")
        self.source, self.fill = source, fill
        self.sources = (source,)

    @property
    def explicit_frames(self) -> list[int]:
        return sorted(getattr(self.source, "explicit_frames", []))

    def exemplars_for(self, keyframes: Sequence[KeyFrame], encoder: LuminanceEncoder) -> list[Exemplar]:
        found = {ex.frame: ex for ex in self.source.exemplars_for(keyframes, encoder)}
        shot_of = {k.index: k.shot for k in keyframes}
        served = {shot_of[f] for f in found if f in shot_of}
        todo = [k for k in keyframes if k.shot not in served and k.index not in found]
        for ex in self.fill.exemplars_for(todo, encoder) if todo else []:
            found.setdefault(ex.frame, ex)
        return [found[f] for f in sorted(found)]
