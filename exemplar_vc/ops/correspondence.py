"""Global correspondence: softmax over all exemplar positions for every query position.

First version: exact, chunked over query rows so peak memory is bounded by
``chunk x keys``. (The streaming kernels, custom-op registration and Triton path are
built on top of this signature.)
"""

from __future__ import annotations

from typing import NamedTuple

import torch

__all__ = ["CorrespondenceResult", "correspondence"]


class CorrespondenceResult(NamedTuple):
    """values: (B, V, Hq, Wq); max_similarity: (B, 1, Hq, Wq); argmax: (B, 1, Hq, Wq) int64
    flat index into the concatenated (N_ref, Hk, Wk) key positions."""

    values: torch.Tensor
    max_similarity: torch.Tensor
    argmax: torch.Tensor


def correspondence(
    query: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    temperature: float,
    key_mask: torch.Tensor | None = None,
    chunk: int = 1024,
) -> CorrespondenceResult:
    """Softmax-weighted exemplar values for every query position.

    Args:
        query: (B, C, Hq, Wq) features, unit norm along C (so dot products are cosines).
        keys: (B, N, C, Hk, Wk) exemplar features, unit norm along C.
        values: (B, N, V, Hk, Wk) what to carry (e.g. exemplar chroma).
        temperature: softmax temperature applied to the cosine similarity.
        key_mask: optional (B, N, Hk, Wk) bool, False excludes a key position.
    """
    B, C, Hq, Wq = query.shape
    _, N, _, Hk, Wk = keys.shape
    V = values.shape[2]
    q = query.flatten(2).transpose(1, 2)  # B, Q, C
    k = keys.permute(0, 1, 3, 4, 2).reshape(B, N * Hk * Wk, C)
    v = values.permute(0, 1, 3, 4, 2).reshape(B, N * Hk * Wk, V)
    mask = None if key_mask is None else key_mask.reshape(B, 1, N * Hk * Wk)
    out_v, out_s, out_i = [], [], []
    for start in range(0, Hq * Wq, chunk):
        sim = torch.bmm(q[:, start : start + chunk], k.transpose(1, 2))
        if mask is not None:
            sim = sim.masked_fill(~mask, float("-inf"))
        best, idx = sim.max(dim=2)
        w = torch.softmax(sim / temperature, dim=2)
        out_v.append(torch.bmm(w, v))
        out_s.append(best)
        out_i.append(idx)
    vals = torch.cat(out_v, 1).transpose(1, 2).reshape(B, V, Hq, Wq)
    best = torch.cat(out_s, 1).reshape(B, 1, Hq, Wq)
    idx = torch.cat(out_i, 1).reshape(B, 1, Hq, Wq)
    return CorrespondenceResult(vals, best, idx)
