"""Global correspondence: for every query position, a softmax over all exemplar positions.

``correspondence`` is the custom op ``exemplar_vc::correspondence``: the default kernel is
the streaming ATen path (``_correspondence_aten``, CPU and fallback), the CUDA kernel the
fused Triton path (``_correspondence_triton``). A fake kernel makes it traceable by
torch.compile, and its autograd recomputes the softmax tiles from the saved log-sum-exp
(``exemplar_vc::correspondence_backward``) instead of storing the Q x K weights.
``reference.correspondence_reference`` is the oracle the tests compare both paths with.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import torch
from torch import Tensor, nn

from . import _correspondence_aten as aten_path
from ._checks import check_dims, check_float, check_temperature, eager
from ._triton import triton_status

__all__ = ["CorrespondenceResult", "correspondence", "Correspondence", "correspondence_path"]


class CorrespondenceResult(NamedTuple):
    """values: (B, V, Hq, Wq), dtype of ``values``; max_similarity: (B, 1, Hq, Wq), dtype of
    ``query``, in [-1, 1] for unit-norm features; argmax: (B, 1, Hq, Wq) int64, flat index
    into the concatenated (N_ref, Hk, Wk) key positions, i.e. n * Hk * Wk + y * Wk + x."""

    values: Tensor
    max_similarity: Tensor
    argmax: Tensor


def correspondence_path(device: torch.device, dtype: torch.dtype) -> tuple[str, str]:
    """(path, why) the forward takes for tensors on ``device`` of ``dtype``."""
    if device.type != "cuda":
        return "aten", "streaming ATen tiles: the CPU path (faster than SDPA here, see benchmarks/README.md)"
    ok, why = triton_status()
    if not ok:
        return "aten", f"ATen fallback on CUDA: {why}"
    if dtype == torch.float64:
        return "aten", "ATen fallback on CUDA: the Triton kernel takes fp16/bf16/fp32, not fp64"
    return "triton", "fused Triton kernel, online softmax, fp32 accumulation"


def _flatten(query, keys, values, key_mask):
    # (B, Q, C), (B, K, C), (B, K, V), (B, K): key positions of all exemplars concatenated.
    B, C = query.shape[:2]
    q = query.reshape(B, C, -1).transpose(1, 2)
    k = keys.permute(0, 1, 3, 4, 2).reshape(B, -1, C)
    v = values.permute(0, 1, 3, 4, 2).reshape(B, -1, values.shape[2])
    return q, k, v, (None if key_mask is None else key_mask.reshape(B, -1))


def _lse_dtype(dtype):
    return torch.float64 if dtype == torch.float64 else torch.float32


@torch.library.custom_op("exemplar_vc::correspondence", mutates_args=())
def _correspondence_op(
    query: Tensor, keys: Tensor, values: Tensor, temperature: float, key_mask: Optional[Tensor]
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(values, max_similarity, argmax, lse (B, Hq*Wq)); see ``correspondence``."""
    B, _, Hq, Wq = query.shape
    q, k, v, m = _flatten(query, keys, values, key_mask)
    if correspondence_path(query.device, query.dtype)[0] == "triton":
        from . import _correspondence_triton as triton_path

        out, best, idx, lse = triton_path.forward(q, k, v, temperature, m)
    else:
        out, best, idx, lse = aten_path.forward(q, k, v, temperature, m)
    return (
        out.to(values.dtype).transpose(1, 2).reshape(B, -1, Hq, Wq).contiguous(),
        best.to(query.dtype).reshape(B, 1, Hq, Wq),
        idx.reshape(B, 1, Hq, Wq),
        lse.to(_lse_dtype(query.dtype)),
    )


@_correspondence_op.register_fake
def _(query, keys, values, temperature, key_mask):
    B, _, Hq, Wq = query.shape
    return (
        query.new_empty(B, values.shape[2], Hq, Wq, dtype=values.dtype),
        query.new_empty(B, 1, Hq, Wq),
        query.new_empty(B, 1, Hq, Wq, dtype=torch.long),
        query.new_empty(B, Hq * Wq, dtype=_lse_dtype(query.dtype)),
    )


@torch.library.custom_op("exemplar_vc::correspondence_backward", mutates_args=())
def _correspondence_backward_op(
    grad_values: Optional[Tensor],
    grad_best: Optional[Tensor],
    query: Tensor,
    keys: Tensor,
    values: Tensor,
    out: Tensor,
    argmax: Tensor,
    lse: Tensor,
    temperature: float,
    key_mask: Optional[Tensor],
) -> tuple[Tensor, Tensor, Tensor]:
    """Gradients for (query, keys, values), recomputed tile by tile on every device."""
    B, C, Hq, Wq = query.shape
    q, k, v, m = _flatten(query, keys, values, key_mask)
    o = out.reshape(B, out.shape[1], -1).transpose(1, 2)
    go = torch.zeros_like(o) if grad_values is None else grad_values.reshape(o.transpose(1, 2).shape).transpose(1, 2)
    gb = None if grad_best is None else grad_best.reshape(B, -1)
    dq, dk, dv = aten_path.backward(go, gb, q, k, v, o, argmax.reshape(B, -1), lse, temperature, m)
    _, N, _, Hk, Wk = keys.shape
    return (
        dq.transpose(1, 2).reshape(query.shape).to(query.dtype),
        dk.reshape(B, N, Hk, Wk, C).permute(0, 1, 4, 2, 3).contiguous().to(keys.dtype),
        dv.reshape(B, N, Hk, Wk, -1).permute(0, 1, 4, 2, 3).contiguous().to(values.dtype),
    )


