"""Finished segments on disk: each one's frames in one lossless file, and a record that
names the file, its SHA-256 and the key of everything the frames depend on.

Layout, inside a job folder::

    segments/SSSSSSSSS-EEEEEEEEE.KEY16.npy    frames START..END-1, (n, H, W, 3) uint8 sRGB
    segments/SSSSSSSSS-EEEEEEEEE.KEY16.json   the record (written last)

Formats: ``"npy"`` (the default) is NumPy's own format, uncompressed: writing and checking
cost ~3 ms a frame at 854x480, 1.2 MB a frame on disk. ``"png"`` stores each frame as a
PNG (zlib level 1) back to back in one ``.pngs`` file, offsets in the record: about half
the disk, ~60 ms a frame more (measured on bear.mp4 frames, 2 loaded cores). Both give the
exact pixels back.

A segment is finished when its record exists and names the key asked for; the data file
is written (temporary name, fsync, rename) before the record, so a segment killed at any
point leaves no record and is simply done again. ``read`` checks the SHA-256 of the bytes
it reads against the record. Many processes (cluster workers) may write one store: each
writes only its own segments and every file appears atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import InputError
from ..propagation.segments import Segment
from .atomic import AtomicFile, clean_stale, write_bytes_atomic

__all__ = ["SegmentStore", "SegmentRecord", "SegmentWriter", "CorruptSegment", "FORMATS"]

FORMATS = ("npy", "png")
SEGMENTS_DIR = "segments"
_SUFFIX = {"npy": ".npy", "png": ".pngs"}


class CorruptSegment(InputError):
    """A finished segment's file does not match its record (changed or damaged on disk)."""


@dataclass
class SegmentRecord:
    """What a finished segment left: ``segment``; ``key``: SHA-256 of what its frames
    depend on; ``file``: its data file (name in the store); ``format``: "npy" or "png";
    ``sha256``: of the data file; ``shape``: (n, H, W, 3); ``mean_confidence``: one float
    per frame; ``offsets``: byte offset of each frame's PNG ("png" only)."""

    segment: Segment
    key: str
    file: str
    format: str
    sha256: str
    shape: list[int]
    mean_confidence: list[float]
    offsets: list[int] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "segment": self.segment.to_dict(),
            "key": self.key,
            "file": self.file,
            "format": self.format,
            "sha256": self.sha256,
            "shape": list(self.shape),
            "mean_confidence": list(self.mean_confidence),
            "offsets": list(self.offsets),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "SegmentRecord":
        return cls(Segment(**d["segment"]), d["key"], d["file"], d["format"], d["sha256"], list(d["shape"]), [float(v) for v in d["mean_confidence"]], list(d.get("offsets", [])))


class _HashingFile:
    """Writes through to ``f`` and hashes what passes."""

    def __init__(self, f):
        self.f = f
        self.sha = hashlib.sha256()
        self.pos = 0

    def write(self, data) -> int:
        self.sha.update(data)
        self.f.write(data)
        self.pos += len(data)
        return len(data)


class SegmentWriter:
    """Receives a segment's frames in order; ``commit()`` publishes file and record."""

    def __init__(self, store: "SegmentStore", segment: Segment, key: str):
        self.store, self.segment, self.key = store, segment, key
        self.path = store.data_path(segment, key)
        self._file = AtomicFile(self.path)
        self._out = _HashingFile(self._file.file)
        self._shape: tuple[int, ...] | None = None
        self._conf: list[float] = []
        self._offsets: list[int] = []

    @property
    def count(self) -> int:
        return len(self._conf)

    def write(self, rgb: np.ndarray, mean_confidence: float) -> None:
        """Append one (H, W, 3) uint8 frame and its mean confidence."""
        if self.count >= len(self.segment):
            raise ValueError(f"expected {len(self.segment)} frames for segment {self.segment.start}..{self.segment.end - 1}, got more")
        rgb = np.ascontiguousarray(rgb)
        if self._shape is None:
            self._shape = (len(self.segment), *rgb.shape)
            if self.store.format == "npy":
                np.lib.format.write_array_header_1_0(self._out, {"descr": np.lib.format.dtype_to_descr(rgb.dtype), "fortran_order": False, "shape": self._shape})
        elif rgb.shape != self._shape[1:] or rgb.dtype != np.uint8:
            raise ValueError(f"expected frames of {self._shape[1:]} uint8, got {rgb.shape} {rgb.dtype}")
        if self.store.format == "npy":
            self._out.write(memoryview(rgb).cast("B"))
        else:
            import cv2

            ok, data = cv2.imencode(".png", rgb[..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 1])
            if not ok:  # pragma: no cover
                raise OSError("PNG encoding failed")
            self._offsets.append(self._out.pos)
            self._out.write(data.tobytes())
        self._conf.append(float(mean_confidence))

    def commit(self) -> SegmentRecord:
        if self.count != len(self.segment):
            raise ValueError(f"expected {len(self.segment)} frames for segment {self.segment.start}..{self.segment.end - 1}, got {self.count}")
        self._file.commit()
        record = SegmentRecord(self.segment, self.key, self.path.name, self.store.format, self._out.sha.hexdigest(), list(self._shape), self._conf, self._offsets)
        write_bytes_atomic(self.store.record_path(self.segment, self.key), (json.dumps(record.to_dict()) + "\n").encode())
        return record

    def discard(self) -> None:
        self._file.discard()

    def __enter__(self) -> "SegmentWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.discard()


