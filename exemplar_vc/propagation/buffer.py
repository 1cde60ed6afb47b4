"""Frames of a segment waiting for the backward pass: in memory up to a limit, then on disk.

Memory of stage 2 is thereby bounded whatever the distance between two exemplars.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

from ..io.stale import MARKER_NAME, write_marker

__all__ = ["SegmentBuffer"]


class SegmentBuffer:
    """A list that keeps its first ``max_in_memory`` items in memory and pickles the rest
    to a private temporary folder (removed by ``clear``)."""

    def __init__(self, max_in_memory: int):
        self.max_in_memory = max(1, max_in_memory)
        self._memory: list[Any] = []
        self._spilled = 0
        self._dir: Path | None = None

    def __len__(self) -> int:
        return len(self._memory) + self._spilled

    def append(self, item: Any) -> None:
        if len(self._memory) < self.max_in_memory:
            self._memory.append(item)
            return
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="exemplar_vc_segment_"))
            # Names this process as the owner, so a later run can remove it after a kill -9.
            write_marker(self._dir / MARKER_NAME)
        torch.save(item, self._dir / f"{self._spilled:08d}.pt")
        self._spilled += 1

    def __getitem__(self, i: int) -> Any:
        if i < 0:
            i += len(self)
        if i < len(self._memory):
            return self._memory[i]
        return torch.load(self._dir / f"{i - len(self._memory):08d}.pt", weights_only=False)

    def clear(self) -> None:
        self._memory.clear()
        self._spilled = 0
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
