"""Input checks shared by the ops: say what was expected and what came (STYLE item 10)."""

from __future__ import annotations

import torch

_FLOATS = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def check_float(name: str, x: torch.Tensor) -> None:
    if not isinstance(x, torch.Tensor) or x.dtype not in _FLOATS:
        got = x.dtype if isinstance(x, torch.Tensor) else type(x).__name__
        raise TypeError(f"expected {name} as a floating-point tensor, got {got}")


def check_dims(name: str, x: torch.Tensor, layout: str) -> None:
    if x.dim() != len(layout.split(",")):
        raise ValueError(f"expected {name} of shape ({layout}), got {tuple(x.shape)}")


def check_temperature(temperature: float) -> None:
    if not temperature > 0:
        raise ValueError(f"expected a positive temperature, got {temperature}")


def eager() -> bool:
    """True outside torch.compile tracing, where data-dependent checks are allowed."""
    return not torch.compiler.is_compiling()
