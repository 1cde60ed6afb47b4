"""Reference implementations of the ops: plain PyTorch, written to be read, not to be fast.

They are the test oracle. Each materialises what the fast paths avoid (the full similarity
matrix, the (2r+1)^2 cost volume, the four bilinear taps), so keep them to small inputs.

>>> import torch
>>> q = torch.nn.functional.normalize(torch.randn(1, 8, 3, 4), dim=1)
>>> k = torch.nn.functional.normalize(torch.randn(1, 2, 8, 5, 5), dim=1)
>>> v = torch.randn(1, 2, 2, 5, 5)
>>> out, best, idx = correspondence_reference(q, k, v, 0.1)
>>> out.shape, best.shape, int(idx.max()) < 2 * 5 * 5
(torch.Size([1, 2, 3, 4]), torch.Size([1, 1, 3, 4]), True)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["correspondence_reference", "local_attention_reference", "warp_reference"]


def correspondence_reference(query, keys, values, temperature, key_mask=None):
    """Global attention of every query position over all key positions of all exemplars.

    query (B, C, Hq, Wq), keys (B, N, C, Hk, Wk), values (B, N, V, Hk, Wk),
    key_mask (B, N, Hk, Wk) bool or None. Returns (values (B, V, Hq, Wq),
    max_similarity (B, 1, Hq, Wq), argmax (B, 1, Hq, Wq) int64 into the flat (N, Hk, Wk)).
    Similarity is the dot product (a cosine for unit-norm features); the weights are
    softmax(sim / temperature) over keys (Vaswani et al. 2017, eq. 1, with 1/T for 1/sqrt(d)).
    """
    B, C, Hq, Wq = query.shape
    N, V, Hk, Wk = keys.shape[1], values.shape[2], keys.shape[3], keys.shape[4]
    q = query.reshape(B, C, Hq * Wq).transpose(1, 2)  # (B, Q, C)
    k = keys.permute(0, 1, 3, 4, 2).reshape(B, N * Hk * Wk, C)  # (B, K, C)
    v = values.permute(0, 1, 3, 4, 2).reshape(B, N * Hk * Wk, V)  # (B, K, V)
    sim = q @ k.transpose(1, 2)  # (B, Q, K): the full matrix
    if key_mask is not None:
        sim = sim.masked_fill(~key_mask.reshape(B, 1, -1), float("-inf"))
    best, idx = sim.max(dim=2)
    out = torch.softmax(sim / temperature, dim=2) @ v
    return (
        out.transpose(1, 2).reshape(B, V, Hq, Wq),
        best.reshape(B, 1, Hq, Wq),
        idx.reshape(B, 1, Hq, Wq),
    )


def local_attention_reference(query, key, value, radius, temperature):
    """Attention of every position of ``query`` over a (2r+1)^2 window of ``key`` around it.

    query, key (B, C, H, W), value (B, V, H, W). Window positions outside the frame are
    excluded. Returns (values (B, V, H, W), max_similarity (B, 1, H, W),
    offset (B, 2, H, W) int64 (dy, dx) of the best match, first in raster order on ties).
    """
    B, C, H, W = query.shape
    d = 2 * radius + 1
    pad = (radius,) * 4
    # Cost volume (B, d*d, H, W), window in raster order (dy major).
    ku = F.unfold(F.pad(key, pad), d).view(B, C, d * d, H, W)
    vu = F.unfold(F.pad(value, pad), d).view(B, value.shape[1], d * d, H, W)
    inside = F.unfold(F.pad(torch.ones(1, 1, H, W, dtype=query.dtype, device=query.device), pad), d)
    sim = (query.unsqueeze(2) * ku).sum(1)
    sim = sim.masked_fill(inside.view(1, d * d, H, W) == 0, float("-inf"))
    best, idx = sim.max(dim=1, keepdim=True)
    out = (torch.softmax(sim / temperature, dim=1).unsqueeze(1) * vu).sum(2)
    offset = torch.cat([idx // d - radius, idx % d - radius], dim=1)
    return out, best, offset


def warp_reference(x, flow):
    """Backward warping: out[y, x] = img(y + flow_y, x + flow_x), bilinear in pixel units.

    x (B, C, H, W), flow (B, 2, H, W) with channel 0 = dx, channel 1 = dy (OpenCV order).
    Taps outside the image count as zero. valid (B, 1, H, W) is 1 where the sample point lies
    in [0, W-1] x [0, H-1] (all used taps inside), else 0. Returns (warped, valid).
    """
    B, C, H, W = x.shape
    ys, xs = torch.meshgrid(
        torch.arange(H, dtype=flow.dtype, device=flow.device),
        torch.arange(W, dtype=flow.dtype, device=flow.device),
        indexing="ij",
    )
    px, py = xs + flow[:, 0], ys + flow[:, 1]  # (B, H, W) sample points
    x0, y0 = px.floor(), py.floor()
    out = torch.zeros_like(x)
    flat = x.reshape(B, C, H * W)
    for dy in (0, 1):
        for dx in (0, 1):
            tx, ty = x0 + dx, y0 + dy
            wgt = (1 - (px - tx).abs()) * (1 - (py - ty).abs())  # bilinear tap weight
            inside = (tx >= 0) & (tx <= W - 1) & (ty >= 0) & (ty <= H - 1)
            idx = (ty.clamp(0, H - 1) * W + tx.clamp(0, W - 1)).long().reshape(B, 1, H * W)
            tap = flat.gather(2, idx.expand(B, C, H * W)).reshape(B, C, H, W)
            out = out + (wgt * inside).unsqueeze(1).to(x.dtype) * tap
    valid = (px >= 0) & (px <= W - 1) & (py >= 0) & (py <= H - 1)
    return out, valid.unsqueeze(1).to(x.dtype)
