"""Reference-bank retrieval: accuracy on the legacy films and the colour clips, and speed.

Bank: the 9 reference photos of ``legacy/`` plus distractors: scikit-image colour photos,
Debian wallpapers (mate-backgrounds, lomiri-wallpapers-16.04, plasma-workspace-wallpapers,
unpacked with ``apt-get download`` + ``dpkg-deb -x`` into --wallpapers) and every 4th colour
frame of each clip of ``clips/`` (written as JPEG into a temporary folder).

1. Legacy: for each key frame (``plan_video``) of each film, is the top-1 / any of the
   top-3 results one of that film's own references?
2. Clips: gray key frames of each clip, moved to the nearest frame *not* in the bank
   (index + 2), is the top-1 a frame of the same clip?
3. Speed: build throughput and per-query search latency at 1k and 100k synthetic unit
   embeddings (flat inner product vs HNSW), plus the real end-to-end query latency.

    nice python benchmarks/stage1_retrieval.py --data ../shared/data --wallpapers /tmp/s1deb/x/usr/share --out /tmp/stage1_retrieval.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import av
import cv2
import numpy as np

from exemplar_vc.exemplars.bank import ReferenceBank, expand_image_paths
from exemplar_vc.keyframes import plan_video

EVERY = 4


def gray_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [cv2.cvtColor(f.to_ndarray(format="rgb24"), cv2.COLOR_RGB2GRAY) for f in c.decode(video=0)]


def dump_clip_frames(clips: list[Path], out: Path) -> list[Path]:
    paths = []
    for clip in clips:
        with av.open(str(clip)) as c:
            for i, f in enumerate(c.decode(video=0)):
                if i % EVERY == 0:
                    p = out / f"{clip.stem}__{i:04d}.jpg"
                    cv2.imwrite(str(p), f.to_ndarray(format="bgr24"), [cv2.IMWRITE_JPEG_QUALITY, 92])
                    paths.append(p)
    return paths


def accuracy(bank: ReferenceBank, frames: list[np.ndarray], own, rerank: bool) -> dict:
    t0 = time.perf_counter()
    results = bank.search(frames, k=5, rerank=rerank)
    dt = (time.perf_counter() - t0) / max(len(frames), 1)
    top1 = [own(hits[0].path) for hits in results]
    top3 = [any(own(h.path) for h in hits[:3]) for hits in results]
    return {"queries": len(frames), "top1": sum(top1) / len(top1), "top3": sum(top3) / len(top3), "s_per_query": dt}


def speed(dim: int, n: int, queries: int = 200) -> dict:
    import faiss

    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    q = x[rng.integers(0, n, queries)] + 0.05 * rng.standard_normal((queries, dim)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    out = {}
    for kind in ("flat-ip", "hnsw-ip"):
        builds = []
        for _ in range(2 if n <= 10_000 else 1):
            t0 = time.perf_counter()
            if kind == "flat-ip":
                index = faiss.IndexFlatIP(dim)
            else:
                index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
                index.hnsw.efConstruction = 80
                index.hnsw.efSearch = 64
            index.add(x)
            builds.append(time.perf_counter() - t0)
        lat = []
        for i in range(queries):
            t0 = time.perf_counter()
            _, idx = index.search(q[i : i + 1], 5)
            lat.append(time.perf_counter() - t0)
        lat = lat[10:]  # warm-up
        out[kind] = {
            "build_s": min(builds),
            "build_vectors_per_s": n / min(builds),
            "query_ms_median": 1000 * statistics.median(lat),
            "query_ms_p90": 1000 * float(np.percentile(lat, 90)),
        }
        if kind == "hnsw-ip":
            flat = faiss.IndexFlatIP(dim)
            flat.add(x)
            _, truth = flat.search(q, 1)
            _, got = index.search(q, 1)
            out[kind]["recall_at_1_vs_exact"] = float((truth[:, 0] == got[:, 0]).mean())
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--wallpapers", type=Path, default=Path("/tmp/s1deb/x/usr/share"))
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--bank-dir", type=Path, default=None, help="reuse (or save) the bank here")
    ap.add_argument("--legacy-every", type=int, default=15, help="also query every N-th film frame")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    import skimage

    sk = Path(skimage.__file__).parent / "data"
    legacy = args.data / "legacy"
    refs = sorted(legacy.glob("*_refs/*"))
    clips = sorted((args.data / "clips").glob("*.mp4"))
    tmp = Path(tempfile.mkdtemp(prefix="s1bank_"))
    frames = dump_clip_frames(clips, tmp)
    photos = [sk / n for n in ("astronaut.png", "chelsea.png", "coffee.png", "motorcycle_left.png", "rocket.jpg") if (sk / n).exists()]
    walls = expand_image_paths(args.wallpapers) if args.wallpapers.exists() else []
    t0 = time.perf_counter()
    if args.bank_dir and (args.bank_dir / "meta.json").exists():
        bank = ReferenceBank.load(args.bank_dir)
    else:
        bank = ReferenceBank.build(refs + photos + walls + frames)
        if args.bank_dir:
            bank.save(args.bank_dir)
    build_s = time.perf_counter() - t0
    result = {"bank": {"images": len(bank), "refs": len(refs), "photos_and_wallpapers": len(photos) + len(walls), "clip_frames": len(frames), "build_s": build_s, "images_per_s": len(bank) / build_s}}

    legacy_res = {}
    for film in ("casablanca", "roman_holiday"):
        plan = plan_video(gray_frames(legacy / f"{film}.mp4"))
        keys = [k.gray for k in plan.keyframes]
        own = lambda p, film=film: f"/{film}_refs/" in p  # noqa: E731
        sampled = gray_frames(legacy / f"{film}.mp4")[:: args.legacy_every]
        legacy_res[film] = {
            "global": accuracy(bank, keys, own, False),
            "rerank": accuracy(bank, keys, own, True),
            f"every_{args.legacy_every}th_global": accuracy(bank, sampled, own, False),
            f"every_{args.legacy_every}th_rerank": accuracy(bank, sampled, own, True),
        }
    result["legacy"] = legacy_res

    clip_res = {}
    for clip in clips:
        g = gray_frames(clip)
        plan = plan_video(g)
        keys = [g[min(k.index + 2, len(g) - 1)] for k in plan.keyframes]
        own = lambda p, name=clip.stem: Path(p).name.startswith(f"{name}__")  # noqa: E731
        clip_res[clip.stem] = {"global": accuracy(bank, keys, own, False), "rerank": accuracy(bank, keys, own, True)}
    result["clips"] = clip_res
    if not args.skip_speed:
        dim = bank.vectors.shape[1]
        result["speed"] = {"dim": dim, "1k": speed(dim, 1_000), "10k": speed(dim, 10_000), "100k": speed(dim, 100_000)}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    doc = {"machine": platform.platform(), "commit": commit, "results": result}
    text = json.dumps(doc, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
