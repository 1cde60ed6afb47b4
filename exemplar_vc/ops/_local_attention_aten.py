"""Streaming local attention in ATen ops: the CPU path (and the backward on every device).

Instead of the (2r+1)^2 x H x W cost volume, the window offsets are visited one at a time
(raster order, dy major) with an online softmax (Milakov & Gimelshein 2018, alg. 3): per
offset one (B, H, W) similarity map, so extra memory is O((C + V) H W), independent of r.
The key frame is stored channels-last so each per-pixel dot product reads contiguous
channels. The backward recomputes each offset's weights from the saved log-sum-exp.

q, k: (B, C, H, W); v: (B, V, H, W); index j of an offset is (dy + r) * (2r + 1) + dx + r.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._correspondence_aten import compute_dtype


def _offsets(radius: int):
    d = 2 * radius + 1
    return [(j, j // d - radius, j % d - radius) for j in range(d * d)]


def _outside(s, dy: int, dx: int):
    # -inf where the window position (y + dy, x + dx) falls outside the frame.
    H, W = s.shape[-2:]
    if dy < 0:
        s[..., : min(-dy, H), :] = float("-inf")
    elif dy > 0:
        s[..., max(H - dy, 0) :, :] = float("-inf")
    if dx < 0:
        s[..., : min(-dx, W)] = float("-inf")
    elif dx > 0:
        s[..., max(W - dx, 0) :] = float("-inf")
    return s


def _layouts(q, k, v, radius: int, temperature: float):
    dt = compute_dtype(q.dtype)
    r = radius
    # Channels-last (B, H, W, C): the reduction over C is over contiguous memory.
    qs = (q.to(dt) * (1.0 / temperature)).permute(0, 2, 3, 1).contiguous()
    kp = F.pad(k.to(dt), (r, r, r, r)).permute(0, 2, 3, 1).contiguous()
    vp = F.pad(v.to(dt), (r, r, r, r))
    return dt, qs, kp, vp


def forward(q, k, v, radius: int, temperature: float):
    """Returns out (B, V, H, W), best (B, H, W) raw similarity, arg (B, H, W) int64 offset
    index, lse (B, H, W) = log sum_window exp(s / T)."""
    B, C, H, W = q.shape
    r = radius
    dt, qs, kp, vp = _layouts(q, k, v, r, temperature)
    m = torch.full((B, H, W), float("-inf"), dtype=dt, device=q.device)
    l = torch.zeros_like(m)
    arg = torch.zeros(B, H, W, dtype=torch.long, device=q.device)
    acc = torch.zeros(B, v.shape[1], H, W, dtype=dt, device=q.device)
    for j, dy, dx in _offsets(r):
        s = torch.linalg.vecdot(qs, kp[:, r + dy : r + dy + H, r + dx : r + dx + W])
        s = _outside(s, dy, dx)
        m_new = torch.maximum(m, s)
        arg.masked_fill_(s > m, j)  # strict: the first maximum in raster order wins
        shift = m_new.masked_fill(torch.isinf(m_new), 0.0)  # no inf - inf before a valid offset
        alpha = torch.exp(m - shift)
        p = torch.exp(s - shift)
        l = l * alpha + p
        acc = acc * alpha.unsqueeze(1) + p.unsqueeze(1) * vp[:, :, r + dy : r + dy + H, r + dx : r + dx + W]
        m = m_new
    out = acc / l.unsqueeze(1)
    lse = m + torch.log(l)
    # m is s / T at the argmax: recompute the raw similarity there, in one rounding.
    d = 2 * r + 1
    ky = (torch.arange(H, device=q.device).view(1, H, 1) + arg // d - r).clamp(0, H - 1)
    kx = (torch.arange(W, device=q.device).view(1, 1, W) + arg % d - r).clamp(0, W - 1)
    kk = k.to(dt).permute(0, 2, 3, 1).reshape(B, H * W, C)
    at = kk.gather(1, (ky * W + kx).view(B, H * W, 1).expand(B, H * W, C))
    best = (q.to(dt).permute(0, 2, 3, 1).reshape(B, H * W, C) * at).sum(2).view(B, H, W)
    return out, best, arg, lse


def backward(grad_out, grad_best, q, k, v, out, arg, lse, radius: int, temperature: float):
    """(dq, dk, dv) of forward's (out, best) by recomputing each offset's weights.

    With p_j = exp(s_j / T - lse): dv_j += p_j dO, ds_j = p_j (dO . v_j - dO . O) / T,
    dq += ds_j k_j, dk_j += ds_j q (the softmax backward of FlashAttention-2, sec. 3.1.2,
    per pixel); best = q . k_arg adds grad_best k_arg to dq and grad_best q to dk_arg.
    """
    B, C, H, W = q.shape
    r = radius
    inv_t = 1.0 / temperature
    dt, qs, kp, vp = _layouts(q, k, v, r, temperature)
    qc = q.to(dt)
    go = grad_out.to(dt)
    gb = None if grad_best is None else grad_best.to(dt)  # (B, H, W)
    rowdot = (go * out.to(dt)).sum(1)  # dO . O, (B, H, W)
    kpc = kp.permute(0, 3, 1, 2)  # (B, C, H + 2r, W + 2r) view for the gradient slices
    dq = torch.zeros_like(qc)
    dkp = torch.zeros(B, C, H + 2 * r, W + 2 * r, dtype=dt, device=q.device)
    dvp = torch.zeros_like(vp)
    for j, dy, dx in _offsets(r):
        win = (slice(None), slice(None), slice(r + dy, r + dy + H), slice(r + dx, r + dx + W))
        s = _outside(torch.linalg.vecdot(qs, kp[:, r + dy : r + dy + H, r + dx : r + dx + W]), dy, dx)
        p = torch.exp(s - lse)
        dvp[win] += p.unsqueeze(1) * go
        ds = p * ((go * vp[win]).sum(1) - rowdot) * inv_t
        if gb is not None:
            ds = ds + gb * (arg == j)  # the max similarity's gradient, at its offset only
        dq += ds.unsqueeze(1) * kpc[win]
        dkp[win] += ds.unsqueeze(1) * qc
    crop = (slice(None), slice(None), slice(r, r + H), slice(r, r + W))
    return dq, dkp[crop].contiguous(), dvp[crop].contiguous()
