"""Runs the Triton kernels under TRITON_INTERPRET=1 on tiny shapes against the references.

Executed in a subprocess by ``test_triton.py`` (the variable must be set before Triton is
imported, and must not leak into the rest of the suite). Prints one JSON line:
{case: max abs error or a failure message}.
"""

import json
import os
import sys


def main():
    os.environ["TRITON_INTERPRET"] = "1"
    import torch
    import torch.nn.functional as F

    from exemplar_vc.ops import _correspondence_triton, _local_attention_triton, _warp_triton
    from exemplar_vc.ops.reference import (
        correspondence_reference,
        local_attention_reference,
        warp_reference,
    )

    g = torch.Generator().manual_seed(0)
    rand = lambda *s: torch.randn(*s, generator=g)  # noqa: E731
    unit = lambda *s, dim: F.normalize(rand(*s), dim=dim)  # noqa: E731
    results = {}
    for dtype in (torch.float32, torch.float16, torch.bfloat16):
        name = str(dtype).split(".")[1]
        # local attention: r = 2 and 7 on a frame smaller than the window.
        for r, (H, W) in ((2, (5, 9)), (7, (4, 6))):
            q, k, v = (x.to(dtype) for x in (unit(1, 20, H, W, dim=1), unit(1, 20, H, W, dim=1), rand(1, 3, H, W)))
            ref = local_attention_reference(q.double(), k.double(), v.double(), r, 0.01)
            out, best, arg, _ = _local_attention_triton.forward(q, k, v, r, 0.01)
            d = 2 * r + 1
            off = torch.stack([arg // d - r, arg % d - r], 1)
            results[f"local_r{r}_{name}_values"] = (out.double() - ref[0]).abs().max().item()
            results[f"local_r{r}_{name}_best"] = (best.double().unsqueeze(1) - ref[1]).abs().max().item()
            results[f"local_r{r}_{name}_offset_agree"] = (off == ref[2]).double().mean().item()
        # warp: flows reaching outside the frame.
        x, flow = rand(2, 5, 6, 7).to(dtype), (rand(2, 2, 6, 7) * 3).to(dtype)
        ref = warp_reference(x.double(), flow.double())
        out, valid = _warp_triton.forward(x, flow)
        results[f"warp_{name}_values"] = (out.double() - ref[0]).abs().max().item()
        results[f"warp_{name}_valid_agree"] = (valid.double() == ref[1]).double().mean().item()
        # correspondence: 2 exemplars, odd sizes, C > BLOCK_C, K > BLOCK_K, mask, low T.
        # Not bf16: the interpreter's tl.dot multiplies bf16 bit patterns (triton-lang/triton
        # #11584, "not supported yet"); bf16 is covered by the sm_80/sm_90 compile test.
        B, C, Hq, Wq, N, Hk, Wk, V = 2, 70, 5, 13, 2, 6, 7, 3
        q, k = unit(B, C, Hq, Wq, dim=1), unit(B, N, C, Hk, Wk, dim=2)
        v = rand(B, N, V, Hk, Wk)
        mask = torch.rand(B, N, Hk, Wk, generator=g) > 0.3
        qd, kd, vd = (x.to(dtype) for x in (q, k, v))
        ref = correspondence_reference(qd.double(), kd.double(), vd.double(), 0.01, mask)
        qf = qd.flatten(2).transpose(1, 2)  # a strided view, as the op passes it
        kf = kd.permute(0, 1, 3, 4, 2).reshape(B, -1, C)
        vf = vd.permute(0, 1, 3, 4, 2).reshape(B, -1, V)
        if dtype == torch.bfloat16:
            continue
        out, best, idx, _ = _correspondence_triton.forward(qf, kf, vf, 0.01, mask.reshape(B, -1))
        out = out.double().transpose(1, 2).reshape(B, V, Hq, Wq)
        results[f"correspondence_{name}_values"] = (out - ref[0]).abs().max().item()
        results[f"correspondence_{name}_best"] = (best.double().view(B, 1, Hq, Wq) - ref[1]).abs().max().item()
        results[f"correspondence_{name}_argmax_agree"] = (idx.view(B, 1, Hq, Wq) == ref[2]).double().mean().item()
    print(json.dumps(results))


if __name__ == "__main__":
    sys.exit(main())
