"""Batch throughput on 1 vs 2 local Ray workers, and the cost of the job machinery.

1. Scaling: a batch of ``--count`` clips (the shared clips, made gray, cut to ``--frames``
   frames; each clip's first colour frame as its exemplar) through ``run_batch`` on a
   fresh local Ray with W CPUs and W workers (one torch thread each), for each W in
   ``--workers``. Frames/s counts the whole ``run_batch`` call (actor start, stage 1,
   segments, assembly); the ratio is the median frames/s at the largest W over the
   smallest (issue 12 target: >= 1.7 with 2 workers on 2 cores).
2. Overhead: one clip colorized by ``colorize_to`` (plain) and by ``colorize_job`` (plan
   saved, every segment written lossless with its checksum, read back and assembled),
   alternately, one torch thread, each run a fresh process; overhead = median job time /
   median plain time - 1 (target < 5 %). The two outputs are also compared byte for byte.

Every run is a fresh subprocess. One warm-up of each kind is discarded.

    python benchmarks/batch_scaling.py [--count 8] [--frames 40] [--workers 1,2] [--runs 2] [--overhead-runs 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import SHARED_DATA, commit, emit, machine, summary  # noqa: E402


def _one_thread() -> None:
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)


def child_batch(films: str, out: str, workers: int, working_size: int, model: str) -> None:
    _one_thread()
    import ray

    from exemplar_vc import VideoColorizer
    from exemplar_vc.distributed import BatchOptions, run_batch

    colorizer = VideoColorizer.from_pretrained(model, device="cpu", working_size=working_size)
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, configure_logging=False)
    start = time.perf_counter()
    result = run_batch(films, out, colorizer, BatchOptions(workers=workers, cpus_per_worker=1))
    seconds = time.perf_counter() - start
    ray.shutdown()
    failed = [(f.name, f.error) for f in result.failed]
    print(json.dumps({"frames": result.frames, "seconds": seconds, "fps": result.frames / seconds, "failed": failed}))


def child_single(mode: str, video: str, exemplar: str, out: str, job: str, working_size: int, model: str) -> None:
    _one_thread()
    from exemplar_vc import VideoColorizer

    colorizer = VideoColorizer.from_pretrained(model, device="cpu", working_size=working_size)
    start = time.perf_counter()
    if mode == "plain":
        result = colorizer.colorize_to(video, out, exemplars={0: exemplar})
    else:
        result = colorizer.colorize_job(video, out, job, exemplars={0: exemplar}).result
    seconds = time.perf_counter() - start
    print(json.dumps({"frames": len(result), "seconds": seconds, "fps": len(result) / seconds}))


def _run(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"child {args[:2]} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def make_films(clips: list[Path], frames: int, folder: Path) -> Path:
    """Gray mp4s (first ``frames`` frames; 0: all) and NAME.exemplars/0.png, in ``folder``."""
    import cv2

    from exemplar_vc.io import open_video, open_writer

    folder.mkdir(parents=True)
    for clip in clips:
        source = open_video(clip)
        ex = folder / f"{clip.stem}.exemplars"
        ex.mkdir()
        cv2.imwrite(str(ex / "0.png"), next(source.rgb_frames())[..., ::-1])
        with open_writer(folder / f"{clip.stem}.mp4", source.fps) as w:
            for i, g in enumerate(source.gray_frames()):
                if frames and i >= frames:
                    break
                w.write(cv2.cvtColor(g, cv2.COLOR_GRAY2RGB))
    return folder


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child-batch":
        return child_batch(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
    if len(sys.argv) > 1 and sys.argv[1] == "--child-single":
        return child_single(*sys.argv[2:7], int(sys.argv[7]), sys.argv[8])
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clips", type=Path, default=SHARED_DATA / "clips")
    p.add_argument("--count", type=int, default=8, help="clips in the batch")
    p.add_argument("--frames", type=int, default=40, help="frames per clip (0: all)")
    p.add_argument("--workers", default="1,2", help="comma-separated worker counts (one CPU each)")
    p.add_argument("--runs", type=int, default=2, help="timed batch runs per worker count")
    p.add_argument("--overhead-runs", type=int, default=3, help="timed runs of each of plain and job (0: skip)")
    p.add_argument("--overhead-frames", type=int, default=0, help="frames of the overhead clip (0: all)")
    p.add_argument("--working-size", type=int, default=384)
    p.add_argument("--model", default="default")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args()
    clips = sorted(args.clips.glob("*.mp4"))[: args.count]
    if len(clips) < args.count:
        raise SystemExit(f"expected {args.count} clips in {args.clips}, found {len(clips)}")
    counts = [int(w) for w in args.workers.split(",")]
    ws, model = str(args.working_size), args.model
    report = {
        "benchmark": "batch_scaling",
        "clips": [c.name for c in clips],
        "frames_per_clip": args.frames or "all",
        "working_size": args.working_size,
        "model": model,
        "threads_per_worker": 1,
        "commit": commit(),
        "machine": machine(),
    }
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        films = make_films(clips, args.frames, d / "films")
        _run(["--child-batch", str(films), str(d / "warm"), str(counts[0]), ws, model])  # warm-up
        scaling = {}
        for w in counts:
            runs = [_run(["--child-batch", str(films), str(d / f"out_{w}_{r}"), str(w), ws, model]) for r in range(args.runs)]
            if any(r["failed"] for r in runs):
                raise SystemExit(f"films failed: {runs}")
            scaling[str(w)] = {"frames": runs[0]["frames"], "seconds": summary([r["seconds"] for r in runs]), "fps": summary([r["fps"] for r in runs])}
        report["scaling"] = scaling
        report["throughput_ratio"] = scaling[str(counts[-1])]["fps"]["median"] / scaling[str(counts[0])]["fps"]["median"]
        if args.overhead_runs:
            one = make_films(clips[:1], args.overhead_frames, d / "one")
            video, exemplar = one / f"{clips[0].stem}.mp4", one / f"{clips[0].stem}.exemplars" / "0.png"
            times: dict[str, list[dict]] = {"plain": [], "job": []}
            for r in range(args.overhead_runs + 1):  # the first pair is the warm-up
                for mode in ("plain", "job"):
                    out, job = d / f"{mode}_{r}.mp4", d / f"job_{r}"
                    res = _run(["--child-single", mode, str(video), str(exemplar), str(out), str(job), ws, model])
                    if r:
                        times[mode].append(res)
            same = all((d / f"plain_{r}.mp4").read_bytes() == (d / f"job_{r}.mp4").read_bytes() for r in range(args.overhead_runs + 1))
            plain, job = (summary([t["seconds"] for t in times[m]]) for m in ("plain", "job"))
            report["overhead"] = {
                "clip": clips[0].name,
                "frames": times["plain"][0]["frames"],
                "plain_seconds": plain,
                "job_seconds": job,
                "overhead_percent": 100 * (job["median"] / plain["median"] - 1),
                "outputs_identical": same,
            }
    emit(report, args.json)


if __name__ == "__main__":
    main()
