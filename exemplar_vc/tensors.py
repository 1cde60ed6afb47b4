"""Tensors in, tensors out: colorization inside GPU restoration pipelines.

``colorize_tensor(colorizer, gray, exemplars)`` takes a whole clip as a tensor and gives
back a tensor on the same device; ``stream_tensor`` and ``TensorStream`` take frames one
at a time from a pipeline that produces them one by one (pull: any iterable; push:
``push(frame)`` / ``close()``). ``VideoColorizer.colorize_tensor``, ``stream_tensor`` and
``tensor_stream`` are the front doors to them.

Stage 2 runs on the colorizer's device at the input's precision (float32 luminance, never
quantised to 8 bits), with frames encoded in batches of ``batch_size`` (the recurrence of
the fusion module is the only part done frame by frame), and the RGB output is never
copied to the host. What does leave the device: stage 1 (shot detection, key frames,
exemplar assignment) reads one 8-bit copy of the clip, made in a single transfer; the
``network`` fusion module computes optical flow with OpenCV on the CPU, which copies each
frame's working-resolution luminance (8 bit) to the host; the ``hand`` rule does not.

Streams skip stage 1: the exemplars are given per frame (``{frame: image}``) and colour
never crosses ``shot_starts`` (default: one shot). An exemplar for frame 0 that is that
frame's own colour version is used as such, like stage 1 does; exemplars of later frames
are always matched by content (their frames have not arrived when the stream starts).
"""

from __future__ import annotations

import itertools
import queue
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping, Sequence

import numpy as np
import torch

from .errors import InputError
from .pixels import FLOAT_TOLERANCE
from .propagation import PropagationEngine
from .propagation.frames import FrameData, analysis_shape
from .resize import resize_to

if TYPE_CHECKING:  # pragma: no cover
    from .pipeline import VideoColorizer

__all__ = ["TensorFrame", "TensorStream", "PreciseEngine", "colorize_tensor", "stream_tensor", "unit_gray", "host_frame"]

_UNKNOWN_LENGTH = 2**40  # frame count of a stream whose length is not known


def unit_gray(frames: Any, what: str = "gray") -> torch.Tensor:
    """Gray frames -> float32 in [0, 1], same device and shape.

    uint8 is divided by 255, uint16 (numpy, or torch.uint16) by 65535, int32 (where
    uint16 was widened) by 65535; float is read as [0, 1]: values within 1e-3 outside are
    clipped, anything further out, NaN or inf raises ``InputError`` (as ``pixels.to_uint8``).

    >>> unit_gray(torch.tensor([0, 255], dtype=torch.uint8)).tolist()
    [0.0, 1.0]
    """
    if isinstance(frames, np.ndarray):
        if frames.dtype == np.uint16:
            return torch.from_numpy(frames.astype(np.float32) / 65535.0)
        frames = torch.from_numpy(np.ascontiguousarray(frames))
    if not isinstance(frames, torch.Tensor):
        raise InputError(f"expected {what} as a torch tensor or numpy array, got {type(frames).__name__}")
    if frames.dtype == torch.uint8:
        return frames.float().div_(255.0)
    if frames.dtype in (getattr(torch, "uint16", None), torch.int32):
        return frames.to(torch.float32).div_(65535.0)
    if not frames.is_floating_point():
        raise InputError(f"expected {what} as float in [0, 1], uint8 or uint16, got {frames.dtype}")
    x = frames.float()
    if x.numel():
        lo, hi = torch.aminmax(x)
        lo, hi = float(lo), float(hi)  # one small device -> host copy per call
        if not (np.isfinite(lo) and np.isfinite(hi)) or lo < -FLOAT_TOLERANCE or hi > 1 + FLOAT_TOLERANCE:
            raise InputError(f"expected {what} as float in [0, 1], got values in [{lo:.3g}, {hi:.3g}]")
    return x.clamp(0.0, 1.0)


