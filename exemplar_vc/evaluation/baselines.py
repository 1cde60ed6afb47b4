"""Two reference baselines, computed in the same run as the pipeline, from the same gray
input and the same exemplars. Both only supply chroma, composed with the input gray by
the pipeline's own ``color.compose_rgb`` (the gray's luma kept), so fidelity differences
are differences in colour.

- ``global_transfer``: per-channel Lab mean and standard deviation transfer from the
  temporally nearest exemplar (Reinhard et al., "Color transfer between images", IEEE
  CG&A 2001, eq. (10) applied in CIE Lab): a' = (a - mu_a) * sd_ex / sd_in + mu_ex. A gray
  frame has a = b = 0 and zero spread, so its chroma becomes the exemplar's mean chroma:
  one global tint per exemplar.
- ``flow_propagation``: the exemplar's ab carried frame to frame by OpenCV DIS optical
  flow on the gray frames (forward from each exemplar until the next; frames before the
  first exemplar backward from it), bilinear backward warping, no correspondence and no
  occlusion handling.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ..color import compose_rgb
from ..errors import InputError
from ..metrics.flow import dis_flow, warp_backward

__all__ = ["global_transfer", "flow_propagation", "BASELINES", "compose_rgb", "exemplar_ab"]


def _check(gray: np.ndarray, exemplars: Mapping[int, np.ndarray]) -> None:
    if gray.ndim != 3 or gray.dtype != np.uint8:
        raise InputError(f"expected (T, H, W) uint8 gray frames, got {tuple(gray.shape)} {gray.dtype}")
    if not exemplars:
        raise InputError("expected at least one exemplar {frame: (H, W, 3) uint8 RGB}, got none")
    for f, img in exemplars.items():
        if not 0 <= f < len(gray):
            raise InputError(f"expected exemplar frames in 0..{len(gray) - 1}, got {f}")
        if img.ndim != 3 or img.shape[-1] != 3 or img.dtype != np.uint8:
            raise InputError(f"expected exemplar {f} as (H, W, 3) uint8 RGB, got {tuple(img.shape)} {img.dtype}")


def exemplar_ab(image: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    """(H, W, 3) uint8 sRGB -> (h, w, 2) float32 CIE a, b, resized to ``size`` = (h, w)."""
    import cv2

    from ..metrics.fidelity import rgb_to_ab

    ab = rgb_to_ab(image[None])[0].astype(np.float32)  # computed in float32: exact
    if size is not None and ab.shape[:2] != size:
        ab = cv2.resize(ab, (size[1], size[0]), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(ab, np.float32)


def _nearest(t: int, frames: list[int]) -> int:
    return min(frames, key=lambda f: (abs(f - t), f))


def global_transfer(gray: np.ndarray, exemplars: Mapping[int, np.ndarray]) -> np.ndarray:
    """Global Lab statistics transfer from the nearest exemplar.

    gray: (T, H, W) uint8; exemplars: {0-based frame: (h, w, 3) uint8 sRGB}.
    Returns (T, H, W, 3) uint8 sRGB.

    >>> g = np.full((2, 4, 4), 120, np.uint8); red = np.zeros((4, 4, 3), np.uint8); red[..., 0] = 200
    >>> out = global_transfer(g, {0: red}); bool((out[..., 0] > out[..., 1]).all())
    True
    """
    _check(gray, exemplars)
    keys = sorted(exemplars)
    stats = {}
    for f in keys:
        ab = exemplar_ab(exemplars[f]).reshape(-1, 2)
        stats[f] = (ab.mean(axis=0), ab.std(axis=0))
    out = np.empty(gray.shape + (3,), np.uint8)
    for t, g in enumerate(gray):
        mu_ex, sd_ex = stats[_nearest(t, keys)]
        # Reinhard et al. 2001, eq. (10): (x - mu_in) * sd_ex / sd_in + mu_ex; the gray
        # input has x = mu_in = 0 and sd_in = 0 in a and b, so only mu_ex remains.
        ab = np.broadcast_to(mu_ex.astype(np.float32), g.shape + (2,))
        out[t] = compose_rgb(g, ab)
    return out


def flow_propagation(gray: np.ndarray, exemplars: Mapping[int, np.ndarray]) -> np.ndarray:
    """Exemplar chroma carried along DIS optical flow; shapes as ``global_transfer``.

    Frame t after an exemplar gets ab_t(x) = ab_{t-1}(x + F_{t->t-1}(x)), with F the DIS
    flow from gray frame t to gray frame t-1 (backward warping).
    """
    _check(gray, exemplars)
    size = gray.shape[1:]
    keys = sorted(exemplars)
    ab: list[np.ndarray | None] = [None] * len(gray)
    for f in keys:
        ab[f] = exemplar_ab(exemplars[f], size)
    for t in range(keys[0] + 1, len(gray)):  # forward from each exemplar
        if t not in exemplars:
            ab[t], _ = warp_backward(ab[t - 1], dis_flow(gray[t], gray[t - 1]))
    for t in range(keys[0] - 1, -1, -1):  # backward before the first exemplar
        ab[t], _ = warp_backward(ab[t + 1], dis_flow(gray[t], gray[t + 1]))
    return np.stack([compose_rgb(g, a) for g, a in zip(gray, ab)])


BASELINES = {"global_transfer": global_transfer, "flow_propagation": flow_propagation}
