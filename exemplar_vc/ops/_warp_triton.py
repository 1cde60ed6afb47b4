"""Backward warping in Triton (the GPU forward): per pixel, four bilinear taps.

Same conventions as ``reference.warp_reference``: sample point (x + flow_x, y + flow_y) in
pixel units, taps outside the image are zero, valid = the point lies in [0, W-1] x [0, H-1].
Imported lazily (it imports triton).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from ._triton import next_pow2


@triton.jit
def warp_fwd_kernel(
    x_ptr, flow_ptr, out_ptr, valid_ptr,
    C, H, W,
    sxb, sxc, sxh, sxw, sfb, sfc, sfh, sfw,
    BLOCK_P: tl.constexpr, BLOCK_C: tl.constexpr,
):
    b = tl.program_id(1)
    rp = tl.program_id(0) * BLOCK_P + tl.arange(0, BLOCK_P)
    p_in = rp < H * W
    y = rp // W
    x = rp % W
    fbase = flow_ptr + b * sfb + y * sfh + x * sfw
    px = x.to(tl.float32) + tl.load(fbase, mask=p_in, other=0.0).to(tl.float32)
    py = y.to(tl.float32) + tl.load(fbase + sfc, mask=p_in, other=0.0).to(tl.float32)
    x0 = tl.floor(px)
    y0 = tl.floor(py)
    fx = px - x0
    fy = py - y0
    x0i = x0.to(tl.int32)
    y0i = y0.to(tl.int32)
    rc = tl.arange(0, BLOCK_C)
    for c0 in range(0, C, BLOCK_C):
        c_in = (c0 + rc) < C
        acc = tl.zeros([BLOCK_P, BLOCK_C], dtype=tl.float32)
        for t in range(4):  # taps (0,0), (0,1), (1,0), (1,1) as (dy, dx)
            ty = y0i + t // 2
            tx = x0i + t % 2
            wy = tl.where(t // 2 == 1, fy, 1.0 - fy)
            wx = tl.where(t % 2 == 1, fx, 1.0 - fx)
            ok = p_in & (tx >= 0) & (tx < W) & (ty >= 0) & (ty < H)
            tap = tl.load(
                x_ptr + b * sxb + (c0 + rc)[None, :] * sxc + (ty * sxh + tx * sxw)[:, None],
                mask=ok[:, None] & c_in[None, :], other=0.0,
            )
            acc += (wy * wx)[:, None] * tap.to(tl.float32)
        # out is (B, C, H, W) contiguous
        tl.store(
            out_ptr + b * C * H * W + (c0 + rc)[None, :] * H * W + rp[:, None],
            acc.to(out_ptr.dtype.element_ty), mask=p_in[:, None] & c_in[None, :],
        )
    inside = (px >= 0) & (px <= W - 1) & (py >= 0) & (py <= H - 1)
    tl.store(valid_ptr + b * H * W + rp, tl.where(inside, 1.0, 0.0).to(valid_ptr.dtype.element_ty), mask=p_in)


def launch_config(C: int) -> dict:
    return dict(BLOCK_P=128, BLOCK_C=min(32, next_pow2(C, minimum=1)))


def forward(x, flow):
    """x (B, C, H, W), flow (B, 2, H, W) -> (warped (B, C, H, W), valid (B, 1, H, W)), x's dtype."""
    B, C, H, W = x.shape
    out = torch.empty(B, C, H, W, dtype=x.dtype, device=x.device)
    valid = torch.empty(B, 1, H, W, dtype=x.dtype, device=x.device)
    cfg = launch_config(C)
    grid = (triton.cdiv(H * W, cfg["BLOCK_P"]), B)
    warp_fwd_kernel[grid](x, flow, out, valid, C, H, W, *x.stride(), *flow.stride(), **cfg)
    return out, valid


def ast_source(dtype: str = "fp16", C: int = 3):
    """The kernel with a fixed signature, for ahead-of-time ``triton.compile`` checks."""
    from triton.compiler import ASTSource

    sig = {"x_ptr": f"*{dtype}", "flow_ptr": f"*{dtype}", "out_ptr": f"*{dtype}", "valid_ptr": f"*{dtype}"}
    sig.update({n: "i32" for n in ("C", "H", "W")})
    sig.update({f"s{t}{d}": "i32" for t in "xf" for d in "bchw"})
    consts = launch_config(C)
    sig.update({n: "constexpr" for n in consts})
    order = warp_fwd_kernel.arg_names
    return ASTSource(fn=warp_fwd_kernel, signature={n: sig[n] for n in order}, constexprs=consts)
