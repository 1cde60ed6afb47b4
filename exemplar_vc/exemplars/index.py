"""The FAISS index of a bank, chosen by its size.

- up to ``FLAT_MAX`` vectors: exact inner product (``IndexFlatIP``);
- up to ``HNSW_MAX``: HNSW graph (Malkov & Yashunin 2018) over the full vectors;
- past that: IVF-PQ (Jégou, Douze & Schmid 2011): ``nlist`` k-means cells, vectors stored
  as ``IVF_PQ_M`` bytes of product-quantised code, ``nprobe`` cells visited per query, and the
  shortlist re-scored exactly from the bank's own vectors (``refine``), because PQ
  distances alone misorder near neighbours.

Indexes are built on the CPU (what is saved) and searched on the GPUs when FAISS sees one
(flat and IVF-PQ; HNSW has no GPU version in FAISS and stays on the CPU). The numbers behind the
thresholds (build time, memory, latency per key frame, recall@10 against exact search on
the CPU) are in benchmarks/README.md, Stage 1, measured by benchmarks/retrieval_scale.py.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["index_kind_for", "build_index", "search_index", "to_gpu", "INDEX_KINDS", "FLAT_MAX", "HNSW_MAX"]

INDEX_KINDS = ("flat-ip", "hnsw-ip", "ivfpq-ip")
# Exact search up to 100k: a flat query over 100k 256-D vectors stays in tens of ms on a
# CPU, small against embedding the key frame and re-ranking it densely.
FLAT_MAX = 100_000
# HNSW up to 400k: it keeps full vectors (about 1.1 KB each with the graph at d = 256),
# so past that IVF-PQ's 32-byte codes keep a million-image bank in memory.
HNSW_MAX = 400_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
# IVF-PQ: bytes per vector, cells visited, shortlist re-scored exactly per query.
IVF_PQ_M = 32
IVF_NPROBE = 32
IVF_SHORTLIST = 200
# Vectors used to train the coarse quantiser and the product quantiser: at least this many,
# and at least the 39 per cell FAISS asks for.
IVF_TRAIN = 100_000


def _faiss():
    try:
        import faiss
    except ImportError as e:  # pragma: no cover - dependency of the package
        raise ImportError("the reference bank needs `pip install faiss-cpu` (or faiss-gpu)") from e
    return faiss


def index_kind_for(n: int) -> str:
    """'flat-ip' below ``FLAT_MAX`` vectors, 'hnsw-ip' below ``HNSW_MAX``, else 'ivfpq-ip'."""
    return "flat-ip" if n < FLAT_MAX else "hnsw-ip" if n < HNSW_MAX else "ivfpq-ip"


def num_gpus() -> int:
    return int(getattr(_faiss(), "get_num_gpus", lambda: 0)())


def build_index(vectors: np.ndarray, kind: str | None = None, seed: int = 0):
    """A CPU FAISS inner-product index over (N, d) float32 ``vectors`` (kind by size
    unless given; ``to_gpu`` moves it)."""
    faiss = _faiss()
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n, d = x.shape
    kind = kind or index_kind_for(n)
    if kind == "flat-ip":
        index = faiss.IndexFlatIP(d)
    elif kind == "hnsw-ip":
        index = faiss.IndexHNSWFlat(d, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    elif kind == "ivfpq-ip":
        nlist = max(1, min(int(4 * math.sqrt(n)), n // 39))  # FAISS wants >= 39 training points per cell
        x = _pad(x, ivfpq_dim(d))  # whole sub-vectors: d + 1 (the CSLS column) is often odd
        index = faiss.IndexIVFPQ(faiss.IndexFlatIP(x.shape[1]), x.shape[1], nlist, IVF_PQ_M, 8, faiss.METRIC_INNER_PRODUCT)
        index.nprobe = min(IVF_NPROBE, nlist)
        train = max(IVF_TRAIN, 39 * nlist)
        index.train(x if n <= train else x[np.sort(np.random.default_rng(seed).choice(n, train, replace=False))])
    else:
        raise ValueError(f"expected an index kind in {INDEX_KINDS}, got {kind!r}")
    index.add(x)
    return index


def ivfpq_dim(d: int) -> int:
    """The IVF-PQ index's dimension for d-dimensional vectors: d rounded up to a multiple
    of ``IVF_PQ_M`` (zero coordinates added), so every sub-quantiser gets whole
    sub-vectors and the code keeps its ``IVF_PQ_M`` bytes."""
    return -(-d // IVF_PQ_M) * IVF_PQ_M


def _pad(x: np.ndarray, d: int) -> np.ndarray:
    """(N, k) -> (N, d) with zeros added (inner products unchanged)."""
    if x.shape[1] == d:
        return x
    return np.ascontiguousarray(np.concatenate([x, np.zeros((len(x), d - x.shape[1]), x.dtype)], axis=1))


def to_gpu(index):
    """The index on all GPUs FAISS sees (flat and IVF-PQ; HNSW has no GPU version and
    stays on the CPU); the index itself without GPUs."""
    faiss = _faiss()
    if num_gpus() == 0 or isinstance(index, faiss.IndexHNSW):
        return index
    return faiss.index_cpu_to_all_gpus(index)


def search_index(index, vectors: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` by inner product: (Q, k) scores and row numbers (-1 where fewer exist).
    An IVF-PQ shortlist of ``IVF_SHORTLIST`` is re-scored exactly with ``vectors``."""
    q = np.ascontiguousarray(queries, dtype=np.float32)
    if not hasattr(index, "nprobe"):  # flat or HNSW: exact or graph scores already
        return index.search(q, k)
    _, rows = index.search(_pad(q, index.d), max(k, IVF_SHORTLIST))
    scores = np.full((len(q), k), -np.inf, np.float32)
    out = np.full((len(q), k), -1, np.int64)
    for i, r in enumerate(rows):
        r = r[r >= 0]
        exact = np.asarray(vectors[r], dtype=np.float32) @ q[i]
        best = np.argsort(-exact)[:k]
        scores[i, : len(best)], out[i, : len(best)] = exact[best], r[best]
    return scores, out
