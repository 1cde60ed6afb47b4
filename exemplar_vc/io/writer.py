"""Write colour frames to an H.264 video (with the source's audio) or a PNG folder.

Output goes to a temporary name next to the destination and is moved into place only
when complete, so an interrupted or failed run never leaves a half-written file under the
final name. Every write is checked: a failed one (disk full, read-only location, ...)
raises ``OutputError`` after the temporary files are removed. Temporary files carry an
owner marker (``stale.py``), so what a killed run (SIGKILL) left is removed by the next
writer opened in the same folder.

H.264 output is bit-identical from run to run, whatever the number of cores: frames are
converted to YUV 4:2:0 here in integer arithmetic (``rgb_to_yuv420p``) into frames with
no uninitialised byte (``_yuv_frame``), the encoder runs on one thread (x264's output
depends on its thread count, which it otherwise picks from the machine's cores) with
explicit timestamps, and x264's macroblock tree is off: with it, the same 6 frames of
bear.mp4 at 854 px wide gave 3 different files in 6 encodes in one process (and two runs
of the pipeline on bear.mp4 decoded up to 29 levels apart); with ``mbtree=0`` (or
``asm=0``), 1 file, at every width tried (18-1280). CRF 15 keeps the quality CRF 17 had
with the macroblock tree (benchmarks/README.md, Reliability). Every container is opened
with FFmpeg's ``fflags +bitexact``: without it the Matroska muxer writes a random segment
UID and the muxing date, so two .mkv runs differed byte-wise (mp4 and mov did not).
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import InputError, OutputError
from .formats import BT709, Codec, ColorTags, check_codec_output, default_codec, encode_image, get_codec, to_depth, video_frame
from .image_tags import tag_image
from .images import IMAGE_SUFFIXES
from .reader import VIDEO_SUFFIXES
from .stale import PARTIAL_TAG, clean_stale_partials, clean_stale_spills, owner_record

__all__ = ["FrameWriter", "open_writer", "check_output_path", "rgb_to_yuv420p", "MAX_FPS"]

_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
# Longest output name: the temporary name adds ".", ".exvc-PID-RANDOM" and ".partial.EXT".
_NAME_MAX = 255 - 40
MAX_FPS = 100_000  # high-speed cameras reach ~10^4-10^5 frames/s; beyond is a broken header
_MAX_VIDEO_SIDE = 16384  # x264's limit


def rgb_to_yuv420p(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(H, W, 3) uint8 RGB, H and W even -> Y (H, W), U and V (H/2, W/2) uint8 planes of
    YUV 4:2:0, ITU-R BT.601 limited range (what FFmpeg's swscale produces by default),
    chroma from the mean of each 2x2 block. Integer arithmetic (the usual 8-bit BT.601
    coefficients, x256), so the result is the same on every machine and every run; within
    1 level (Y) of swscale's on real frames.

    >>> import numpy as np
    >>> [p.tolist() for p in rgb_to_yuv420p(np.full((2, 2, 3), 255, np.uint8))]
    [[[235, 235], [235, 235]], [[128]], [[128]]]
    """
    rgb = rgb.astype(np.int32)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16

    def block_sum(c: np.ndarray) -> np.ndarray:
        return c[0::2, 0::2] + c[1::2, 0::2] + c[0::2, 1::2] + c[1::2, 1::2]

    rs, gs, bs = block_sum(r), block_sum(g), block_sum(b)  # 4x the 2x2 mean
    u = ((-38 * rs - 74 * gs + 112 * bs + 512) >> 10) + 128
    v = ((112 * rs - 94 * gs - 18 * bs + 512) >> 10) + 128
    return tuple(np.clip(p, 0, 255).astype(np.uint8) for p in (y, u, v))


def _yuv_frame(rgb: np.ndarray):
    """An ``av.VideoFrame`` (yuv420p) of even-sized ``rgb`` whose every byte is set: each
    plane is padded to its full line size by repeating its last column, so nothing the
    encoder might read is left uninitialised."""
    import av

    h, w = rgb.shape[:2]
    frame = av.VideoFrame(w, h, "yuv420p")
    for plane, data in zip(frame.planes, rgb_to_yuv420p(rgb)):
        rows = plane.buffer_size // plane.line_size
        plane.update(np.ascontiguousarray(np.pad(data, ((0, rows - data.shape[0]), (0, plane.line_size - data.shape[1])), mode="edge")))
    return frame