def _clip_tensor(gray: Any) -> torch.Tensor:
    """(T, 1, H, W) or (T, H, W) -> (T, 1, H, W), checked."""
    if not isinstance(gray, torch.Tensor):
        raise InputError(f"expected gray frames as a torch tensor (T, 1, H, W) or (T, H, W), got {type(gray).__name__}")
    if gray.dim() == 3:
        gray = gray[:, None]
    if gray.dim() != 4 or gray.shape[1] != 1:
        raise InputError(f"expected gray frames of shape (T, 1, H, W) or (T, H, W), got {tuple(gray.shape)}")
    if gray.shape[0] == 0:
        raise InputError("expected at least one frame, got a tensor with 0 frames")
    return gray


def _out_dtype(dtype: torch.dtype) -> torch.dtype:
    return dtype if dtype.is_floating_point else torch.float32


class PreciseEngine(PropagationEngine):
    """The propagation engine, reading frames at any precision on any device.

    Frames may be (H, W) numpy uint8 (analysed exactly as by ``PropagationEngine``),
    uint16 or float arrays, or (H, W) / (1, H, W) torch tensors of any dtype and device.
    With ``video`` (T, 1, H, W) float32 in [0, 1] on the device, frame ``i`` of the stream
    is ``video[i]`` and frames are encoded ``batch_size`` at a time.
    """

    def __init__(self, *args: Any, video: torch.Tensor | None = None, batch_size: int = 1, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if batch_size < 1:
            raise InputError(f"expected batch_size >= 1, got {batch_size}")
        self.video = video
        self.batch_size = batch_size
        self._ready: dict[int, FrameData] = {}

    def _analyse(self, index: int, gray: Any) -> FrameData:
        if self.video is not None:
            return self._from_batch(index)
        if isinstance(gray, np.ndarray) and gray.dtype == np.uint8:
            return super()._analyse(index, gray)
        full = unit_gray(gray, f"frame {index}").to(self.device)
        if full.dim() == 3 and full.shape[0] == 1:
            full = full[0]
        if full.dim() != 2:
            raise InputError(f"expected frame {index} as (H, W) gray, got {tuple(full.shape)}")
        return self._encode(index, full[None, None])[0]

    def _encode(self, first: int, full: torch.Tensor) -> list[FrameData]:
        """(B, 1, H, W) float32 in [0, 1] on the device -> B frames, encoded together."""
        luma = resize_to(full, analysis_shape(*full.shape[-2:], self.config.working_size, self.encoder))
        feats = self.encoder(luma)
        return [FrameData(first + k, full[k : k + 1], luma[k : k + 1], feats[k : k + 1]) for k in range(full.shape[0])]

    def _from_batch(self, index: int) -> FrameData:
        if index not in self._ready:
            self._ready.clear()
            stop = min(index + self.batch_size, self.video.shape[0])
            if index >= stop:
                raise InputError(f"expected frame {index}, but the clip has {self.video.shape[0]} frames")
            self._ready = {f.index: f for f in self._encode(index, self.video[index:stop])}
        return self._ready.pop(index)


@torch.no_grad()
def colorize_tensor(
    colorizer: "VideoColorizer",
    gray: torch.Tensor,
    exemplars: Any = None,
    batch_size: int = 8,
    progress: bool = False,
    auto_fill: bool | None = None,
) -> torch.Tensor:
    """Colorize a clip held as a tensor.

    Args:
        colorizer: a ``VideoColorizer``.
        gray: (T, 1, H, W) or (T, H, W) gray frames, float in [0, 1] (any float dtype),
            uint8 or uint16, on any device.
        exemplars: as for ``VideoColorizer.__call__`` (``{frame: image}``, a list of
            images, an ``ExemplarSource``, or None for the automatic mode).
        batch_size: frames encoded at once.
        progress: a progress bar on stderr.
        auto_fill: the colorizer covers shots the exemplars leave unmatched (None: the
            colorizer's ``config.auto_fill``).

    Returns:
        (T, 3, H, W) sRGB in [0, 1] on ``gray``'s device, of ``gray``'s dtype when it is a
        float dtype, else float32; its BT.601 luma is the input's gray (not rounded to 8 bits; with
        ``propagation.keep="lightness"`` its CIE L is the gray's lightness).
    """
    from .pipeline import _progress

    gray = _clip_tensor(gray)
    unit = unit_gray(gray).to(colorizer.device)  # (T, 1, H, W) float32 in [0, 1]
    # Stage 1 on one 8-bit host copy (shots, key frames and exemplar matching work on 8 bits).
    u8 = (unit[:, 0] * 255.0).round_().to(torch.uint8).cpu().numpy()
    stage1 = colorizer.plan(u8, exemplars, auto_fill=auto_fill, progress=progress)
    engine = colorizer._engine(stage1.plan, stage1.exemplars, rgb_tensor=True, video=unit, batch_size=batch_size)
    t, _, h, w = unit.shape
    out = torch.empty((t, 3, h, w), dtype=_out_dtype(gray.dtype), device=colorizer.device)
    for frame in _progress(engine.run(unit[:, 0]), t, progress):
        out[frame.index] = frame.rgb_tensor
    return out.to(gray.device)


@dataclass
class TensorFrame:
    """One colorized frame of a stream.

    index: 0-based frame index. rgb: (3, H, W) sRGB in [0, 1] on the colorizer's device
    (the input frame's float dtype, else float32). confidence: (h, w) float in [0, 1] at
    the fusion module's grid, on the same device.
    """

    index: int
    rgb: torch.Tensor
    confidence: torch.Tensor


@torch.no_grad()
def stream_tensor(
    colorizer: "VideoColorizer",
    frames: Iterable[Any],
    exemplars: Mapping[int, Any],
    num_frames: int | None = None,
    shot_starts: Sequence[int] = (0,),
) -> Iterator[TensorFrame]:
    """Colorize frames as they come (a generator): pulls (H, W) / (1, H, W) gray frames
    (tensors on any device, or arrays; float in [0, 1], uint8 or uint16) from ``frames``
    and yields ``TensorFrame``s in order. A frame is yielded as soon as its colour is
    final: at once after the last exemplar, else when the next exemplar's frame arrived.

    exemplars: ``{frame: image}`` (stage 1 is skipped: no shot detection, no assignment).
    num_frames: the stream's length when known; None: it ends when ``frames`` does (after
    the last exemplar's frame). shot_starts: first frames of shots, colour never crosses.
    """
    from .exemplars.user import UserReferences
    from .types import KeyFrame, VideoPlan

    if not isinstance(exemplars, Mapping) or not exemplars:
        raise InputError(f"expected exemplars as a non-empty {{frame: image}} dict for a stream, got {type(exemplars).__name__}")
    found = sorted(UserReferences(explicit=exemplars).explicit.values(), key=lambda e: e.frame)
    n = _UNKNOWN_LENGTH if num_frames is None else int(num_frames)
    last = found[-1].frame
    if found[0].frame < 0 or last >= n:
        raise InputError(f"expected exemplar frames in 0..{n - 1}, got {[e.frame for e in found]}")
    starts = sorted(set(int(s) for s in shot_starts) | {0})
    counted = _Counted(frames)
    # Frame 0 is read before the engine starts, so an exemplar there that is the frame's own
    # colour version is recognised as such (as stage 1 does); later anchors are matched.
    first = next(counted, None)
    if first is None:
        raise InputError("expected at least one frame, got an empty stream")
    first_gray = (unit_gray(first, "frame 0").squeeze() * 255.0).round_().to(torch.uint8).cpu().numpy()
    keys = [KeyFrame(e.frame, first_gray if e.frame == 0 else None, starts.index(max(s for s in starts if s <= e.frame))) for e in found]
    engine = colorizer._engine(VideoPlan(n, starts, keys), found, rgb_tensor=True)
    try:
        for frame in engine.run(itertools.chain([first], counted)):
            yield TensorFrame(frame.index, frame.rgb_tensor.to(counted.dtype), frame.confidence)
    except InputError:
        # The stream ended: normal after the last exemplar when the length was not given
        # (every frame taken has been yielded: after the last exemplar nothing waits).
        if not (num_frames is None and counted.ended and counted.count > last):
            if counted.ended and counted.count <= last:
                raise InputError(f"expected frames up to the last exemplar's frame {last}, but the stream ended after {counted.count} frames") from None
            raise


class _Counted:
    """Counts the frames taken from an iterable and notes its end and its float dtype."""

    def __init__(self, frames: Iterable[Any]):
        self._it = iter(frames)
        self.count = 0
        self.ended = False
        self.dtype = torch.float32

    def __iter__(self) -> "_Counted":
        return self

    def __next__(self) -> Any:
        try:
            item = next(self._it)
        except StopIteration:
            self.ended = True
            raise
        if self.count == 0 and isinstance(item, torch.Tensor) and item.is_floating_point():
            self.dtype = item.dtype
        self.count += 1
        return item


_END = object()


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error


class TensorStream:
    """Push frames, receive frames: for pipelines that call you once per frame.

        stream = colorizer.tensor_stream({0: reference})
        for gray in frames:
            done += stream.push(gray)   # the frames whose colour is now final
        done += stream.close()          # the rest

    ``push`` returns the ``TensorFrame``s that became final with that frame (often none
    between two exemplars, then all of them at once); ``close`` ends the stream and returns
    the rest. The engine runs in a worker thread that waits for each frame, so ``push``
    returns once the frame is processed. Errors surface in ``push`` or ``close``.
    """

    def __init__(self, colorizer: "VideoColorizer", exemplars: Mapping[int, Any], num_frames: int | None = None, shot_starts: Sequence[int] = (0,)):
        self._gen = stream_tensor(colorizer, self._frames(), exemplars, num_frames, shot_starts)
        self._in: queue.Queue = queue.Queue()
        self._out: queue.Queue = queue.Queue()
        self._waiting = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._work, name="exemplar_vc-stream", daemon=True)
        self._thread.start()
        self._waiting.wait()  # the engine is built and asks for the first frame
        if not self._thread.is_alive():
            self._closed = True
            self._drain()  # raises what went wrong (e.g. an unreadable exemplar)

    def _frames(self) -> Iterator[Any]:
        while True:
            self._waiting.set()  # the engine needs a frame
            item = self._in.get()
            self._waiting.clear()
            if item is _END:
                return
            yield item

    def _work(self) -> None:
        try:
            for frame in self._gen:
                self._out.put(frame)
        except BaseException as e:  # handed to the caller
            self._out.put(_Failed(e))
        finally:
            self._out.put(_END)
            self._waiting.set()

    def _drain(self) -> list[TensorFrame]:
        done = []
        while True:
            try:
                item = self._out.get_nowait()
            except queue.Empty:
                return done
            if isinstance(item, _Failed):
                raise item.error
            if item is not _END:
                done.append(item)

    def push(self, frame: Any) -> list[TensorFrame]:
        """Hand over the next gray frame; returns the frames that are now final."""
        if self._closed:
            raise InputError("expected an open stream, but it was closed")
        if self._thread.is_alive():
            self._waiting.clear()
            self._in.put(frame)
            self._waiting.wait()  # set when the engine asks for the next frame, or ends
        try:
            return self._drain()
        except BaseException:
            self._closed = True
            raise

    def close(self) -> list[TensorFrame]:
        """End the stream; returns the frames still to come."""
        if self._closed:
            return []
        self._closed = True
        if self._thread.is_alive():
            self._in.put(_END)
            self._thread.join()
        return self._drain()


def host_frame(frame: Any, bits: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """A ``ColorizedFrame`` on the host: ((H, W, 3) RGB, (h, w) float32 confidence). RGB
    is the frame's uint8 ``rgb`` when it has one, else its ``rgb_tensor`` rounded to
    ``bits`` (16: uint16, 8: uint8)."""
    if frame.rgb_tensor is None:
        return frame.rgb, frame.confidence
    scale, dtype = (65535.0, np.uint16) if bits > 8 else (255.0, np.uint8)
    rgb = (frame.rgb_tensor.float().permute(1, 2, 0) * scale).round_().cpu().numpy().astype(dtype)
    return rgb, frame.confidence.float().cpu().numpy()
