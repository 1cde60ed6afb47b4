"""Benchmark of ``exemplar_vc.ops.local_attention`` on the CPU (see benchmarks/README.md, "Ops").

Compares, on the same unit-norm float32 tensors at temperature 0.01:
  ours    the op's CPU path (offset loop, online softmax), under no_grad;
  unfold  the reference (``reference.local_attention_reference``): unfold builds the
          (2r+1)^2 cost volume and the windowed keys and values, then a softmax;
(The first version of the op, commit 0d4346a, was this same unfold scheme.)
FLOPs per call: 2 H W (2r+1)^2 (C + V); GFLOP/s = FLOPs / median.

    python benchmarks/ops_local_attention.py --out benchmarks/results/ops_local_attention.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import ops_harness

TEMPERATURE = 0.01
# (H, W, C, V): the sizes at C = 64, and the fusion step's (C = 176, V = 3).
SIZES = [(60, 107, 64, 2), (120, 214, 64, 2), (48, 64, 176, 3)]
RADII = (4, 7)


def one(method: str, H: int, W: int, C: int, V: int, r: int, warmup: int, runs: int) -> dict:
    import torch
    import torch.nn.functional as F

    from exemplar_vc.ops import local_attention
    from exemplar_vc.ops.reference import local_attention_reference

    g = torch.Generator().manual_seed(0)
    q = F.normalize(torch.randn(1, C, H, W, generator=g), dim=1)
    k = F.normalize(torch.randn(1, C, H, W, generator=g), dim=1)
    v = torch.rand(1, V, H, W, generator=g)
    fns = {
        "ours": lambda: local_attention(q, k, v, r, TEMPERATURE),
        "unfold": lambda: local_attention_reference(q, k, v, r, TEMPERATURE),
    }
    with torch.no_grad():
        return ops_harness.measure(fns[method], warmup, runs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--one", nargs=8, metavar="ARG", help="internal: method H W C V r warmup runs")
    ap.add_argument("--out", type=Path, help="write the JSON results here")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: one per core)")
    a = ap.parse_args()
    if a.one:
        ops_harness.set_threads(a.threads)
        m, *nums = a.one
        print(json.dumps(one(m, *map(int, nums))))
        return
    results = []
    for H, W, C, V in SIZES:
        for r in RADII:
            d2 = (2 * r + 1) ** 2
            for m in ("ours", "unfold"):
                row = {"method": m, "H": H, "W": W, "C": C, "V": V, "radius": r, "flops": 2 * H * W * d2 * (C + V)}
                row.update(ops_harness.run_child(__file__, threads=a.threads, args=[m, str(H), str(W), str(C), str(V), str(r), "2", "5"]))
                if "median_s" in row:
                    row["gflops"] = row["flops"] / row["median_s"] / 1e9
                print(json.dumps(row), file=sys.stderr, flush=True)
                results.append(row)
    doc = {"benchmark": "ops_local_attention", "machine": ops_harness.machine(), "commit": ops_harness.commit(), "threads": a.threads or "default",
           "temperature": TEMPERATURE, "results": results}
    ops_harness.emit(doc, a.out)


if __name__ == "__main__":
    main()
