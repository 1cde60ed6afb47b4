"""Output codecs, colour tags and high-bit-depth pixels: what the writer and the reader
need to handle masters (FFV1, ProRes 4444, H.264/H.265 4:4:4, 16-bit PNG/TIFF) and
archival scans (10-16 bit video, 16-bit PNG/TIFF, DPX and EXR sequences).

Colour tags are ITU-T H.273 code points (the numbers FFmpeg, the containers and the
bitstreams use): primaries 1 = BT.709, transfer 1 = BT.709, matrix 0 = RGB (identity),
1 = BT.709, 6 = BT.601 (SMPTE 170M); range 1 = limited ("tv"), 2 = full ("pc").
Output is tagged BT.709 primaries and transfer unless the input says otherwise (its tags
are then carried over); the matrix and the range are those the writer converted with.

>>> CODECS["ffv1"].bit_depth, CODECS["ffv1"].suffixes
(16, ('.mkv',))
>>> default_codec("film.mp4").name, default_codec("frames/").name
('h264', 'png')
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError

__all__ = [
    "ColorTags",
    "Codec",
    "CODECS",
    "BT709",
    "default_codec",
    "get_codec",
    "check_codec_output",
    "resolve_codec",
    "to_depth",
    "read_av_image",
    "AV_IMAGE_SUFFIXES",
]

# Image formats read through FFmpeg (PyAV) rather than OpenCV: DPX, OpenEXR.
AV_IMAGE_SUFFIXES = (".dpx", ".exr")
_UNSPECIFIED = 2  # H.273 "unspecified" for primaries, transfer and matrix


@dataclass(frozen=True)
class ColorTags:
    """Colour description of a video, as ITU-T H.273 code points (see the module doc).

    primaries: 1 BT.709, 5 BT.601 625 (PAL), 6 BT.601 525 (NTSC), 9 BT.2020, ...
    transfer: 1 BT.709, 13 sRGB (IEC 61966-2-1), 8 linear, ...
    matrix: 0 RGB, 1 BT.709, 6 BT.601. range: 1 limited, 2 full.
    """

    primaries: int = 1
    transfer: int = 1
    matrix: int = 1
    range: int = 1

    @classmethod
    def from_av(cls, obj: Any) -> "ColorTags | None":
        """The tags of a PyAV codec context or frame; None when neither primaries nor
        transfer are given (most files: their output is then tagged BT.709)."""
        prim = int(getattr(obj, "color_primaries", _UNSPECIFIED) or _UNSPECIFIED)
        trc = int(getattr(obj, "color_trc", _UNSPECIFIED) or _UNSPECIFIED)
        if prim == _UNSPECIFIED and trc == _UNSPECIFIED:
            return None
        matrix = int(getattr(obj, "colorspace", _UNSPECIFIED) or _UNSPECIFIED)
        rng = int(getattr(obj, "color_range", 0) or 0)
        return cls(
            primaries=1 if prim == _UNSPECIFIED else prim,
            transfer=1 if trc == _UNSPECIFIED else trc,
            matrix=1 if matrix == _UNSPECIFIED else matrix,
            range=rng if rng in (1, 2) else 1,
        )

    def for_output(self, matrix: int, range: int) -> "ColorTags":
        """These primaries and transfer with the matrix and range an encoder used."""
        return replace(self, matrix=matrix, range=range)

    def apply(self, obj: Any) -> None:
        """Set the tags on a PyAV codec context or frame."""
        obj.color_primaries = self.primaries
        obj.color_trc = self.transfer
        obj.colorspace = self.matrix
        obj.color_range = self.range


BT709 = ColorTags()


@dataclass(frozen=True)
class Codec:
    """An output format.

    name: the ``--codec`` value. encoder: FFmpeg encoder (None for image folders).
    pix_fmt: what is encoded. bit_depth: bits per channel. suffixes: output names it
    takes (empty: a folder). image_ext: file type of a folder's frames. matrix/range:
    the RGB -> YUV conversion used (H.273 codes; 0 = RGB kept). options: encoder options.
    """

    name: str
    description: str
    encoder: str | None
    pix_fmt: str
    bit_depth: int
    suffixes: tuple[str, ...] = ()
    image_ext: str | None = None
    matrix: int = 1
    range: int = 1
    options: dict[str, str] = field(default_factory=dict)
    container_options: dict[str, str] = field(default_factory=dict)

    @property
    def is_folder(self) -> bool:
        return self.encoder is None


_VIDEO = (".mp4", ".m4v", ".mov", ".mkv")
CODECS: dict[str, Codec] = {
    c.name: c
    for c in [
        # The writer's own deterministic path (writer.py): integer BT.601 limited range.
        Codec("h264", "H.264 8-bit 4:2:0 (previews; the default for video names)", "libx264", "yuv420p", 8, _VIDEO, matrix=6),
        Codec(
            "h264-444",
            "H.264 High 4:4:4, 10-bit, CRF 4",
            "libx264",
            "yuv444p10le",
            10,
            _VIDEO,
            options={"crf": "4", "preset": "medium", "x264-params": "mbtree=0"},
        ),
        Codec(
            "h265-444",
            "H.265 Main 4:4:4 12, 12-bit, CRF 4",
            "libx265",
            "yuv444p12le",
            12,
            _VIDEO,
            options={"crf": "4", "preset": "medium", "tag:v": "hvc1", "x265-params": "log-level=error:pools=none:frame-threads=1"},
        ),
        Codec(
            "ffv1",
            "FFV1 version 3, lossless, 16-bit 4:4:4 (archival masters)",
            "ffv1",
            "yuv444p16le",
            16,
            (".mkv",),
            # Limited range: swscale's full-range 16-bit YUV lost 8 bits (RGB48 -> YUV ->
            # RGB48: max error 256/65535); limited range: max 5/65535 (tests/test_formats.py).
            options={"level": "3", "g": "1", "slicecrc": "1", "coder": "1", "context": "1"},
        ),
        Codec("prores4444", "Apple ProRes 4444 (prores_ks), 10-bit 4:4:4", "prores_ks", "yuv444p10le", 10, (".mov",), options={"profile": "4", "vendor": "apl0"}),
        Codec("png", "folder of 8-bit RGB PNG frames (the default for folders)", None, "rgb24", 8, image_ext=".png", matrix=0, range=2),
        Codec("png16", "folder of 16-bit RGB PNG frames", None, "rgb48", 16, image_ext=".png", matrix=0, range=2),
        Codec("tiff16", "folder of 16-bit RGB TIFF frames (deflate)", None, "rgb48", 16, image_ext=".tif", matrix=0, range=2),
    ]
}


def get_codec(name: str | Codec) -> Codec:
    """The ``Codec`` called ``name``; ``InputError`` naming the choices otherwise."""
    if isinstance(name, Codec):
        return name
    if name not in CODECS:
        raise InputError(f"expected a codec in {sorted(CODECS)}, got {name!r}")
    return CODECS[name]


def default_codec(output: str | os.PathLike) -> Codec:
    """H.264 for a video name, 8-bit PNG for a folder."""
    return CODECS["h264"] if Path(output).suffix.lower() in _VIDEO else CODECS["png"]


def check_codec_output(codec: Codec, output: str | os.PathLike) -> None:
    """``InputError`` when ``output`` cannot hold ``codec`` (e.g. FFV1 in an .mp4)."""
    suffix = Path(output).suffix.lower()
    if codec.is_folder:
        if suffix in _VIDEO:
            raise InputError(f"expected a folder as output for --codec {codec.name}, got the video name {os.fspath(output)!r}")
    elif suffix not in codec.suffixes:
        raise InputError(f"expected an output ending in {' or '.join(codec.suffixes)} for --codec {codec.name}, got {os.fspath(output)!r}")


def resolve_codec(codec: str | Codec | None, output: str | os.PathLike) -> Codec:
    """The codec for ``output``: ``codec`` checked against it, or the default for it."""
    chosen = default_codec(output) if codec is None else get_codec(codec)
    check_codec_output(chosen, output)
    return chosen


def to_depth(rgb: np.ndarray, bits: int) -> np.ndarray:
    """(H, W, 3) uint8 or uint16 RGB -> uint8 (``bits`` 8) or uint16 (more): 8 -> 16 bit
    is x * 257 (exact: 255 -> 65535), 16 -> 8 rounds x / 257 (``pixels.to_uint8``).

    >>> to_depth(np.array([[[0, 128, 255]]], np.uint8), 16).tolist()
    [[[0, 32896, 65535]]]
    """
    from ..pixels import to_uint8

    if bits <= 8:
        return to_uint8(rgb)
    if rgb.dtype == np.uint8:
        return rgb.astype(np.uint16) * np.uint16(257)
    return rgb


def video_frame(rgb: np.ndarray, codec: Codec, tags: ColorTags):
    """An ``av.VideoFrame`` in ``codec.pix_fmt`` from (H, W, 3) uint8/uint16 RGB, converted
    by swscale with the codec's matrix and range (accurate rounding) and tagged."""
    import av
    from av.video.reformatter import Interpolation

    rgb16 = np.ascontiguousarray(to_depth(rgb, 16))
    frame = av.VideoFrame.from_ndarray(rgb16, format="rgb48le")
    out = frame.reformat(
        format=codec.pix_fmt,
        dst_colorspace="itu709" if codec.matrix == 1 else "itu601",
        interpolation=Interpolation.POINT | Interpolation.ACCURATE_RND | Interpolation.BITEXACT,
        src_color_range=2,
        dst_color_range=codec.range,
        dst_color_trc=tags.transfer,
        dst_color_primaries=tags.primaries,
    )
    return out


