"""Local correspondence: softmax over a (2r+1)^2 window of the neighbouring frame.

``local_attention`` is the custom op ``exemplar_vc::local_attention``: the default kernel
streams over window offsets in ATen (``_local_attention_aten``, CPU and fallback), the
CUDA kernel is the fused Triton path (``_local_attention_triton``). Neither stores the
(2r+1)^2 x H x W cost volume; the backward recomputes it offset by offset
(``exemplar_vc::local_attention_backward``). ``reference.local_attention_reference`` is
the unfold-based oracle.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from . import _local_attention_aten as aten_path
from ._checks import check_dims, check_float, check_temperature
from ._triton import triton_status

__all__ = ["LocalAttentionResult", "local_attention", "LocalAttention", "local_attention_path", "MAX_RADIUS"]

MAX_RADIUS = 7


class LocalAttentionResult(NamedTuple):
    """values: (B, V, H, W), dtype of ``value``; max_similarity: (B, 1, H, W), dtype of
    ``query``; offset: (B, 2, H, W) int64 (dy, dx) of the best match, in [-r, r], first in
    raster order (dy major) on ties. Window positions outside the frame are excluded."""

    values: Tensor
    max_similarity: Tensor
    offset: Tensor


def local_attention_path(device: torch.device, dtype: torch.dtype) -> tuple[str, str]:
    """(path, why) the forward takes for tensors on ``device`` of ``dtype``."""
    if device.type != "cuda":
        return "aten", "ATen offset loop with online softmax: the CPU path (10x the unfold reference here)"
    ok, why = triton_status()
    if not ok:
        return "aten", f"ATen fallback on CUDA: {why}"
    if dtype == torch.float64:
        return "aten", "ATen fallback on CUDA: the Triton kernel takes fp16/bf16/fp32, not fp64"
    return "triton", "fused Triton kernel, online softmax over the window, fp32 accumulation"


def _lse_dtype(dtype):
    return torch.float64 if dtype == torch.float64 else torch.float32


@torch.library.custom_op("exemplar_vc::local_attention", mutates_args=())
def _local_attention_op(
    query: Tensor, key: Tensor, value: Tensor, radius: int, temperature: float
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(values, max_similarity, offset, lse (B, H, W)); see ``local_attention``."""
    B, _, H, W = query.shape
    if local_attention_path(query.device, query.dtype)[0] == "triton":
        from . import _local_attention_triton as triton_path

        out, best, arg, lse = triton_path.forward(query, key, value, radius, temperature)
    else:
        out, best, arg, lse = aten_path.forward(query, key, value, radius, temperature)
    d = 2 * radius + 1
    offset = torch.stack([arg // d - radius, arg % d - radius], dim=1)
    return out.to(value.dtype), best.to(query.dtype).unsqueeze(1), offset, lse.to(_lse_dtype(query.dtype))


@_local_attention_op.register_fake
def _(query, key, value, radius, temperature):
    B, _, H, W = query.shape
    return (
        value.new_empty(B, value.shape[1], H, W),
        query.new_empty(B, 1, H, W),
        query.new_empty(B, 2, H, W, dtype=torch.long),
        query.new_empty(B, H, W, dtype=_lse_dtype(query.dtype)),
    )


@torch.library.custom_op("exemplar_vc::local_attention_backward", mutates_args=())
def _local_attention_backward_op(
    grad_values: Tensor | None,
    grad_best: Tensor | None,
    query: Tensor,
    key: Tensor,
    value: Tensor,
    out: Tensor,
    offset: Tensor,
    lse: Tensor,
    radius: int,
    temperature: float,
) -> tuple[Tensor, Tensor, Tensor]:
    """Gradients for (query, key, value), recomputed offset by offset on every device."""
    d = 2 * radius + 1
    arg = (offset[:, 0] + radius) * d + offset[:, 1] + radius
    go = torch.zeros_like(out) if grad_values is None else grad_values
    gb = None if grad_best is None else grad_best[:, 0]
    dq, dk, dv = aten_path.backward(go, gb, query, key, value, out, arg, lse, radius, temperature)
    return dq.to(query.dtype), dk.to(key.dtype), dv.to(value.dtype)


@_local_attention_backward_op.register_fake
def _(grad_values, grad_best, query, key, value, out, offset, lse, radius, temperature):
    return torch.empty_like(query), torch.empty_like(key), torch.empty_like(value)


def _setup_context(ctx, inputs, output):
    query, key, value, radius, temperature = inputs
    out, _, offset, lse = output
    ctx.save_for_backward(query, key, value, out, offset, lse)
    ctx.radius, ctx.temperature = radius, temperature
    ctx.mark_non_differentiable(offset, lse)


def _backward(ctx, grad_values, grad_best, _grad_offset, _grad_lse):
    query, key, value, out, offset, lse = ctx.saved_tensors
    dq, dk, dv = _local_attention_backward_op(
        grad_values, grad_best, query, key, value, out, offset, lse, ctx.radius, ctx.temperature
    )
    return dq, dk, dv, None, None


_local_attention_op.register_autograd(_backward, setup_context=_setup_context)


def _check(query, key, value, radius, temperature):
    for name, x in (("query", query), ("key", key), ("value", value)):
        check_float(name, x)
    check_dims("query", query, "B, C, H, W")
    check_dims("value", value, "B, V, H, W")
    if key.shape != query.shape:
        raise ValueError(f"expected key of the query's shape {tuple(query.shape)}, got {tuple(key.shape)}")
    if value.shape[0] != query.shape[0] or value.shape[2:] != query.shape[2:]:
        raise ValueError(f"expected value of shape ({query.shape[0]}, V, {query.shape[2]}, {query.shape[3]}), got {tuple(value.shape)}")
    if not (query.dtype == key.dtype == value.dtype):
        raise TypeError(f"expected one dtype for query, key, value, got {query.dtype}, {key.dtype}, {value.dtype}")
    if not (isinstance(radius, int) and 0 <= radius <= MAX_RADIUS):
        raise ValueError(f"expected an int radius in [0, {MAX_RADIUS}], got {radius!r}")
    check_temperature(temperature)


def local_attention(
    query: Tensor, key: Tensor, value: Tensor, radius: int, temperature: float
) -> LocalAttentionResult:
    """Softmax-weighted values of the neighbouring frame within a (2r+1)^2 window.

    For pixel (y, x) and window offset (dy, dx) with |dy|, |dx| <= r inside the frame,
    s = <query[:, y, x], key[:, y + dy, x + dx]> (a cosine for unit-norm features) and the
    weights are softmax(s / temperature) over the window (local attention as in
    DeepRemaster / the correlation layer of FlowNet, Dosovitskiy et al. 2015, eq. 1).

    Args:
        query, key: (B, C, H, W) float features of this and the neighbouring frame.
        value: (B, V, H, W) what to carry from the neighbour (e.g. ab and confidence).
        radius: r in [0, 7]. temperature: > 0.

    >>> import torch
    >>> f = torch.nn.functional.normalize(torch.randn(1, 8, 6, 6), dim=1)
    >>> moved = torch.roll(f, shifts=1, dims=3)  # the neighbour is shifted right by one
    >>> res = local_attention(f, moved, torch.ones(1, 2, 6, 6), radius=2, temperature=0.01)
    >>> res.offset[0, :, 3, 3].tolist(), res.values.shape
    ([0, 1], torch.Size([1, 2, 6, 6]))
    """
    _check(query, key, value, radius, temperature)
    out, best, offset, _ = _local_attention_op(query, key, value, int(radius), float(temperature))
    return LocalAttentionResult(out, best, offset)


class LocalAttention(nn.Module):
    """``local_attention`` as a module with a fixed radius and temperature (no parameters).

    >>> import torch
    >>> LocalAttention(radius=3, temperature=0.05)(*torch.randn(3, 1, 4, 5, 5)).values.shape
    torch.Size([1, 4, 5, 5])
    """

    def __init__(self, radius: int, temperature: float):
        super().__init__()
        if not (isinstance(radius, int) and 0 <= radius <= MAX_RADIUS):
            raise ValueError(f"expected an int radius in [0, {MAX_RADIUS}], got {radius!r}")
        check_temperature(temperature)
        self.radius, self.temperature = radius, float(temperature)

    def forward(self, query: Tensor, key: Tensor, value: Tensor) -> LocalAttentionResult:
        return local_attention(query, key, value, self.radius, self.temperature)

    def extra_repr(self) -> str:
        return f"radius={self.radius}, temperature={self.temperature}"
