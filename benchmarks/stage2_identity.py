"""Bit-identity check for refactors of stage 2: colorize the first frames of every real
clip under a few exemplar layouts and print one SHA-256 per (clip, layout) of the output
frames and confidence maps. Run it before and after a change that must not move any
output, and compare the two files.

    python benchmarks/stage2_identity.py --clips ../shared/data/clips --frames 40 --model hand --out /tmp/identity_after.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent

# Exemplar layouts: first frame only (forward only); first and last (one bidirectional
# segment); a middle exemplar only (frames before it see no earlier exemplar).
LAYOUTS = {
    "first": lambda n: [0],
    "first_last": lambda n: [0, n - 1],
    "middle": lambda n: [n // 2],
}


def main(argv: list[str] | None = None) -> int:
    import numpy as np
    import torch

    from exemplar_vc.evaluation.protocols import make_gray
    from exemplar_vc.io import open_video
    from exemplar_vc.pipeline import VideoColorizer

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clips", default=str(ROOT.parent / "shared" / "data" / "clips"))
    p.add_argument("--frames", type=int, default=40)
    p.add_argument("--model", default="hand", help="variant; 'hand' is the rule whose outputs refactors must keep")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    torch.set_num_threads(1)

    colorizer = VideoColorizer.from_pretrained(args.model, device="cpu")
    hashes = {}
    for clip in sorted(Path(args.clips).glob("*.mp4")):
        rgb = np.stack([f for _, f in zip(range(args.frames), open_video(clip).rgb_frames())])
        gray = make_gray(rgb)
        for name, layout in LAYOUTS.items():
            exemplars = {f: rgb[f] for f in layout(len(gray))}
            result = colorizer(gray, exemplars=exemplars)
            digest = hashlib.sha256(result.frames.tobytes() + result.confidence.tobytes()).hexdigest()
            hashes[f"{clip.stem}/{name}"] = digest
            print(clip.stem, name, digest[:16], flush=True)
    Path(args.out).write_text(json.dumps(hashes, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
