"""Up-front checks of command-line arguments: everything that can be refused before a
model is loaded or a frame is read, with one line saying what was expected and what came."""

from __future__ import annotations

import argparse
import os
import stat

from ..errors import InputError
from ..io.limits import file_kind

__all__ = ["check_input_path", "check_colorize_args"]


def check_input_path(path: str | os.PathLike, what: str, folder_ok: bool = True) -> None:
    """``InputError`` unless ``path`` exists and is a regular file (or a folder when
    ``folder_ok``): a FIFO or a device would block the run or never end."""
    text = os.fspath(path)
    if not text or "\x00" in text:
        raise InputError(f"expected a path for the {what}, got {text!r}")
    try:
        st = os.stat(text)
    except FileNotFoundError as e:
        raise InputError(f"expected the {what} {text!r} to exist, but it does not exist") from e
    except OSError as e:
        raise InputError(f"expected a readable {what} at {text!r}: {e.strerror or e}") from e
    if stat.S_ISREG(st.st_mode) or (folder_ok and stat.S_ISDIR(st.st_mode)):
        return
    expected = "a file or a folder" if folder_ok else "a file"
    raise InputError(f"expected the {what} {text!r} to be {expected}, but it is {file_kind(st.st_mode)}")


def check_colorize_args(args: argparse.Namespace) -> None:
    """``exemplar-vc colorize``: paths, exemplar frames, working size, output; before any work."""
    from ..io.writer import check_output_path
    from .colorize_cmd import parse_exemplar

    check_input_path(args.input, "input video or frame folder")
    frames: dict[int, str] = {}
    for text in args.exemplar:
        frame, image = parse_exemplar(text)
        if frame in frames:
            raise InputError(f"expected one --exemplar per frame, got frame {frame} twice ({frames[frame]!r} and {image!r})")
        frames[frame] = image
        check_input_path(image, f"exemplar image for frame {frame}", folder_ok=False)
    for item in args.references:
        check_input_path(item, "references image or folder")
    if getattr(args, "bank", None):
        check_input_path(args.bank, "bank folder")
    if getattr(args, "config", None):
        check_input_path(args.config, "config file", folder_ok=False)
    if args.working_size is not None and args.working_size < 1:
        raise InputError(f"expected --working-size as a positive number of pixels, got {args.working_size}")
    check_output_path(args.output, args.input)
