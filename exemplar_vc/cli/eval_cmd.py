"""``exemplar-vc eval CLIP_OR_DIR... [--protocol P]... [--report DIR] [--json PATH]``

Scores the pipeline and two reference baselines against ground-truth colour clips under
the evaluation protocols, and prints a markdown table (see docs/evaluation.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import InputError

__all__ = ["register", "parse_list"]


def parse_list(text: str, allowed: tuple[str, ...], what: str) -> list[str]:
    """'a,b' -> ['a', 'b'], each checked against ``allowed``.

    >>> parse_list("psnr, cdc", ("psnr", "cdc", "ssim"), "metrics")
    ['psnr', 'cdc']
    """
    items = [t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in items if t not in allowed]
    if bad or not items:
        raise InputError(f"expected --{what} as a comma-separated list of {', '.join(allowed)}; got {text!r}")
    return items


def _run(args: argparse.Namespace) -> int:
    from ..evaluation import METHODS, METRICS, evaluate, markdown_report

    protocols = args.protocol or ["first-frame", "every-50"]
    if "retrieval" in protocols and not args.bank:
        raise InputError("expected --bank DIR with --protocol retrieval")
    methods = parse_list(args.methods, METHODS, "methods")
    metric_names = parse_list(args.metrics, METRICS, "metrics")
    extra = {}
    if args.fid_weights:
        from ..metrics.fid import fid

        weights = args.fid_weights
        if not Path(weights).is_file():
            raise InputError(f"expected --fid-weights to be the pt_inception-2015-12-05 weight file, but {weights!r} is not a file")
        extra["fid"] = lambda p, g: fid(p, g, weights=weights)
    colorizer = None
    if "pipeline" in methods or "retrieval" in protocols:
        from ..pipeline import VideoColorizer

        overrides = {"working_size": args.working_size} if args.working_size else {}
        colorizer = VideoColorizer.from_pretrained(args.model, device=args.device, **overrides)
    log = None if args.quiet else (lambda msg: print(f"eval: {msg}", file=sys.stderr))
    report = evaluate(
        args.inputs,
        protocols,
        colorizer=colorizer,
        methods=methods,
        metric_names=metric_names,
        bank=args.bank,
        report_dir=args.report,
        max_frames=args.max_frames,
        extra_metrics=extra,
        log=log,
        progress=not args.quiet,
    )
    text = markdown_report(report)
    if args.markdown:
        Path(args.markdown).write_text(text, encoding="utf-8")
    if args.json:
        Path(args.json).write_text(json.dumps(report.to_dict(), indent=1), encoding="utf-8")
    print(text)
    if args.report and log:
        log(f"report: {Path(args.report) / 'index.html'}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from ..evaluation import METHODS, METRICS, PROTOCOLS

    p = sub.add_parser("eval", help="score colorizations against ground-truth colour clips (protocols, metrics, baselines)")
    p.add_argument("inputs", nargs="+", metavar="CLIP_OR_DIR", help="colour video, folder of frames, or folder of such clips")
    p.add_argument("--protocol", action="append", choices=PROTOCOLS, help="repeatable; default: first-frame and every-50")
    p.add_argument("--bank", metavar="DIR", help="saved ReferenceBank for the retrieval protocol")
    p.add_argument("--methods", default=",".join(METHODS), help=f"comma-separated, from {', '.join(METHODS)} (default: all)")
    p.add_argument("--metrics", default=",".join(METRICS), help="comma-separated metric names (default: all)")
    p.add_argument("--fid-weights", metavar="PATH", help="pt_inception-2015-12-05 weight file: adds true FID (not downloadable here)")
    p.add_argument("--json", metavar="PATH", help="write every number as JSON")
    p.add_argument("--markdown", metavar="PATH", help="write the tables as markdown (also printed)")
    p.add_argument("--report", metavar="DIR", help="write an HTML report with frame strips and plots")
    p.add_argument("--max-frames", type=int, default=None, metavar="N", help="use only the first N frames of each clip")
    p.add_argument("--working-size", type=int, default=None, metavar="N", help="pipeline working size (short side, px)")
    p.add_argument("--model", default="default", help="named variant: default, fast, quality")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines or bars on stderr")
    p.set_defaults(run=_run)
