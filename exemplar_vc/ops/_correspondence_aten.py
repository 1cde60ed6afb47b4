"""Streaming correspondence in ATen ops: the CPU path (and the backward on every device).

Tiles of (queries x keys) bound the memory: at most ``TILE_ELEMS`` similarities live at
once, never the (Q x K) matrix. Keys are streamed with the online softmax of Milakov &
Gimelshein 2018 ("Online normalizer calculation for softmax", alg. 3), as FlashAttention
does (Dao et al. 2022, alg. 1); when a whole key row fits in a tile there is one key block
and the update is a plain softmax. The backward recomputes the tiles from the saved
log-sum-exp (FlashAttention alg. 2 / FlashAttention-2 sec. 3.1.2).

All tensors here are flattened: q (B, Q, C), k (B, K, C), v (B, K, V), mask (B, K) bool.
Similarities are in units of 1/temperature (q is pre-scaled), which saves one pass over
each tile; the reported max similarity is recomputed in raw units at the argmax.
"""

from __future__ import annotations

import torch

# 2^24 fp32 similarities = 64 MiB per tile (one buffer in the forward). Measured on
# 2 shared cores: as fast as 2^22 when idle, 2.4x faster under load (fewer ATen calls, so
# fewer thread barriers waiting on a descheduled thread); see benchmarks/README.md "Ops".
TILE_ELEMS = 1 << 24


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """fp16/bf16 are computed in fp32 on this path; fp32/fp64 as they are."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def tiles(Q: int, K: int, tile_elems: int) -> tuple[int, int]:
    """(query block, key block): whole key rows when at least 64 of them fit a tile."""
    if K * 64 <= tile_elems:
        return max(1, min(Q, tile_elems // K)), K
    return min(Q, 64), max(1, tile_elems // 64)


def _bias(mask, dtype):
    # -inf on excluded keys, added to the similarities (B, 1, K).
    if mask is None:
        return None
    return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill_(~mask, float("-inf")).unsqueeze(1)


def forward(q, k, v, temperature: float, mask=None, tile_elems: int | None = None):
    """Returns out (B, Q, V), best (B, Q) raw similarity, idx (B, Q) int64, lse (B, Q).

    lse = log sum_j exp(s_j / T), the softmax normaliser saved for the backward.
    """
    B, Q, C = q.shape
    K, V = k.shape[1], v.shape[2]
    dt = compute_dtype(q.dtype)
    qs = q.to(dt) * (1.0 / temperature)
    k, v = k.to(dt), v.to(dt)
    bias = _bias(mask, dt)
    bq, bk = tiles(Q, K, tile_elems or TILE_ELEMS)
    # Tile buffers are reused: a fresh 64 MiB tensor per tile costs page faults that
    # measured as much as the GEMM itself.
    sbuf = torch.empty(B * bq * bk, dtype=dt, device=q.device)
    out = torch.empty(B, Q, V, dtype=dt, device=q.device)
    lse = torch.empty(B, Q, dtype=dt, device=q.device)
    idx = torch.empty(B, Q, dtype=torch.long, device=q.device)
    if bk == K:  # whole key rows: a plain (fused ATen) softmax per tile
        for q0 in range(0, Q, bq):
            qb = qs[:, q0 : q0 + bq]
            n = qb.shape[1]
            s = torch.bmm(qb, k.transpose(1, 2), out=sbuf[: B * n * K].view(B, n, K))
            if bias is not None:
                s += bias
            m, ib = s.max(dim=2)
            # In place: the row-wise kernel reads each element before writing it (the
            # tests compare with the reference, so a change in ATen would show).
            p = torch.ops.aten._softmax.out(s, 2, False, out=s)
            torch.bmm(p, v, out=out[:, q0 : q0 + n])
            # The argmax carries exp(0) / l = 1 / l, so lse = m + log l = m - log p[argmax].
            lse[:, q0 : q0 + n] = m - torch.log(p.gather(2, ib.unsqueeze(2)).squeeze(2))
            idx[:, q0 : q0 + n] = ib
    else:
        # A column of ones makes the same GEMM return the softmax denominator sum_j p_j.
        v1 = torch.cat([v, torch.ones(B, K, 1, dtype=dt, device=v.device)], dim=2)
        for q0 in range(0, Q, bq):
            qb = qs[:, q0 : q0 + bq]
            n = qb.shape[1]
            m = acc = ib = None
            for k0 in range(0, K, bk):
                kb = k[:, k0 : k0 + bk]
                s = torch.bmm(qb, kb.transpose(1, 2), out=sbuf[: B * n * kb.shape[1]].view(B, n, -1))
                if bias is not None:
                    s += bias[:, :, k0 : k0 + bk]
                bm, bi = s.max(dim=2)
                bi += k0
                if m is None:
                    m_new, ib = bm, bi
                else:
                    m_new = torch.maximum(m, bm)
                    ib = torch.where(bm > m, bi, ib)  # strict: first maximum wins, as torch.max
                # A row whose keys so far are all masked has m = -inf: shift by 0 instead.
                shift = m_new.masked_fill(torch.isinf(m_new), 0.0)
                s.sub_(shift.unsqueeze(2)).exp_()
                pv = torch.bmm(s, v1[:, k0 : k0 + bk])
                if acc is None:
                    acc = pv
                else:
                    acc = acc.mul_(torch.exp(m - shift).unsqueeze(2)).add_(pv)  # online rescale
                m = m_new
            out[:, q0 : q0 + n] = acc[..., :V] / acc[..., V:]
            lse[:, q0 : q0 + n] = m + torch.log(acc[..., V])
            idx[:, q0 : q0 + n] = ib
    best = (q.to(dt) * k.gather(1, idx.unsqueeze(2).expand(B, Q, C))).sum(2)
    return out, best, idx, lse


def backward(grad_out, grad_best, q, k, v, out, idx, lse, temperature: float, mask=None, tile_elems: int | None = None):
    """Gradients (dq, dk, dv) of forward's (out, best), by recomputing the tiles.

    With P = softmax(S / T), O = P V: dV = P^T dO, dS = P * (dO V^T - rowsum(dO * O)) / T,
    dQ = dS K, dK = dS^T Q (FlashAttention-2, eq. in sec. 3.1.2). best = q_i . k_argmax adds
    grad_best * k_argmax to dq_i and grad_best * q_i to dk_argmax.
    """
    B, Q, C = q.shape
    K = k.shape[1]
    dt = compute_dtype(q.dtype)
    inv_t = 1.0 / temperature
    q, k, v = q.to(dt), k.to(dt), v.to(dt)
    go, lse = grad_out.to(dt), lse.to(dt)
    qs = q * inv_t
    rowdot = (go * out.to(dt)).sum(2)  # D_i = rowsum(dO * O), (B, Q)
    bias = _bias(mask, dt)
    dq, dk, dv = torch.zeros_like(q), torch.zeros_like(k), torch.zeros_like(v)
    bq, bk = tiles(Q, K, tile_elems or TILE_ELEMS)
    for q0 in range(0, Q, bq):
        qsl = slice(q0, q0 + bq)
        for k0 in range(0, K, bk):
            ksl = slice(k0, k0 + bk)
            s = torch.bmm(qs[:, qsl], k[:, ksl].transpose(1, 2))
            if bias is not None:
                s += bias[:, :, ksl]
            p = s.sub_(lse[:, qsl].unsqueeze(2)).exp_()  # recomputed softmax weights
            dv[:, ksl] += torch.bmm(p.transpose(1, 2), go[:, qsl])
            ds = torch.bmm(go[:, qsl], v[:, ksl].transpose(1, 2))
            ds.sub_(rowdot[:, qsl].unsqueeze(2)).mul_(p).mul_(inv_t)
            dq[:, qsl] += torch.bmm(ds, k[:, ksl])
            dk[:, ksl] += torch.bmm(ds.transpose(1, 2), q[:, qsl])
    if grad_best is not None:
        g = grad_best.to(dt).unsqueeze(2)
        at = idx.unsqueeze(2).expand(B, Q, C)
        dq += g * k.gather(1, at)
        dk.scatter_add_(1, at, g * q)
    return dq, dk, dv
