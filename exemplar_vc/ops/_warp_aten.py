"""Backward warping in ATen ops: the CPU path (and the backward on every device).

Four bilinear taps gathered in pixel units. (ATen's grid_sample was the first choice but
takes coordinates normalised to [-1, 1]; their fp32 rounding made even a zero flow move
pixels by ~1e-7, so the taps are computed here from exact pixel coordinates.)
x: (B, C, H, W), flow: (B, 2, H, W) with channel 0 = dx, channel 1 = dy.
"""

from __future__ import annotations

import torch

TAPS = ((0, 0), (0, 1), (1, 0), (1, 1))  # (dy, dx) from the floor of the sample point
# The forward fills the output in bands of rows of about this many pixels (the source is
# read whole): each tap makes whole-size index and weight temporaries, and at 4K the
# fresh memory for them cost more than the gathers (benchmarks/README.md, "warp").
BAND_PIXELS = 1 << 18


def _taps(flow, H: int, W: int, row0: int = 0):
    # Per tap: (flat index (B, h*W), is-inside (B, h, W)), and the fractional parts, for
    # the h rows of ``flow`` that start at row ``row0`` of an H x W source.
    h = flow.shape[2]
    px = flow[:, 0] + torch.arange(W, dtype=flow.dtype, device=flow.device)
    py = flow[:, 1] + torch.arange(row0, row0 + h, dtype=flow.dtype, device=flow.device).view(h, 1)
    x0, y0 = px.floor(), py.floor()
    taps = []
    for dy, dx in TAPS:
        tx, ty = x0 + dx, y0 + dy
        inside = (tx >= 0) & (tx <= W - 1) & (ty >= 0) & (ty <= H - 1)
        idx = (ty.clamp(0, H - 1) * W + tx.clamp(0, W - 1)).long().flatten(1)
        taps.append((dy, dx, idx, inside))
    valid = (px >= 0) & (px <= W - 1) & (py >= 0) & (py <= H - 1)
    return taps, px - x0, py - y0, valid


def forward(x, flow):
    """(warped (B, C, H, W), valid (B, 1, H, W)), both in x's dtype."""
    B, C, H, W = x.shape
    rows = max(1, BAND_PIXELS // (B * W))
    if H <= rows:
        return _forward_rows(x, flow, 0)
    bands = [_forward_rows(x, flow[:, :, r : r + rows], r) for r in range(0, H, rows)]
    return torch.cat([b[0] for b in bands], dim=2), torch.cat([b[1] for b in bands], dim=2)


def _forward_rows(x, flow, row0: int):
    """The rows of the warped x (and their validity) that ``flow``, starting at row
    ``row0``, samples from the whole of x."""
    B, C, H, W = x.shape
    h = flow.shape[2]
    taps, fx, fy, valid = _taps(flow, H, W, row0)
    flat = x.reshape(B, C, H * W)
    out = torch.zeros(B, C, h, W, dtype=x.dtype, device=x.device)
    for dy, dx, idx, inside in taps:
        wgt = (fx if dx else 1 - fx) * (fy if dy else 1 - fy) * inside  # bilinear weight
        tap = flat.gather(2, idx.unsqueeze(1).expand(B, C, h * W)).view(B, C, h, W)
        out += wgt.unsqueeze(1).to(x.dtype) * tap
    return out, valid.unsqueeze(1).to(x.dtype)


def backward(grad_out, x, flow):
    """(dx, dflow): the taps' weights scatter the gradient back to x; the flow gets the
    derivative of the bilinear weights, d w / d fx = +-wy, d w / d fy = +-wx."""
    B, C, H, W = x.shape
    taps, fx, fy, _ = _taps(flow, H, W)
    flat = x.reshape(B, C, H * W)
    g = grad_out.reshape(B, C, H * W)
    dx = torch.zeros_like(flat)
    dfx, dfy = torch.zeros_like(fx), torch.zeros_like(fy)
    for dy, dx_, idx, inside in taps:
        wx = (fx if dx_ else 1 - fx) * inside
        wy = (fy if dy else 1 - fy) * inside
        at = idx.unsqueeze(1).expand(B, C, H * W)
        dx.scatter_add_(2, at, (wx * wy).flatten(1).unsqueeze(1).to(g.dtype) * g)
        gv = (g * flat.gather(2, at)).sum(1).view(B, H, W).to(fx.dtype)
        dfx += gv * wy * (1 if dx_ else -1)
        dfy += gv * wx * (1 if dy else -1)
    return dx.view(B, C, H, W), torch.stack([dfx, dfy], dim=1)
