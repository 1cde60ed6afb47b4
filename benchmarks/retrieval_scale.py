"""Reference-bank scale on the CPU with synthetic descriptors: build time, memory, search
latency per key frame and recall@10 against exact search, for each index kind.

Synthetic descriptors have the real ones' dimension (2280) and a realistic structure: a
low-rank signal (rank 256 with a decaying spectrum, like real descriptors, whose top 256
principal directions hold most of the variance) around 1 cluster centre per 50 images
(near-duplicates and same-scene photos), plus isotropic noise, L2-normalised, stored as
float16 exactly as the bank stores them. Queries are bank images re-observed with noise
(a key frame of a shot whose photo is in the bank). The bank goes through
``ReferenceBank.add_vectors`` and its own index path: PCA (past 2560 images), CSLS
penalties, the index kind its size selects (flat < 100k <= HNSW < 400k <= IVF-PQ).

Reported per size: the build stages (PCA fit, projection, CSLS penalties, index), the
process's peak resident memory, the index's own size, the median and 90th percentile of
one key frame's search (FAISS + exact re-scoring for IVF-PQ; the descriptor and the dense
re-rank are measured on real frames in stage1_retrieval.py), and recall@10: the share of
the exact top 10 (brute force over the same search space with the same CSLS scores) that
the index returns. Peak memory is the process's: run one size per process to read it.

    for n in 10000 200000 1000000; do nice -n 19 python benchmarks/retrieval_scale.py --sizes $n --out benchmarks/results/retrieval_scale_$n.json; done
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import commit, emit, machine, summary  # noqa: E402

from exemplar_vc.exemplars.bank import BankConfig, ReferenceBank  # noqa: E402
from exemplar_vc.exemplars.hubness import augment_queries  # noqa: E402

DIM, RANK, PER_CLUSTER = 2280, 256, 50


def synthetic(n: int, seed: int = 0, chunk: int = 100_000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n, DIM) float16 unit descriptors, the basis and the cluster centres used."""
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((DIM, RANK)))[0].T.astype(np.float32)  # (RANK, DIM)
    spectrum = (1.0 / np.sqrt(1 + np.arange(RANK))).astype(np.float32)
    centres = rng.standard_normal((max(1, n // PER_CLUSTER), RANK)).astype(np.float32) * spectrum
    out = np.empty((n, DIM), np.float16)
    for s in range(0, n, chunk):
        m = min(chunk, n - s)
        z = centres[rng.integers(0, len(centres), m)] + 0.35 * rng.standard_normal((m, RANK)).astype(np.float32) * spectrum
        x = z @ basis + 0.02 * rng.standard_normal((m, DIM)).astype(np.float32)
        out[s : s + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out, basis, centres


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB on Linux


def index_bytes(index) -> int:
    import faiss

    return int(faiss.serialize_index(index).size)


def measure(n: int, queries: int, encoder, descriptor) -> dict:
    t0 = time.perf_counter()
    x, _, _ = synthetic(n)
    gen_s = time.perf_counter() - t0
    bank = ReferenceBank(encoder, BankConfig(), descriptor)
    bank.add_vectors(x, [f"synthetic/{i}.jpg" for i in range(n)])
    stages = {}
    t = time.perf_counter()
    c = bank.config
    from exemplar_vc.exemplars.hubness import augment_bank, csls_penalties
    from exemplar_vc.exemplars.index import build_index
    from exemplar_vc.exemplars.whitening import fit_whitening

    if n >= c.whiten_min:
        bank.whitening = fit_whitening(bank.vectors, c.whiten_dim, c.whiten_alpha)
    stages["pca_fit_s"] = time.perf_counter() - t
    t = time.perf_counter()
    space = bank._project(bank.vectors)
    stages["project_s"] = time.perf_counter() - t
    t = time.perf_counter()
    bank.penalties = csls_penalties(space)
    stages["csls_penalties_s"] = time.perf_counter() - t
    t = time.perf_counter()
    bank._space = augment_bank(space, bank.penalties)
    del space
    bank._index = build_index(bank._space, bank.index_kind)
    stages["index_s"] = time.perf_counter() - t
    build_s = sum(stages.values())
    rng = np.random.default_rng(1)
    picks = rng.integers(0, n, queries)
    q = bank.vectors[picks].astype(np.float32) + 0.02 * rng.standard_normal((queries, DIM)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    lat, got = [], []
    for i in range(queries):
        t = time.perf_counter()
        _, rows = bank.search_vectors(q[i : i + 1], 10)
        lat.append(time.perf_counter() - t)
        got.append(rows[0])
    lat = lat[5:]  # warm-up
    # Exact top 10 in the same space with the same CSLS scores.
    aq = augment_queries(bank._project(q))
    scores = np.concatenate([aq @ bank._space[s : s + 200_000].T for s in range(0, n, 200_000)], axis=1)
    truth = np.argpartition(-scores, 10, axis=1)[:, :10]
    recall = float(np.mean([len(set(g.tolist()) & set(t.tolist())) / 10 for g, t in zip(got, truth)]))
    found_self = float(np.mean([p in g for p, g in zip(picks, got)]))
    return {
        "vectors": n,
        "index": bank.index_kind,
        "search_dim": int(bank._space.shape[1] - 1),
        "generate_s": gen_s,
        "build_s": build_s,
        **stages,
        "descriptors_gb": bank.vectors.nbytes / 1e9,
        "search_space_gb": bank._space.nbytes / 1e9,
        "index_mb": index_bytes(bank._index) / 1e6,
        "peak_rss_gb": peak_rss_gb(),
        "search_ms_per_key_frame": summary([1000 * v for v in lat]),
        "search_ms_p90": float(np.percentile(lat, 90) * 1000),
        "recall_at_10_vs_exact": recall,
        "query_image_in_top10": found_self,
        "queries": queries,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 200_000, 1_000_000])
    ap.add_argument("--queries", type=int, default=105)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    import torch

    from exemplar_vc.exemplars.descriptor import ContentDescriptor
    from exemplar_vc.modeling.encoder import LuminanceEncoder

    torch.set_num_threads(1)
    encoder, descriptor = LuminanceEncoder(), ContentDescriptor()
    report = {"machine": machine(), "commit": commit(), "note": "CPU, synthetic descriptors (see module doc)", "results": []}
    for n in args.sizes:
        r = measure(n, args.queries, encoder, descriptor)
        print(r, file=sys.stderr, flush=True)
        report["results"].append(r)
    emit(report, args.out)


if __name__ == "__main__":
    main()
