"""Propagation networks on dimmed and faded versions of real clips (first-frame protocol).

Each clip's colour frames are changed in linear light, so the truth dims or fades with
the gray: "dim" scales the light by 0.25, "faded" maps it to 0.25 + 0.45 x (raised
blacks, low contrast). The first frame's colour is the exemplar; mean PSNR over the
first ``--frames`` frames against the changed truth, for each ``--weights`` file and for
flow propagation.

    python benchmarks/dimmed_clips.py --weights v9=/tmp/v9.safetensors --weights v18=exemplar_vc/weights/propagation_net_v18.safetensors \\
        --clips ../shared/data/clips/bear.mp4 --clips ../shared/data/clips/paragliding-launch.mp4 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "2")

KINDS = ("dim", "faded")


def changed(rgb, kind: str):
    """(T, H, W, 3) uint8 frames dimmed or faded in linear light (sRGB gamma 2.2)."""
    import numpy as np

    x = (rgb / 255.0) ** 2.2
    x = x * 0.25 if kind == "dim" else 0.25 + 0.45 * x
    return (np.clip(x, 0, 1) ** (1 / 2.2) * 255).round().astype(np.uint8)


def main(argv: list[str] | None = None) -> int:
    from exemplar_vc import VideoColorizer
    from exemplar_vc.evaluation.baselines import flow_propagation
    from exemplar_vc.evaluation.protocols import make_gray
    from exemplar_vc.evaluation.runner import load_clip
    from exemplar_vc.metrics import psnr

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", action="append", required=True, help="NAME=PATH of propagation network weights (repeatable)")
    p.add_argument("--clips", action="append", required=True)
    p.add_argument("--frames", type=int, default=40)
    p.add_argument("--kinds", default=",".join(KINDS))
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)

    models = {}
    for item in args.weights:
        name, _, path = item.partition("=")
        models[name] = VideoColorizer.from_pretrained("default", device="cpu", propagation={"network": {"weights": path}})
    rows = []
    for clip in args.clips:
        for kind in args.kinds.split(","):
            truth = changed(load_clip(clip, max_frames=args.frames), kind)
            gray = make_gray(truth)
            row = {"clip": os.path.basename(clip), "kind": kind}
            for name, vc in models.items():
                row[name] = round(psnr(vc(gray, exemplars={0: truth[0]}).frames, truth), 3)
            flow = flow_propagation(gray, {0: truth[0]})
            row["flow"] = round(psnr(flow, truth), 3)
            rows.append(row)
            print(json.dumps(row), flush=True)
    if args.json:
        with open(args.json + ".tmp", "w", encoding="utf-8") as f:
            json.dump({"frames": args.frames, "weights": args.weights, "rows": rows}, f, indent=1)
        os.replace(args.json + ".tmp", args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