def encode_image(rgb: np.ndarray, codec: Codec) -> bytes:
    """(H, W, 3) uint8/uint16 RGB -> the bytes of a PNG or TIFF frame at ``codec``'s depth."""
    import cv2

    data = np.ascontiguousarray(to_depth(rgb, codec.bit_depth)[..., ::-1])  # OpenCV writes BGR
    params: list[int] = []
    if codec.image_ext == ".tif":
        params = [cv2.IMWRITE_TIFF_COMPRESSION, 8]  # Adobe deflate
    ok, buf = cv2.imencode(codec.image_ext, data, params)
    if not ok:
        raise OSError(f"{codec.image_ext} encoding failed")
    return buf.tobytes()


def stream_bit_depth(fmt: Any) -> int:
    """Bits per channel of a PyAV ``VideoFormat`` (32 for floating-point formats)."""
    name = getattr(fmt, "name", "") or ""
    if "f32" in name or "f16" in name:
        return 32
    bits = [getattr(c, "bits", 8) for c in getattr(fmt, "components", ())]
    return max(bits) if bits else 8


def frame_gray(frame: Any, bit_depth: int) -> np.ndarray:
    """(H, W) luminance of a decoded PyAV frame: uint8 for 8-bit sources (as
    ``rgb_to_gray(frame.to_ndarray("rgb24"))``), uint16 for deeper ones (BT.601 luma of
    rgb48, or the gray plane of a gray format scaled to 16 bits), float32 in [0, 1] for
    floating-point ones (EXR: linear light, encoded with the sRGB transfer, clipped)."""
    import cv2

    from ..pixels import rgb_to_gray

    name = frame.format.name
    if bit_depth <= 8:
        return rgb_to_gray(frame.to_ndarray(format="rgb24"))
    if bit_depth == 32:
        rgb = _float_rgb(frame)
        return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    if name.startswith("gray") or name.startswith("ya"):
        return np.ascontiguousarray(_convert(frame, "gray16le"))
    return cv2.cvtColor(np.ascontiguousarray(_convert(frame, "rgb48le")), cv2.COLOR_RGB2GRAY)


