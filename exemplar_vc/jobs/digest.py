"""SHA-256 digests: of pixels (independent of how an image file encodes them), of files,
and of plain data (canonical JSON). A job names everything it depends on by these."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import numpy as np

__all__ = ["pixels_sha256", "file_sha256", "data_sha256", "state_sha256"]

_CHUNK = 1 << 20


def pixels_sha256(array: np.ndarray) -> str:
    """Hex SHA-256 of an array's dtype, shape and bytes (C order).

    >>> pixels_sha256(np.zeros((2, 2), np.uint8)) == pixels_sha256(np.zeros((2, 2), np.uint8))
    True
    >>> pixels_sha256(np.zeros((2, 2), np.uint8)) == pixels_sha256(np.zeros((4,), np.uint8))
    False
    """
    a = np.ascontiguousarray(array)
    h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
    h.update(memoryview(a).cast("B"))
    return h.hexdigest()


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def data_sha256(data: Any) -> str:
    """Hex SHA-256 of plain data (dicts, lists, numbers, strings, None) as canonical JSON.

    >>> data_sha256({"a": 1, "b": [2]}) == data_sha256({"b": [2], "a": 1})
    True
    """
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def state_sha256(state: dict) -> str:
    """Hex SHA-256 of a torch state dict: names, dtypes, shapes and values, in name order."""
    import torch

    h = hashlib.sha256()
    for name in sorted(state):
        t = state[name].detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        if t.numel():
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()
