"""Inputs for the job and distributed tests: frame folders, exemplar PNGs, H.264 with short GOPs."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def write_folder(folder: Path, frames: np.ndarray) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(frames):
        cv2.imwrite(str(folder / f"f{i:04d}.png"), f if f.ndim == 2 else f[..., ::-1])
    return folder


def write_png(path: Path, rgb: np.ndarray) -> Path:
    cv2.imwrite(str(path), np.ascontiguousarray(rgb[..., ::-1]))
    return path


def write_gop_video(path: Path, rgb: np.ndarray, gop: int = 5) -> Path:
    """H.264 with a key frame every ``gop`` frames and B-frames (so seeking matters)."""
    import av

    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=12)
        v.width, v.height, v.pix_fmt = rgb.shape[2], rgb.shape[1], "yuv420p"
        v.codec_context.gop_size = gop
        v.options = {"crf": "18", "bf": "2", "keyint": str(gop), "min-keyint": str(gop)}
        for f in rgb:
            for p in v.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")):
                out.mux(p)
        for p in v.encode():
            out.mux(p)
    return path
