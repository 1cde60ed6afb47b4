"""Which path each op takes on each device, and why."""

from __future__ import annotations

import torch

from .correspondence import correspondence_path
from .local_attention import local_attention_path
from .warp import warp_path

__all__ = ["backend_info"]

_PATHS = {"correspondence": correspondence_path, "local_attention": local_attention_path, "warp": warp_path}
_BACKWARD = {
    "correspondence": "ATen tiles recomputed from the saved log-sum-exp (all devices)",
    "local_attention": "ATen offset loop recomputed from the saved log-sum-exp (all devices)",
    "warp": "ATen scatter of the four bilinear taps (all devices)",
}


def backend_info(dtype: torch.dtype = torch.float32) -> dict[str, dict[str, str]]:
    """{op: {"cpu": ..., "cuda": ..., "backward": ...}}: the forward path per device type
    ("aten: why" or "triton: why") for tensors of ``dtype``, and how gradients are computed.
    Imports nothing heavy: Triton is only probed (import) when asked about CUDA.

    >>> info = backend_info()
    >>> sorted(info), info["correspondence"]["cpu"].split(":")[0]
    (['correspondence', 'local_attention', 'warp'], 'aten')
    """
    info = {}
    for op, path in _PATHS.items():
        entry = {}
        for dev in ("cpu", "cuda"):
            name, why = path(torch.device(dev), dtype)
            if dev == "cuda" and not torch.cuda.is_available():
                why += " (no CUDA device visible now)"
            entry[dev] = f"{name}: {why}"
        entry["backward"] = _BACKWARD[op]
        info[op] = entry
    return info
