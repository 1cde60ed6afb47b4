"""Pictures of a held-out clip: gray / ours / flow propagation / truth at one hard frame.

The first frame's colour is the only exemplar (first-frame protocol). The hard frame is
the one where flow propagation's PSNR drops furthest below the mean of the clip (an
occlusion or fast motion) unless ``--frame`` is given; ``--worst`` picks instead the
frame where our PSNR is lowest (where the method still fails). ``--channel r|g|b`` shows
that one RGB channel of ours, flow's and the truth's instead of their colour, stretched to
the truth's 1st-99th percentile in that frame (where a channel-wise metric such as SSIM
loses, the picture shows why).

    python benchmarks/heldout_strip.py ../shared/data/clips/bear.mp4 --out docs/images/heldout_bear.jpg
    python benchmarks/heldout_strip.py ../shared/data/clips/paragliding-launch.mp4 --worst --out docs/images/failure.jpg
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")


def main(argv: list[str] | None = None) -> int:
    import cv2
    import numpy as np

    from exemplar_vc import VideoColorizer
    from exemplar_vc.evaluation.baselines import flow_propagation
    from exemplar_vc.evaluation.protocols import make_gray
    from exemplar_vc.evaluation.runner import load_clip
    from exemplar_vc.metrics import psnr_frames

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("clip")
    p.add_argument("--out", required=True)
    p.add_argument("--frame", type=int, default=None)
    p.add_argument("--worst", action="store_true")
    p.add_argument("--max-frames", type=int, default=None)
    p.add_argument("--model", default="default")
    p.add_argument("--height", type=int, default=240, help="height of each tile")
    p.add_argument("--channel", choices=["r", "g", "b"], default=None, help="show this RGB channel, contrast-stretched")
    args = p.parse_args(argv)

    gt = load_clip(args.clip, args.max_frames)
    gray = make_gray(gt)
    ours = VideoColorizer.from_pretrained(args.model, device="cpu")(gray, exemplars={0: gt[0]}).frames
    flow = flow_propagation(gray, {0: gt[0]})
    p_ours, p_flow = psnr_frames(ours, gt), psnr_frames(flow, gt)
    if args.frame is not None:
        t = args.frame
    elif args.worst:
        t = int(np.argmin(p_ours[1:])) + 1
    else:
        t = int(np.argmin(p_flow[1:] - p_flow[1:].mean())) + 1
    shown = [ours[t], flow[t], gt[t]]
    if args.channel is not None:
        c = "rgb".index(args.channel)
        lo, hi = np.percentile(gt[t][..., c], [1, 99])
        shown = [np.repeat(np.clip((x[..., c].astype(np.float32) - lo) / max(hi - lo, 1.0) * 255, 0, 255).astype(np.uint8)[..., None], 3, axis=2) for x in shown]
    tiles = [np.repeat(gray[t][..., None], 3, axis=2), *shown]
    h = args.height
    w = int(round(gt.shape[2] * h / gt.shape[1]))
    strip = np.concatenate([cv2.resize(x, (w, h), interpolation=cv2.INTER_AREA) for x in tiles], axis=1)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), cv2.cvtColor(strip, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    print(json.dumps({"clip": Path(args.clip).stem, "frame": t, "psnr_ours": round(float(p_ours[t]), 2), "psnr_flow": round(float(p_flow[t]), 2),
                      "clip_psnr_ours": round(float(p_ours.mean()), 2), "clip_psnr_flow": round(float(p_flow.mean()), 2), "out": str(out)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
