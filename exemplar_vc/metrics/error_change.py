"""Frame-to-frame change of the colour error: flicker in units a viewer can judge.

For consecutive frames i and i + 1, with chroma errors e_i = ab_pred_i - ab_truth_i (CIE
a, b; lightness is the input's in every method here, so it is not compared), the
per-pixel change is |e_{i+1} - e_i|. A steady error (a colour consistently wrong) does not
change; a colour that snaps, at an exemplar frame say, changes at once, and so does a
colour that flickers. Per pair of frames: the mean change over pixels, and the share of
pixels whose change exceeds 2.3, the just-noticeable difference of CIE76 Delta E*ab
(Sharma, "Digital Color Imaging Handbook", CRC 2003, ch. 1; Mahy, Van Eycken and
Oosterlinck, Color Res. Appl. 19(2), 1994).

Compared with the truth's own CDC divergence (tiny on a still shot, so a ratio to it can
be large for a change no one sees), this reads in colour units: a mean change of 0.6 is a
quarter of the just-noticeable difference, and the share above it says how much of the
frame visibly moved.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .fidelity import rgb_to_ab
from .frames import as_frames

__all__ = ["JND_AB", "error_change_curves"]

JND_AB = 2.3


def error_change_curves(pred, gt_ab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """pred: (T, H, W, 3) uint8 RGB frames; gt_ab: (T, H, W, 2) the truth's CIE a, b.
    Returns (mean change, share of pixels above ``JND_AB``), each (T - 1,) float64.

    >>> gt = np.zeros((3, 8, 8, 2)); pred = np.full((3, 8, 8, 3), 128, np.uint8)
    >>> mean, share = error_change_curves(pred, gt)
    >>> mean.shape, float(share.max())
    ((2,), 0.0)
    """
    p = as_frames(pred, "pred")
    if gt_ab.shape != p.shape[:3] + (2,):
        raise InputError(f"expected the truth's a, b of shape {p.shape[:3] + (2,)}, got {tuple(gt_ab.shape)}")
    if len(p) < 2:
        raise InputError(f"expected at least 2 frames for an error-change curve, got {len(p)}")
    mean, share = np.empty(len(p) - 1), np.empty(len(p) - 1)
    previous = None
    for i in range(len(p)):  # frame by frame: memory of one frame, not of the clip
        error = rgb_to_ab(p[i : i + 1])[0] - gt_ab[i]
        if previous is not None:
            change = np.sqrt(((error - previous) ** 2).sum(-1))
            mean[i - 1], share[i - 1] = change.mean(), (change > JND_AB).mean()
        previous = error
    return mean, share
