"""Evaluation protocols: how a colour clip becomes a gray input plus exemplars.

- ``first-frame``: the ground-truth colour frame 0 is the only exemplar.
- ``every-50``: ground-truth colour frames 1, 50, 100, ... in the NTIRE 2023 challenge's
  1-based numbering (the exemplar setting of its winning entry), i.e. 0-based frames
  0, 49, 99, 149, ...
- ``retrieval``: exemplars come from a reference bank (``--bank DIR``) through
  ``exemplar_vc.exemplars.Retriever``; no ground-truth colour is given to the method.

The gray input is ``cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)`` of the colour frame in
OpenCV's BGR order, as in the challenge (ITU-R BT.601 luma, rounded to uint8).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..errors import InputError
from ..pixels import rgb_to_gray

__all__ = ["PROTOCOLS", "exemplar_frames", "make_gray", "protocol_exemplars", "EVERY"]

PROTOCOLS = ("first-frame", "every-50", "retrieval")
EVERY = 50


def make_gray(rgb: np.ndarray) -> np.ndarray:
    """(T, H, W, 3) uint8 RGB -> (T, H, W) uint8 gray, NTIRE 2023 style.

    >>> make_gray(np.array([[[[255, 0, 0]]]], np.uint8)).tolist()  # 0.299 * 255
    [[[76]]]
    """
    if rgb.ndim != 4 or rgb.shape[-1] != 3 or rgb.dtype != np.uint8:
        raise InputError(f"expected (T, H, W, 3) uint8 RGB frames, got {tuple(rgb.shape)} {rgb.dtype}")
    return rgb_to_gray(rgb)  # COLOR_RGB2GRAY on RGB is COLOR_BGR2GRAY on BGR


def exemplar_frames(protocol: str, num_frames: int) -> list[int]:
    """0-based frames whose ground-truth colour is given, for the ground-truth protocols.

    >>> exemplar_frames("every-50", 120)
    [0, 49, 99]
    >>> exemplar_frames("first-frame", 120)
    [0]
    """
    if num_frames < 1:
        raise InputError(f"expected a clip with at least one frame, got {num_frames}")
    if protocol == "first-frame":
        return [0]
    if protocol == "every-50":
        # 1-based 1, 50, 100, ... -> 0-based 0, 49, 99, ...
        return [0] + list(range(EVERY - 1, num_frames, EVERY))
    raise InputError(f"expected protocol 'first-frame' or 'every-50' for ground-truth exemplars, got {protocol!r}")


def protocol_exemplars(protocol: str, gt: np.ndarray, bank: str | os.PathLike | None = None) -> Any:
    """What to pass as ``exemplars=`` to the colorizer: ``{frame: (H, W, 3) uint8 RGB}``
    for the ground-truth protocols, a ``Retriever`` over the bank for ``retrieval``."""
    if protocol not in PROTOCOLS:
        raise InputError(f"expected a protocol in {list(PROTOCOLS)}, got {protocol!r}")
    if protocol == "retrieval":
        if bank is None:
            raise InputError("expected --bank DIR (a saved ReferenceBank) for the retrieval protocol, got none")
        try:
            from ..exemplars import ReferenceBank, Retriever
        except ImportError as e:
            raise InputError(f"the retrieval protocol needs exemplar_vc.exemplars.ReferenceBank and Retriever, which this install lacks ({e})") from e
        return Retriever(ReferenceBank.load(bank))
    return {f: gt[f] for f in exemplar_frames(protocol, len(gt))}
