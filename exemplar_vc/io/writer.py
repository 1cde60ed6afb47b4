"""Write colour frames to an H.264 video (with the source's audio) or a PNG folder.

Output goes to a temporary name next to the destination and is moved into place only
when complete, so an interrupted run never leaves a half-written file under the final name.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import InputError
from .images import IMAGE_SUFFIXES
from .reader import VIDEO_SUFFIXES

__all__ = ["FrameWriter", "open_writer", "check_output_path"]

_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}


def check_output_path(output: os.PathLike | str, input_path: os.PathLike | str | None = None) -> Path:
    """Validate an output path before any work starts; returns it as a Path."""
    out = Path(output)
    if input_path is not None and out.resolve() == Path(input_path).resolve():
        raise InputError(f"expected an output path different from the input, got {str(out)!r} for both")
    if out.suffix.lower() in VIDEO_SUFFIXES:
        if out.suffix.lower() not in _FORMATS:
            raise InputError(f"expected an output video ending in {sorted(_FORMATS)} or a folder, got {str(out)!r}")
        if out.is_dir():
            raise InputError(f"expected {str(out)!r} to be a video file, but it is a folder")
        if not out.parent.exists():
            raise InputError(f"expected the folder {str(out.parent)!r} to exist for the output video")
        return out
    if out.suffix.lower() in IMAGE_SUFFIXES:
        raise InputError(f"expected a video file (.mp4, .mkv) or a folder as output, got the image name {str(out)!r}")
    if out.exists() and not out.is_dir():
        raise InputError(f"expected an output folder, but {str(out)!r} is a file")
    if out.is_dir() and any(p.suffix.lower() in IMAGE_SUFFIXES for p in out.iterdir()):
        raise InputError(f"expected an empty output folder, but {str(out)!r} already holds frames; choose a new folder")
    return out


def _set_default_mode(path: Path, folder: bool = False) -> None:
    # mkstemp/mkdtemp create private files; the published output gets the usual umask mode.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, (0o777 if folder else 0o666) & ~umask)


class FrameWriter:
    """Receives (H, W, 3) uint8 RGB frames; ``close()`` publishes, ``abort()`` discards.

    Use as a context manager: leaving the block on an exception aborts.
    """

    def __init__(self, output: Path, fps: Fraction, names: list[str] | None = None, audio_from: Path | None = None):
        self.output = Path(output)
        self.fps = Fraction(fps).limit_denominator(100000)
        self.names = names
        self.audio_from = audio_from
        self.count = 0
        self._is_video = self.output.suffix.lower() in _FORMATS
        self._container = self._stream = None
        self._audio_src = self._audio_out = None
        if self._is_video:
            fd, tmp = tempfile.mkstemp(prefix=f".{self.output.stem}.", suffix=".partial" + self.output.suffix, dir=self.output.parent)
            os.close(fd)
        else:
            self.output.parent.mkdir(parents=True, exist_ok=True)
            tmp = tempfile.mkdtemp(prefix=f".{self.output.name}.", suffix=".partial", dir=self.output.parent)
        self._tmp = Path(tmp)

    def __enter__(self) -> "FrameWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def write(self, rgb: np.ndarray) -> None:
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected (H, W, 3) uint8 RGB, got {tuple(rgb.shape)} {rgb.dtype}")
        if self._is_video:
            self._write_video(rgb)
        else:
            self._write_png(rgb)
        self.count += 1

    def _write_png(self, rgb: np.ndarray) -> None:
        import cv2

        if self.names is not None and self.count < len(self.names):
            name = Path(self.names[self.count]).stem + ".png"
        else:
            name = f"{self.count:06d}.png"
        cv2.imwrite(os.fspath(self._tmp / name), np.ascontiguousarray(rgb[..., ::-1]))

    def _write_video(self, rgb: np.ndarray) -> None:
        import av

        if self._container is None:
            h, w = rgb.shape[:2]
            self._container = av.open(os.fspath(self._tmp), mode="w", format=_FORMATS[self.output.suffix.lower()])
            stream = self._container.add_stream("libx264", rate=self.fps)
            # H.264 4:2:0 needs even sizes: an odd edge is padded by repeating the last row/column.
            stream.width, stream.height = w + (w % 2), h + (h % 2)
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": "17", "preset": "medium"}
            self._stream = stream
            if self.audio_from is not None:
                self._add_audio_stream()
        if rgb.shape[0] % 2 or rgb.shape[1] % 2:
            rgb = np.pad(rgb, ((0, rgb.shape[0] % 2), (0, rgb.shape[1] % 2), (0, 0)), mode="edge")
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def _add_audio_stream(self) -> None:
        # Streams must exist before the first packet is written (the header goes out then).
        import av

        self._audio_src = av.open(os.fspath(self.audio_from))
        if not self._audio_src.streams.audio:
            self._audio_src.close()
            self._audio_src = None
            return
        self._audio_out = self._container.add_stream_from_template(self._audio_src.streams.audio[0])

    def _copy_audio(self) -> None:
        with self._audio_src as src:
            for packet in src.demux(src.streams.audio[0]):
                if packet.dts is None:
                    continue
                packet.stream = self._audio_out
                self._container.mux(packet)
        self._audio_src = None

    def close(self) -> Path:
        """Finish writing and move the result to its final name."""
        if self.count == 0:
            self.abort()
            raise InputError("expected at least one frame to write, got none")
        if self._is_video:
            for packet in self._stream.encode():
                self._container.mux(packet)
            if self._audio_src is not None:
                self._copy_audio()
            self._container.close()
            _set_default_mode(self._tmp)
            os.replace(self._tmp, self.output)
        else:
            if self.output.is_dir():
                self.output.rmdir()  # checked empty of frames before; rmdir refuses anything else
            _set_default_mode(self._tmp, folder=True)
            os.replace(self._tmp, self.output)
        return self.output

    def abort(self) -> None:
        """Discard everything written so far."""
        try:
            if self._audio_src is not None:
                self._audio_src.close()
            if self._container is not None:
                self._container.close()
        except Exception:  # the file is being thrown away anyway
            pass
        if self._tmp.is_dir():
            shutil.rmtree(self._tmp, ignore_errors=True)
        elif self._tmp.exists():
            self._tmp.unlink()


def open_writer(output, fps=Fraction(24), names=None, audio_from=None) -> FrameWriter:
    """A writer for ``output``: a .mp4/.mkv/.mov video, or a folder of PNG frames."""
    return FrameWriter(check_output_path(output), fps, names=names, audio_from=audio_from)
