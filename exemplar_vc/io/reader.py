"""Streamed frame sources: video files (PyAV), frame folders, numpy arrays, torch tensors.

Every source yields frames one at a time, so a feature film is never held in memory.
Colour frames are reduced to luminance with ITU-R BT.601 weights, exactly as
``cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)`` (the NTIRE 2023 protocol); bit depths and
layouts are converted by ``exemplar_vc.pixels`` (``to_gray`` is re-exported from there).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from ..errors import InputError
from ..pixels import as_channels_last, rgb_to_gray, to_gray, to_rgb
from .images import IMAGE_SUFFIXES
from .limits import open_av, read_image_file, video_stream_size

__all__ = ["FrameSource", "open_video", "to_gray", "VIDEO_SUFFIXES"]

VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v")
DEFAULT_FPS = Fraction(24)


@dataclass
class FrameSource:
    """A sequence of frames that can be iterated several times.

    kind: "video", "folder" or "array". num_frames: known count (None when the container
    does not say). fps: frames per second (24 when the source has none). size: (H, W).
    names: file names of a folder's frames, else None. path: the file or folder, else None.
    """

    kind: str
    size: tuple[int, int]
    fps: Fraction = DEFAULT_FPS
    num_frames: int | None = None
    names: list[str] | None = None
    path: Path | None = None
    has_audio: bool = False
    _data: Any = field(default=None, repr=False)

    def gray_frames(self) -> Iterator[np.ndarray]:
        """Yield (H, W) uint8 luminance frames in order."""
        for rgb_or_gray in self._frames(gray=True):
            yield rgb_or_gray

    def rgb_frames(self) -> Iterator[np.ndarray]:
        """Yield (H, W, 3) uint8 RGB frames in order (gray sources are replicated)."""
        yield from self._frames(gray=False)

    def __iter__(self) -> Iterator[np.ndarray]:
        return self.gray_frames()

    def _frames(self, gray: bool) -> Iterator[np.ndarray]:
        if self.kind == "video":
            yield from _decode_video(self.path, gray, self.size)
        elif self.kind == "folder":
            for name in self.names:
                yield _read_frame_file(self.path / name, self.size, gray)
        else:
            for i in range(len(self._data)):
                yield _array_frame(self._data[i], i, gray)


def _decode_video(path: Path, gray: bool, size: tuple[int, int]) -> Iterator[np.ndarray]:
    import av

    try:
        container = open_av(path)  # InputError for metadata that is not UTF-8 (limits.py)
    except (av.error.FFmpegError, OSError) as e:
        raise InputError(f"expected a readable video file, could not open {str(path)!r}: {e}") from e
    with container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            for frame in container.decode(stream):
                rgb = frame.to_ndarray(format="rgb24")
                if rgb.shape[:2] != size:
                    raise InputError(f"expected every frame of {str(path)!r} to be {size[1]}x{size[0]}, got {rgb.shape[1]}x{rgb.shape[0]}")
                yield rgb_to_gray(rgb) if gray else rgb
        except av.error.FFmpegError as e:
            raise InputError(f"expected a valid video stream in {str(path)!r}, decoding failed: {e}") from e


def _read_frame_file(path: Path, size: tuple[int, int] | None, gray: bool) -> np.ndarray:
    import cv2

    arr = read_image_file(path)  # cv2.imread, refusing FIFOs and pixel bombs (limits.py)
    if arr is None:
        raise InputError(f"expected an image frame, could not decode {str(path)!r}")
    if arr.ndim == 3:
        arr = np.ascontiguousarray(arr[..., 2::-1])  # BGR(A) -> RGB
    if size is not None and arr.shape[:2] != size:
        raise InputError(
            f"expected all frames of the folder to be {size[1]}x{size[0]} like the first, "
            f"got {arr.shape[1]}x{arr.shape[0]} in {path.name!r}"
        )
    what = f"frame {path.name!r}"
    return to_gray(arr, what) if gray else to_rgb(arr, what)


def _array_frame(frame: Any, i: int, gray: bool) -> np.ndarray:
    frame = as_channels_last(frame)
    return to_gray(frame, f"frame {i}") if gray else to_rgb(frame, f"frame {i}")


def _open_folder(path: Path) -> FrameSource:
    names = sorted(p.name for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not names:
        raise InputError(f"expected a folder of frames (png, jpg, tif), found none in {str(path)!r}")
    first = _read_frame_file(path / names[0], None, gray=True)
    return FrameSource("folder", first.shape[:2], names=names, num_frames=len(names), path=path)


def _open_file(path: Path) -> FrameSource:
    import av

    try:
        container = open_av(path)  # InputError for metadata that is not UTF-8 (limits.py)
    except (av.error.FFmpegError, OSError) as e:
        raise InputError(f"expected a readable video file, could not open {str(path)!r}: {e}") from e
    with container:
        if not container.streams.video:
            raise InputError(f"expected a video stream in {str(path)!r}, found none")
        stream = container.streams.video[0]
        h, w = video_stream_size(stream, path)  # InputError for an unknown codec (limits.py)
        if not h or not w:
            raise InputError(f"expected a video stream with a frame size in {str(path)!r}, got {w}x{h}")
        rate = stream.average_rate or stream.guessed_rate
        fps = Fraction(rate) if rate else DEFAULT_FPS
        n = int(stream.frames) or None
        has_audio = bool(container.streams.audio)
    return FrameSource("video", (h, w), fps=fps, num_frames=n, path=path, has_audio=has_audio)


def _open_array(data: Any) -> FrameSource:
    shape = tuple(data.shape)
    if len(shape) not in (3, 4) or (len(shape) == 4 and 3 not in (shape[1], shape[3]) and 1 not in (shape[1], shape[3])):
        raise InputError(f"expected frames of shape (T, H, W), (T, H, W, 3) or (T, 3, H, W), got {shape}")
    if shape[0] == 0:
        raise InputError("expected at least one frame, got an array with 0 frames")
    first = _array_frame(data[0], 0, gray=True)
    return FrameSource("array", first.shape[:2], num_frames=shape[0], _data=data)


def open_video(video: Any) -> FrameSource:
    """Open a video file, a folder of frames, or an array / tensor of frames.

    Arrays: (T, H, W) gray or (T, H, W, 3) RGB numpy arrays of uint8, uint16 or float in
    [0, 1]; torch tensors (T, H, W), (T, 3, H, W) or (T, H, W, 3) likewise.
    """
    if isinstance(video, FrameSource):
        return video
    if isinstance(video, (str, os.PathLike)):
        path = Path(video)
        if not path.exists():
            raise InputError(f"expected a video file or a folder of frames, but {str(path)!r} does not exist")
        return _open_folder(path) if path.is_dir() else _open_file(path)
    if hasattr(video, "shape") and hasattr(video, "__getitem__"):
        return _open_array(video)
    raise InputError(f"expected a path, numpy array or torch tensor of frames, got {type(video).__name__}")
