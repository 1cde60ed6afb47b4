"""Training data for the propagation network: clips cached at the working resolution.

The frozen encoder is the expensive part of a training step, so every clip is prepared
once (``cache_clip``): gray luminance at the working resolution exactly as stage 2 sees
it (BT.601 gray of the colour frame, read as sRGB gray, resized with antialiasing), the
ground-truth CIE a, b there, and the encoder's features. ``sample_segment`` then draws a
training segment: a random run of frames (stride 1-3: faster motion), a random crop on
the feature grid, and exemplars for its two ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import cv2
import numpy as np
import torch

from ..color import rgb_to_lab
from ..modeling.encoder import LuminanceEncoder
from ..pixels import rgb_to_gray
from ..resize import gray_tensor, resize_to, rgb_tensor, working_shape

__all__ = ["HELD_OUT_CLIPS", "split_train_folder", "held_out_names", "CachedClip", "cache_clip", "save_cached", "load_cached", "TrainingSegment", "sample_segment", "jittered_exemplar"]


# Clips of ``shared/data/clips`` never trained on: the DAVIS sequences of the published tables.
HELD_OUT_CLIPS = ("bear", "paragliding-launch")


def split_train_folder(folder: Path) -> tuple[list[Path], list[Path]]:
    """(training clips, held-out clips) of a folder of .mp4 clips: a fifth of the sorted
    names is held out, chosen by a shuffle with a fixed seed. Fixed, not a training
    setting: every run (and every network) keeps the same clips unseen, so the held-out
    benchmark stays held out whatever seed a training run uses."""
    import random

    clips = sorted(Path(folder).glob("*.mp4"))
    order = list(range(len(clips)))
    random.Random(0).shuffle(order)
    held = set(order[: len(clips) // 5])
    return [c for i, c in enumerate(clips) if i not in held], [c for i, c in enumerate(clips) if i in held]


def held_out_names(data: Path) -> set[str]:
    """Stems of every clip under ``data`` (the shared data folder) that training must never
    see: ``HELD_OUT_CLIPS`` of ``clips/`` and the held-out fifth of ``train/``."""
    train = Path(data) / "train"
    if not train.is_dir():
        raise FileNotFoundError(f"expected the training clips folder {train} (to know which clips are held out), found none")
    return set(HELD_OUT_CLIPS) | {p.stem for p in split_train_folder(train)[1]}


@dataclass
class CachedClip:
    """One clip at the working resolution.

    luma: (T, H, W) uint8 gray (BT.601 of the colour frame, the NTIRE 2023 input). ab: (T, 2, H, W) int8 CIE a, b (rounded, clipped to
    +-127). feats: (T, C, H/8, W/8) float16 unit-norm encoder features.
    """

    name: str
    luma: np.ndarray
    ab: np.ndarray
    feats: np.ndarray

    def __len__(self) -> int:
        return len(self.luma)


@torch.no_grad()
def cache_clip(name: str, frames: Iterable[np.ndarray], encoder: LuminanceEncoder, working_size: int, batch: int = 8) -> CachedClip:
    """Prepare (T, H, W, 3) uint8 sRGB frames (any iterable of frames) for training."""
    lumas, abs_, feats = [], [], []
    chunk: list[np.ndarray] = []

    def flush() -> None:
        if not chunk:
            return
        h, w = chunk[0].shape[:2]
        # Small clips at their own size, as every shipped network was trained (stage 2
        # now upscales them at run time; retraining with upscale=True is untried).
        size = working_shape(h, w, working_size, encoder.config.stride)
        luma = torch.cat([resize_to(gray_tensor(rgb_to_gray(f)), size) for f in chunk])
        ab = torch.cat([resize_to(rgb_to_lab(rgb_tensor(f))[:, 1:], size) for f in chunk])
        feats.append(encoder(luma).half().numpy())
        lumas.append((luma[:, 0] * 255.0).round().clamp(0, 255).to(torch.uint8).numpy())
        abs_.append(ab.round().clamp(-127, 127).to(torch.int8).numpy())
        chunk.clear()

    for frame in frames:
        chunk.append(frame)
        if len(chunk) == batch:
            flush()
    flush()
    if not lumas:
        raise ValueError(f"expected at least one frame in clip {name!r}, got none")
    return CachedClip(name, np.concatenate(lumas), np.concatenate(abs_), np.concatenate(feats))


def save_cached(clip: CachedClip, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for field in ("luma", "ab", "feats"):
        np.save(folder / f"{clip.name}.{field}.npy", getattr(clip, field))


def load_cached(folder: Path, name: str) -> CachedClip:
    # Memory-mapped: the page cache holds what fits, the rest stays on disk.
    arrays = {f: np.load(folder / f"{name}.{f}.npy", mmap_mode="r") for f in ("luma", "ab", "feats")}
    return CachedClip(name, **arrays)


@dataclass
class TrainingSegment:
    """A training segment: frames of one clip at ``indices`` cropped to ``box`` (y0, x0,
    h, w in working-resolution pixels, multiples of 8).

    luma: (T, 1, h, w) float32 [0, 1]; ab: (T, 2, h, w) float32; feats: (T, C, h/8, w/8).
    left, right: exemplars of the first and last frame as (feats (1, C, he, we), ab
    (1, 2, He, We) at the exemplar's working resolution, aligned ab (1, 2, h, w) or None,
    gray (1, 1, He, We) in [0, 1]).
    """

    clip: str
    indices: list[int]
    box: tuple[int, int, int, int]
    luma: torch.Tensor
    ab: torch.Tensor
    feats: torch.Tensor
    left: tuple
    right: tuple


def _crop(x: np.ndarray, box, stride: int = 1) -> np.ndarray:
    y0, x0, h, w = (v // stride for v in box)
    return x[..., y0 : y0 + h, x0 : x0 + w]


def jittered_exemplar(luma: np.ndarray, ab: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A not pixel-aligned exemplar made from a frame: random shift, scale and rotation
    (as a photo of the same scene from a nearby viewpoint) and a lightness gain.

    luma: (H, W) uint8; ab: (2, H, W) int8. Returns (luma (H, W) uint8, ab (2, H, W)
    float32). Chroma is not jittered: it is the colour the network must transfer.
    """
    h, w = luma.shape
    angle = rng.uniform(-8, 8)
    scale = rng.uniform(1.05, 1.3)
    shift = rng.uniform(-0.08, 0.08, size=2) * (w, h)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    m[:, 2] += shift
    warp = lambda img, interp: cv2.warpAffine(img, m, (w, h), flags=interp, borderMode=cv2.BORDER_REFLECT)  # noqa: E731
    gain = rng.uniform(0.85, 1.15)
    out_l = np.clip(warp(luma.astype(np.float32), cv2.INTER_LINEAR) * gain, 0, 255).round().astype(np.uint8)
    out_ab = np.stack([warp(c.astype(np.float32), cv2.INTER_LINEAR) for c in ab])
    return out_l, out_ab


