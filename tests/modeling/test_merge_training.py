"""The merge head reads each direction's distance to its exemplar, can be fitted alone on
long segments (``exemplar_vc.training.merge``), and older 9-input heads stay loadable."""

import numpy as np
import pytest
import torch

from exemplar_vc.modeling.fusion import DirectionState
from exemplar_vc.modeling.propagation_net import MergeHead, PropagationNet, PropagationNetConfig, widen_merge_head
from exemplar_vc.training.merge import MergeSamples, collect_samples, fit_merge_head, merge_l1


def _states(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    f = DirectionState(30 * torch.randn(1, 2, 8, 8, generator=g), torch.rand(1, 1, 8, 8, generator=g))
    b = DirectionState(30 * torch.randn(1, 2, 8, 8, generator=g), torch.rand(1, 1, 8, 8, generator=g))
    return f, b


def test_a_widened_old_head_merges_as_before_at_any_distance():
    """A 9-input head (before the distance inputs) widened with zero weights computes the
    same merge whatever the distances: loading old weights changes no output."""
    torch.manual_seed(0)
    net = PropagationNet().eval()
    state = net.state_dict()
    old = dict(state)
    old["merge_head.net.0.weight"] = state["merge_head.net.0.weight"][:, :9].clone()
    widened = widen_merge_head(old)
    assert widened["merge_head.net.0.weight"].shape[1] == MergeHead.INPUTS
    assert torch.equal(widened["merge_head.net.0.weight"][:, 9:], torch.zeros(state["merge_head.net.0.weight"].shape[0], 2, 1, 1))
    assert widen_merge_head(widened) is widened  # already wide: unchanged
    net.load_state_dict(widened)
    f, b = _states()
    with torch.no_grad():
        # Same share (1/2), other distances: only the distance inputs tell them apart.
        near, far = net.merge(f, b, (1, 1)), net.merge(f, b, (40, 40))
    assert torch.equal(near.ab, far.ab)


def test_the_trained_merge_reads_the_distances():
    """With the share fixed at 1/2, the forward colour is right next to exemplars and the
    backward one far from them: only the distance inputs can learn that."""
    g = torch.Generator().manual_seed(0)
    n = 4000
    ab_f, ab_b = 30 * torch.randn(n, 2, generator=g), 30 * torch.randn(n, 2, generator=g)
    dist = torch.where(torch.rand(n, 1, generator=g) < 0.5, 1.0, 40.0)
    truth = torch.where(dist == 1.0, ab_f, ab_b)
    conf = torch.full((n, 1), 0.5)
    samples = MergeSamples(ab_f, conf, ab_b, conf, dist, dist, truth)  # share 1/2 everywhere
    torch.manual_seed(0)
    head = MergeHead()
    before = merge_l1(head, samples)
    losses = fit_merge_head(head, samples, steps=300, batch=1024, lr=1e-2)
    after = merge_l1(head, samples)
    assert losses[-1] < losses[0]
    # Averaging the two costs about half their distance; choosing by distance costs ~0.
    assert after < 0.25 * before, (before, after)


def test_samples_of_a_segment_are_its_inner_frames_with_their_distances():
    from conftest import moving_clip

    from exemplar_vc.modeling.encoder import LuminanceEncoder
    from exemplar_vc.training.data import cache_clip, sample_segment

    encoder = LuminanceEncoder()
    clip = cache_clip("tiny", moving_clip(frames=6, size=(64, 96), step=4), encoder, working_size=64)
    seg = sample_segment(clip, np.random.default_rng(0), encoder, length=5, crop=64, max_stride=1)
    net = PropagationNet().eval()
    s = collect_samples(net, seg, pixels=50, rng=np.random.default_rng(0))
    assert len(s) == 3 * 50  # frames 1, 2, 3 of 0..4
    assert sorted(set(s.dist_f[:, 0].tolist())) == [1.0, 2.0, 3.0]
    assert torch.equal(s.dist_f + s.dist_b, torch.full_like(s.dist_f, 4.0))
    assert torch.allclose(s.share, s.dist_b / 4)
    for name in ("ab_f", "ab_b", "truth"):
        assert getattr(s, name).shape == (150, 2)
    # Every truth row is a pixel of its frame's true chroma.
    frame1 = seg.ab[1].reshape(2, -1).T
    assert all(any(torch.equal(row, t) for t in frame1) for row in s.truth[:5])
    with pytest.raises(ValueError, match="at least 3 frames"):
        short = sample_segment(clip, np.random.default_rng(0), encoder, length=2, crop=64, max_stride=1)
        collect_samples(net, short, pixels=10, rng=np.random.default_rng(0))


def test_weights_saved_before_the_distance_inputs_still_load(tmp_path):
    """A weight file with v2's 9-input merge head loads through ``from_pretrained`` (and
    ``load_state_dict``) as it was: the distances get zero weight."""
    from safetensors.torch import save_file

    from exemplar_vc.modeling.propagation_net import PropagationNetConfig

    torch.manual_seed(0)
    state = PropagationNet().state_dict()
    state["merge_head.net.0.weight"] = state["merge_head.net.0.weight"][:, :9].clone()
    path = tmp_path / "old.safetensors"
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    net = PropagationNet.from_pretrained(PropagationNetConfig(weights=str(path)))
    assert torch.equal(net.merge_head.net[0].weight[:, :9], state["merge_head.net.0.weight"])
    assert not net.merge_head.net[0].weight[:, 9:].any()


def test_a_time_symmetric_head_weighs_a_pixel_and_its_time_reversed_twin_alike(tmp_path):
    """Samples where the backward colour is always right teach a plain head to trust the
    backward direction whatever it sees; a time-symmetric head fitted on them cannot, and
    merges a frame and the clip played backwards alike. An unanchored forward colour
    (no exemplar before it) is weighed as by the plain head. Samples round-trip on disk."""
    from exemplar_vc.training.merge import forward_weight

    g = torch.Generator().manual_seed(0)
    n = 4000
    ab_f, ab_b = 30 * torch.randn(n, 2, generator=g), 30 * torch.randn(n, 2, generator=g)
    dist_f = torch.randint(1, 40, (n, 1), generator=g).float()
    conf_f, conf_b = torch.rand(n, 1, generator=g), torch.rand(n, 1, generator=g)
    biased = MergeSamples(ab_f, conf_f, ab_b, conf_b, dist_f, 41 - dist_f, ab_b.clone())
    twin = biased.time_reversed()
    assert torch.equal(twin.ab_f, biased.ab_b) and torch.equal(twin.dist_b, biased.dist_f) and torch.equal(twin.truth, biased.truth)
    assert torch.allclose(twin.share, 1 - biased.share)

    def asymmetry(head: MergeHead) -> float:
        return float((forward_weight(head, biased) + forward_weight(head, twin) - 1).abs().mean())

    heads = {}
    for symmetric in (False, True):
        torch.manual_seed(0)
        heads[symmetric] = MergeHead(time_symmetric=symmetric)
        fit_merge_head(heads[symmetric], biased, steps=200, batch=1024, lr=1e-2)
    assert asymmetry(heads[False]) > 0.5, asymmetry(heads[False])
    assert asymmetry(heads[True]) < 1e-5, asymmetry(heads[True])

    # Through the network's merge: swapping the directions and their distances swaps nothing.
    net = PropagationNet(PropagationNetConfig(time_symmetric_merge=True)).eval()
    assert net.merge_head.time_symmetric
    net.merge_head.load_state_dict(heads[False].state_dict())  # an asymmetric set of weights
    f, b = _states(1)
    with torch.no_grad():
        one, other = net.merge(f, b, (3, 20)), net.merge(b, f, (20, 3))
        assert torch.allclose(one.ab, other.ab, atol=1e-4)
        unanchored = net.merge(f, b, (None, 5))
        plain = PropagationNet(PropagationNetConfig(time_symmetric_merge=False)).eval()
        plain.merge_head.load_state_dict(heads[False].state_dict())
        assert torch.equal(unanchored.ab, plain.merge(f, b, (None, 5)).ab)
        assert not torch.allclose(one.ab, plain.merge(f, b, (3, 20)).ab, atol=1e-2)

    biased.save(tmp_path / "s.safetensors")
    back = MergeSamples.load(tmp_path / "s.safetensors")
    assert all(torch.equal(getattr(back, k), getattr(biased, k)) for k in ("ab_f", "conf_b", "dist_f", "truth"))
