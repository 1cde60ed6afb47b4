"""The smallest sizes the pipeline can work at, checked before any work starts.

The encoder's convolutions need a minimum input: EfficientNet-Lite0 up to block 10 fails
below 16x16 pixels ("Calculated padded input size per channel: (2 x 2)"). Frames,
exemplars and the working size are therefore checked up front against the smallest
input the encoder accepts, found once per encoder configuration by trying it.
"""

from __future__ import annotations

import numbers
from typing import Any, Iterable

from ..errors import InputError

__all__ = ["read_image_file", "video_stream_size", "open_av", "min_input_size", "check_working_size", "check_frame_size", "check_image_sizes", "source_images", "check_plan_inputs", "check_exemplar_sizes"]

_MIN_SIZE_CACHE: dict[Any, int] = {}
_PROBE_STEP = 8  # working sizes are multiples of 8 (resize.working_shape)
_PROBE_MAX = 512


def min_input_size(encoder) -> int:
    """Smallest side (a multiple of 8) of a square input the encoder accepts.

    Found by running the encoder on zeros at 8, 16, 24, ... pixels (cached per encoder
    type and config); 16 for EfficientNet-Lite0 up to block 10.
    """
    import torch

    key = (type(encoder).__qualname__, getattr(encoder, "config", id(encoder)))
    if key in _MIN_SIZE_CACHE:
        return _MIN_SIZE_CACHE[key]
    try:
        param = next(encoder.parameters())
        device, dtype = param.device, param.dtype
    except (StopIteration, AttributeError):
        device, dtype = torch.device("cpu"), torch.float32
    size = _PROBE_STEP
    with torch.no_grad():
        while size < _PROBE_MAX:
            try:
                encoder(torch.zeros(1, 1, size, size, device=device, dtype=dtype))
                break
            except RuntimeError:
                size += _PROBE_STEP
    _MIN_SIZE_CACHE[key] = size
    return size


def _is_int(x: Any) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def check_working_size(working_size: Any, encoder) -> int:
    """``working_size`` as an int, or ``InputError`` when it is no integer or too small."""
    if not _is_int(working_size):
        raise InputError(f"expected working_size as an integer number of pixels, got {working_size!r}")
    smallest = min_input_size(encoder)
    if working_size < smallest:
        raise InputError(f"expected working_size >= {smallest} (the smallest input the encoder accepts), got {working_size}")
    return int(working_size)


def check_frame_size(size: tuple[int, int], encoder, what: str = "video frames") -> None:
    """``InputError`` when (H, W) frames are smaller than the encoder accepts."""
    h, w = int(size[0]), int(size[1])
    smallest = min_input_size(encoder)
    if min(h, w) < smallest:
        raise InputError(f"expected {what} of at least {smallest}x{smallest} pixels (the smallest input the encoder accepts), got {w}x{h}")


def check_image_sizes(images: Iterable[tuple[str, Any]], encoder) -> None:
    """``InputError`` for the first ``(name, (H, W, ...) array)`` smaller than the encoder accepts."""
    for name, image in images:
        shape = getattr(image, "shape", None)
        if shape is not None and len(shape) >= 2:
            check_frame_size(shape[:2], encoder, what=name)


def source_images(source: Any) -> list[tuple[str, Any]]:
    """The images an exemplar source already holds (the user's explicit exemplars and
    references, also inside ``ChainedSources``), named for messages."""
    out: list[tuple[str, Any]] = []
    for frame, ex in sorted(getattr(source, "explicit", {}).items()):
        out.append((f"the exemplar for frame {frame} ({getattr(ex, 'origin', '?')})", getattr(ex, "image", None)))
    origins = getattr(source, "origins", None) or []
    for i, image in enumerate(getattr(source, "images", None) or []):
        out.append((f"the reference {origins[i] if i < len(origins) else i}", image))
    for inner in getattr(source, "sources", None) or ():
        out += source_images(inner)
    return out


def check_plan_inputs(config, encoder, frame_size: tuple[int, int], exemplar_source: Any) -> None:
    """Before stage 1: the working size, the frame size and the exemplars already known."""
    check_working_size(config.working_size, encoder)
    check_frame_size(frame_size, encoder)
    check_image_sizes(source_images(exemplar_source), encoder)


def check_exemplar_sizes(exemplars: Iterable[Any], encoder) -> None:
    """After stage 1: every exemplar found (retrieved, colorized, assigned)."""
    check_image_sizes(((f"the exemplar for frame {ex.frame} ({ex.origin})", ex.image) for ex in exemplars), encoder)


def file_kind(mode: int) -> str:
    """What a ``stat`` mode that is not a regular file names, for error messages."""
    import stat

    return "a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "a special file"


def read_image_file(path, flags: int | None = None):
    """``cv2.imread`` that neither blocks nor raises: ``InputError`` for a path that is not
    a regular file (a FIFO would block for ever, a device never end) or for an image whose
    header declares more pixels than OpenCV decodes (``CV_IO_MAX_IMAGE_PIXELS``, 2^30 by
    default); None, like ``cv2.imread``, for anything else it cannot decode."""
    import os
    import stat

    import cv2

    text = os.fspath(path)
    try:
        st = os.stat(text)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"expected an image file, but {text!r} is {file_kind(st.st_mode)}")
    try:
        return cv2.imread(text, cv2.IMREAD_UNCHANGED if flags is None else flags)
    except cv2.error as e:
        reason = "its header declares more pixels than OpenCV decodes" if "MAX_IMAGE_PIXELS" in str(e) else " ".join(str(e).split())[-120:]
        raise InputError(f"expected a decodable image, could not decode {text!r}: {reason}") from e


def video_stream_size(stream, path) -> tuple[int, int]:
    """(H, W) of a PyAV video stream, or ``InputError`` when the container names no codec
    FFmpeg knows (``codec_context`` is None: a corrupted or unsupported codec tag)."""
    ctx = getattr(stream, "codec_context", None)
    if ctx is None:
        raise InputError(f"expected a video stream in a codec FFmpeg can decode in {str(path)!r}, found an unknown or corrupted codec")
    return ctx.height, ctx.width


def open_av(path):
    """``av.open(path)`` for reading; a container whose metadata is not valid UTF-8 (PyAV
    raises ``UnicodeDecodeError`` while opening it) gives ``InputError``. FFmpeg's own
    errors pass through for the caller to explain."""
    import os

    import av

    try:
        return av.open(os.fspath(path))
    except UnicodeDecodeError as e:
        raise InputError(f"expected a readable video file, could not read the metadata of {os.fspath(path)!r} (not UTF-8: {e.reason})") from e
