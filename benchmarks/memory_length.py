"""Peak memory against video length and number of exemplars (issue 12).

A clip (default ``bear.mp4``, 854x480) is looped to N frames (80, 800, 8000 by default)
and written once as a gray mp4; each case colorizes it in a fresh process and records the
process's peak RSS (``ru_maxrss``: everything, torch included), its time and frames/s:

- exemplars "one": the clip's first colour frame at frame 0;
- exemplars "every50": the clip's own colour frame at every 50th frame (0, 50, 100, ...;
  8000 frames: 160 exemplars);
- modes "plain" (``colorize_to``) and "job" (``colorize_job``: plan and every segment on
  disk, then assembly).

Flat means: the peak at 8000 frames within a few percent of the peak at 80.

    python benchmarks/memory_length.py [--lengths 80,800,8000] [--exemplars one,every50] [--modes plain,job] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import SHARED_DATA, commit, emit, machine  # noqa: E402

EVERY = 50


def child(mode: str, video: str, exemplar_dir: str, work: str, working_size: int, threads: int, model: str) -> None:
    import torch

    from exemplar_vc import VideoColorizer

    torch.set_num_threads(threads)
    exemplars = {int(p.stem): str(p) for p in sorted(Path(exemplar_dir).glob("*.png"))}
    colorizer = VideoColorizer.from_pretrained(model, device="cpu", working_size=working_size)
    start = time.perf_counter()
    out = Path(work) / "out.mp4"
    if mode == "plain":
        result = colorizer.colorize_to(video, out, exemplars=exemplars)
    else:
        result = colorizer.colorize_job(video, out, Path(work) / "job", exemplars=exemplars).result
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"frames": len(result), "exemplars": len(exemplars), "seconds": seconds, "fps": len(result) / seconds, "peak_rss_mb": peak / 2**20}))


def make_inputs(clip: Path, length: int, layout: str, folder: Path) -> tuple[Path, Path]:
    """The clip looped to ``length`` gray frames (mp4) and a folder of FRAME.png exemplars."""
    import cv2

    from exemplar_vc.io import open_video, open_writer

    source = open_video(clip)
    gray = list(source.gray_frames())
    video = folder / f"looped_{length}.mp4"
    if not video.exists():
        with open_writer(video, source.fps) as w:
            for i in range(length):
                w.write(cv2.cvtColor(gray[i % len(gray)], cv2.COLOR_GRAY2RGB))
    frames = [0] if layout == "one" else list(range(0, length, EVERY))
    ex = folder / f"exemplars_{layout}_{length}"
    ex.mkdir()
    colour = list(source.rgb_frames())
    for f in frames:
        cv2.imwrite(str(ex / f"{f}.png"), colour[f % len(colour)][..., ::-1])
    return video, ex


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        return child(*sys.argv[2:6], int(sys.argv[6]), int(sys.argv[7]), sys.argv[8])
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clip", type=Path, default=SHARED_DATA / "clips" / "bear.mp4")
    p.add_argument("--lengths", default="80,800,8000")
    p.add_argument("--exemplars", default="one,every50")
    p.add_argument("--modes", default="plain,job")
    p.add_argument("--working-size", type=int, default=384)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--model", default="default")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args()
    report = {
        "benchmark": "memory_length",
        "clip": args.clip.name,
        "working_size": args.working_size,
        "threads": args.threads,
        "model": args.model,
        "commit": commit(),
        "machine": machine(),
        "cases": [],
    }
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        for length in [int(n) for n in args.lengths.split(",")]:
            for layout in args.exemplars.split(","):
                video, ex = make_inputs(args.clip, length, layout, d)
                for mode in args.modes.split(","):
                    work = Path(tempfile.mkdtemp(dir=d))
                    cmd = [sys.executable, __file__, "--child", mode, str(video), str(ex), str(work), str(args.working_size), str(args.threads), args.model]
                    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": str(args.threads)})
                    if out.returncode != 0:
                        raise SystemExit(f"case {length} {layout} {mode} failed:\n{out.stderr[-3000:]}")
                    case = {"length": length, "exemplar_layout": layout, "mode": mode, **json.loads(out.stdout.strip().splitlines()[-1])}
                    print(json.dumps(case), file=sys.stderr)
                    report["cases"].append(case)
    emit(report, args.json)


if __name__ == "__main__":
    main()