def frame_rgb(frame: Any, bit_depth: int) -> np.ndarray:
    """(H, W, 3) RGB of a decoded PyAV frame: uint8, uint16 or float32 as ``frame_gray``."""
    if bit_depth <= 8:
        return frame.to_ndarray(format="rgb24")
    if bit_depth == 32:
        return _float_rgb(frame)
    return _convert(frame, "rgb48le")


def _convert(frame: Any, fmt: str) -> np.ndarray:
    """``frame`` as a ``fmt`` array, read with its own matrix and range (swscale assumes
    limited range when the range is not passed, which misreads full-range YUV)."""
    from av.video.reformatter import Interpolation

    rng = int(getattr(frame, "color_range", 0) or 0)
    space = int(getattr(frame, "colorspace", 2) or 2)
    out = frame.reformat(
        format=fmt,
        src_colorspace="itu709" if space == 1 else None,
        src_color_range=rng if rng in (1, 2) else None,
        dst_color_range=2,
        interpolation=Interpolation.POINT | Interpolation.ACCURATE_RND | Interpolation.BITEXACT,
    )
    return out.to_ndarray()


def srgb_encode(linear: np.ndarray) -> np.ndarray:
    """Linear light -> sRGB-encoded values in [0, 1] (IEC 61966-2-1 transfer), clipped.

    >>> print(*(round(float(v), 4) for v in srgb_encode(np.array([0.0, 0.0031308, 1.0, 4.0], np.float32))))
    0.0 0.0404 1.0 1.0
    """
    x = np.clip(np.nan_to_num(linear.astype(np.float32), nan=0.0), 0.0, 1.0)
    # IEC 61966-2-1 (sRGB), section 5.2
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055).astype(np.float32)