def _fail(what: str, err: BaseException) -> OutputError:
    return OutputError.from_os_error(what, err)


def check_output_path(output: os.PathLike | str, input_path: os.PathLike | str | None = None) -> Path:
    """Validate an output path before any work starts; returns it as a Path.

    A video name (.mp4, .m4v, .mov, .mkv) in an existing, writable folder, or a folder for
    PNG frames that does not exist yet or is empty, in an existing, writable folder.
    Raises ``InputError`` for a bad name or an occupied folder, ``OutputError`` for a
    location that cannot be written.
    """
    if not isinstance(output, (str, os.PathLike)):
        raise InputError(f"expected the output as a path (str or os.PathLike), got {type(output).__name__}")
    try:
        out = Path(output)
    except TypeError as e:
        raise InputError(f"expected the output as a path, got {output!r}") from e
    text = os.fspath(out)
    if not text or text in (".", "..") or "\x00" in text:
        raise InputError(f"expected an output file or folder name, got {text!r}")
    if len(out.name.encode("utf-8", "surrogateescape")) > _NAME_MAX:
        raise InputError(f"expected an output name of at most {_NAME_MAX} bytes, got {len(out.name.encode('utf-8', 'surrogateescape'))}")
    if input_path is not None and out.resolve() == Path(input_path).resolve():
        raise InputError(f"expected an output path different from the input, got {text!r} for both")
    parent = out.parent
    suffix = out.suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        if suffix not in _FORMATS:
            raise InputError(f"expected an output video ending in {sorted(_FORMATS)} or a folder, got {text!r}")
        if out.is_dir():
            raise InputError(f"expected {text!r} to be a video file, but it is a folder")
        if out.exists() and not out.is_file():
            raise InputError(f"expected {text!r} to be a new or a regular file, but it is a special file")
    elif suffix in IMAGE_SUFFIXES:
        raise InputError(f"expected a video file (.mp4, .mkv) or a folder as output, got the image name {text!r}")
    elif out.exists() or out.is_symlink():
        if not out.is_dir():
            raise InputError(f"expected an output folder, but {text!r} is a file")
        try:
            entries = sorted(os.listdir(out))
        except OSError as e:
            raise _fail(f"the output folder {text!r}", e) from e
        if entries:
            frames = [n for n in entries if Path(n).suffix.lower() in IMAGE_SUFFIXES]
            what = "already holds frames" if frames else f"is not empty (it holds {entries[0]!r})"
            raise InputError(f"expected a new or empty output folder, but {text!r} {what}; choose a new folder")
    if not parent.is_dir():
        what = "does not exist" if not parent.exists() else "is not a folder"
        raise InputError(f"expected the folder {str(parent)!r} of the output to exist, but it {what}")
    if not os.access(parent, os.W_OK | os.X_OK):
        import errno

        code = errno.EROFS if _read_only(parent) else errno.EACCES
        raise _fail(f"into the folder {str(parent)!r}", OSError(code, os.strerror(code)))
    return out


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _default_mode(folder: bool = False) -> int:
    # mkstemp/mkdtemp create private files; the published output gets the usual umask mode.
    umask = os.umask(0)
    os.umask(umask)
    return (0o777 if folder else 0o666) & ~umask


def _check_fps(fps) -> Fraction:
    try:
        value = Fraction(fps)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError) as e:
        raise InputError(f"expected fps as a positive number, got {fps!r}") from e
    if not 0 < value <= MAX_FPS:
        raise InputError(f"expected fps in (0, {MAX_FPS}], got {float(value):g}")
    value = value.limit_denominator(100000)
    if value == 0:
        raise InputError(f"expected fps in (0, {MAX_FPS}], got {float(Fraction(fps)):g}")
    return value


