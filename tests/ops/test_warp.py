"""warp: the ATen taps path against the four-tap reference, borders, gradients, op checks."""

import pytest
import torch

from exemplar_vc.ops import Warp, warp, warp_replicate
from exemplar_vc.ops.reference import warp_reference
from exemplar_vc.ops.warp import _warp_op


def make_inputs(shape, dtype, device, scale=3.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    B, C, H, W = shape
    x = torch.randn(B, C, H, W, generator=g, dtype=torch.float64)
    flow = torch.randn(B, 2, H, W, generator=g, dtype=torch.float64) * scale
    return x.to(dtype=dtype, device=device), flow.to(dtype=dtype, device=device)


@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (2, 3, 5, 7), (1, 2, 1, 6), (3, 4, 8, 3)])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_matches_reference(device, shape, dtype):
    x, flow = make_inputs(shape, dtype, device)
    res = warp(x, flow)
    ref = warp_reference(x.double(), flow.double())
    atol = 1e-12 if dtype == torch.float64 else 1e-5
    torch.testing.assert_close(res.warped.double(), ref[0], atol=atol, rtol=0)
    assert torch.equal(res.valid.double(), ref[1]) and res.valid.dtype == dtype


@pytest.mark.parametrize("batch", [1, 2])
def test_cpu_path_in_bands_of_rows_matches_the_reference(monkeypatch, batch):
    """Large frames are warped a band of output rows at a time, each band sampling the
    whole source: flows that reach across bands must give the reference exactly."""
    from exemplar_vc.ops import _warp_aten

    x, flow = make_inputs((batch, 2, 23, 9), torch.float64, "cpu", scale=8.0)
    monkeypatch.setattr(_warp_aten, "BAND_PIXELS", batch * 9 * 5)  # 5 rows a band, the last 3
    res = warp(x, flow)
    ref = warp_reference(x, flow)
    torch.testing.assert_close(res.warped, ref[0], atol=1e-12, rtol=0)
    assert torch.equal(res.valid, ref[1])


def test_half_inputs(device):
    x, flow = make_inputs((1, 2, 5, 6), torch.float16, device, scale=1.0)
    ref = warp_reference(x.double(), flow.double())
    torch.testing.assert_close(warp(x, flow).warped.double(), ref[0], atol=2e-2, rtol=0)


def test_borders():
    x = torch.arange(12.0).view(1, 1, 3, 4)
    flow = torch.zeros(1, 2, 3, 4)
    assert torch.equal(warp(x, flow).warped, x) and warp(x, flow).valid.all()
    flow[:, 0] = -0.5  # half a pixel left: the first column mixes in a zero tap
    res = warp(x, flow)
    assert res.valid[0, 0, :, 0].eq(0).all() and res.valid[0, 0, :, 1:].eq(1).all()
    torch.testing.assert_close(res.warped[0, 0, 0], torch.tensor([0.0, 0.5, 1.5, 2.5]))
    flow[:, 0], flow[:, 1] = 0.0, 2.0  # two rows down: only the first row stays inside
    assert warp(x, flow).valid[0, 0].sum(1).tolist() == [4.0, 0.0, 0.0]


def test_replicated_border_repeats_the_edge_pixel():
    x = torch.arange(12.0).view(1, 1, 3, 4)
    flow = torch.zeros(1, 2, 3, 4)
    flow[:, 0] = -1.5  # one and a half pixels left: the first two columns read outside
    res = warp_replicate(x, flow)
    torch.testing.assert_close(res.warped[0, 0, 0], torch.tensor([0.0, 0.0, 0.5, 1.5]))
    assert res.valid[0, 0, 0].tolist() == [0.0, 0.0, 1.0, 1.0]
    flow[:, 0], flow[:, 1] = 0.0, 5.0  # far below the image: the last row, everywhere
    res = warp_replicate(x, flow)
    assert torch.equal(res.warped[0, 0], x[0, 0, 2:].expand(3, 4)) and not res.valid.any()


def test_replicated_border_matches_warp_inside_and_has_gradients(device):
    x, flow = make_inputs((2, 3, 6, 7), torch.float64, device, scale=2.0)
    plain, rep = warp(x, flow), warp_replicate(x, flow)
    assert torch.equal(plain.valid, rep.valid)
    inside = rep.valid.bool().expand_as(x)
    torch.testing.assert_close(rep.warped[inside], plain.warped[inside], atol=1e-12, rtol=0)
    x.requires_grad_(), flow.requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: warp_replicate(a, b).warped, (x, flow * 0.3))


def test_non_contiguous_inputs(device):
    x, flow = make_inputs((2, 3, 5, 6), torch.float64, device)
    xn = x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
    fn = torch.stack([flow, flow], -1)[..., 1]
    assert not xn.is_contiguous() and not fn.is_contiguous()
    torch.testing.assert_close(warp(xn, fn), warp(x, flow))


def test_gradcheck_float64(device):
    x, flow = make_inputs((2, 2, 4, 5), torch.float64, device)
    x.requires_grad_(), flow.requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: warp(a, b).warped, (x, flow))


def test_opcheck(device):
    x, flow = make_inputs((2, 2, 4, 5), torch.float64, device)
    torch.library.opcheck(_warp_op, (x.requires_grad_(), flow.requires_grad_()))


def test_module_and_bad_inputs():
    x, flow = make_inputs((1, 2, 4, 5), torch.float32, "cpu")
    torch.testing.assert_close(Warp()(x, flow), warp(x, flow))
    with pytest.raises(ValueError, match=r"expected flow of shape \(1, 2, 4, 5\), got \(1, 3, 4, 5\)"):
        warp(x, torch.zeros(1, 3, 4, 5))
    with pytest.raises(TypeError, match="floating-point"):
        warp(x.long(), flow)