def _exemplar(clip: CachedClip, index: int, kind: str, encoder: LuminanceEncoder, box, rng) -> tuple:
    if kind == "aligned":
        feats = torch.from_numpy(np.array(clip.feats[index], np.float32))[None]
        ab = torch.from_numpy(np.array(clip.ab[index], np.float32))[None]
        luma = torch.from_numpy(np.array(clip.luma[index], np.float32) / 255.0)[None, None]
        return feats, ab, torch.from_numpy(np.ascontiguousarray(_crop(np.asarray(clip.ab[index], np.float32), box)))[None], luma
    if kind == "jittered":
        luma, ab = jittered_exemplar(np.asarray(clip.luma[index]), np.asarray(clip.ab[index]), rng)
    else:  # "distant": another moment of the clip, as it is
        luma, ab = np.array(clip.luma[index]), np.array(clip.ab[index], np.float32)
    gray = torch.from_numpy(luma).float().div(255.0)[None, None]
    with torch.no_grad():
        feats = encoder(gray)
    return feats, torch.from_numpy(np.ascontiguousarray(ab, np.float32))[None], None, gray


def sample_segment(
    clip: CachedClip,
    rng: np.random.Generator,
    encoder: LuminanceEncoder,
    length: int,
    crop: int,
    max_stride: int = 3,
    p_aligned: float = 0.5,
    p_jittered: float = 0.25,
    static: bool = False,
) -> TrainingSegment:
    """Draw a segment of ``length`` frames (fewer if the clip is short) with a square crop
    of ``crop`` pixels (or the frame's short side) and exemplars at both ends: aligned
    (the frame's own colour), jittered (``jittered_exemplar``) or distant (a frame of the
    clip at least ``length`` frames away), with probabilities p_aligned, p_jittered, rest.
    ``static``: one frame repeated ``length`` times (a still shot, where the right answer
    is to keep the colour exactly).
    """
    n = len(clip)
    if static:
        length = min(length, n)
        first = int(rng.integers(0, n))
        return _segment(clip, [first] * length, length, crop, rng, encoder, p_aligned, p_jittered)
    stride = int(rng.integers(1, max_stride + 1)) if n >= 3 * length else 1
    span = min(n, (length - 1) * stride + 1)
    stride = max(1, min(stride, (n - 1) // max(1, length - 1)))
    count = min(length, n)
    first = int(rng.integers(0, n - (count - 1) * stride))
    indices = [first + i * stride for i in range(count)]
    return _segment(clip, indices, span, crop, rng, encoder, p_aligned, p_jittered)


def _segment(clip: CachedClip, indices: list[int], span: int, crop: int, rng, encoder, p_aligned: float, p_jittered: float) -> TrainingSegment:
    """The segment of ``indices`` with a random crop and exemplars at both ends; a
    distant exemplar is at least ``span`` frames away."""
    n = len(clip)
    H, W = clip.luma.shape[1:]
    ch, cw = min(crop, H) // 8 * 8, min(crop, W) // 8 * 8
    box = (int(rng.integers(0, (H - ch) // 8 + 1)) * 8, int(rng.integers(0, (W - cw) // 8 + 1)) * 8, ch, cw)
    luma = torch.from_numpy(_crop(clip.luma[indices], box).astype(np.float32) / 255.0)[:, None]
    ab = torch.from_numpy(_crop(clip.ab[indices], box).astype(np.float32))
    feats = torch.from_numpy(np.ascontiguousarray(_crop(np.asarray(clip.feats[indices]), box, stride=8), np.float32))

    def kind() -> str:
        u = rng.random()
        return "aligned" if u < p_aligned else "jittered" if u < p_aligned + p_jittered else "distant"

    def distant_from(i: int) -> int:
        far = [j for j in (i - span - int(rng.integers(0, n)), i + span + int(rng.integers(0, n))) if 0 <= j < n]
        return far[0] if far else (0 if i >= n // 2 else n - 1)

    ends = []
    for i in (indices[0], indices[-1]):
        k = kind()
        ends.append(_exemplar(clip, distant_from(i) if k == "distant" else i, k, encoder, box, rng))
    return TrainingSegment(clip.name, indices, box, luma, ab, feats, ends[0], ends[1])
