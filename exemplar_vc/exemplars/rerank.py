"""Dense correspondence quality between a gray frame and a candidate exemplar.

Global embeddings say two images look alike overall; re-ranking asks whether every part
of the frame finds a close feature somewhere in the exemplar, and the reverse, which is
what propagation needs (Deep Exemplar-based Video Colorization, Zhang et al. CVPR 2019,
picks references the same way: global similarity first, then dense feature matching).
"""

from __future__ import annotations

import numpy as np
import torch

from ..modeling.encoder import LuminanceEncoder
from ..ops import correspondence
from ..resize import gray_tensor, resize_short_side

__all__ = ["dense_features", "match_score", "DENSE_SIZE", "MIN_MATCH_SCORE"]

# Short side (pixels) for dense re-ranking: a 16-cell-high feature grid at stride 8, enough
# to compare layouts part by part, small enough to score several candidates per key frame.
DENSE_SIZE = 128
# The dense score an image must reach to be trusted as a key frame's exemplar, the same for
# the user's images and for a bank (``assign.py``). Measured (benchmarks/README.md, Stage 1,
# "Dense score calibration"): the right image of the same shot scores 0.80 or more (5th
# percentile; median 0.93), a photo of another shot of the same film 0.51-0.61, the best
# wrong photo among a semantic query's candidates 0.54-0.62 (5th-95th percentile). 0.65
# sits between. A photo merely of the same *kind* of scene scores like a wrong one (median
# 0.59), so the dense score cannot vouch for it and it is not trusted automatically.
MIN_MATCH_SCORE = 0.65


@torch.no_grad()
def dense_features(encoder: LuminanceEncoder, gray: np.ndarray, size: int = DENSE_SIZE) -> torch.Tensor:
    """(H, W) uint8 gray -> (1, C, h, w) float32 unit-norm features at short side ``size``."""
    device = next(encoder.parameters()).device
    return encoder(resize_short_side(gray_tensor(gray).to(device), size))


@torch.no_grad()
def match_score(query: torch.Tensor, ref: torch.Tensor) -> float:
    """Bidirectional dense match in [-1, 1]: mean over positions of the best cosine
    similarity, frame -> exemplar and exemplar -> frame, averaged.

    query, ref: (1, C, h, w) unit-norm features (``dense_features``).
    """
    forward = _mean_best(query, ref)
    backward = _mean_best(ref, query)
    return 0.5 * (forward + backward)


def _mean_best(q: torch.Tensor, k: torch.Tensor) -> float:
    values = torch.zeros(1, 1, 1, *k.shape[-2:], dtype=k.dtype, device=k.device)
    best = correspondence(q, k[:, None], values, temperature=1.0).max_similarity
    return float(best.mean())
