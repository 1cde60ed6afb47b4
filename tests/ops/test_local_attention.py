"""local_attention: the streaming path against the unfold reference, gradients, op checks."""

import pytest
import torch

from exemplar_vc.ops import LocalAttention, local_attention
from exemplar_vc.ops.local_attention import _local_attention_op
from exemplar_vc.ops.reference import local_attention_reference

# (B, C, H, W, V, r): odd sizes, windows larger than the frame, r up to 7.
SHAPES = [(1, 3, 1, 1, 1, 1), (2, 5, 7, 9, 3, 2), (1, 8, 4, 6, 2, 7), (2, 4, 11, 5, 1, 0), (1, 6, 9, 10, 2, 4)]


def make_inputs(features, shape, dtype, device, seed=0):
    B, C, H, W, V, _ = shape
    q = features(B, C, H, W, dtype=dtype, seed=seed, device=device)
    k = features(B, C, H, W, dtype=dtype, seed=seed + 1, device=device)
    v = features(B, V, H, W, dtype=dtype, seed=seed + 2, device=device)
    return q, k, v


def assert_matches_reference(res, q, k, v, r, temperature, atol):
    ref = local_attention_reference(q.double(), k.double(), v.double(), r, temperature)
    torch.testing.assert_close(res.values.double(), ref[0], atol=atol, rtol=0)
    torch.testing.assert_close(res.max_similarity.double(), ref[1], atol=1e-6, rtol=0)
    assert torch.equal(res.offset, ref[2])
    assert res.offset.abs().max() <= r


@pytest.mark.parametrize("shape", SHAPES)
def test_matches_reference_float64(features, device, shape):
    q, k, v = make_inputs(features, shape, torch.float64, device)
    res = local_attention(q, k, v, shape[-1], 0.1)
    assert res.values.dtype == torch.float64 and res.offset.dtype == torch.int64
    assert_matches_reference(res, q, k, v, shape[-1], 0.1, atol=1e-10)


@pytest.mark.parametrize("temperature", [1.0, 0.01, 0.001])
def test_low_temperatures_float32(features, device, temperature):
    q, k, v = make_inputs(features, (2, 32, 9, 8, 3, 3), torch.float32, device)
    res = local_attention(q, k, v, 3, temperature)
    assert_matches_reference(res, q, k, v, 3, temperature, atol=1e-6 + 2e-7 / temperature)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_inputs(features, device, dtype):
    q, k, v = make_inputs(features, (1, 16, 6, 7, 2, 2), dtype, device)
    res = local_attention(q, k, v, 2, 0.05)
    assert res.values.dtype == dtype
    ref = local_attention_reference(q.double(), k.double(), v.double(), 2, 0.05)
    torch.testing.assert_close(res.values.double(), ref[0], atol=1e-2, rtol=0)


def test_non_contiguous_inputs(features, device):
    q, k, v = make_inputs(features, (2, 6, 7, 5, 2, 2), torch.float64, device)
    qn = q.transpose(2, 3).contiguous().transpose(2, 3)
    kn = torch.stack([k, k], dim=-1)[..., 0]
    vn = v.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
    assert not any(x.is_contiguous() for x in (qn, kn, vn))
    torch.testing.assert_close(local_attention(qn, kn, vn, 2, 0.2), local_attention(q, k, v, 2, 0.2))


def test_recovers_a_shift(features):
    f = features(1, 16, 12, 12)
    moved = torch.roll(f, shifts=(-2, 3), dims=(2, 3))  # key[y, x] = f[y + 2, x - 3]
    res = local_attention(f, moved, torch.ones(1, 1, 12, 12, dtype=f.dtype), 4, 0.01)
    inner = res.offset[0, :, 4:8, 4:8]
    assert (inner[0] == -2).all() and (inner[1] == 3).all()


def test_gradcheck_float64(features, device):
    q, k, v = make_inputs(features, (2, 3, 4, 5, 2, 2), torch.float64, device)
    q, k, v = (x.requires_grad_() for x in (q, k, v))
    assert torch.autograd.gradcheck(lambda *a: local_attention(*a, 2, 0.3)[:2], (q, k, v))


def test_opcheck(features, device):
    q, k, v = make_inputs(features, (2, 3, 4, 5, 2, 1), torch.float64, device)
    q, k, v = (x.requires_grad_() for x in (q, k, v))
    torch.library.opcheck(_local_attention_op, (q, k, v, 1, 0.3))


def test_torch_compile_fullgraph(features):
    q, k, v = make_inputs(features, (1, 3, 4, 4, 2, 1), torch.float64, "cpu")
    fn = torch.compile(lambda *a: local_attention(*a, 1, 0.2), backend="aot_eager", fullgraph=True)
    torch.testing.assert_close(fn(q, k, v), local_attention(q, k, v, 1, 0.2))


def test_module_and_bad_inputs(features):
    q, k, v = make_inputs(features, (1, 3, 4, 4, 2, 1), torch.float32, "cpu")
    torch.testing.assert_close(LocalAttention(1, 0.2)(q, k, v), local_attention(q, k, v, 1, 0.2))
    with pytest.raises(ValueError, match=r"radius in \[0, 7\], got 8"):
        local_attention(q, k, v, 8, 0.1)
    with pytest.raises(ValueError, match="expected key of the query's shape"):
        local_attention(q, k[:, :2], v, 1, 0.1)
    with pytest.raises(ValueError, match="positive temperature"):
        LocalAttention(1, -1.0)
