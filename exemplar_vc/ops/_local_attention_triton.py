"""Fused local attention forward in Triton (the GPU path).

One program owns BLOCK_P pixels (flattened y * W + x) of one batch element and visits the
(2r+1)^2 window offsets in raster order with an online softmax (Milakov & Gimelshein 2018,
alg. 3): per offset it gathers the neighbour's key (channels in chunks of BLOCK_C, fp32
accumulation) and value. No cost volume is stored.

Imported lazily (it imports triton); see ``_triton.triton_status``.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from ._triton import next_pow2

LOG2E = 1.4426950408889634  # exp(x) = exp2(x * log2(e))


@triton.jit
def local_attention_fwd_kernel(
    q_ptr, k_ptr, v_ptr, out_ptr, best_ptr, arg_ptr, lse_ptr,
    H, W, C, V, R, scale_log2, inv_t,
    sqb, sqc, sqh, sqw, skb, skc, skh, skw, svb, svc, svh, svw,
    BLOCK_P: tl.constexpr, BLOCK_C: tl.constexpr, BLOCK_V: tl.constexpr,
):
    b = tl.program_id(1)
    rp = tl.program_id(0) * BLOCK_P + tl.arange(0, BLOCK_P)
    p_in = rp < H * W
    y = rp // W
    x = rp % W
    rc = tl.arange(0, BLOCK_C)
    rv = tl.arange(0, BLOCK_V)
    D = 2 * R + 1
    m = tl.full([BLOCK_P], float("-inf"), tl.float32)
    l = tl.zeros([BLOCK_P], dtype=tl.float32)
    arg = tl.zeros([BLOCK_P], dtype=tl.int32)
    acc = tl.zeros([BLOCK_P, BLOCK_V], dtype=tl.float32)
    for j in range(0, D * D):
        ky = y + j // D - R
        kx = x + j % D - R
        valid = p_in & (ky >= 0) & (ky < H) & (kx >= 0) & (kx < W)
        s = tl.zeros([BLOCK_P], dtype=tl.float32)
        for c0 in range(0, C, BLOCK_C):
            c_in = (c0 + rc) < C
            qc = tl.load(
                q_ptr + b * sqb + (c0 + rc)[None, :] * sqc + (y * sqh + x * sqw)[:, None],
                mask=p_in[:, None] & c_in[None, :], other=0.0,
            )
            kc = tl.load(
                k_ptr + b * skb + (c0 + rc)[None, :] * skc + (ky * skh + kx * skw)[:, None],
                mask=valid[:, None] & c_in[None, :], other=0.0,
            )
            s += tl.sum(qc.to(tl.float32) * kc.to(tl.float32), axis=1)
        s = tl.where(valid, s, float("-inf"))
        m_new = tl.maximum(m, s)
        arg = tl.where(s > m, j, arg)  # strict: the first maximum in raster order wins
        shift = tl.where(m_new == float("-inf"), 0.0, m_new)
        alpha = tl.exp2((m - shift) * scale_log2)
        p = tl.exp2((s - shift) * scale_log2)
        l = l * alpha + p
        vj = tl.load(
            v_ptr + b * svb + rv[None, :] * svc + (ky * svh + kx * svw)[:, None],
            mask=valid[:, None] & (rv[None, :] < V), other=0.0,
        )
        acc = acc * alpha[:, None] + p[:, None] * vj.to(tl.float32)
        m = m_new
    l = tl.where(p_in, l, 1.0)  # pixels past the end: no log(0)
    out = acc / l[:, None]
    # out is (B, V, H, W) contiguous.
    tl.store(
        out_ptr + b * V * H * W + rv[None, :] * H * W + rp[:, None],
        out.to(out_ptr.dtype.element_ty), mask=p_in[:, None] & (rv[None, :] < V),
    )
    tl.store(best_ptr + b * H * W + rp, m, mask=p_in)
    tl.store(arg_ptr + b * H * W + rp, arg.to(tl.int64), mask=p_in)
    tl.store(lse_ptr + b * H * W + rp, m * inv_t + tl.log(l), mask=p_in)


def launch_config(C: int, V: int) -> dict:
    """Block sizes (untuned on hardware)."""
    return dict(BLOCK_P=64, BLOCK_C=min(64, next_pow2(C)), BLOCK_V=next_pow2(V, minimum=2))


def forward(q, k, v, radius: int, temperature: float):
    """Same contract as ``_local_attention_aten.forward``; out in v's dtype, best and lse fp32."""
    B, C, H, W = q.shape
    V = v.shape[1]
    out = torch.empty(B, V, H, W, dtype=v.dtype, device=q.device)
    best = torch.empty(B, H, W, dtype=torch.float32, device=q.device)
    arg = torch.empty(B, H, W, dtype=torch.long, device=q.device)
    lse = torch.empty(B, H, W, dtype=torch.float32, device=q.device)
    cfg = launch_config(C, V)
    grid = (triton.cdiv(H * W, cfg["BLOCK_P"]), B)
    local_attention_fwd_kernel[grid](
        q, k, v, out, best, arg, lse,
        H, W, C, V, radius, LOG2E / temperature, 1.0 / temperature,
        *q.stride(), *k.stride(), *v.stride(), **cfg,
    )
    return out, best, arg, lse


def ast_source(dtype: str = "fp16", C: int = 176, V: int = 3):
    """The kernel with a fixed signature, for ahead-of-time ``triton.compile`` checks."""
    from triton.compiler import ASTSource

    sig = {n: f"*{dtype}" for n in ("q_ptr", "k_ptr", "v_ptr", "out_ptr")}
    sig.update({"best_ptr": "*fp32", "arg_ptr": "*i64", "lse_ptr": "*fp32"})
    sig.update({n: "i32" for n in ("H", "W", "C", "V", "R")})
    sig.update({"scale_log2": "fp32", "inv_t": "fp32"})
    sig.update({f"s{t}{d}": "i32" for t in "qkv" for d in "bchw"})
    consts = launch_config(C, V)
    sig.update({n: "constexpr" for n in consts})
    order = local_attention_fwd_kernel.arg_names
    return ASTSource(fn=local_attention_fwd_kernel, signature={n: sig[n] for n in order}, constexprs=consts)
