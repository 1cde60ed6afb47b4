"""FAISS index kinds: chosen by size, each finds the exact neighbours on easy data."""

import numpy as np
import pytest

from exemplar_vc.exemplars.index import FLAT_MAX, HNSW_MAX, build_index, index_kind_for, search_index


def test_kind_is_chosen_by_size():
    assert index_kind_for(10) == "flat-ip"
    assert index_kind_for(FLAT_MAX - 1) == "flat-ip"
    assert index_kind_for(FLAT_MAX) == "hnsw-ip"
    assert index_kind_for(HNSW_MAX - 1) == "hnsw-ip"
    assert index_kind_for(HNSW_MAX) == "ivfpq-ip"
    assert index_kind_for(1_000_000) == "ivfpq-ip"


@pytest.mark.parametrize("kind", ["flat-ip", "hnsw-ip", "ivfpq-ip"])
def test_each_kind_finds_the_near_copies(kind):
    rng = np.random.default_rng(0)
    d = 33  # odd, as 256 + the CSLS column is: IVF-PQ pads it to whole sub-vectors
    x = rng.standard_normal((4000, d)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    q = x[:50] + 0.05 * rng.standard_normal((50, d)).astype(np.float32)
    index = build_index(x, kind)
    assert index.ntotal == 4000
    scores, rows = search_index(index, x, q, 10)
    assert rows.shape == (50, 10) and (rows[:, 0] == np.arange(50)).mean() >= 0.95
    assert np.all(np.diff(scores, axis=1) <= 1e-6)  # best first
    if kind == "ivfpq-ip":  # 32-byte codes on a padded dimension, re-scored exactly: true inner products
        assert index.d == 64 and index.pq.M == 32
        np.testing.assert_allclose(scores[:, 0], np.einsum("ij,ij->i", q, x[rows[:, 0]]), rtol=1e-5)


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="index kind"):
        build_index(np.zeros((4, 3), np.float32), "lsh")


def test_bank_with_pca_and_ivfpq_searches_and_round_trips(encoder, tmp_path):
    """A bank forced to IVF-PQ with its PCA fitted (as a million-image bank would be) finds
    the re-observed vectors and is the same after save and load."""
    from exemplar_vc.exemplars import BankConfig, DescriptorConfig, ReferenceBank

    config = BankConfig(descriptor=DescriptorConfig(class_weight=0.0), whiten_min=1000, whiten_dim=64, index_kind="ivfpq-ip")
    bank = ReferenceBank(encoder, config)
    rng = np.random.default_rng(0)
    d = bank.descriptor.dim
    basis = np.linalg.qr(rng.standard_normal((d, 48)))[0].T  # descriptors vary in few directions
    x = (rng.standard_normal((3000, 48)) @ basis + 0.01 * rng.standard_normal((3000, d))).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    bank.add_vectors(x, [f"synthetic/{i}.jpg" for i in range(3000)])
    q = x[:20] + 0.01 * rng.standard_normal((20, d)).astype(np.float32)
    _, rows = bank.search_vectors(q, 5)
    assert bank.index_kind == "ivfpq-ip" and bank.whitening is not None and bank.whitening.dim == 64
    assert all(i in r for i, r in enumerate(rows))
    loaded = ReferenceBank.load(bank.save(tmp_path / "bank"), encoder=encoder)
    assert loaded.whitening is not None and np.array_equal(loaded.penalties, bank.penalties)
    np.testing.assert_array_equal(loaded.search_vectors(q, 5)[1], rows)
