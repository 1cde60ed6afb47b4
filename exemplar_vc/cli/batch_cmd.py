"""``exemplar-vc batch INPUT_DIR_OR_LIST -o OUTPUT_DIR [--ray-address auto|ADDRESS]
[--workers N] [--gpus-per-worker F]``: an archive on Ray (``exemplar_vc.distributed``).

Films and their exemplars: ``distributed/inputs.py`` (a folder with ``NAME.exemplars/``
beside each film, or a list file). Running the same command again continues the batch.
"""

from __future__ import annotations

import argparse
import sys

from ..errors import InputError

__all__ = ["register"]


def _run(args: argparse.Namespace) -> int:
    from ..distributed import BatchOptions, find_films, require_ray, run_batch
    from ..pipeline import VideoColorizer
    from .checks import check_input_path
    from .colorize_cmd import config_overrides

    try:
        require_ray()
    except ImportError as e:  # an environment problem: one line, exit 2
        raise InputError(str(e)) from None
    check_input_path(args.inputs, "folder of films or list file")
    if args.workers is not None and args.workers < 1:
        raise InputError(f"expected --workers >= 1, got {args.workers}")
    if args.gpus_per_worker < 0 or args.cpus_per_worker < 1:
        raise InputError(f"expected --gpus-per-worker >= 0 and --cpus-per-worker >= 1, got {args.gpus_per_worker} and {args.cpus_per_worker}")
    if args.working_size is not None and args.working_size < 1:
        raise InputError(f"expected --working-size as a positive number of pixels, got {args.working_size}")
    films = find_films(args.inputs, args.output, args.format)  # every film has exemplars: before any work
    colorizer = VideoColorizer.from_pretrained(args.model, device="cpu", **config_overrides(args))
    options = BatchOptions(
        ray_address=args.ray_address,
        workers=args.workers,
        gpus_per_worker=args.gpus_per_worker,
        cpus_per_worker=args.cpus_per_worker,
        output_format=args.format,
        segment_format=args.segment_format,
        keep_segments=not args.discard_segments,
    )

    def report(film) -> None:
        if not args.quiet:
            what = film.error if film.status == "failed" else f"{film.frames} frames, {film.computed} segments colorized, {film.reused} reused"
            print(f"{film.name}: {film.status} ({what})", file=sys.stderr)

    result = run_batch(films, args.output, colorizer, options, progress=report)
    print(f"batch: {len(result.films) - len(result.failed)} of {len(result.films)} films done, {result.frames} frames in {result.seconds:.0f} s on {result.workers} workers; manifest {result.manifest}", file=sys.stderr)
    for film in result.failed:
        print(f"exemplar-vc: error: film {film.name!r} failed: {film.error}", file=sys.stderr)
    return 2 if result.failed else 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("batch", help="colorize a folder or list of films on Ray (resumable; pip install 'exemplar_vc[cluster]')")
    p.add_argument("inputs", metavar="INPUT_DIR_OR_LIST", help="folder of films (exemplars in NAME.exemplars/ beside each) or a list file: FILM [FRAME=IMAGE]... per line")
    p.add_argument("-o", "--output", required=True, metavar="OUTPUT_DIR", help="folder for the colorized films (job folders and the manifest go in OUTPUT_DIR/.jobs/)")
    p.add_argument("--ray-address", default=None, metavar="auto|ADDRESS", help="Ray cluster to join ('auto': the one this machine belongs to); default: a local Ray")
    p.add_argument("--workers", type=int, default=None, metavar="N", help="workers, one model each (default: as many as CPUs, or GPUs with --gpus-per-worker)")
    p.add_argument("--gpus-per-worker", type=float, default=0.0, metavar="F", help="GPUs per worker (1: one worker per GPU; default 0: CPU workers)")
    p.add_argument("--cpus-per-worker", type=int, default=1, metavar="N", help="CPUs (torch threads) per worker (default 1)")
    p.add_argument("--format", default="mp4", choices=["mp4", "mkv", "png"], help="output of each film: NAME.mp4, NAME.mkv or a PNG folder NAME/")
    p.add_argument("--segment-format", default="npy", choices=["npy", "png"], help="finished segments on disk: npy (fast) or png (half the disk)")
    p.add_argument("--discard-segments", action="store_true", help="delete a film's segments once it is written (saves disk; a later change of exemplar recomputes the whole film)")
    p.add_argument("--working-size", type=int, default=None, metavar="N", help="short side in pixels at which chroma is predicted (default 416)")
    p.add_argument("--model", default="default", help="named variant (default, fast, quality) or a folder written by save_pretrained")
    p.add_argument("--config", default=None, metavar="FILE.toml", help="settings from a TOML file")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="one setting, e.g. propagation.fill_in=true; repeatable")
    p.add_argument("-q", "--quiet", action="store_true", help="no line per film")
    p.set_defaults(run=_run)
