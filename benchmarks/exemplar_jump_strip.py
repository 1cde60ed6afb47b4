"""Picture of the frames around an exemplar: does the colour jump into it?

Every-50 protocol (exemplars at frames 0, 49, 99, ...). Rows: one per model given
(``--model``, repeatable: "default" or a ``save_pretrained`` folder), then the truth;
columns: frames e - 3 .. e + 1 around the exemplar frame e (``--exemplar``, default 49),
each labelled with its PSNR against the truth.

    python benchmarks/exemplar_jump_strip.py ../shared/data/train/monst3r_lady-running.mp4 \\
        --model /tmp/evc_models/v2 --model default --out docs/images/exemplar_jump_lady_running.jpg
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
    from exemplar_vc.evaluation.protocols import make_gray, protocol_exemplars
    from exemplar_vc.evaluation.runner import load_clip
    from exemplar_vc.metrics import psnr_frames

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("clip")
    p.add_argument("--out", required=True)
    p.add_argument("--model", action="append", required=True, help="a row: 'default' or a save_pretrained folder (repeatable)")
    p.add_argument("--exemplar", type=int, default=49, help="the exemplar frame e to look at")
    p.add_argument("--height", type=int, default=180, help="height of each tile")
    args = p.parse_args(argv)

    gt = load_clip(args.clip)
    gray = make_gray(gt)
    exemplars = protocol_exemplars("every-50", gt)
    e = args.exemplar
    if e not in exemplars or e + 1 >= len(gt):
        raise SystemExit(f"expected an every-50 exemplar frame with a frame after it (0, 49, 99, ... < {len(gt) - 1}), got {e}")
    cols = list(range(max(0, e - 3), e + 2))
    h = args.height
    w = int(round(gt.shape[2] * h / gt.shape[1]))

    def tile(img: np.ndarray, label: str) -> np.ndarray:
        out = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA).copy()
        cv2.putText(out, label, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(out, label, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1, cv2.LINE_AA)
        return out

    rows, report = [], {"clip": Path(args.clip).stem, "exemplar": e, "frames": cols, "psnr": {}}
    for model in args.model:
        frames = VideoColorizer.from_pretrained(model, device="cpu")(gray, exemplars=exemplars).frames
        psnr = psnr_frames(frames, gt)
        report["psnr"][model] = [round(float(psnr[t]), 2) for t in cols]
        rows.append(np.concatenate([tile(frames[t], f"{t}: {psnr[t]:.1f} dB") for t in cols], axis=1))
    rows.append(np.concatenate([tile(gt[t], f"{t}: truth") for t in cols], axis=1))
    grid = np.concatenate(rows, axis=0)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    print(json.dumps({**report, "out": str(out)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
