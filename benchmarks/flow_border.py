"""What the flow candidate should hold where new ground enters the picture.

Plain flow propagation (the first frame's chroma carried frame to frame by DIS flow,
first-frame protocol) with the two borders ``ops`` offers: ``warp`` (taps outside the
previous frame count as zero: no colour enters) and ``warp_replicate`` (the sample point
is clamped into the frame: the nearest edge colour enters). The network's flow candidate
is built the same way (``PropagationNetConfig.flow_border``), so the gap between the two
rows is what the network had to recover from its other candidates at every edge the
camera uncovers. PSNR over whole frames and over the interior (a margin of 12 px left
out), where only colour carried inwards from the edge can differ.

    python benchmarks/flow_border.py --clips ../shared/data/clips/bear.mp4 --out benchmarks/results/flow_border.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

MARGIN = 12


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return 10 * np.log10(255.0**2 / max(mse, 1e-10))


def propagate(gray: np.ndarray, first_rgb: np.ndarray, border: str) -> np.ndarray:
    """(T, H, W, 3) uint8: the first frame's chroma carried forward by DIS flow."""
    import torch

    from exemplar_vc.evaluation.baselines import compose_rgb, exemplar_ab
    from exemplar_vc.metrics.flow import dis_flow
    from exemplar_vc.ops import warp, warp_replicate

    step = warp_replicate if border == "replicate" else warp
    ab = torch.from_numpy(exemplar_ab(first_rgb)).permute(2, 0, 1)[None]
    out = [compose_rgb(gray[0], ab[0].permute(1, 2, 0).numpy())]
    for t in range(1, len(gray)):
        flow = torch.from_numpy(dis_flow(gray[t], gray[t - 1])).permute(2, 0, 1)[None]
        with torch.no_grad():
            ab = step(ab, flow).warped
        out.append(compose_rgb(gray[t], ab[0].permute(1, 2, 0).numpy()))
    return np.stack(out)


def main(argv: list[str] | None = None) -> int:
    from exemplar_vc.evaluation import find_clips
    from exemplar_vc.evaluation.protocols import make_gray
    from exemplar_vc.evaluation.runner import load_clip

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clips", action="append", required=True, help="a colour clip or a folder of them (repeatable)")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    rows = []
    for path in find_clips(args.clips):
        gt = load_clip(path)
        gray = make_gray(gt)
        row = {"clip": Path(path).stem, "frames": len(gt), "size": list(gt.shape[1:3])}
        for border in ("zeros", "replicate"):
            out = propagate(gray, gt[0], border)
            row[border] = float(np.mean([_psnr(o, g) for o, g in zip(out, gt)]))
            m = MARGIN
            row[border + "_interior"] = float(np.mean([_psnr(o[m:-m, m:-m], g[m:-m, m:-m]) for o, g in zip(out, gt)]))
        rows.append(row)
        print(f"{row['clip']}: zeros {row['zeros']:.2f} (interior {row['zeros_interior']:.2f}), replicate {row['replicate']:.2f} (interior {row['replicate_interior']:.2f})", flush=True)
    mean = {k: float(np.mean([r[k] for r in rows])) for k in ("zeros", "zeros_interior", "replicate", "replicate_interior")}
    print("| border | PSNR dB | PSNR interior dB |\n|---|---|---|")
    for border in ("zeros", "replicate"):
        print(f"| {border} | {mean[border]:.2f} | {mean[border + '_interior']:.2f} |")
    if args.out:
        Path(args.out).write_text(json.dumps({"command": "python benchmarks/flow_border.py " + " ".join(argv or sys.argv[1:]), "clips": rows, "mean": mean}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
