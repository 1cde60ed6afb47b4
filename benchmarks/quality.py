"""Quality benchmark: the pipeline and the two reference baselines on real colour clips
under the first-frame and every-50 protocols; every metric, fps and peak memory.

    nice python benchmarks/quality.py --clips ../shared/data/clips --out benchmarks/results/quality.json
    nice python benchmarks/quality.py --clips ../shared/data/clips --held-out-train ../shared/data/train \
        --compare hand --out benchmarks/results/quality_network.json

``--compare hand`` adds the pipeline with the hand-written fusion rule (method
"hand_fusion") to the same run; ``--held-out-train`` adds the clips of that folder that
``training/train_fusion.py`` held out (never trained on).

Prints the markdown tables recorded in benchmarks/README.md ("## Quality") and writes
the JSON (machine, commit, dirty files, settings, per-clip and overall numbers). The
pipeline is warmed up once; fps and memory come from one measured call per clip and
protocol (the speed benchmark measures speed with repeats).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _dirty() -> list[str]:
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, cwd=ROOT, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line[3:] for line in out.splitlines()]


def _pixels(source) -> int:
    h, w = source.size
    return h * w * (source.num_frames or 1)


def _command(argv: list[str] | None) -> str:
    return "python benchmarks/quality.py " + " ".join(argv if argv is not None else sys.argv[1:])


def main(argv: list[str] | None = None) -> int:
    from exemplar_vc.evaluation import EvalReport, evaluate, find_clips, markdown_report
    from exemplar_vc.io import open_video
    from exemplar_vc.pipeline import VideoColorizer

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clips", action="append", help="a colour clip or a folder of them (repeatable; default: shared/data/clips)")
    p.add_argument("--protocol", action="append", choices=["first-frame", "every-50"], help="default: both")
    p.add_argument("--out", default=None, help="JSON output path")
    p.add_argument("--markdown", default=None, help="markdown output path")
    p.add_argument("--report", default=None, help="HTML report folder")
    p.add_argument("--max-frames", type=int, default=None)
    p.add_argument("--model", default="default")
    p.add_argument("--compare", action="append", default=[], choices=["hand", "network"], help="also run the pipeline with this fusion module")
    p.add_argument("--held-out-train", metavar="DIR", help="also evaluate the clips of this folder held out from training")
    p.add_argument("--metrics", default=None, help="comma-separated subset of the metrics (default: all)")
    p.add_argument("--only-held-out", action="store_true", help="skip the clips of --clips that training used")
    p.add_argument("--render", metavar="JSON", nargs="+", help="only print the tables of saved (possibly partial) result files, merged (e.g. two halves of a run on the two cores)")
    args = p.parse_args(argv)
    if args.render:
        parts = [EvalReport.from_dict(json.loads(Path(r).read_text())) for r in args.render]
        merged = EvalReport([c for part in parts for c in part.clips], {"parts": [part.settings for part in parts]})
        print(markdown_report(merged))
        return 0

    start = time.time()
    colorizer = VideoColorizer.from_pretrained(args.model, device="cpu")
    # Smallest clips first, and partial results saved after each clip: a long run that is
    # cut short still leaves numbers.
    clips = find_clips(args.clips or [str(ROOT.parent / "shared" / "data" / "clips")])
    if args.held_out_train:
        from exemplar_vc.training.data import HELD_OUT_CLIPS, split_train_folder

        clips += split_train_folder(Path(args.held_out_train))[1]
        if args.only_held_out:
            clips = [c for c in clips if c.parent == Path(args.held_out_train) or c.stem in HELD_OUT_CLIPS]
    clips = sorted(clips, key=lambda p: _pixels(open_video(p)))
    variants = {f"{name}_fusion": VideoColorizer.from_pretrained(args.model, device="cpu", propagation={"fusion": name}) for name in args.compare}
    done = []

    def save_partial(result) -> None:
        done.append(result)
        if args.out:
            partial = EvalReport(list(done), {"partial": True, "command": _command(argv)})
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            Path(args.out).write_text(json.dumps(partial.to_dict(), indent=1), encoding="utf-8")

    report = evaluate(
        clips,
        args.protocol or ["first-frame", "every-50"],
        colorizer=colorizer,
        report_dir=args.report,
        max_frames=args.max_frames,
        log=lambda m: print(f"[{time.time() - start:6.0f} s] {m}", file=sys.stderr, flush=True),
        on_result=save_partial,
        variants=variants,
        **({"metric_names": args.metrics.split(",")} if args.metrics else {}),
    )
    report.settings["command"] = _command(argv)
    report.settings["dirty_files"] = _dirty()
    report.settings["total_seconds"] = time.time() - start
    text = markdown_report(report)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report.to_dict(), indent=1), encoding="utf-8")
    if args.markdown:
        Path(args.markdown).write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
