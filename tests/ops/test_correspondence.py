"""correspondence: every path against the reference, gradients, custom-op checks."""

import pytest
import torch

from exemplar_vc.ops import Correspondence, correspondence
from exemplar_vc.ops import _correspondence_aten as aten_path
from exemplar_vc.ops.correspondence import _correspondence_op
from exemplar_vc.ops.reference import correspondence_reference

# (B, C, Hq, Wq, N_ref, Hk, Wk, V): odd sizes, one and several exemplars.
SHAPES = [(1, 3, 1, 1, 1, 1, 1, 1), (2, 7, 5, 3, 1, 4, 6, 2), (1, 16, 9, 11, 3, 5, 7, 3), (3, 5, 4, 4, 2, 3, 2, 1)]


def fp32_atol(temperature):
    # Any fp32 softmax at temperature T errs by ~eps |s| / T in the exponent (measured
    # 5.4e-5 at T = 1e-3 for unit-norm features, for the fp32 reference as well).
    return 1e-6 + 2e-7 / temperature


def make_inputs(features, shape, dtype, device, seed=0, masked=False):
    B, C, Hq, Wq, N, Hk, Wk, V = shape
    q = features(B, C, Hq, Wq, dtype=dtype, seed=seed, device=device)
    k = features(B, N, C, Hk, Wk, dim=2, dtype=dtype, seed=seed + 1, device=device)
    v = features(B, N, V, Hk, Wk, dim=2, dtype=dtype, seed=seed + 2, device=device)
    mask = None
    if masked:
        g = torch.Generator().manual_seed(seed + 3)
        mask = torch.rand(B, N, Hk, Wk, generator=g) > 0.4
        mask.view(B, -1)[:, 0] = True  # at least one key per batch element
        mask = mask.to(device)
    return q, k, v, mask


def assert_matches_reference(res, q, k, v, temperature, mask, atol):
    ref = correspondence_reference(q.double(), k.double(), v.double(), temperature, mask)
    torch.testing.assert_close(res.values.double(), ref[0], atol=atol, rtol=0)
    torch.testing.assert_close(res.max_similarity.double(), ref[1], atol=1e-6, rtol=0)
    # The similarity at the returned argmax is the max (indices agree up to exact ties).
    flat_k = k.double().permute(0, 1, 3, 4, 2).reshape(k.shape[0], -1, k.shape[2])
    at = flat_k.gather(1, res.argmax.flatten(1).unsqueeze(2).expand(-1, -1, k.shape[2]))
    sim_at = (q.double().flatten(2).transpose(1, 2) * at).sum(2)
    torch.testing.assert_close(sim_at, ref[1].flatten(1), atol=1e-6, rtol=0)
    if mask is not None:
        assert mask.flatten(1).gather(1, res.argmax.flatten(1)).all()


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("tile", [None, 64])  # 64: many query and key blocks, online rescaling
def test_matches_reference_float64(features, device, shape, masked, tile, monkeypatch):
    if tile:
        monkeypatch.setattr(aten_path, "TILE_ELEMS", tile)
    q, k, v, mask = make_inputs(features, shape, torch.float64, device, masked=masked)
    res = correspondence(q, k, v, 0.1, mask)
    assert res.values.dtype == torch.float64 and res.argmax.dtype == torch.int64
    assert_matches_reference(res, q, k, v, 0.1, mask, atol=1e-10)


@pytest.mark.parametrize("temperature", [1.0, 0.05, 0.01, 0.001])
@pytest.mark.parametrize("tile", [None, 256])
def test_low_temperatures_stay_exact_in_float32(features, device, temperature, tile, monkeypatch):
    if tile:
        monkeypatch.setattr(aten_path, "TILE_ELEMS", tile)
    q, k, v, mask = make_inputs(features, (2, 32, 7, 9, 2, 6, 5, 2), torch.float32, device, masked=True)
    res = correspondence(q, k, v, temperature, mask)
    assert res.values.dtype == torch.float32
    assert_matches_reference(res, q, k, v, temperature, mask, atol=fp32_atol(temperature))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_inputs(features, device, dtype):
    q, k, v, mask = make_inputs(features, (1, 16, 6, 5, 2, 4, 4, 2), dtype, device, masked=True)
    res = correspondence(q, k, v, 0.05, mask)
    assert res.values.dtype == dtype and res.max_similarity.dtype == dtype
    ref = correspondence_reference(q.double(), k.double(), v.double(), 0.05, mask)
    torch.testing.assert_close(res.values.double(), ref[0], atol=1e-2, rtol=0)


