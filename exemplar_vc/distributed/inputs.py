"""Which films a batch colorizes, with which exemplars, and where each one's output and
job folder go.

``INPUT`` is a folder or a list file:

- a folder: every video file (mp4, mkv, mov, avi, webm, m4v) and every sub-folder of
  frames in it is a film; its exemplars are in the folder ``NAME.exemplars/`` beside it:
  images named by a 0-based frame number (``0.png``, ``480.jpg``) colour that frame,
  any other image is a reference assigned to key frames automatically;
- a text file: one film per line, ``INPUT [FRAME=IMAGE | IMAGE_OR_DIR]...`` (shell
  quoting; ``#`` starts a comment; relative paths are relative to the list file); a line
  with nothing after the film uses the ``NAME.exemplars/`` convention.

A film named ``NAME`` (its file's stem, or its folder's name) is written to
``OUTPUT_DIR/NAME.mp4`` (or ``.mkv``, or the PNG folder ``OUTPUT_DIR/NAME/``), and its job
folder is ``OUTPUT_DIR/.jobs/NAME/``.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..io.images import IMAGE_SUFFIXES
from ..io.reader import VIDEO_SUFFIXES

__all__ = ["FilmSpec", "find_films", "JOBS_DIR", "OUTPUT_FORMATS"]

JOBS_DIR = ".jobs"
EXEMPLARS_SUFFIX = ".exemplars"
OUTPUT_FORMATS = ("mp4", "mkv", "png")


@dataclass(frozen=True)
class FilmSpec:
    """One film of a batch.

    name: unique name (output and job folder). input: video file or frame folder.
    exemplars: {0-based frame: image path}. references: images assigned automatically.
    output: where the colorized film goes. job: its job folder.
    """

    name: str
    input: str
    output: str
    job: str
    exemplars: dict = field(default_factory=dict)
    references: tuple = ()

    def exemplar_source(self):
        """The ``UserReferences`` of this film's images."""
        from ..exemplars.user import UserReferences

        return UserReferences(images=list(self.references), explicit={int(f): p for f, p in self.exemplars.items()})


def _is_frame_folder(path: Path) -> bool:
    try:
        return any(p.suffix.lower() in IMAGE_SUFFIXES for p in path.iterdir() if p.is_file())
    except OSError:
        return False


def _exemplar_items(items: list[Path], film: str) -> tuple[dict[int, str], list[str]]:
    explicit: dict[int, str] = {}
    references: list[str] = []
    for p in items:
        if p.is_dir():
            references += [os.fspath(q) for q in sorted(p.iterdir()) if q.is_file() and q.suffix.lower() in IMAGE_SUFFIXES]
        elif p.stem.isascii() and p.stem.isdigit():
            if int(p.stem) in explicit:
                raise InputError(f"expected one exemplar per frame for film {film!r}, got frame {int(p.stem)} twice")
            explicit[int(p.stem)] = os.fspath(p)
        elif p.suffix.lower() in IMAGE_SUFFIXES:
            references.append(os.fspath(p))
    return explicit, references


def _sidecar(film: Path) -> tuple[dict[int, str], list[str]]:
    folder = film.parent / (film.stem if film.is_file() else film.name)
    folder = folder.with_name(folder.name + EXEMPLARS_SUFFIX)
    if not folder.is_dir():
        return {}, []
    return _exemplar_items(sorted(q for q in folder.iterdir() if q.is_file()), film.name)


def _spec(name: str, film: Path, output_dir: Path, fmt: str, explicit: dict, references: list) -> FilmSpec:
    if not explicit and not references:
        raise InputError(f"expected exemplars for film {film.name!r}: images named FRAME.png in {film.stem if film.is_file() else film.name}{EXEMPLARS_SUFFIX}/ beside it, or FRAME=IMAGE items on its line of the list")
    out = output_dir / (name if fmt == "png" else f"{name}.{fmt}")
    return FilmSpec(name, os.fspath(film), os.fspath(out), os.fspath(output_dir / JOBS_DIR / name), dict(sorted(explicit.items())), tuple(references))


def _from_list(path: Path, output_dir: Path, fmt: str) -> list[FilmSpec]:
    specs = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        try:
            tokens = shlex.split(line, comments=True)
        except ValueError as e:
            raise InputError(f"expected a film and its exemplars on line {n} of {str(path)!r}: {e}") from e
        if not tokens:
            continue
        film = (path.parent / tokens[0]).resolve() if not os.path.isabs(tokens[0]) else Path(tokens[0])
        if not film.exists():
            raise InputError(f"expected the film {tokens[0]!r} on line {n} of {str(path)!r} to exist, it does not")
        explicit: dict[int, str] = {}
        items = []
        for tok in tokens[1:]:
            frame, sep, image = tok.partition("=")
            if sep and frame.isascii() and frame.isdigit():
                explicit[int(frame)] = os.fspath(path.parent / image)
            else:
                items.append(path.parent / tok)
        more, references = _exemplar_items(items, film.name)
        explicit.update(more)
        if not explicit and not references:
            explicit, references = _sidecar(film)
        specs.append(_spec(film.stem if film.is_file() else film.name, film, output_dir, fmt, explicit, references))
    return specs


def find_films(inputs: str | os.PathLike, output_dir: str | os.PathLike, output_format: str = "mp4") -> list[FilmSpec]:
    """The films of ``inputs`` (a folder or a list file, see the module docstring)."""
    if output_format not in OUTPUT_FORMATS:
        raise InputError(f"expected an output format in {OUTPUT_FORMATS}, got {output_format!r}")
    src, out = Path(inputs), Path(output_dir)
    if not src.exists():
        raise InputError(f"expected a folder of films or a list file, but {str(src)!r} does not exist")
    if src.is_file():
        specs = _from_list(src, out, output_format)
    else:
        specs = []
        skip = {out.resolve()}
        for p in sorted(src.iterdir()):
            if p.name.startswith(".") or p.name.endswith(EXEMPLARS_SUFFIX) or p.resolve() in skip:
                continue
            if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES:
                specs.append(_spec(p.stem, p, out, output_format, *_sidecar(p)))
            elif p.is_dir() and _is_frame_folder(p):
                specs.append(_spec(p.name, p, out, output_format, *_sidecar(p)))
    if not specs:
        raise InputError(f"expected films (video files or frame folders) in {str(src)!r}, found none")
    names = [s.name for s in specs]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(f"expected films with distinct names (each names its output), got {twice[0]!r} more than once")
    return specs
