"""Streamed frame sources: video files (PyAV), frame folders, numpy arrays, torch tensors.

Every source yields frames one at a time, so a feature film is never held in memory.
Colour frames are reduced to luminance with ITU-R BT.601 weights, exactly as
``cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)`` (the NTIRE 2023 protocol); bit depths and
layouts are converted by ``exemplar_vc.pixels`` (``to_gray`` is re-exported from there).

Deep sources (10-16 bit video such as gray16le or yuv422p10le, 16-bit PNG/TIFF, DPX and
EXR frames, uint16 or float arrays) say so in ``FrameSource.bit_depth``:
``gray_frames()`` gives the 8-bit luminance that stage 1 works on, ``precise_gray_frames()``
the luminance at the source's precision (uint16, or float32 in [0, 1]) that stage 2 keeps
to the output (``io/formats.py`` reads DPX and EXR through FFmpeg).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from ..errors import InputError
from ..pixels import FLOAT_TOLERANCE, as_channels_last, rgb_to_gray, to_gray, to_rgb
from .formats import AV_IMAGE_SUFFIXES, ColorTags, frame_gray, frame_rgb, read_av_image, stream_bit_depth, vfr_timestamps
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
    bit_depth: bits per channel of the source (8; 10, 12, 16; 32 for floating point).
    color: the video's colour tags when it has any (carried over to the output), else None.
    """

    kind: str
    size: tuple[int, int]
    fps: Fraction = DEFAULT_FPS
    num_frames: int | None = None
    names: list[str] | None = None
    path: Path | None = None
    has_audio: bool = False
    bit_depth: int = 8
    color: ColorTags | None = None
    _data: Any = field(default=None, repr=False)

    def gray_frames(self) -> Iterator[np.ndarray]:
        """Yield (H, W) uint8 luminance frames in order."""
        for rgb_or_gray in self._frames(gray=True):
            yield rgb_or_gray

    def precise_gray_frames(self) -> Iterator[np.ndarray]:
        """Yield (H, W) luminance frames at the source's precision: uint8 for 8-bit
        sources (the frames of ``gray_frames``), uint16 for 10-16 bit ones, float32 in
        [0, 1] for floating-point ones."""
        if self.bit_depth <= 8:
            yield from self.gray_frames()
        else:
            yield from self._frames(gray=True, precise=True)

    def timestamps(self) -> tuple[list[int], Fraction] | None:
        """A video's frame timestamps (from 0) and time base when its frame rate is
        variable, else None (the frame rate ``fps`` says it all)."""
        if self.kind != "video":
            return None
        try:
            return vfr_timestamps(self.path)
        except Exception:  # a container whose packets cannot be listed: timed by fps
            return None

    def rgb_frames(self) -> Iterator[np.ndarray]:
        """Yield (H, W, 3) uint8 RGB frames in order (gray sources are replicated)."""
        yield from self._frames(gray=False)

    def __iter__(self) -> Iterator[np.ndarray]:
        return self.gray_frames()

    def _frames(self, gray: bool, precise: bool = False) -> Iterator[np.ndarray]:
        if self.kind == "video":
            yield from _decode_video(self.path, gray, self.size, self.bit_depth if precise else 8)
        elif self.kind == "folder":
            for name in self.names:
                yield _read_frame_file(self.path / name, self.size, gray, precise)
        else:
            for i in range(len(self._data)):
                yield _array_frame(self._data[i], i, gray, precise)


def _decode_video(path: Path, gray: bool, size: tuple[int, int], bit_depth: int = 8) -> Iterator[np.ndarray]:
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
                if bit_depth > 8:  # the source's precision (formats.py)
                    out = frame_gray(frame, bit_depth) if gray else frame_rgb(frame, bit_depth)
                    if out.shape[:2] != size:
                        raise InputError(f"expected every frame of {str(path)!r} to be {size[1]}x{size[0]}, got {out.shape[1]}x{out.shape[0]}")
                    yield out
                    continue
                rgb = frame.to_ndarray(format="rgb24")
                if rgb.shape[:2] != size:
                    raise InputError(f"expected every frame of {str(path)!r} to be {size[1]}x{size[0]}, got {rgb.shape[1]}x{rgb.shape[0]}")
                yield rgb_to_gray(rgb) if gray else rgb
        except InputError:
            raise
        except av.error.FFmpegError as e:
            raise InputError(f"expected a valid video stream in {str(path)!r}, decoding failed: {e}") from e
        except ValueError as e:  # a deep frame PyAV cannot convert (formats.py)
            if bit_depth <= 8:
                raise
            raise InputError(f"expected a decodable {bit_depth}-bit video stream in {str(path)!r}, converting a frame failed: {e}") from e


