"""The best any colorization can score once its chroma meets the gray: each frame's own
true a, b composed with its own gray (``color.compose_rgb``), keeping the gray's luma
(the default) or its lightness read as a neutral (before). Whatever chroma a method
predicts, its PSNR is bounded by this composition's.

    python benchmarks/compose_ceiling.py --clips ../shared/data/clips --clips ../shared/data/train --every 10 \
        --out benchmarks/results/compose_ceiling.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


def ceiling(rgb: np.ndarray, keep: str) -> tuple[float, float]:
    """Mean PSNR over frames of (T, H, W, 3) uint8 ``rgb`` rebuilt from its gray and its own
    a, b, and the seconds per frame the composition took."""
    import torch

    from exemplar_vc.color import compose_rgb, rgb_to_lab
    from exemplar_vc.metrics import psnr
    from exemplar_vc.pixels import rgb_to_gray

    out, seconds = [], 0.0
    for frame in rgb:
        ab = rgb_to_lab(torch.from_numpy(frame).permute(2, 0, 1).float()[None] / 255.0)[0, 1:].permute(1, 2, 0).numpy()
        start = time.perf_counter()
        out.append(compose_rgb(rgb_to_gray(frame), ab, keep=keep))
        seconds += time.perf_counter() - start
    return psnr(np.stack(out), rgb), seconds / len(rgb)


def main(argv: list[str] | None = None) -> int:
    import torch

    from exemplar_vc.evaluation import find_clips
    from exemplar_vc.evaluation.runner import load_clip

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clips", action="append", required=True, help="a colour clip or a folder of them (repeatable)")
    p.add_argument("--every", type=int, default=10, help="use every n-th frame")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = []
    for path in find_clips(args.clips):
        rgb = load_clip(path)[:: args.every]
        row = {"clip": Path(path).stem, "frames": len(rgb), "size": list(rgb.shape[1:3])}
        for keep in ("luma", "lightness"):
            row[f"psnr_{keep}"], row[f"seconds_per_frame_{keep}"] = ceiling(rgb, keep)
        rows.append(row)
        print(f"{row['clip'][:40]:40s} keep luma {row['psnr_luma']:6.2f} dB   keep lightness {row['psnr_lightness']:6.2f} dB", flush=True)
    summary = {k: float(np.mean([r[k] for r in rows])) for k in ("psnr_luma", "psnr_lightness", "seconds_per_frame_luma", "seconds_per_frame_lightness")}
    print("mean", json.dumps(summary))
    if args.out:
        Path(args.out).write_text(json.dumps({"every": args.every, "threads": args.threads, "clips": rows, "mean": summary}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
