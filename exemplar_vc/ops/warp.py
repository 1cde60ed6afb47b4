"""Backward warping of an image or feature map by a dense flow field.

``warp`` is the custom op ``exemplar_vc::warp``. CPU path: four bilinear taps gathered in
ATen from exact pixel coordinates (``_warp_aten``); GPU path: a Triton kernel. The
backward (``exemplar_vc::warp_backward``) uses the ATen taps on every device.

Border handling: the sample point for output pixel (y, x) is (x + flow_x, y + flow_y) in
pixel units; each of its four bilinear taps that falls outside the image contributes
zero, and ``valid`` is 1 exactly where the point lies in [0, W-1] x [0, H-1] (no tap
needed from outside), else 0. Multiply by ``valid`` to discard the darkened border.
``warp_replicate`` instead clamps the sample point into the image, which is bilinear
sampling with the edge pixel repeated outside (OpenCV's BORDER_REPLICATE): what colour
carried by flow should do where the camera reveals new ground (on 11 held-out clips the
zero border cost plain flow propagation 2.45 dB on average, benchmarks/README.md).

"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from . import _warp_aten as aten_path
from ._checks import check_dims, check_float
from ._triton import triton_status

__all__ = ["WarpResult", "warp", "warp_replicate", "Warp", "warp_path"]


class WarpResult(NamedTuple):
    """warped: (B, C, H, W), dtype of x; valid: (B, 1, H, W), dtype of x, 1.0 where the
    sample point lies inside the image, else 0.0."""

    warped: Tensor
    valid: Tensor


def warp_path(device: torch.device, dtype: torch.dtype) -> tuple[str, str]:
    """(path, why) the forward takes for tensors on ``device`` of ``dtype``."""
    if device.type != "cuda":
        return "aten", "ATen gather of the four bilinear taps, exact pixel coordinates"
    ok, why = triton_status()
    if not ok:
        return "aten", f"ATen taps on CUDA: {why}"
    if dtype == torch.float64:
        return "aten", "ATen taps on CUDA: the Triton kernel takes fp16/bf16/fp32, not fp64"
    return "triton", "Triton kernel: four taps and the validity mask in one pass"


@torch.library.custom_op("exemplar_vc::warp", mutates_args=())
def _warp_op(x: Tensor, flow: Tensor) -> tuple[Tensor, Tensor]:
    """(warped, valid); see ``warp``."""
    if warp_path(x.device, x.dtype)[0] == "triton":
        from . import _warp_triton as triton_path

        return triton_path.forward(x, flow)
    return aten_path.forward(x, flow)


@_warp_op.register_fake
def _(x, flow):
    B, _, H, W = x.shape
    return torch.empty_like(x), x.new_empty(B, 1, H, W)


def _setup_context(ctx, inputs, output):
    ctx.save_for_backward(*inputs)
    ctx.mark_non_differentiable(output[1])


@torch.library.custom_op("exemplar_vc::warp_backward", mutates_args=())
def _warp_backward_op(grad_out: Tensor, x: Tensor, flow: Tensor) -> tuple[Tensor, Tensor]:
    """Gradients for (x, flow), by the ATen taps on every device."""
    dx, dflow = aten_path.backward(grad_out, x, flow)
    return dx, dflow.to(flow.dtype)


@_warp_backward_op.register_fake
def _(grad_out, x, flow):
    return torch.empty_like(x), torch.empty_like(flow)


def _backward(ctx, grad_out, _grad_valid):
    x, flow = ctx.saved_tensors
    return _warp_backward_op(grad_out, x, flow)


_warp_op.register_autograd(_backward, setup_context=_setup_context)


def warp(x: Tensor, flow: Tensor) -> WarpResult:
    """Backward-warp ``x`` by ``flow``: warped[:, :, y, x] = x at (x + flow_x, y + flow_y).

    Args:
        x: (B, C, H, W) float image or features (any range, e.g. ab chroma).
        flow: (B, 2, H, W) float, pixels; channel 0 = dx, channel 1 = dy (OpenCV's
            ``calcOpticalFlow*`` order, flow from the output frame to ``x``'s frame).

    Returns ``WarpResult(warped, valid)``; see the module doc for the border handling.
    Differentiable in x and flow.

    >>> import torch
    >>> img = torch.arange(12.).view(1, 1, 3, 4)
    >>> flow = torch.zeros(1, 2, 3, 4); flow[:, 0] = 1.0  # read one pixel to the right
    >>> res = warp(img, flow)
    >>> res.warped[0, 0, 0].tolist(), res.valid[0, 0, 0].tolist()
    ([1.0, 2.0, 3.0, 0.0], [1.0, 1.0, 1.0, 0.0])
    """
    check_float("x", x)
    check_float("flow", flow)
    check_dims("x", x, "B, C, H, W")
    if flow.dim() != 4 or flow.shape[1] != 2 or flow.shape[0] != x.shape[0] or flow.shape[2:] != x.shape[2:]:
        raise ValueError(f"expected flow of shape ({x.shape[0]}, 2, {x.shape[2]}, {x.shape[3]}), got {tuple(flow.shape)}")
    return WarpResult(*_warp_op(x, flow))


def warp_replicate(x: Tensor, flow: Tensor) -> WarpResult:
    """``warp`` with the border replicated: a sample point outside the image is moved to
    the nearest point inside it. ``valid`` still says where the point lay inside.

    >>> import torch
    >>> img = torch.arange(12.).view(1, 1, 3, 4)
    >>> flow = torch.zeros(1, 2, 3, 4); flow[:, 0] = 1.0
    >>> res = warp_replicate(img, flow)
    >>> res.warped[0, 0, 0].tolist(), res.valid[0, 0, 0].tolist()
    ([1.0, 2.0, 3.0, 3.0], [1.0, 1.0, 1.0, 0.0])
    """
    check_float("flow", flow)
    if flow.dim() != 4 or flow.shape[1] != 2:
        raise ValueError(f"expected flow of shape (B, 2, H, W), got {tuple(flow.shape)}")
    H, W = flow.shape[-2:]
    xs = torch.arange(W, dtype=flow.dtype, device=flow.device).view(1, W)
    ys = torch.arange(H, dtype=flow.dtype, device=flow.device).view(H, 1)
    px, py = xs + flow[:, 0], ys + flow[:, 1]
    inside = ((px >= 0) & (px <= W - 1) & (py >= 0) & (py <= H - 1)).unsqueeze(1)
    clamped = torch.stack([px.clamp(0, W - 1) - xs, py.clamp(0, H - 1) - ys], dim=1)
    warped = warp(x, clamped).warped
    return WarpResult(warped, inside.to(warped.dtype))


class Warp(nn.Module):
    """``warp`` as a module (no parameters).

    >>> import torch
    >>> Warp()(torch.rand(2, 3, 5, 6), torch.zeros(2, 2, 5, 6)).valid.all().item()
    True
    """

    def forward(self, x: Tensor, flow: Tensor) -> WarpResult:
        return warp(x, flow)
