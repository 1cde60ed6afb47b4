"""Gray frames from frame ``start`` on, without decoding the frames before it where the
input allows.

- Frame folders and arrays: the frames before ``start`` are simply not read.
- Video files: the decoder seeks to the last key frame (of the codec) at or before
  ``start`` and decodes from there. Which presentation timestamp each frame has comes from
  an index built by reading the file's packets once (no decoding; cached per file), and
  every frame decoded after a seek is checked against it. Where the index cannot be
  trusted (packets without timestamps, a count that differs from the frames decoded in
  stage 1) or a decoded timestamp differs from it, the file is decoded from its first
  frame and the frames before ``start`` skipped: slower, the same frames.

Frames are converted exactly as ``io.reader`` does (RGB24 from the decoder, then BT.601
luminance), so they are the frames a sequential read gives.
"""

from __future__ import annotations

import bisect
import dataclasses
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import InputError
from ..io import FrameSource
from ..io.limits import open_av
from ..pixels import rgb_to_gray

__all__ = ["VideoIndex", "index_video", "gray_frames_from", "gray_frame"]


@dataclass(frozen=True)
class VideoIndex:
    """pts: presentation timestamp of every frame, ascending (frame i has ``pts[i]``).
    keys: timestamps of the codec's key frames (where decoding can start), ascending."""

    pts: tuple[int, ...]
    keys: tuple[int, ...]

    def seek_target(self, start: int) -> int | None:
        """Timestamp of the key frame to seek to for frame ``start``: the last one at or
        before it, one key frame earlier still (a container's seek may index by decode
        time); None to decode from the beginning."""
        if not 0 < start < len(self.pts):
            return None
        i = bisect.bisect_right(self.keys, self.pts[start]) - 2
        return self.keys[i] if i >= 0 else None

    def position(self, pts: int | None) -> int | None:
        """The frame whose timestamp is ``pts``, else None."""
        if pts is None:
            return None
        i = bisect.bisect_left(self.pts, pts)
        return i if i < len(self.pts) and self.pts[i] == pts else None


_CACHE: "OrderedDict[tuple, VideoIndex | None]" = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 16


def index_video(path: str | os.PathLike, expected_frames: int | None = None) -> VideoIndex | None:
    """The ``VideoIndex`` of a video file from its packets (no decoding), or None when it
    cannot be trusted. Cached per file (path, size, modification time)."""
    p = Path(path)
    st = p.stat()
    key = (os.fspath(p.resolve()), st.st_size, st.st_mtime_ns, expected_frames)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    index = _build_index(p, expected_frames)
    with _CACHE_LOCK:
        _CACHE[key] = index
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return index


def _build_index(path: Path, expected_frames: int | None) -> VideoIndex | None:
    import av

    try:
        with av.open(os.fspath(path)) as container:
            stream = container.streams.video[0]
            pts, keys = [], []
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue  # the demuxer's flush packet
                if packet.pts is None:
                    return None
                pts.append(int(packet.pts))
                if packet.is_keyframe:
                    keys.append(int(packet.pts))
    except (av.error.FFmpegError, OSError):
        return None
    pts.sort()
    if not keys or len(set(pts)) != len(pts) or (expected_frames is not None and len(pts) != expected_frames):
        return None
    return VideoIndex(tuple(pts), tuple(sorted(keys)))


def _decode(path: Path, size: tuple[int, int], seek_pts: int | None) -> Iterator[tuple[int | None, np.ndarray]]:
    """(pts, gray) of the frames of ``path`` from the key frame at ``seek_pts`` (None: the start)."""
    import av

    try:
        container = open_av(path)  # as io/reader.py: InputError for metadata that is not UTF-8
    except (av.error.FFmpegError, OSError) as e:
        raise InputError(f"expected a readable video file, could not open {str(path)!r}: {e}") from e
    with container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            if seek_pts is not None:
                container.seek(seek_pts, backward=True, any_frame=False, stream=stream)
            for frame in container.decode(stream):
                rgb = frame.to_ndarray(format="rgb24")
                if rgb.shape[:2] != size:
                    raise InputError(f"expected every frame of {str(path)!r} to be {size[1]}x{size[0]}, got {rgb.shape[1]}x{rgb.shape[0]}")
                yield frame.pts, rgb_to_gray(rgb)
        except av.error.FFmpegError as e:
            raise InputError(f"expected a valid video stream in {str(path)!r}, decoding failed: {e}") from e


def _video_from(source: FrameSource, start: int, num_frames: int | None) -> Iterator[np.ndarray]:
    index = index_video(source.path, num_frames)
    target = index.seek_target(start) if index is not None else None
    nxt = start  # the next frame to yield
    if target is not None:
        frames = _decode(source.path, source.size, target)
        try:
            for pts, gray in frames:
                i = index.position(pts)
                if i is not None and i < nxt:
                    continue
                if i != nxt:
                    break  # unknown timestamp, a seek past the frame wanted, or a dropped frame
                yield gray
                nxt += 1
            else:
                return
        finally:
            frames.close()
    for i, (_, gray) in enumerate(_decode(source.path, source.size, None)):
        if i >= nxt:
            yield gray


def gray_frames_from(source: FrameSource, start: int, num_frames: int | None = None) -> Iterator[np.ndarray]:
    """(H, W) uint8 gray frames of ``source`` from frame ``start`` (0-based) to its end,
    the same as ``source.gray_frames()`` gives from there; ``num_frames`` (stage 1's count)
    lets a video's packet index be checked against it."""
    if start < 0:
        raise InputError(f"expected a start frame >= 0, got {start}")
    if start == 0:
        return source.gray_frames()
    if source.kind == "folder":
        return dataclasses.replace(source, names=source.names[start:], num_frames=len(source.names[start:])).gray_frames()
    if source.kind == "array":
        return dataclasses.replace(source, _data=source._data[start:], num_frames=None).gray_frames()
    return _video_from(source, start, num_frames)


def gray_frame(source: FrameSource, index: int, num_frames: int | None = None) -> np.ndarray:
    """The (H, W) uint8 gray frame ``index`` of ``source``."""
    frame = next(iter(gray_frames_from(source, index, num_frames)), None)
    if frame is None:
        raise InputError(f"expected a frame {index}, but the input ended before it")
    return frame
