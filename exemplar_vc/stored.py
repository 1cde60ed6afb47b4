"""Images that wait on disk until read: stage 1's key frames and exemplars of long films.

Stage 1 keeps a gray image per key frame and a colour image per exemplar for stage 2 to
read when a segment reaches them. A feature film has thousands of both (0.4 MB per 480p
key frame, 1.2 MB per exemplar): held in memory, they made peak memory grow with the
film's length (issue 12). An ``ArrayShelf`` keeps the first few in memory, as before, and
writes the rest to a private temporary folder as ``.npy`` files; what it returns for them
is a ``StoredArray``, which reads its file each time it is turned into an array
(``np.asarray``), so nothing of it stays in memory between reads.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any

import numpy as np

from .io.stale import MARKER_NAME, STAGE1_PREFIX, write_marker

__all__ = ["ArrayShelf", "StoredArray", "as_array"]


class _Folder:
    """The temporary folder of one shelf, removed once neither the shelf nor any array
    stored in it is referenced (or, after a kill -9, by the next run: its owner marker)."""

    def __init__(self, parent: str | os.PathLike | None):
        self.path = Path(tempfile.mkdtemp(prefix=STAGE1_PREFIX, dir=parent))
        write_marker(self.path / MARKER_NAME)
        weakref.finalize(self, shutil.rmtree, str(self.path), True)


class StoredArray:
    """A read-only array in a ``.npy`` file: ``np.asarray(x)`` (or ``x.load()``) reads it,
    ``x[...]`` reads and indexes it; ``shape``, ``dtype`` and ``ndim`` need no read.
    Pickling carries the pixels, so a copy sent to another process needs no shared disk."""

    __slots__ = ("_folder", "path", "shape", "dtype")

    def __init__(self, folder: _Folder, path: Path, shape: tuple[int, ...], dtype: np.dtype):
        self._folder = folder  # keeps the folder alive as long as this array
        self.path = path
        self.shape = shape
        self.dtype = dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape)) * self.dtype.itemsize

    def load(self) -> np.ndarray:
        return np.load(self.path, allow_pickle=False)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        a = self.load()
        return a if dtype is None else a.astype(dtype, copy=False)

    def __getitem__(self, key: Any) -> Any:
        return self.load()[key]

    def __reduce__(self):
        return (_unpickle, (self.load(),))

    def __repr__(self) -> str:
        return f"StoredArray(shape={self.shape}, dtype={self.dtype}, path={str(self.path)!r})"


def _unpickle(array: np.ndarray) -> np.ndarray:
    return array


def as_array(image: Any) -> np.ndarray:
    """``image`` as an ndarray: a ``StoredArray`` is read, an ndarray is returned as is."""
    return image.load() if isinstance(image, StoredArray) else image


class ArrayShelf:
    """Keeps the first ``in_memory`` arrays put on it as they are; writes the others to a
    private temporary folder (in ``folder``, default the system's) and returns a
    ``StoredArray`` for each. ``in_memory=None`` keeps everything in memory."""

    def __init__(self, in_memory: int | None, folder: str | os.PathLike | None = None):
        if in_memory is not None and in_memory < 0:
            raise ValueError(f"expected in_memory >= 0 or None, got {in_memory}")
        self.in_memory = in_memory
        self.parent = folder
        self._kept = 0
        self._stored = 0
        self._folder: _Folder | None = None

    @property
    def stored(self) -> int:
        """How many arrays went to disk."""
        return self._stored

    def put(self, array: Any) -> Any:
        """``array`` itself while the in-memory allowance lasts, else its ``StoredArray``.
        A ``StoredArray`` (already on disk) is returned as is."""
        if isinstance(array, StoredArray):
            return array
        if self.in_memory is None or self._kept < self.in_memory:
            self._kept += 1
            return array
        array = np.ascontiguousarray(array)
        if self._folder is None:
            self._folder = _Folder(self.parent)
        path = self._folder.path / f"{self._stored:08d}.npy"
        np.save(path, array, allow_pickle=False)
        self._stored += 1
        return StoredArray(self._folder, path, tuple(array.shape), array.dtype)
