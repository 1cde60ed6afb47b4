"""Files that appear complete or not at all: written under a temporary name beside the
destination, flushed to disk, then renamed (``rename(2)`` is atomic within a file system,
local or NFS). Temporary names follow the library's partial-file pattern with an owner
marker (``io/stale.py``), so what a killed process left is removed by the next job that
opens the folder on the same host, and a live writer's files (another worker sharing
the folder) are never touched."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable

from ..io.stale import PARTIAL_TAG, clean_stale_partials, owner_record

__all__ = ["AtomicFile", "write_bytes_atomic", "clean_stale"]


class AtomicFile:
    """A binary file written at a temporary name; ``commit()`` flushes and moves it to
    ``path``, ``discard()`` (or leaving a ``with`` block on an exception) removes it.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with AtomicFile(d / "x.bin") as f:
    ...     _ = f.file.write(b"abc")
    ...     _ = f.commit()
    >>> (d / "x.bin").read_bytes(), sorted(p.name for p in d.iterdir())
    (b'abc', ['x.bin'])
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        fd, marker = tempfile.mkstemp(prefix=f".{self.path.name}.{PARTIAL_TAG}-{os.getpid()}-", suffix=".owner", dir=self.path.parent)
        self._marker = Path(marker)
        self._tmp = self._marker.with_name(self._marker.name[: -len(".owner")] + ".partial")
        try:
            import json

            with os.fdopen(fd, "w") as f:
                json.dump(owner_record(), f)
            self.file: BinaryIO = open(self._tmp, "xb")
        except BaseException:
            self._marker.unlink(missing_ok=True)
            raise
        self._done = False

    def commit(self) -> Path:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        os.replace(self._tmp, self.path)
        self._done = True
        self._marker.unlink(missing_ok=True)
        return self.path

    def discard(self) -> None:
        if self._done:
            return
        self._done = True
        try:
            self.file.close()
        finally:
            self._tmp.unlink(missing_ok=True)
            self._marker.unlink(missing_ok=True)

    def __enter__(self) -> "AtomicFile":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self._done:
            self.discard()


def write_bytes_atomic(path: str | os.PathLike, data: bytes | Callable[[BinaryIO], None]) -> Path:
    """Write ``data`` (bytes, or a function writing into the open file) to ``path`` atomically."""
    with AtomicFile(path) as f:
        if callable(data):
            data(f.file)
        else:
            f.file.write(data)
        return f.commit()


def clean_stale(directory: str | os.PathLike) -> list[Path]:
    """Remove the temporary files that dead processes of this host left in ``directory``."""
    return clean_stale_partials(directory)
