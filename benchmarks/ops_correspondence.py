"""Benchmark of ``exemplar_vc.ops.correspondence`` on the CPU (see benchmarks/README.md, "Ops").

Compares, on the same unit-norm float32 tensors at temperature 0.01:
  ours   the op's CPU path (streaming ATen tiles), under no_grad;
  naive  the full similarity matrix: bmm, max, softmax, bmm (the matrix is materialised;
         skipped where 2 matrices would exceed NAIVE_LIMIT_GB);
  sdpa   torch.nn.functional.scaled_dot_product_attention (values only, no max/argmax;
         inputs already in its (B, 1, L, C) layout, so its layout change is not timed).
         With V != C its CPU dispatch takes the math path, which also materialises the
         matrix (measured 9.0 GB at 135x240, one exemplar; killed for memory with three),
         so it is skipped under the same limit as naive;
  v0     the first chunked version of the op (commit 0d4346a), for the pipeline case.
FLOPs per call count the two matrix products, 2 Q K (C + V); GFLOP/s = FLOPs / median.

    python benchmarks/ops_correspondence.py --out benchmarks/results/ops_correspondence.json

``--ab`` compares ours with v0 at the fusion step's sizes by alternating calls in one
process (11 rounds after a warm-up), so both see the same background load.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import ops_harness

TEMPERATURE = 0.01
NAIVE_LIMIT_GB = 10.0
GRID = [((60, 107), n) for n in (1, 3)] + [((120, 214), n) for n in (1, 3)] + [((135, 240), n) for n in (1, 3)]
PIPELINE = [((48, 64), 1), ((48, 64), 2), ((64, 64), 2)]  # C = 176, V = 2, as the fusion step


def v0_correspondence(query, keys, values, temperature, chunk=1024):
    """The first version of the op (commit 0d4346a): chunks of query rows, full softmax."""
    import torch

    B, C, Hq, Wq = query.shape
    _, N, _, Hk, Wk = keys.shape
    V = values.shape[2]
    q = query.flatten(2).transpose(1, 2)
    k = keys.permute(0, 1, 3, 4, 2).reshape(B, N * Hk * Wk, C)
    v = values.permute(0, 1, 3, 4, 2).reshape(B, N * Hk * Wk, V)
    outs, bests, idxs = [], [], []
    for start in range(0, Hq * Wq, chunk):
        sim = torch.bmm(q[:, start : start + chunk], k.transpose(1, 2))
        best, idx = sim.max(dim=2)
        outs.append(torch.bmm(torch.softmax(sim / temperature, dim=2), v))
        bests.append(best)
        idxs.append(idx)
    return torch.cat(outs, 1), torch.cat(bests, 1), torch.cat(idxs, 1)


def naive(q, k, v, temperature):
    """Full (Q x K) matrix, scaled in place so only two copies live (sim, softmax)."""
    import torch

    sim = torch.bmm(q, k.transpose(1, 2))
    best, idx = sim.max(dim=2)
    return torch.bmm(torch.softmax(sim.div_(temperature), dim=2), v), best, idx


def one(method: str, H: int, W: int, N: int, C: int, V: int, warmup: int, runs: int) -> dict:
    import torch
    import torch.nn.functional as F

    from exemplar_vc.ops import correspondence

    g = torch.Generator().manual_seed(0)
    query = F.normalize(torch.randn(1, C, H, W, generator=g), dim=1)
    keys = F.normalize(torch.randn(1, N, C, H, W, generator=g), dim=2)
    values = torch.rand(1, N, V, H, W, generator=g) * 2 - 1
    q = query.flatten(2).transpose(1, 2).contiguous()
    k = keys.permute(0, 1, 3, 4, 2).reshape(1, -1, C).contiguous()
    v = values.permute(0, 1, 3, 4, 2).reshape(1, -1, V).contiguous()
    fns = {
        "ours": lambda: correspondence(query, keys, values, TEMPERATURE),
        "naive": lambda: naive(q, k, v, TEMPERATURE),
        "sdpa": lambda: F.scaled_dot_product_attention(q[:, None], k[:, None], v[:, None], scale=1 / TEMPERATURE),
        "v0": lambda: v0_correspondence(query, keys, values, TEMPERATURE),
    }
    with torch.no_grad():
        return ops_harness.measure(fns[method], warmup, runs)


def ab(rounds: int = 11) -> list[dict]:
    """Interleaved ours / v0 timings at the PIPELINE sizes (C = 176, V = 2)."""
    import time

    import torch
    import torch.nn.functional as F

    from exemplar_vc.ops import correspondence

    rows = []
    for (H, W), N in PIPELINE:
        g = torch.Generator().manual_seed(0)
        query = F.normalize(torch.randn(1, 176, H, W, generator=g), dim=1)
        keys = F.normalize(torch.randn(1, N, 176, H, W, generator=g), dim=2)
        values = torch.rand(1, N, 2, H, W, generator=g) * 2 - 1
        fns = {
            "ours": lambda: correspondence(query, keys, values, TEMPERATURE),
            "v0": lambda: v0_correspondence(query, keys, values, TEMPERATURE),
        }
        times = {m: [] for m in fns}
        with torch.no_grad():
            for fn in fns.values():
                fn()
            for _ in range(rounds):
                for m, fn in fns.items():
                    t0 = time.perf_counter()
                    fn()
                    times[m].append(time.perf_counter() - t0)
        for m, ts in times.items():
            ts.sort()
            rows.append({"method": m, "H": H, "W": W, "N_ref": N, "C": 176, "V": 2, "flops": 2 * H * W * N * H * W * 178,
                         "median_s": ts[len(ts) // 2], "min_s": ts[0], "max_s": ts[-1], "runs": rounds, "warmup": 1,
                         "peak_extra_mb": None, "gflops": 2 * H * W * N * H * W * 178 / ts[len(ts) // 2] / 1e9})
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--one", nargs=8, metavar="ARG", help="internal: method H W N C V warmup runs")
    ap.add_argument("--out", type=Path, help="write the JSON results here")
    ap.add_argument("--quick", action="store_true", help="only the smallest grid size")
    ap.add_argument("--only", help="only cases H x W with this N_ref, e.g. 135x240x1")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: one per core)")
    ap.add_argument("--ab", action="store_true", help="interleaved ours vs v0 at the fusion step's sizes")
    a = ap.parse_args()
    if a.one:
        ops_harness.set_threads(a.threads)
        m, *nums = a.one
        print(json.dumps(one(m, *map(int, nums))))
        return
    results = []
    cases = [(hw, n, 64, ("ours", "sdpa", "naive")) for hw, n in GRID]
    cases += [(hw, n, 176, ("ours", "v0", "sdpa")) for hw, n in PIPELINE]
    if a.ab:
        ops_harness.set_threads(a.threads)
        results, cases = ab(), []
    if a.quick:
        cases = cases[:1]
    if a.only:
        cases = [c for c in cases if f"{c[0][0]}x{c[0][1]}x{c[1]}" == a.only]
    for (H, W), N, C, methods in cases:
        Q, K, V = H * W, N * H * W, 2
        warmup, runs = (1, 3) if Q * K > 2e8 else (2, 7)
        for m in methods:
            row = {"method": m, "H": H, "W": W, "N_ref": N, "C": C, "V": V, "flops": 2 * Q * K * (C + V)}
            if m in ("naive", "sdpa") and 2 * Q * K * 4 / 2**30 > NAIVE_LIMIT_GB:
                row["skipped"] = f"two {Q}x{K} fp32 matrices need {2 * Q * K * 4 / 2**30:.1f} GB > {NAIVE_LIMIT_GB} GB"
            else:
                row.update(ops_harness.run_child(__file__, threads=a.threads, args=[m, str(H), str(W), str(N), str(C), str(V), str(warmup), str(runs)]))
                if "median_s" in row:
                    row["gflops"] = row["flops"] / row["median_s"] / 1e9
            print(json.dumps(row), file=sys.stderr, flush=True)
            results.append(row)
    doc = {"benchmark": "ops_correspondence", "machine": ops_harness.machine(), "commit": ops_harness.commit(), "threads": a.threads or "default",
           "temperature": TEMPERATURE, "results": results}
    ops_harness.emit(doc, a.out)


if __name__ == "__main__":
    main()