def _read_raw(path: Path) -> np.ndarray:
    """A frame file as it is stored: (H, W) or (H, W, 3|4) RGB(A), uint8, uint16 or float."""
    if path.suffix.lower() in AV_IMAGE_SUFFIXES:
        return read_av_image(path)[0]  # DPX, EXR through FFmpeg (formats.py)
    arr = read_image_file(path)  # cv2.imread, refusing FIFOs and pixel bombs (limits.py)
    if arr is None:
        raise InputError(f"expected an image frame, could not decode {str(path)!r}")
    if arr.ndim == 3:
        arr = np.ascontiguousarray(arr[..., 2::-1])  # BGR(A) -> RGB
    return arr


def _read_frame_file(path: Path, size: tuple[int, int] | None, gray: bool, precise: bool = False) -> np.ndarray:
    arr = _read_raw(path)
    if size is not None and arr.shape[:2] != size:
        raise InputError(
            f"expected all frames of the folder to be {size[1]}x{size[0]} like the first, "
            f"got {arr.shape[1]}x{arr.shape[0]} in {path.name!r}"
        )
    what = f"frame {path.name!r}"
    if precise:
        return _precise(arr, gray, what)
    return to_gray(arr, what) if gray else to_rgb(arr, what)


def _precise(arr: np.ndarray, gray: bool, what: str) -> np.ndarray:
    """Gray (H, W) or RGB (H, W, 3) keeping the depth: uint8 and uint16 as they are, float
    as float32 in [0, 1] (clipped within ``FLOAT_TOLERANCE``, refused further out)."""
    import cv2

    arr = np.asarray(arr)
    if arr.dtype == np.uint8:
        return to_gray(arr, what) if gray else to_rgb(arr, what)
    if np.issubdtype(arr.dtype, np.floating):
        lo, hi = (float(np.min(arr)), float(np.max(arr))) if arr.size else (0.0, 0.0)
        if not (np.isfinite(lo) and np.isfinite(hi)) or lo < -FLOAT_TOLERANCE or hi > 1 + FLOAT_TOLERANCE:
            raise InputError(f"expected {what} as float in [0, 1], got values in [{lo:.3g}, {hi:.3g}]")
        arr = np.clip(arr, 0, 1).astype(np.float32)
    elif arr.dtype != np.uint16:
        raise InputError(f"expected {what} as uint8, uint16 or float in [0, 1], got dtype {arr.dtype}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim == 2:
        return np.ascontiguousarray(np.repeat(arr[..., None], 3, axis=2) if not gray else arr)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise InputError(f"expected {what} of shape (H, W) or (H, W, 3), got {tuple(arr.shape)}")
    rgb = np.ascontiguousarray(arr[..., :3])
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if gray else rgb  # BT.601, any depth


def _depth_of(dtype: Any) -> int:
    text = str(dtype)
    return 8 if "uint8" in text else 16 if "uint16" in text else 32 if "float" in text else 8


def _array_frame(frame: Any, i: int, gray: bool, precise: bool = False) -> np.ndarray:
    frame = as_channels_last(frame)
    if precise:
        return _precise(frame, gray, f"frame {i}")
    return to_gray(frame, f"frame {i}") if gray else to_rgb(frame, f"frame {i}")


def _open_folder(path: Path) -> FrameSource:
    names = sorted(p.name for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not names:
        raise InputError(f"expected a folder of frames (png, jpg, tif, dpx, exr), found none in {str(path)!r}")
    raw = _read_raw(path / names[0])
    first = to_gray(raw, f"frame {names[0]!r}")
    return FrameSource("folder", first.shape[:2], names=names, num_frames=len(names), path=path, bit_depth=_depth_of(raw.dtype))


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
        try:  # what the codec context says (a damaged header: 8 bits, no tags)
            context = stream.codec_context
            depth = stream_bit_depth(getattr(context, "format", None))
            color = ColorTags.from_av(context)
        except Exception:
            depth, color = 8, None
    return FrameSource("video", (h, w), fps=fps, num_frames=n, path=path, has_audio=has_audio, bit_depth=depth, color=color)


def _open_array(data: Any) -> FrameSource:
    shape = tuple(data.shape)
    if len(shape) not in (3, 4) or (len(shape) == 4 and 3 not in (shape[1], shape[3]) and 1 not in (shape[1], shape[3])):
        raise InputError(f"expected frames of shape (T, H, W), (T, H, W, 3) or (T, 3, H, W), got {shape}")
    if shape[0] == 0:
        raise InputError("expected at least one frame, got an array with 0 frames")
    first = _array_frame(data[0], 0, gray=True)
    # An array-like without a dtype (a sequence of frames) takes its first frame's depth.
    dtype = getattr(data, "dtype", None) or first.dtype
    return FrameSource("array", first.shape[:2], num_frames=shape[0], _data=data, bit_depth=_depth_of(dtype))


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
