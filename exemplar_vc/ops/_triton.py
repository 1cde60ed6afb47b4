"""Lazy access to Triton: importing exemplar_vc never imports it (nor prints anything).

The GPU paths are used when Triton imports and the tensors are on a CUDA device; otherwise
the ATen paths compute the same thing (see ``backend_info``).
"""

from __future__ import annotations

import functools
import importlib


@functools.lru_cache(maxsize=None)
def triton_status() -> tuple[bool, str]:
    """(usable, why): whether ``import triton`` works here, with the reason if not."""
    try:
        importlib.import_module("triton")
        importlib.import_module("triton.language")
    except Exception as err:  # ImportError, or a broken install raising anything else
        return False, f"triton is not importable ({type(err).__name__}: {err}); pip install triton"
    return True, "triton is importable"


def next_pow2(n: int, minimum: int = 16) -> int:
    """Smallest power of two >= max(n, minimum) (tl.arange and tl.dot need powers of two, >= 16)."""
    p = minimum
    while p < n:
        p *= 2
    return p
