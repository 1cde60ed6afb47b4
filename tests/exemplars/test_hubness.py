"""CSLS hubness reduction: penalties, the folded inner product, and the ranking it changes."""

import numpy as np

from exemplar_vc.exemplars.hubness import augment_bank, augment_queries, csls_penalties
from exemplar_vc.exemplars.index import build_index


def _unit(x):
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _world(seed=0, n=60, d=16):
    """n points spread around the sphere, plus a hub near their mean direction."""
    rng = np.random.default_rng(seed)
    common = _unit(rng.standard_normal(d))
    points = _unit(common * 0.9 + rng.standard_normal((n, d)).astype(np.float32) * 0.35)
    hub = _unit(common + 0.05 * rng.standard_normal(d))[None]
    return np.concatenate([points, hub]), common


def test_the_hub_gets_the_largest_penalty_and_duplicates_do_not_count():
    bank, _ = _world()
    pen = csls_penalties(bank, k=5)
    assert pen.shape == (len(bank),) and int(np.argmax(pen)) == len(bank) - 1
    # A tight cluster of near copies (frames of one shot) is not a hub neighbourhood.
    copies = np.concatenate([bank, _unit(bank[3] + 0.01 * np.random.default_rng(1).standard_normal((4, bank.shape[1])))])
    pen_copies = csls_penalties(copies, k=5, duplicate=0.9)
    assert abs(pen_copies[3] - pen[3]) < 0.05
    assert np.allclose(csls_penalties(bank[:1]), 0)


def test_folded_inner_product_is_cos_minus_half_penalty():
    bank, _ = _world()
    pen = csls_penalties(bank)
    q = _unit(np.random.default_rng(5).standard_normal((3, bank.shape[1])))
    got = augment_queries(q) @ augment_bank(bank, pen).T
    np.testing.assert_allclose(got, q @ bank.T - pen[None] / 2, atol=1e-6)


def test_csls_demotes_the_hub_as_documented():
    """Queries halfway between the hub and their own neighbour: by cosine the hub wins,
    by CSLS (cos - r(x)/2) the neighbour does, and the index searches in that order."""
    bank, common = _world()
    hub = len(bank) - 1
    pen = csls_penalties(bank)
    wins_plain = wins_csls = 0
    for j in range(20):
        q = _unit(bank[j] + bank[hub] * 1.02)[None]
        plain = int(np.argmax(q @ bank.T))
        _, rows = build_index(augment_bank(bank, pen)).search(augment_queries(q), 1)
        wins_plain += plain == hub
        wins_csls += rows[0, 0] == hub
    assert wins_plain >= 15 and wins_csls <= wins_plain - 10
