"""Frames per second and peak memory of the whole pipeline on a real clip, and whether
memory grows with video length.

Each run is a fresh subprocess (so its peak RSS is its own): it colorizes the clip with
its first colour frame as the only exemplar and writes an mp4, the way a user would. The
"looped" case plays the clip N times back to back (written once to a temporary gray mp4).

    python benchmarks/pipeline_speed.py [--clip PATH] [--runs 3] [--loop 10] [--threads N] [--json out.json]
        [--fusion network,hand] [--both-ends] [--against REV]

``--fusion`` measures each fusion module in the same run, interleaved (ratios between
them are then fair under the same load); an entry may name its own working size
(``network@416,hand@384``; the others run at ``--working-size``, by default the
library's). ``--both-ends`` adds the clip's last colour frame as a second exemplar, so
every frame gets the forward and the backward pass. ``--against REV`` runs every entry
also on a checkout of that git revision (a temporary worktree), interleaved, and reports
it as ``REV:ENTRY``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import SHARED_DATA, checkout, commit, emit, machine, summary, tree_env  # noqa: E402


def child(video: str, exemplar: str, working_size: int, threads: int, fusion: str, last: str) -> None:
    """One timed run inside its own process; prints a JSON line. ``fusion`` as in
    ``--fusion`` (its working size, if it names one, already in ``working_size``)."""
    import torch

    import exemplar_vc
    from exemplar_vc.io import open_video

    if threads:
        torch.set_num_threads(threads)

    # "network/fast": the network with that optical-flow preset.
    name, _, preset = fusion.partition("@")[0].partition("/")
    propagation = {"fusion": name, **({"network": {"flow_preset": preset}} if preset else {})}
    colorizer = exemplar_vc.VideoColorizer.from_pretrained("default", device="cpu", working_size=working_size, propagation=propagation)
    exemplars = {0: exemplar}
    if last:
        exemplars[open_video(video).num_frames - 1] = last
    with tempfile.TemporaryDirectory() as d:
        start = time.perf_counter()
        result = colorizer.colorize_to(video, Path(d) / "out.mp4", exemplars=exemplars)
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"frames": len(result), "seconds": seconds, "fps": len(result) / seconds, "peak_rss_bytes": peak}))


def make_inputs(clip: Path, loop: int, workdir: Path) -> tuple[Path, Path, Path, Path]:
    """First and last colour frames as exemplar PNGs, and a gray mp4 of the clip looped
    ``loop`` times."""
    import cv2

    from exemplar_vc.io import open_video, open_writer

    source = open_video(clip)
    frames = list(source.gray_frames())
    colour = list(source.rgb_frames())
    exemplar, last = workdir / "exemplar.png", workdir / "last.png"
    cv2.imwrite(str(exemplar), colour[0][..., ::-1])
    cv2.imwrite(str(last), colour[-1][..., ::-1])
    looped = workdir / f"looped_{loop}x.mp4"
    with open_writer(looped, source.fps) as w:
        for _ in range(loop):
            for g in frames:
                w.write(cv2.cvtColor(g, cv2.COLOR_GRAY2RGB))
    return exemplar, last, clip, looped


def run_child(video: Path, exemplar: Path, working_size: int, threads: int, fusion: str, last: Path | None = None, tree: Path | None = None) -> dict:
    """One timed run in a fresh process, importing ``exemplar_vc`` from ``tree`` if given."""
    cmd = [sys.executable, __file__, "--child", str(video), str(exemplar), str(working_size), str(threads), fusion, str(last or "")]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, **({"env": tree_env(tree), "cwd": tree} if tree else {}))
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], sys.argv[7])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", type=Path, default=SHARED_DATA / "clips" / "bear.mp4")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--loop", type=int, default=10)
    parser.add_argument("--loop-runs", type=int, default=1)
    parser.add_argument("--working-size", type=int, default=None, help="default: the library's (ColorizerConfig)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--fusion", default="network", help="comma-separated fusion modules, measured interleaved; network/PRESET sets its flow preset, NAME@SIZE its working size")
    parser.add_argument("--both-ends", action="store_true", help="also the last colour frame as exemplar (forward and backward passes)")
    parser.add_argument("--against", metavar="REV", help="also run every entry on a checkout of this git revision, interleaved")
    args = parser.parse_args()
    if args.working_size is None:
        from exemplar_vc.config import ColorizerConfig

        args.working_size = ColorizerConfig().working_size
    fusions = args.fusion.split(",")

    def size(fusion: str) -> int:
        return int(fusion.partition("@")[2] or args.working_size)

    def stats(runs: list[dict]) -> dict:
        return {"frames": runs[0]["frames"], "fps": summary([r["fps"] for r in runs]), "peak_rss_mb": summary([r["peak_rss_bytes"] / 2**20 for r in runs])}

    with tempfile.TemporaryDirectory() as d, checkout(args.against, Path(d)) as trees:
        exemplar, last, clip, looped = make_inputs(args.clip, args.loop, Path(d))
        last = last if args.both_ends else None
        # Each entry on each tree: "network" here, "REV:network" on the other checkout.
        entries = [(f if name == "this" else f"{args.against}:{f}", f, tree) for name, tree in trees.items() for f in fusions]
        for _, f, tree in entries:  # warm-up: file caches, lazy imports
            run_child(clip, exemplar, size(f), args.threads, f, last, tree)
        once: dict[str, list] = {e: [] for e, _, _ in entries}
        many: dict[str, list] = {e: [] for e, _, _ in entries}
        for _ in range(args.runs):
            for e, f, tree in entries:
                once[e].append(run_child(clip, exemplar, size(f), args.threads, f, last, tree))
        for _ in range(args.loop_runs if args.loop > 1 else 0):
            for e, f, tree in entries:
                many[e].append(run_child(looped, exemplar, size(f), args.threads, f, last, tree))
    report = {
        "benchmark": "pipeline_speed",
        "clip": args.clip.name,
        "working_size": args.working_size,
        "threads": args.threads or "default",
        "exemplars": "first and last frame" if args.both_ends else "first frame",
        "commit": commit(),
        "machine": machine(),
    }
    for e, f, _ in entries:
        report[e] = {"working_size": size(f), "once": stats(once[e])}
        if many[e]:
            report[e][f"looped_{args.loop}x"] = stats(many[e])
    emit(report, args.json)


if __name__ == "__main__":
    main()