class SegmentStore:
    """The finished segments of one video in ``directory`` (created if needed).

    format: how new segments are written, "npy" or "png" (either is read).
    """

    def __init__(self, directory: str | os.PathLike, format: str = "npy"):
        if format not in FORMATS:
            raise InputError(f"expected a segment format in {FORMATS}, got {format!r}")
        self.directory = Path(directory)
        self.format = format
        self.directory.mkdir(parents=True, exist_ok=True)

    def clean_stale(self) -> list[Path]:
        """Remove temporary files of dead processes (this host's only)."""
        return clean_stale(self.directory)

    def _stem(self, segment: Segment, key: str) -> str:
        return f"{segment.start:09d}-{segment.end:09d}.{key[:16]}"

    def data_path(self, segment: Segment, key: str, format: str | None = None) -> Path:
        return self.directory / (self._stem(segment, key) + _SUFFIX[format or self.format])

    def record_path(self, segment: Segment, key: str) -> Path:
        return self.directory / (self._stem(segment, key) + ".json")

    def record(self, segment: Segment, key: str) -> SegmentRecord | None:
        """The record of ``segment`` computed with ``key``, when it is finished (its data
        file present, of the right size), else None."""
        path = self.record_path(segment, key)
        try:
            record = SegmentRecord.from_dict(json.loads(path.read_text()))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            return None  # unreadable: done again
        if record.key != key or record.segment != segment:
            return None
        data = self.directory / record.file
        try:
            size = data.stat().st_size
        except OSError:
            return None
        if record.format == "npy" and size != _npy_size(record.shape):
            return None
        return record

    def writer(self, segment: Segment, key: str) -> SegmentWriter:
        """A ``SegmentWriter`` for ``segment`` (nothing is visible before its commit)."""
        return SegmentWriter(self, segment, key)

    def forget(self, record: SegmentRecord) -> None:
        """Remove a segment's record and file (it will be done again)."""
        self.record_path(record.segment, record.key).unlink(missing_ok=True)
        (self.directory / record.file).unlink(missing_ok=True)

    def verify(self, record: SegmentRecord) -> bool:
        """True when the data file's SHA-256 is the record's (reads the whole file)."""
        from .digest import file_sha256

        try:
            return file_sha256(self.directory / record.file) == record.sha256
        except OSError:
            return False

    def read(self, record: SegmentRecord) -> Iterator[np.ndarray]:
        """Yield the segment's (H, W, 3) uint8 frames; ``CorruptSegment`` when the bytes
        read do not have the record's SHA-256 (raised after the last frame: check before
        publishing anything built from them)."""
        path = self.directory / record.file
        sha = hashlib.sha256()
        n, h, w, c = record.shape
        frame_bytes = h * w * c
        try:
            f = open(path, "rb")
        except OSError as e:
            raise CorruptSegment(f"expected the segment file {str(path)!r}, could not open it: {e.strerror or e}") from e
        with f:
            if record.format == "npy":
                header = f.read(_npy_size(record.shape) - n * frame_bytes)
                sha.update(header)
                for _ in range(n):
                    data = f.read(frame_bytes)
                    sha.update(data)
                    if len(data) != frame_bytes:
                        break
                    yield np.frombuffer(data, np.uint8).reshape(h, w, c)
            else:
                import cv2

                data = f.read()
                sha.update(data)
                ends = list(record.offsets[1:]) + [len(data)]
                for a, b in zip(record.offsets, ends):
                    frame = cv2.imdecode(np.frombuffer(data[a:b], np.uint8), cv2.IMREAD_COLOR)
                    if frame is None or frame.shape != (h, w, c):
                        break
                    yield np.ascontiguousarray(frame[..., ::-1])
            rest = f.read()
            sha.update(rest)
        if sha.hexdigest() != record.sha256:
            raise CorruptSegment(
                f"expected segment {record.segment.start}..{record.segment.end - 1} in {str(path)!r} to have SHA-256 {record.sha256[:16]}..., "
                "it differs (changed or damaged on disk); run again with --resume to recompute it"
            )

    def prune(self, keep: set[tuple[int, int, str]]) -> list[Path]:
        """Remove finished segments not in ``keep`` ({(start, end, key)}): versions that a
        new exemplar or new settings replaced. Returns what was removed."""
        removed = []
        for path in sorted(self.directory.glob("*.json")):
            try:
                rec = SegmentRecord.from_dict(json.loads(path.read_text()))
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if (rec.segment.start, rec.segment.end, rec.key) in keep:
                continue
            for p in (path, self.directory / rec.file):
                if p.exists():
                    p.unlink()
                    removed.append(p)
        return removed


def _npy_size(shape: list[int]) -> int:
    """Bytes of a version-1.0 .npy file of uint8 ``shape`` (header padded to 64 bytes)."""
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "|u1", "fortran_order": False, "shape": tuple(shape)})
    return buf.tell() + int(np.prod(shape))
