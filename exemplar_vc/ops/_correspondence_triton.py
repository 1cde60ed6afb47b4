"""Fused streaming correspondence forward in Triton (the GPU path).

One program owns BLOCK_Q queries of one batch element and streams over all keys in
blocks of BLOCK_K: similarity tile by tl.dot (fp32 accumulation, the channel dimension in
chunks of BLOCK_C), mask, running max / argmax, online softmax (Milakov & Gimelshein
2018, alg. 3; FlashAttention-2, Dao 2023, alg. 1) and the weighted values. Nothing of
size Q x K is ever stored. fp16/bf16 inputs are read as they are; fp32 inputs use IEEE
fp32 dot products (no TF32), so low temperatures stay exact.

Imported lazily (it imports triton); see ``_triton.triton_status``.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from ._triton import next_pow2

LOG2E = 1.4426950408889634  # exp(x) = exp2(x * log2(e))


@triton.jit
def correspondence_fwd_kernel(
    q_ptr, k_ptr, v_ptr, mask_ptr, out_ptr, best_ptr, idx_ptr, lse_ptr,
    Q, K, C, V, scale_log2, inv_t,
    sqb, sqq, sqc, skb, skk, skc, svb, svk, svv, smb, smk, sob, soq, sov,
    HAS_MASK: tl.constexpr, PRECISION: tl.constexpr,
    BLOCK_Q: tl.constexpr, BLOCK_K: tl.constexpr, BLOCK_C: tl.constexpr, BLOCK_V: tl.constexpr,
):
    b = tl.program_id(1)
    rq = tl.program_id(0) * BLOCK_Q + tl.arange(0, BLOCK_Q)
    rc = tl.arange(0, BLOCK_C)
    rv = tl.arange(0, BLOCK_V)
    q_in = rq < Q
    m = tl.full([BLOCK_Q], float("-inf"), tl.float32)  # running max of the raw similarity
    l = tl.zeros([BLOCK_Q], dtype=tl.float32)  # running sum of exp((s - m) / T)
    arg = tl.zeros([BLOCK_Q], dtype=tl.int32)
    acc = tl.zeros([BLOCK_Q, BLOCK_V], dtype=tl.float32)
    for k0 in range(0, K, BLOCK_K):
        rk = k0 + tl.arange(0, BLOCK_K)
        k_in = rk < K
        s = tl.zeros([BLOCK_Q, BLOCK_K], dtype=tl.float32)
        for c0 in range(0, C, BLOCK_C):
            c_in = (c0 + rc) < C
            qc = tl.load(
                q_ptr + b * sqb + rq[:, None] * sqq + (c0 + rc)[None, :] * sqc,
                mask=q_in[:, None] & c_in[None, :], other=0.0,
            )
            kc = tl.load(
                k_ptr + b * skb + rk[None, :] * skk + (c0 + rc)[:, None] * skc,
                mask=k_in[None, :] & c_in[:, None], other=0.0,
            )
            s += tl.dot(qc, kc, input_precision=PRECISION)
        valid = k_in
        if HAS_MASK:
            valid = valid & (tl.load(mask_ptr + b * smb + rk * smk, mask=k_in, other=0) != 0)
        s = tl.where(valid[None, :], s, float("-inf"))
        bm = tl.max(s, axis=1)
        bi = tl.argmax(s, axis=1, tie_break_left=True).to(tl.int32) + k0
        m_new = tl.maximum(m, bm)
        arg = tl.where(bm > m, bi, arg)  # strict: the first maximum wins, as torch.max
        # Rows with every key so far masked keep m = -inf; shift by 0 so no inf - inf.
        shift = tl.where(m_new == float("-inf"), 0.0, m_new)
        alpha = tl.exp2((m - shift) * scale_log2)
        p = tl.exp2((s - shift[:, None]) * scale_log2)
        l = l * alpha + tl.sum(p, axis=1)
        vb = tl.load(
            v_ptr + b * svb + rk[:, None] * svk + rv[None, :] * svv,
            mask=valid[:, None] & (rv[None, :] < V), other=0.0,
        )
        acc = acc * alpha[:, None] + tl.dot(p.to(vb.dtype), vb, input_precision=PRECISION)
        m = m_new
    out = acc / l[:, None]
    tl.store(
        out_ptr + b * sob + rq[:, None] * soq + rv[None, :] * sov,
        out.to(out_ptr.dtype.element_ty), mask=q_in[:, None] & (rv[None, :] < V),
    )
    shift = tl.where(m == float("-inf"), 0.0, m)
    tl.store(best_ptr + b * Q + rq, m, mask=q_in)
    tl.store(idx_ptr + b * Q + rq, arg.to(tl.int64), mask=q_in)
    tl.store(lse_ptr + b * Q + rq, shift * inv_t + tl.log(l), mask=q_in)


def launch_config(C: int, V: int, dtype: torch.dtype) -> dict:
    """Block sizes (untuned on hardware: chosen so tiles fit registers for C up to 256)."""
    wide = dtype == torch.float32
    return dict(
        BLOCK_Q=64,
        BLOCK_K=32 if wide else 64,
        BLOCK_C=min(64, next_pow2(C)),
        BLOCK_V=next_pow2(V),
        PRECISION="ieee" if wide else "tf32",  # "tf32" is ignored for fp16/bf16 operands
    )


def forward(q, k, v, temperature: float, mask=None):
    """Same contract as ``_correspondence_aten.forward`` (q (B, Q, C), k (B, K, C),
    v (B, K, V), mask (B, K) bool); out in v's dtype, best and lse in fp32."""
    B, Q, C = q.shape
    K, V = k.shape[1], v.shape[2]
    out = torch.empty(B, Q, V, dtype=v.dtype, device=q.device)
    best = torch.empty(B, Q, dtype=torch.float32, device=q.device)
    idx = torch.empty(B, Q, dtype=torch.long, device=q.device)
    lse = torch.empty(B, Q, dtype=torch.float32, device=q.device)
    m8 = mask.to(torch.int8) if mask is not None else torch.ones(1, 1, dtype=torch.int8, device=q.device)
    cfg = launch_config(C, V, q.dtype)
    grid = (triton.cdiv(Q, cfg["BLOCK_Q"]), B)
    correspondence_fwd_kernel[grid](
        q, k, v, m8, out, best, idx, lse,
        Q, K, C, V, LOG2E / temperature, 1.0 / temperature,
        *q.stride(), *k.stride(), *v.stride(), *m8.stride(), *out.stride(),
        HAS_MASK=mask is not None, **cfg,
    )
    return out, best, idx, lse


def ast_source(dtype: str = "fp16", has_mask: bool = True, C: int = 176, V: int = 2):
    """The kernel with a fixed signature, for ahead-of-time ``triton.compile`` checks."""
    from triton.compiler import ASTSource

    tdt = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}[dtype]
    cfg = launch_config(C, V, tdt)
    ptrs = {n: f"*{dtype}" for n in ("q_ptr", "k_ptr", "v_ptr", "out_ptr")}
    sig = {**ptrs, "mask_ptr": "*i8", "best_ptr": "*fp32", "idx_ptr": "*i64", "lse_ptr": "*fp32"}
    sig.update({n: "i32" for n in ("Q", "K", "C", "V")})
    sig.update({"scale_log2": "fp32", "inv_t": "fp32"})
    strides = ("sqb", "sqq", "sqc", "skb", "skk", "skc", "svb", "svk", "svv", "smb", "smk", "sob", "soq", "sov")
    sig.update({n: "i32" for n in strides})
    consts = {"HAS_MASK": has_mask, **cfg}
    sig.update({n: "constexpr" for n in consts})
    order = correspondence_fwd_kernel.arg_names
    return ASTSource(fn=correspondence_fwd_kernel, signature={n: sig[n] for n in order}, constexprs=consts)

