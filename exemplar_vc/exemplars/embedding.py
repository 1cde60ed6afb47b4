"""Global embeddings of images computed from luminance, so gray frames match colour photos."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..modeling.encoder import LuminanceEncoder
from ..pixels import rgb_to_gray as luminance_of  # its old name and place, kept for imports
from ..resize import gray_tensor, resize_short_side

__all__ = ["global_embedding", "luminance_of", "encoder_signature", "EMBED_SIZE"]

# Short side (pixels) an image is resized to for its embedding: the 224 px the backbone
# saw in ImageNet training, so pooled features are at their usual scale.
EMBED_SIZE = 224
# Weight of the 2x2 spatial layout against the whole-image mean: at 0.5 the layout makes a
# fifth of the cosine (0.5^2 / (1 + 0.5^2)), enough to break ties between similar scenes
# without overruling their content.
LAYOUT_WEIGHT = 0.5


@torch.no_grad()
def global_embedding(encoder: LuminanceEncoder, gray: np.ndarray, size: int = EMBED_SIZE) -> torch.Tensor:
    """(H, W) uint8 gray -> (D,) float32 unit vector: mean feature plus a 2x2 spatial layout."""
    device = next(encoder.parameters()).device
    x = resize_short_side(gray_tensor(gray).to(device), size)
    f = encoder(x)
    whole = f.mean(dim=(2, 3))
    grid = F.adaptive_avg_pool2d(f, 2).flatten(1)
    emb = torch.cat([F.normalize(whole, dim=1), F.normalize(grid, dim=1) * LAYOUT_WEIGHT], dim=1)
    return F.normalize(emb, dim=1)[0].cpu()


def encoder_signature(encoder: LuminanceEncoder) -> str:
    """A short string naming the encoder's backbone, taps and stride, plus a hash of 6 of
    its weight tensors (the first four and the last two parameters), not of all of them:
    a different checkpoint changes those, but an edit confined to the middle layers would
    go unnoticed. Hashing 6 tensors keeps it cheap enough to compute per bank and per call.

    Banks store it so that a bank is only searched with the encoder that built it.
    """
    import hashlib

    cfg = encoder.config
    h = hashlib.sha256()
    for p in list(encoder.parameters())[:4] + list(encoder.parameters())[-2:]:
        h.update(p.detach().cpu().float().numpy().tobytes())
    blocks = ",".join(map(str, cfg.blocks))
    return f"{cfg.backbone}/blocks={blocks}/stride={cfg.stride}/global-v1/{h.hexdigest()[:12]}"
