"""Local correspondence: softmax over a (2r+1)^2 window of the neighbouring frame.

First version: exact, unfold-based, chunked over rows to bound memory.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

__all__ = ["LocalAttentionResult", "local_attention"]


class LocalAttentionResult(NamedTuple):
    """values: (B, V, H, W); max_similarity: (B, 1, H, W); offset: (B, 2, H, W) int64 (dy, dx)
    of the best match. Window positions outside the frame are excluded."""

    values: torch.Tensor
    max_similarity: torch.Tensor
    offset: torch.Tensor


def local_attention(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, radius: int, temperature: float
) -> LocalAttentionResult:
    """query, key: (B, C, H, W) unit-norm features; value: (B, V, H, W)."""
    B, C, H, W = query.shape
    V = value.shape[1]
    d = 2 * radius + 1
    kpad = F.pad(key, (radius,) * 4)
    vpad = F.pad(value, (radius,) * 4)
    valid = F.pad(torch.ones(1, 1, H, W, dtype=query.dtype, device=query.device), (radius,) * 4)
    ku = F.unfold(kpad, d).view(B, C, d * d, H, W)
    vu = F.unfold(vpad, d).view(B, V, d * d, H, W)
    mu = F.unfold(valid, d).view(1, d * d, H, W) > 0
    sim = (query.unsqueeze(2) * ku).sum(1)  # B, d*d, H, W
    sim = sim.masked_fill(~mu, float("-inf"))
    best, idx = sim.max(dim=1, keepdim=True)
    w = torch.softmax(sim / temperature, dim=1)
    vals = (w.unsqueeze(1) * vu).sum(2)
    offset = torch.cat([idx // d - radius, idx % d - radius], dim=1)
    return LocalAttentionResult(vals, best, offset)
