"""Per-frame and per-exemplar tensors that stage 2 works on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..color import gray_to_lightness, rgb_to_lab
from ..exemplars.base import Exemplar
from ..exemplars.embedding import luminance_of
from ..modeling.encoder import LuminanceEncoder
from ..resize import gray_tensor, resize_to, rgb_tensor, working_shape

__all__ = ["FrameData", "PreparedExemplar", "analyse_frame", "prepare_exemplar", "lightness"]


@dataclass
class FrameData:
    """One gray frame, ready for matching.

    gray: (H, W) uint8 full-resolution input. feats: (1, C, h, w) unit-norm features at
    the feature grid (stored as float16 while buffered).
    """

    index: int
    gray: np.ndarray
    feats: torch.Tensor


@dataclass
class PreparedExemplar:
    """An exemplar at the feature grid of the video.

    feats: (1, C, h, w) features of its luminance. ab: (1, 2, h, w) its chroma averaged
    over each feature cell. ab_aligned: (1, 2, h', w') its chroma averaged onto the key
    frame's own feature grid when it is that frame's colour version (aligned), else None.
    """

    exemplar: Exemplar
    feats: torch.Tensor
    ab: torch.Tensor
    ab_aligned: torch.Tensor | None = None


def analyse_frame(index: int, gray: np.ndarray, encoder: LuminanceEncoder, working_size: int, device: torch.device) -> FrameData:
    x = gray_tensor(gray).to(device)
    x = resize_to(x, working_shape(*gray.shape, working_size))
    return FrameData(index, gray, encoder(x))


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
) -> PreparedExemplar:
    """Features and chroma of an exemplar, on a grid matching the video's feature grid.

    The exemplar keeps its own aspect ratio, at the same working short side as the video,
    so any photo can serve.
    """
    rgb = exemplar.image
    gray = luminance_of(rgb)
    feats = encoder(resize_to(gray_tensor(gray).to(device), working_shape(*gray.shape, working_size)))
    lab = rgb_to_lab(rgb_tensor(rgb).to(device))
    ab = F.adaptive_avg_pool2d(lab[:, 1:], feats.shape[-2:])
    ab_aligned = None
    if frame_gray is not None and _is_aligned(gray, frame_gray, aligned_tolerance):
        h, w = working_shape(*frame_gray.shape, working_size)
        grid = (-(-h // encoder.config.stride), -(-w // encoder.config.stride))
        ab_aligned = F.adaptive_avg_pool2d(resize_to(lab[:, 1:], frame_gray.shape), grid)
    return PreparedExemplar(exemplar, feats, ab, ab_aligned)


def lightness(gray: np.ndarray, device: torch.device) -> torch.Tensor:
    """(H, W) uint8 -> (1, 1, H, W) CIE L of the gray levels read as sRGB gray."""
    return gray_to_lightness(gray_tensor(gray).to(device))
