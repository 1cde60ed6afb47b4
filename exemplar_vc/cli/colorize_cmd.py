"""``exemplar-vc colorize INPUT -o OUTPUT [--exemplar FRAME=IMAGE]... [--references IMAGE_OR_DIR]...
[--bank BANK_DIR] [--auto-fill] [--config FILE.toml] [--set KEY=VALUE]... [--job JOB_DIR [--resume]]``

With no exemplar, references or bank the image colorizer colours every key frame (the
automatic mode); ``--auto-fill`` (or the setting ``auto_fill``, e.g. ``--set
auto_fill=true``) lets it colour the shots the exemplars, references or bank leave without
a trustworthy match.

Settings are applied in order: the named variant (``--model``, or a folder written by
``save_pretrained``), then the ``--config`` TOML file, then ``--working-size``, then each
``--set`` (later ones win).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import InputError

__all__ = ["register", "parse_exemplar", "expand_references", "config_overrides"]


def parse_exemplar(text: str) -> tuple[int, str]:
    """'12=ref.png' -> (12, 'ref.png')."""
    frame, sep, image = text.partition("=")
    if not sep or not (frame.strip().isascii() and frame.strip().isdigit()) or not image:
        raise InputError(f"expected --exemplar FRAME=IMAGE with a 0-based frame number, got {text!r}")
    return int(frame), image


def expand_references(items: list[str]) -> list[str]:
    """Image paths, with folders replaced by the images they hold (recursive, sorted by name)."""
    from ..io.images import expand_image_paths

    paths: list[str] = []
    for item in items:
        found = expand_image_paths(item)
        if not found:
            raise InputError(f"expected images in the references folder {item!r}, found none")
        paths.extend(str(p) for p in found)
    return paths


def config_overrides(args: argparse.Namespace) -> dict:
    """The nested overrides given by ``--config``, ``--working-size`` and ``--set``."""
    from ..config import ColorizerConfig
    from ..config_io import load_toml, merge_dicts, parse_assignment

    overrides = load_toml(args.config) if args.config else {}
    if args.working_size:
        overrides = merge_dicts(overrides, {"working_size": args.working_size})
    for item in args.set:
        overrides = merge_dicts(overrides, parse_assignment(item, ColorizerConfig()))
    return overrides


def _run(args: argparse.Namespace) -> int:
    from ..exemplars.user import UserReferences
    from ..pipeline import VideoColorizer
    from .checks import check_colorize_args

    check_colorize_args(args)  # paths, frames, sizes, output: before any work
    explicit = dict(parse_exemplar(e) for e in args.exemplar)
    references = expand_references(args.references)
    if getattr(args, "resume", False) and not getattr(args, "job", None):
        raise InputError("expected --job JOB_DIR with --resume (the job folder to continue)")
    if args.codec is not None:
        from ..io.formats import resolve_codec

        if getattr(args, "job", None) and args.codec not in ("h264", "png"):
            raise InputError(f"expected --codec h264 (or none) with --job, got {args.codec!r}: jobs write H.264 or PNG")
        resolve_codec(args.codec, args.output)  # the output can hold it: before any work
    from ..exemplars import AutoFill, ColorizerSource

    colorizer = VideoColorizer.from_pretrained(args.model, device=args.device, **config_overrides(args))
    given_any = bool(explicit or references or args.bank)
    source = UserReferences(images=references, explicit=explicit)
    if args.bank:
        from ..exemplars import ChainedSources, Retriever

        # The user's own images first; the bank serves the key frames they leave open.
        source = ChainedSources(source, Retriever(args.bank))
    if not given_any:
        source = ColorizerSource()  # the automatic mode: the colorizer colours every key frame
    elif args.auto_fill or colorizer.config.auto_fill:
        # Wrapped here, not left to plan(): a resumed job's new exemplars need it too.
        source = AutoFill(source, ColorizerSource())  # the colorizer colours shots left unmatched
    if getattr(args, "job", None):
        given = source if given_any or not args.resume else None  # None on resume: the job's own
        done = colorizer.colorize_job(args.input, args.output, args.job, exemplars=given, resume=args.resume, progress=not args.quiet)
        print(f"job {done.job}: {len(done.computed)} segments colorized, {len(done.reused)} reused", file=sys.stderr)
        result = done.result
    else:
        result = colorizer.colorize_to(args.input, args.output, exemplars=source, progress=not args.quiet, codec=args.codec)
    records = getattr(result, "keyframes", None) or []
    if records:
        used = ", ".join(f"{r.frame}<-{r.source}" + (f":{Path(r.origin).name}" if r.origin and r.source != "colorizer" else "") for r in records)
    else:
        used = ", ".join(f"{e.frame}<-{Path(e.origin).name}" for e in result.exemplars)
    print(f"wrote {len(result)} frames to {result.output} (key frames: {used})", file=sys.stderr)
    unmatched = getattr(result, "unmatched_keyframes", [])
    if given_any and unmatched:
        print(f"key frames without a trustworthy exemplar: {', '.join(map(str, unmatched))}", file=sys.stderr)
    return 0


def _codec_names() -> list[str]:
    from ..io.formats import CODECS

    return sorted(CODECS)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("colorize", help="colorize a gray video or frame folder from colour exemplars, or automatically")
    p.add_argument("input", help="video file (mp4, mkv, mov, avi) or folder of frames")
    p.add_argument("-o", "--output", required=True, help="output video (.mp4/.mkv) or folder for PNG frames")
    p.add_argument("--exemplar", action="append", default=[], metavar="FRAME=IMAGE", help="colour image for a 0-based frame; repeatable")
    p.add_argument("--references", action="append", default=[], metavar="IMAGE_OR_DIR", help="colour images assigned to key frames automatically; repeatable")
    p.add_argument("--bank", default=None, metavar="BANK_DIR", help="reference bank (exemplar-vc bank build) whose best images colour the key frames")
    p.add_argument("--auto-fill", action="store_true", help="the image colorizer colours the shots that --exemplar, --references or --bank leave without a trustworthy match (with none of them it colours every key frame anyway); same as --set auto_fill=true")
    p.add_argument("--working-size", type=int, default=None, metavar="N", help="short side in pixels at which chroma is predicted (default 416)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--model", default="default", help="named variant (default, fast, quality) or a folder written by save_pretrained")
    p.add_argument("--config", default=None, metavar="FILE.toml", help="settings from a TOML file (tables are groups, e.g. [propagation] fill_in = true)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="one setting, e.g. propagation.fill_in=true; repeatable, applied last")
    p.add_argument("--job", default=None, metavar="JOB_DIR", help="keep the plan and every finished segment in JOB_DIR, so that --resume can continue an interrupted run")
    p.add_argument("--resume", action="store_true", help="continue the job in --job: redo only unfinished segments (and those new --exemplar images change), then write OUTPUT")
    p.add_argument("--codec", default=None, choices=_codec_names(), help="output format: h264 (8-bit 4:2:0, default for .mp4/.mkv/.mov), h264-444, h265-444, ffv1 (.mkv), prores4444 (.mov); for folders png (default), png16, tiff16")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(run=_run)