def test_non_contiguous_inputs(features, device):
    q, k, v, mask = make_inputs(features, (2, 8, 6, 7, 2, 5, 4, 2), torch.float64, device, masked=True)
    qn = q.transpose(2, 3).contiguous().transpose(2, 3)  # channels-last-like strides
    kn = torch.stack([k, k], dim=-1)[..., 0]  # every other element in memory
    vn = v.permute(0, 1, 2, 4, 3).contiguous().permute(0, 1, 2, 4, 3)
    mn = torch.stack([mask, mask], dim=-1)[..., 1]
    assert not any(x.is_contiguous() for x in (qn, kn, vn, mn))
    torch.testing.assert_close(correspondence(qn, kn, vn, 0.2, mn), correspondence(q, k, v, 0.2, mask))
    assert_matches_reference(correspondence(qn, kn, vn, 0.2, mn), q, k, v, 0.2, mask, atol=1e-10)


def test_exemplar_order_shifts_argmax(features):
    q, k, v, _ = make_inputs(features, (1, 8, 4, 4, 2, 3, 3, 2), torch.float64, "cpu")
    a = correspondence(q, k, v, 0.1)
    b = correspondence(q, k.flip(1), v.flip(1), 0.1)
    torch.testing.assert_close(a.values, b.values)
    assert torch.equal((a.argmax + 9) % 18, b.argmax)


@pytest.mark.parametrize("masked", [False, True])
def test_gradcheck_float64(features, device, masked):
    q, k, v, mask = make_inputs(features, (2, 4, 3, 2, 2, 2, 3, 2), torch.float64, device, masked=masked)
    q, k, v = (x.requires_grad_() for x in (q, k, v))
    assert torch.autograd.gradcheck(lambda *a: correspondence(*a, 0.2, mask)[:2], (q, k, v))


def test_gradcheck_tiled_backward(features, monkeypatch):
    monkeypatch.setattr(aten_path, "TILE_ELEMS", 8)  # several query and key blocks
    q, k, v, mask = make_inputs(features, (1, 3, 3, 3, 2, 2, 2, 1), torch.float64, "cpu", masked=True)
    q, k, v = (x.requires_grad_() for x in (q, k, v))
    assert torch.autograd.gradcheck(lambda *a: correspondence(*a, 0.5, mask)[:2], (q, k, v))


@pytest.mark.parametrize("masked", [False, True])
def test_opcheck(features, device, masked):
    q, k, v, mask = make_inputs(features, (2, 4, 3, 3, 2, 2, 3, 2), torch.float64, device, masked=masked)
    q, k, v = (x.requires_grad_() for x in (q, k, v))
    torch.library.opcheck(_correspondence_op, (q, k, v, 0.2, mask))


def test_torch_compile_fullgraph(features):
    q, k, v, mask = make_inputs(features, (1, 4, 3, 3, 2, 2, 2, 2), torch.float64, "cpu", masked=True)
    q.requires_grad_()
    fn = torch.compile(lambda *a: correspondence(*a, 0.2, mask).values.sum(), backend="aot_eager", fullgraph=True)
    fn(q, k, v).backward()
    expected = torch.autograd.grad(correspondence(q, k, v, 0.2, mask).values.sum(), q)[0]
    torch.testing.assert_close(q.grad, expected)


def test_module_wraps_function(features):
    q, k, v, _ = make_inputs(features, (1, 4, 3, 3, 1, 2, 2, 2), torch.float64, "cpu")
    torch.testing.assert_close(Correspondence(0.3)(q, k, v), correspondence(q, k, v, 0.3))
    with pytest.raises(ValueError, match="positive temperature"):
        Correspondence(0.0)


def test_bad_inputs_say_what_came(features):
    q, k, v, _ = make_inputs(features, (1, 4, 3, 3, 1, 2, 2, 2), torch.float32, "cpu")
    with pytest.raises(ValueError, match=r"expected keys of shape \(1, N_ref, 4"):
        correspondence(q, k[:, :, :3], v, 0.1)
    with pytest.raises(ValueError, match="expected query of shape"):
        correspondence(q[0], k, v, 0.1)
    with pytest.raises(ValueError, match="every key position"):
        correspondence(q, k, v, 0.1, torch.zeros(1, 1, 2, 2, dtype=torch.bool))
    with pytest.raises(TypeError, match="one dtype"):
        correspondence(q, k.double(), v, 0.1)
