"""Per-frame and per-exemplar tensors that stage 2 works on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F

from ..color import gray_to_lightness, rgb_to_lab
from ..stored import as_array
from ..types import Exemplar
from ..pixels import rgb_to_gray
from ..modeling.encoder import LuminanceEncoder
from ..modeling.fusion import FusionFrame
from ..resize import gray_tensor, resize_to, rgb_tensor, working_shape

__all__ = ["FrameData", "PreparedExemplar", "AnchorExemplars", "analysis_shape", "analyse_frame", "prepare_exemplar", "exemplar_chroma", "lightness"]


@dataclass
class FrameData:
    """One gray frame, ready for matching.

    gray: (1, 1, H, W) float32 in [0, 1], the full-resolution input on the device (uploaded
    once, used for encoding and rendering). luma: (1, 1, h', w') the same at the working
    resolution. feats: (1, C, h, w) unit-norm features at the feature grid (stored as
    float16 while buffered).
    """

    index: int
    gray: torch.Tensor
    luma: torch.Tensor
    feats: torch.Tensor

    @property
    def fusion(self) -> FusionFrame:
        """What the fusion module sees of this frame."""
        return FusionFrame(self.index, self.feats, self.luma)

    def buffered(self) -> "FrameData":
        """A copy that is lighter to keep while it waits for the backward pass."""
        return FrameData(self.index, self.gray, self.luma, self.feats.half())


@dataclass
class PreparedExemplar:
    """An exemplar at the feature grid of the video.

    feats: (1, C, h, w) features of its luminance. ab: (1, 2, h, w) its chroma averaged
    over each feature cell. ab_aligned: (1, 2, h', w') its chroma averaged onto the key
    frame's own feature grid when it is that frame's colour version (aligned), else None.
    ab_working: (1, 2, H', W') an aligned exemplar's chroma at the key frame's working
    resolution, when the fusion module works there (else None). luma: (1, 1, h, w) its
    gray in [0, 1] averaged over each feature cell (None when not prepared).
    """

    exemplar: Exemplar
    feats: torch.Tensor
    ab: torch.Tensor
    ab_aligned: torch.Tensor | None = None
    ab_working: torch.Tensor | None = None
    luma: torch.Tensor | None = None


class AnchorExemplars(Mapping):
    """``{frame: PreparedExemplar}`` whose values are prepared when read, never stored.

    Preparing every exemplar up front made memory grow with their number; the engine
    instead reads an anchor when a segment needs it and drops it after (``engine.py``).
    ``prepare`` turns one ``Exemplar`` into its ``PreparedExemplar``; each read calls it
    again, so keep what you read for as long as you need it.
    """

    def __init__(self, exemplars: Mapping[int, Exemplar], prepare: Callable[[Exemplar], PreparedExemplar]):
        self._exemplars = dict(exemplars)
        self._prepare = prepare

    def __getitem__(self, frame: int) -> PreparedExemplar:
        return self._prepare(self._exemplars[frame])

    def __contains__(self, frame: object) -> bool:
        # Mapping's default would read (prepare) the value to answer.
        return frame in self._exemplars

    def __iter__(self) -> Iterator[int]:
        return iter(sorted(self._exemplars))

    def __len__(self) -> int:
        return len(self._exemplars)


def analysis_shape(h: int, w: int, working_size: int, encoder: LuminanceEncoder) -> tuple[int, int]:
    """Where stage 2 analyses an (h, w) image: the short side at ``working_size``, smaller
    images upscaled (a 176x144 clip's stride-8 matches would be a 22x18 grid), rounded to
    the encoder's stride so its grid divides the image exactly."""
    return working_shape(h, w, working_size, encoder.config.stride, upscale=True)


def analyse_frame(index: int, gray: np.ndarray, encoder: LuminanceEncoder, working_size: int, device: torch.device) -> FrameData:
    """Upload a (H, W) uint8 gray frame once and encode it at the working size."""
    full = gray_tensor(gray).to(device)
    luma = resize_to(full, analysis_shape(*gray.shape, working_size, encoder))
    return FrameData(index, full, luma, encoder(luma))


def _is_aligned(ex_gray: np.ndarray, frame_gray: np.ndarray, tolerance: float) -> bool:
    import cv2

    h, w = frame_gray.shape
    eh, ew = ex_gray.shape
    if abs(eh / ew - h / w) > 0.01 * (h / w):
        return False
    if (eh, ew) != (h, w):
        ex_gray = cv2.resize(ex_gray, (w, h), interpolation=cv2.INTER_AREA)
    return float(np.abs(ex_gray.astype(np.float32) - frame_gray.astype(np.float32)).mean()) <= tolerance


def prepare_exemplar(
    exemplar: Exemplar,
    encoder: LuminanceEncoder,
    working_size: int,
    device: torch.device,
    frame_gray: np.ndarray | None = None,
    aligned_tolerance: float = 2.0,
    working_chroma: bool = False,
) -> PreparedExemplar:
    """Features and chroma of an exemplar, on a grid matching the video's feature grid.

    The exemplar keeps its own aspect ratio, at the same working short side as the video,
    so any photo can serve. ``working_chroma`` also keeps an aligned exemplar's chroma at
    the working resolution (``PreparedExemplar.ab_working``).
    """
    rgb = as_array(exemplar.image)
    gray = rgb_to_gray(rgb)
    gray_working = resize_to(gray_tensor(gray).to(device), analysis_shape(*gray.shape, working_size, encoder))
    feats = encoder(gray_working)
    lab = rgb_to_lab(rgb_tensor(rgb).to(device))
    ab = F.adaptive_avg_pool2d(lab[:, 1:], feats.shape[-2:])
    ab_aligned = ab_working = None
    if frame_gray is not None and _is_aligned(gray, frame_gray, aligned_tolerance):
        h, w = analysis_shape(*frame_gray.shape, working_size, encoder)
        ab_full = resize_to(lab[:, 1:], frame_gray.shape)
        ab_aligned = F.adaptive_avg_pool2d(ab_full, encoder.grid_shape(h, w))
        if working_chroma:
            ab_working = resize_to(ab_full, (h, w))
    luma = F.adaptive_avg_pool2d(gray_working, feats.shape[-2:])
    return PreparedExemplar(exemplar, feats, ab, ab_aligned, ab_working, luma)


def exemplar_chroma(exemplar: Exemplar, size: tuple[int, int], device: torch.device) -> torch.Tensor:
    """(1, 2, H, W) CIE a, b of an exemplar resized to ``size`` (the output resolution)."""
    return resize_to(rgb_to_lab(rgb_tensor(as_array(exemplar.image)).to(device))[:, 1:], size)


def lightness(gray: torch.Tensor) -> torch.Tensor:
    """(1, 1, H, W) gray in [0, 1] -> (1, 1, H, W) CIE L of the gray levels read as sRGB gray."""
    return gray_to_lightness(gray)