class FrameWriter:
    """Receives (H, W, 3) uint8 or uint16 RGB frames; ``close()`` publishes, ``abort()``
    discards.

    Use as a context manager: leaving the block on an exception (or a failing ``close``)
    aborts, so nothing is left at or beside ``output``. Failed writes raise
    ``OutputError``; frames of another size than the first raise ``InputError``.

    codec: a name of ``formats.CODECS`` (default: ``h264`` for a video name, ``png`` for a
    folder); frames are converted to its bit depth. color: the input's colour tags to carry
    over (default BT.709). timestamps: ``(pts, time_base)`` of a variable-frame-rate input,
    one per frame (default: evenly spaced at ``fps``).
    """

    def __init__(
        self,
        output: Path,
        fps: Fraction,
        names: list[str] | None = None,
        audio_from: Path | None = None,
        *,
        codec: str | Codec | None = None,
        color: ColorTags | None = None,
        timestamps: tuple[list[int], Fraction] | None = None,
    ):
        self.output = Path(output)
        self.fps = _check_fps(fps)
        self.codec = default_codec(self.output) if codec is None else get_codec(codec)
        check_codec_output(self.codec, self.output)
        self.color = (color or BT709).for_output(self.codec.matrix, self.codec.range)
        self._image_color = color  # frames of a folder: None means sRGB, what we compute
        self.timestamps = timestamps
        if names is not None and (isinstance(names, (str, bytes)) or not all(isinstance(n, str) for n in names)):
            raise InputError(f"expected names as a list of file names, got {type(names).__name__}")
        if names is not None:
            stems = [Path(n).stem for n in names]
            if len(set(stems)) != len(stems):
                twice = sorted({s for s in stems if stems.count(s) > 1})[0]
                raise InputError(f"expected frame names with distinct stems (each becomes STEM.png), got {twice!r} more than once")
        self.names = names
        self.audio_from = audio_from
        self.count = 0
        self._size: tuple[int, int] | None = None
        self._is_video = self.output.suffix.lower() in _FORMATS
        self._container = self._stream = None
        self._audio_src = self._audio_out = None
        self._done = False
        parent = self.output.parent
        clean_stale_partials(parent)
        clean_stale_spills()
        # The marker first, then the partial: a run killed in between leaves only a marker,
        # which the next run removes too.
        try:
            fd, marker = tempfile.mkstemp(prefix=f".{self.output.name}.{PARTIAL_TAG}-{os.getpid()}-", suffix=".owner", dir=parent)
        except OSError as e:
            raise _fail(f"a temporary file in {str(parent)!r}", e) from e
        self._marker = Path(marker)
        self._tmp = self._marker.with_name(self._marker.name[: -len(".owner")] + ".partial" + (self.output.suffix if self._is_video else ""))
        try:
            import json

            with os.fdopen(fd, "w") as f:
                json.dump(owner_record(), f)
            if self._is_video:
                os.close(os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            else:
                os.mkdir(self._tmp, 0o700)
        except OSError as e:
            self.abort()
            raise _fail(f"a temporary file in {str(parent)!r}", e) from e

    def __enter__(self) -> "FrameWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()  # aborts itself when it fails
        else:
            self.abort()

    def write(self, rgb: np.ndarray) -> None:
        """Append one (H, W, 3) uint8 RGB frame."""
        if self._done:
            raise InputError("expected an open writer, but it was already closed or aborted")
        if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype not in (np.uint8, np.uint16):
            raise InputError(f"expected (H, W, 3) uint8 or uint16 RGB, got {getattr(rgb, 'shape', type(rgb).__name__)} {getattr(rgb, 'dtype', '')}".rstrip())
        if self._size is None:
            if min(rgb.shape[:2]) < 1:
                raise InputError(f"expected a frame of at least 1x1 pixels, got {rgb.shape[1]}x{rgb.shape[0]}")
            if self._is_video and max(rgb.shape[:2]) > _MAX_VIDEO_SIDE:
                raise InputError(f"expected frames of at most {_MAX_VIDEO_SIDE} pixels a side for H.264, got {rgb.shape[1]}x{rgb.shape[0]}; write a PNG folder instead")
            self._size = rgb.shape[:2]
        elif rgb.shape[:2] != self._size:
            raise InputError(f"expected every frame to be {self._size[1]}x{self._size[0]} like the first, got {rgb.shape[1]}x{rgb.shape[0]}")
        try:
            if self._is_video:
                self._write_video(rgb)
            else:
                self._write_png(rgb)
        except BaseException as e:
            self.abort()
            if _is_write_error(e):
                raise _fail(f"frame {self.count} of {str(self.output)!r}", e) from e
            raise
        self.count += 1

    def _write_png(self, rgb: np.ndarray) -> None:
        import cv2

        ext = self.codec.image_ext
        if self.names is not None and self.count < len(self.names):
            name = Path(self.names[self.count]).stem + ext
        else:
            name = f"{self.count:06d}{ext}"
        if self.codec.name != "png" or rgb.dtype != np.uint8:
            data = encode_image(rgb, self.codec)  # formats.py
        else:
            ok, buf = cv2.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]))
            if not ok:
                raise OSError(f"PNG encoding of {name!r} failed")
            data = buf.tobytes()
        data = tag_image(data, ext, self._image_color)  # sRGB or the input's tags (image_tags.py)
        # Python's file object raises on every failed write, including at close.
        with open(self._tmp / name, "xb") as f:
            f.write(data)

    def _write_video(self, rgb: np.ndarray) -> None:
        import av

        if self.codec.name != "h264":
            return self._write_master(rgb)
        rgb = to_depth(rgb, 8)
        if self._container is None:
            h, w = rgb.shape[:2]
            self._container = self._open_container()
            stream = self._container.add_stream("libx264", rate=self.fps)
            # H.264 4:2:0 needs even sizes: an odd edge is padded by repeating the last row/column.
            stream.width, stream.height = w + (w % 2), h + (h % 2)
            stream.pix_fmt = "yuv420p"
            # One encoder thread: x264's output depends on its thread count (frame threads
            # narrow motion search), which by default follows the machine's cores.
            stream.codec_context.thread_count = 1
            # mbtree off: with it, x264's SIMD lookahead gave different files for identical
            # frames at some widths (854 px: 3 distinct files in 6 encodes; asm=0 or
            # mbtree=0: 1). CRF 15 without mbtree keeps the quality of CRF 17 with it
            # (bear.mp4, RGB PSNR to the source: 39.23 vs 39.31 dB) at 8 % more bytes.
            stream.options = {"crf": "15", "preset": "medium", "x264-params": "mbtree=0"}
            self.color.apply(stream.codec_context)  # BT.601 matrix (rgb_to_yuv420p), limited range
            self._set_time_base(stream)
            self._stream = stream
            if self.audio_from is not None:
                self._add_audio_stream()
        if rgb.shape[0] % 2 or rgb.shape[1] % 2:
            rgb = np.pad(rgb, ((0, rgb.shape[0] % 2), (0, rgb.shape[1] % 2), (0, 0)), mode="edge")
        frame = _yuv_frame(rgb)
        self._set_time(frame)
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def _open_container(self):
        import av

        fmt = _FORMATS[self.output.suffix.lower()]
        # bitexact: Matroska otherwise writes a random segment UID and the muxing date.
        options = {"fflags": "+bitexact"}
        if fmt in ("mp4", "mov"):
            # The movie clock (1000 ticks/s by default) must resolve a frame: at 5000
            # frames/s its edit list rounded a 3-frame clip to nothing a decoder shows.
            options["movie_timescale"] = str(max(1000, 100 * math.ceil(self.fps)))
        return av.open(os.fspath(self._tmp), mode="w", format=fmt, options=options)

    def _set_time_base(self, stream) -> None:
        # A variable frame rate keeps the input's timestamps in the input's time base.
        if self.timestamps is not None:
            stream.codec_context.time_base = stream.time_base = self.timestamps[1]

    def _set_time(self, frame) -> None:
        if self.timestamps is None:
            frame.pts = self.count
            frame.time_base = Fraction(1) / self.fps
        else:  # past the last timestamp (a container that listed fewer): its last step on
            pts = self.timestamps[0]
            step = pts[-1] - pts[-2] if len(pts) > 1 else 1
            frame.pts = int(pts[self.count]) if self.count < len(pts) else int(pts[-1] + step * (self.count - len(pts) + 1))
            frame.time_base = self.timestamps[1]

    def _write_master(self, rgb: np.ndarray) -> None:
        """Any other codec of ``formats.CODECS``: RGB -> its YUV by swscale, tagged."""
        import av

        codec = self.codec
        if self._container is None:
            h, w = rgb.shape[:2]
            self._container = self._open_container()
            stream = self._container.add_stream(codec.encoder, rate=self.fps)
            stream.width, stream.height = w, h  # 4:4:4: odd sizes kept as they are
            stream.pix_fmt = codec.pix_fmt
            stream.codec_context.thread_count = 1  # same output on every machine
            stream.options = dict(codec.options)
            self.color.apply(stream.codec_context)
            self._set_time_base(stream)
            self._stream = stream
            if self.audio_from is not None:
                self._add_audio_stream()
        frame = video_frame(rgb, codec, self.color)
        self._set_time(frame)
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def _add_audio_stream(self) -> None:
        # Streams must exist before the first packet is written (the header goes out then).
        import av

        try:
            self._audio_src = av.open(os.fspath(self.audio_from))
        except (av.error.FFmpegError, OSError, UnicodeDecodeError) as e:
            raise InputError(f"expected a readable audio track in {str(self.audio_from)!r}, could not open it: {e}") from e
        if not self._audio_src.streams.audio:
            self._audio_src.close()
            self._audio_src = None
            return
        self._audio_out = self._container.add_stream_from_template(self._audio_src.streams.audio[0])

    def _copy_audio(self) -> None:
        import av

        src, self._audio_src = self._audio_src, None
        with src:
            try:
                for packet in src.demux(src.streams.audio[0]):
                    if packet.dts is None:
                        continue
                    packet.stream = self._audio_out
                    self._container.mux(packet)
            except av.error.FFmpegError as e:
                if _is_write_error(e):
                    raise
                raise InputError(f"expected a readable audio track in {str(self.audio_from)!r}, reading it failed: {e}") from e

    def close(self) -> Path:
        """Finish writing and move the result to its final name; on any failure the
        temporary files are removed and the error raised (``OutputError`` for a failed write)."""
        if self._done:
            raise InputError("expected an open writer, but it was already closed or aborted")
        if self.count == 0:
            self.abort()
            raise InputError("expected at least one frame to write, got none")
        try:
            if self._is_video:
                for packet in self._stream.encode():
                    self._container.mux(packet)
                if self._audio_src is not None:
                    self._copy_audio()
                container, self._container = self._container, None
                container.close()
                os.chmod(self._tmp, _default_mode())
            else:
                os.chmod(self._tmp, _default_mode(folder=True))
            # rename(2) replaces a file, or an empty folder (checked empty before; if
            # something appeared in it since, the rename fails and nothing is lost).
            os.replace(self._tmp, self.output)
        except BaseException as e:
            self.abort()
            if _is_write_error(e):
                raise _fail(str(self.output), e) from e
            raise
        self._done = True
        _unlink(self._marker)
        return self.output

    def abort(self) -> None:
        """Discard everything written so far (safe to call more than once)."""
        self._done = True
        for handle in (self._audio_src, self._container):
            try:
                if handle is not None:
                    handle.close()
            except Exception:  # the file is being thrown away anyway
                pass
        self._audio_src = self._container = None
        tmp = getattr(self, "_tmp", None)
        if tmp is not None:
            if tmp.is_dir() and not tmp.is_symlink():
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                _unlink(tmp)
        _unlink(getattr(self, "_marker", None))


def _unlink(path: Path | None) -> None:
    if path is None:
        return
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError:
        pass


def _is_write_error(e: BaseException) -> bool:
    """An error of the file system (disk full, read-only, I/O error, ...), from Python or PyAV."""
    if isinstance(e, (InputError, OutputError)):
        return False
    if isinstance(e, OSError):
        return True
    try:
        import av
    except ImportError:  # pragma: no cover - dependency of the package
        return False
    return isinstance(e, av.error.FFmpegError)


def open_writer(output, fps=Fraction(24), names=None, audio_from=None, *, codec=None, color=None, timestamps=None) -> FrameWriter:
    """A writer for ``output``: a .mp4/.m4v/.mov/.mkv video, or a folder of PNG frames;
    ``codec``, ``color``, ``timestamps``: see ``FrameWriter``."""
    return FrameWriter(check_output_path(output), fps, names=names, audio_from=audio_from, codec=codec, color=color, timestamps=timestamps)
