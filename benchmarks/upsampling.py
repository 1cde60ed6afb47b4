"""Which chroma upsampling loses least: bilinear or the luminance-guided filter?

For frames of every clip in ../shared/data/clips, the ground-truth ab is averaged onto
the pipeline's feature grid (stride 8 of a 256 px short side) and brought back to full
resolution by each method; we report the mean absolute ab error (CIE Lab units) and the
time per frame. This isolates upsampling from matching: it is the best either can do.

    python benchmarks/upsampling.py [--frames 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from _common import SHARED_DATA, commit, emit, machine  # noqa: E402

from exemplar_vc.color import rgb_to_lab  # noqa: E402
from exemplar_vc.io import open_video  # noqa: E402
from exemplar_vc.propagation.upsample import upsample_chroma  # noqa: E402
from exemplar_vc.resize import working_shape  # noqa: E402

METHODS = {
    "bilinear": dict(method="bilinear"),
    "guided r4 eps1e-3": dict(method="guided", radius=4, eps=1e-3),
    "guided r8 eps1e-3": dict(method="guided", radius=8, eps=1e-3),
    "guided r8 eps1e-2": dict(method="guided", radius=8, eps=1e-2),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=5, help="frames per clip, evenly spaced")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    rows: dict[str, dict[str, float]] = {m: {} for m in METHODS}
    times: dict[str, list[float]] = {m: [] for m in METHODS}
    for clip in sorted((SHARED_DATA / "clips").glob("*.mp4")):
        source = open_video(clip)
        frames = list(source.rgb_frames())
        picks = np.linspace(0, len(frames) - 1, args.frames).round().astype(int)
        errors: dict[str, list[float]] = {m: [] for m in METHODS}
        for i in picks:
            lab = rgb_to_lab(torch.from_numpy(frames[i]).float().div(255).permute(2, 0, 1)[None])
            h, w = working_shape(*frames[i].shape[:2], 256)
            ab_grid = F.adaptive_avg_pool2d(lab[:, 1:], (-(-h // 8), -(-w // 8)))
            guide = lab[:, :1] / 100
            for name, kw in METHODS.items():
                start = time.perf_counter()
                up = upsample_chroma(ab_grid, guide, **kw)
                times[name].append(time.perf_counter() - start)
                errors[name].append(float((up - lab[:, 1:]).abs().mean()))
        for name in METHODS:
            rows[name][clip.stem] = statistics.mean(errors[name])
    report = {
        "benchmark": "upsampling",
        "commit": commit(),
        "machine": machine(),
        "mean_abs_ab_error": {m: {**r, "mean": statistics.mean(r.values())} for m, r in rows.items()},
        "seconds_per_frame_median": {m: statistics.median(t) for m, t in times.items()},
    }
    emit(report, args.json)


if __name__ == "__main__":
    main()