def _float_rgb(frame: Any) -> np.ndarray:
    if frame.format.name.startswith("gray"):
        rgb = np.repeat(frame.to_ndarray(format="grayf32le")[..., None], 3, axis=2)
    else:
        rgb = frame.to_ndarray(format="gbrpf32le")  # PyAV gives (H, W, 3) in R, G, B order
    return srgb_encode(np.ascontiguousarray(rgb))


def read_av_image(path: Path) -> tuple[np.ndarray, int]:
    """Decode one DPX or EXR file through FFmpeg: ((H, W, 3) RGB, bit depth), uint16 for
    DPX (10/12/16-bit code values scaled to 16 bits, used as they are: convert a log scan
    first), float32 in [0, 1] for EXR (see ``frame_gray``). ``InputError`` when FFmpeg
    cannot decode it."""
    import av

    from .limits import video_stream_size

    try:
        with av.open(os.fspath(path)) as container:
            if not container.streams.video:
                raise InputError(f"expected an image in {str(path)!r}, found none")
            stream = container.streams.video[0]
            video_stream_size(stream, path)  # InputError for a size beyond the limits
            frame = next(container.decode(stream), None)
            if frame is None:
                raise InputError(f"expected an image frame, could not decode {str(path)!r}")
            depth = stream_bit_depth(frame.format)
            if depth <= 8:
                return frame.to_ndarray(format="rgb24"), 8
            return frame_rgb(frame, depth), (32 if depth == 32 else 16)
    except (av.error.FFmpegError, OSError, UnicodeDecodeError, ValueError) as e:
        raise InputError(f"expected an image frame, could not decode {str(path)!r}: {e}") from e


def vfr_timestamps(path: Path) -> tuple[list[int], Fraction] | None:
    """Presentation timestamps of the first video stream's frames and their time base,
    when they are not evenly spaced (variable frame rate); None for a constant rate.
    Read from the packets (nothing is decoded)."""
    import av

    with av.open(os.fspath(path)) as container:
        stream = container.streams.video[0]
        pts = sorted(p.pts for p in container.demux(stream) if p.pts is not None and p.size)
        tb = stream.time_base
    if len(pts) < 3 or tb is None:
        return None
    steps = np.diff(np.asarray(pts, np.int64))
    if steps.min() == steps.max():
        return None
    return [p - pts[0] for p in pts], Fraction(tb)