@_correspondence_backward_op.register_fake
def _(grad_values, grad_best, query, keys, values, out, argmax, lse, temperature, key_mask):
    return torch.empty_like(query), torch.empty_like(keys), torch.empty_like(values)


def _setup_context(ctx, inputs, output):
    query, keys, values, temperature, key_mask = inputs
    out, _, idx, lse = output
    ctx.save_for_backward(query, keys, values, out, idx, lse, key_mask)
    ctx.temperature = temperature
    ctx.mark_non_differentiable(idx, lse)


def _backward(ctx, grad_values, grad_best, _grad_idx, _grad_lse):
    query, keys, values, out, idx, lse, key_mask = ctx.saved_tensors
    dq, dk, dv = _correspondence_backward_op(
        grad_values, grad_best, query, keys, values, out, idx, lse, ctx.temperature, key_mask
    )
    return dq, dk, dv, None, None


_correspondence_op.register_autograd(_backward, setup_context=_setup_context)


def _check(query, keys, values, temperature, key_mask):
    for name, x in (("query", query), ("keys", keys), ("values", values)):
        check_float(name, x)
    check_dims("query", query, "B, C, Hq, Wq")
    check_dims("keys", keys, "B, N_ref, C, Hk, Wk")
    check_dims("values", values, "B, N_ref, V, Hk, Wk")
    check_temperature(temperature)
    B, C = query.shape[:2]
    if keys.shape[0] != B or keys.shape[2] != C:
        raise ValueError(f"expected keys of shape ({B}, N_ref, {C}, Hk, Wk), got {tuple(keys.shape)}")
    if values.shape[:2] != keys.shape[:2] or values.shape[3:] != keys.shape[3:]:
        raise ValueError(f"expected values of shape ({B}, {keys.shape[1]}, V, {keys.shape[3]}, {keys.shape[4]}), got {tuple(values.shape)}")
    if not (query.dtype == keys.dtype == values.dtype):
        raise TypeError(f"expected one dtype for query, keys, values, got {query.dtype}, {keys.dtype}, {values.dtype}")
    if key_mask is not None:
        want = keys.shape[:2] + keys.shape[3:]
        if key_mask.dtype != torch.bool or key_mask.shape != want:
            raise ValueError(f"expected key_mask (B, N_ref, Hk, Wk) = {tuple(want)} bool, got {tuple(key_mask.shape)} {key_mask.dtype}")
        if eager() and not bool(key_mask.reshape(B, -1).any(1).all()):
            raise ValueError("key_mask excludes every key position of some batch element; keep at least one")


def correspondence(
    query: Tensor, keys: Tensor, values: Tensor, temperature: float, key_mask: Optional[Tensor] = None
) -> CorrespondenceResult:
    """Softmax-weighted exemplar values for every query position, with the best match.

    For query position i and key position j of any exemplar, s_ij = <query_i, key_j> (the
    cosine similarity when features are unit-norm along C) and the weights are
    softmax_j(s_ij / temperature) (scaled dot-product attention, Vaswani et al. 2017,
    eq. 1, with 1/temperature for 1/sqrt(d)). Streams over keys; never stores Q x K.

    Args:
        query: (B, C, Hq, Wq) float features (any strides).
        keys: (B, N_ref, C, Hk, Wk) exemplar features, same dtype.
        values: (B, N_ref, V, Hk, Wk) what to carry (e.g. exemplar ab chroma), same dtype.
        temperature: > 0; 0.01 and below (near-argmax) stay exact in float32.
        key_mask: optional (B, N_ref, Hk, Wk) bool; False excludes a key position. Each
            batch element needs at least one True.

    Returns:
        ``CorrespondenceResult(values, max_similarity, argmax)``; differentiable in
        query, keys and values (through ``values`` and ``max_similarity``).

    >>> import torch
    >>> q = torch.nn.functional.normalize(torch.randn(1, 16, 5, 7), dim=1)
    >>> ex = q[:, None].flip(-1)  # the exemplar is the query mirrored
    >>> res = correspondence(q, ex, torch.arange(35.).view(1, 1, 1, 5, 7), 0.01)
    >>> res.values.shape, res.argmax[0, 0, 0, 0].item(), round(res.max_similarity.min().item(), 4)
    (torch.Size([1, 1, 5, 7]), 6, 1.0)
    """
    _check(query, keys, values, temperature, key_mask)
    out, best, idx, _ = _correspondence_op(query, keys, values, float(temperature), key_mask)
    return CorrespondenceResult(out, best, idx)


class Correspondence(nn.Module):
    """``correspondence`` as a module with a fixed temperature (no parameters).

    >>> import torch
    >>> m = Correspondence(temperature=0.05)
    >>> m(torch.randn(2, 8, 4, 4), torch.randn(2, 3, 8, 4, 4), torch.randn(2, 3, 2, 4, 4)).values.shape
    torch.Size([2, 2, 4, 4])
    """

    def __init__(self, temperature: float):
        super().__init__()
        check_temperature(temperature)
        self.temperature = float(temperature)

    def forward(self, query: Tensor, keys: Tensor, values: Tensor, key_mask: Optional[Tensor] = None):
        return correspondence(query, keys, values, self.temperature, key_mask)

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}"
