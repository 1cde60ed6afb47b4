"""Exemplars made by an automatic image colorizer, for key frames nobody supplied."""

from __future__ import annotations

from typing import Sequence

from ..modeling.colorizer import DEFAULT_WEIGHTS, DEFAULT_WORKING_SIZE, ImageColorizer
from ..modeling.encoder import LuminanceEncoder
from ..stored import ArrayShelf, as_array
from ..types import Exemplar, KeyFrame

__all__ = ["ColorizerSource"]


class ColorizerSource:
    """An ``ExemplarSource``: every key frame gets its own automatic colorization.

    The exemplar is the key frame itself with predicted chroma (so it aligns pixel for
    pixel); ``source="colorizer"``, ``origin`` the weights' name, ``score`` the mean
    confidence (1 - normalised entropy of the ab-bin distribution, in [0, 1]).

    Args:
        colorizer: an ``ImageColorizer`` (it runs its own encoder); by default the
            project's weights are loaded at the first call.
        working_size: short side (pixels) at which chroma is predicted.
        images_in_memory: colorized key frames kept in memory; the rest wait on disk until
            stage 2 reads them (``stored.ArrayShelf``). None: all in memory.
    """

    def __init__(self, colorizer: ImageColorizer | None = None, working_size: int = DEFAULT_WORKING_SIZE, weights=DEFAULT_WEIGHTS, images_in_memory: int | None = 32):
        self.colorizer = colorizer
        self.working_size = working_size
        self.weights = weights
        self.images_in_memory = images_in_memory

    def exemplars_for(self, keyframes: Sequence[KeyFrame], encoder: LuminanceEncoder) -> list[Exemplar]:
        if self.colorizer is None:
            # Shares the pipeline's encoder when the weights were trained on its taps.
            self.colorizer = ImageColorizer.from_pretrained(encoder, self.weights)
        model = self.colorizer.to(next(encoder.parameters()).device).eval()
        out, shelf = [], ArrayShelf(self.images_in_memory)
        for key in keyframes:
            rgb, confidence = model.colorize(as_array(key.gray), self.working_size)
            out.append(Exemplar(key.index, shelf.put(rgb), "colorizer", model.name, confidence))
        return out
