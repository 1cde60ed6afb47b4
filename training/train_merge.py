"""Fit the propagation network's merge head on long segments, the U-Net frozen.

Why and how: ``exemplar_vc/training/merge.py``. Reads the clip cache that
``training/train_fusion.py`` builds (real training clips only: the held-out clips are
never in it) and holds out a seeded fifth of those clips for validation. Each sampled
segment has exemplars at both ends (the frame's own colour, a jittered copy or another
moment, as in ``sample_segment``) and a length drawn from ``--min-length`` to
``--max-length`` (at most the clip's); every inner frame gives ``--pixels`` pixels.

    OMP_NUM_THREADS=2 python training/train_merge.py --weights /tmp/evc_train9/propagation_net_v9.safetensors \\
        --out exemplar_vc/weights/propagation_net_v9.safetensors --log training/logs/merge_head_v9.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    from safetensors.torch import load_file, save_file

    from exemplar_vc.jobs.digest import file_sha256
    from exemplar_vc.modeling.encoder import LuminanceEncoder
    from exemplar_vc.modeling.propagation_net import PropagationNet, PropagationNetConfig
    from exemplar_vc.training.data import held_out_names, load_cached, sample_segment
    from exemplar_vc.training.merge import MergeSamples, collect_samples, fit_merge_head, forward_weight, merge_l1

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", required=True, help="the network to start from (safetensors; an older 9-input merge head is widened)")
    p.add_argument("--cache", default="/tmp/evc_cache")
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "data"), help="the shared data folder (says which clips are held out)")
    p.add_argument("--out", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--segments", type=int, default=240, help="training segments sampled")
    p.add_argument("--val-segments", type=int, default=60)
    p.add_argument("--min-length", type=int, default=8)
    p.add_argument("--max-length", type=int, default=72)
    p.add_argument("--crop", type=int, default=176)
    p.add_argument("--pixels", type=int, default=1024, help="pixels kept per inner frame")
    p.add_argument("--padding-mode", default="zeros", choices=["zeros", "replicate"], help="the U-Net's padding at the frame's edge (PropagationNetConfig.padding_mode)")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--flow-preset", default="medium", choices=["ultrafast", "fast", "medium", "fine"], help="DIS flow of the flow candidate (PropagationNetConfig.flow_preset)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--time-symmetric", action="store_true", help="fit a time-symmetric head (PropagationNetConfig.time_symmetric_merge)")
    p.add_argument("--samples", default=None, help="a folder keeping the walked samples (train/val .safetensors): read when there, written when not, so the head can be refitted without walking again")
    args = p.parse_args(argv)

    torch.set_num_threads(args.threads)
    import cv2

    cv2.setNumThreads(args.threads)
    started = time.time()
    Path(args.log).parent.mkdir(parents=True, exist_ok=True)

    def log(record: dict) -> None:
        record = {"time_s": round(time.time() - started, 1), **record}
        with open(args.log, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        print(json.dumps(record), flush=True)

    log({"event": "start", "argv": sys.argv, "torch": torch.__version__})
    net = PropagationNet(PropagationNetConfig(padding_mode=args.padding_mode, flow_preset=args.flow_preset, time_symmetric_merge=args.time_symmetric))
    net.load_state_dict(load_file(args.weights))  # an older 9-input merge head is widened there
    net.eval()
    encoder = LuminanceEncoder()
    cache = Path(args.cache)
    held = held_out_names(Path(args.data))
    cached = sorted(f.name[: -len(".feats.npy")] for f in cache.glob("real_*.feats.npy"))
    # A cache may hold clips another tool put there: the held-out ones are never fitted on.
    names = [n for n in cached if n[len("real_") :] not in held]
    if not names:
        raise SystemExit(f"expected cached real clips (real_*.feats.npy) in {cache}: run training/train_fusion.py first to build them")
    order = np.random.default_rng(args.seed).permutation(len(names))
    val_names = sorted(names[i] for i in order[: max(1, len(names) // 5)])
    train_names = [n for n in names if n not in val_names]
    log({"event": "data", "train_clips": train_names, "validation_clips": val_names, "held_out_skipped": sorted(set(cached) - set(names))})
    rng = np.random.default_rng(args.seed)

    def gather(clip_names: list[str], count: int) -> MergeSamples:
        clips = [load_cached(cache, n) for n in clip_names]
        parts = []
        for k in range(count):
            clip = clips[int(rng.integers(len(clips)))]
            hi = min(args.max_length, len(clip))
            length = int(rng.integers(min(args.min_length, hi), hi + 1))
            seg = sample_segment(clip, rng, encoder, length, args.crop, max_stride=1)
            if len(seg.indices) < 3:
                continue
            parts.append(collect_samples(net, seg, args.pixels, rng, args.flow_preset))
            if (k + 1) % 20 == 0:
                log({"event": "collect", "segments": k + 1, "of": count})
        return MergeSamples.cat(parts)

    # Kept samples are reused only for the walk that made them: the same U-Net weights,
    # clips and sampling settings (the head's own settings do not change the walk).
    walk = {
        "weights_sha256": file_sha256(args.weights),
        "train_clips": train_names, "validation_clips": val_names,
        **{k: getattr(args, k) for k in ("segments", "val_segments", "min_length", "max_length", "crop", "pixels", "padding_mode", "flow_preset", "seed")},
    }
    kept = Path(args.samples) if args.samples else None
    if kept is not None and (kept / "walk.json").is_file():
        made_by = json.loads((kept / "walk.json").read_text())
        if made_by != walk:
            differ = sorted(k for k in walk.keys() | made_by.keys() if walk.get(k) != made_by.get(k))
            raise SystemExit(f"expected samples in {kept} walked with this run's settings, got samples walked with other {differ}: use another --samples folder")
        val, train = MergeSamples.load(kept / "val.safetensors"), MergeSamples.load(kept / "train.safetensors")
        log({"event": "samples_loaded", "from": str(kept)})
    else:
        val = gather(val_names, args.val_segments)
        train = gather(train_names, args.segments)
        if kept is not None:
            kept.mkdir(parents=True, exist_ok=True)
            val.save(kept / "val.safetensors")
            train.save(kept / "train.safetensors")
            (kept / "walk.json").write_text(json.dumps(walk))  # last: its presence means the samples are whole
    # Reference points on the validation pixels: either direction alone, the per-pixel
    # better of the two (an oracle no merge can beat), and the head as it was; also by
    # distance to the nearer exemplar, where the old head's short-segment habits showed.
    near = torch.minimum(val.dist_f, val.dist_b)[:, 0]

    def l1_where(mask: torch.Tensor) -> float | None:
        rows = mask.nonzero()[:, 0]
        return round(merge_l1(net.merge_head, val.take(rows)), 4) if len(rows) else None

    def by_gap() -> dict:
        out = {f"{lo}-{hi - 1}": l1_where((near >= lo) & (near < hi)) for lo, hi in ((1, 2), (2, 5), (5, 15), (15, 100))}
        return {k: v for k, v in out.items() if v is not None}

    def by_side() -> dict:
        """L1 where the forward exemplar is nearer and where the backward one is, and how
        far the head is from weighing a pixel and its time-reversed twin alike (0: alike)."""
        out = {"forward_nearer": l1_where(val.dist_f[:, 0] < val.dist_b[:, 0]), "backward_nearer": l1_where(val.dist_b[:, 0] < val.dist_f[:, 0])}
        out = {k: v for k, v in out.items() if v is not None}
        out["weight_asymmetry"] = round(float((forward_weight(net.merge_head, val) + forward_weight(net.merge_head, val.time_reversed()) - 1).abs().mean()), 4)
        return out

    baseline = {
        "forward_only": round(float((val.ab_f - val.truth).abs().mean()), 4),
        "backward_only": round(float((val.ab_b - val.truth).abs().mean()), 4),
        "oracle_better_direction": round(float(torch.minimum((val.ab_f - val.truth).abs().sum(1), (val.ab_b - val.truth).abs().sum(1)).mean() / 2), 4),
        "head_before": round(merge_l1(net.merge_head, val), 4),
        "head_before_by_nearer_distance": by_gap(),
        "head_before_by_nearer_side": by_side(),
    }
    log({"event": "samples", "train_pixels": len(train), "val_pixels": len(val), "val_l1_ab": baseline})
    losses = fit_merge_head(net.merge_head, train, args.steps, lr=args.lr, seed=args.seed)
    for i in range(0, args.steps, max(1, args.steps // 20)):
        log({"event": "step", "step": i + 1, "train_l1_ab": round(float(np.mean(losses[i : i + 50])), 4)})
    after = merge_l1(net.merge_head, val)
    log({"event": "end", "val_l1_ab_after": round(after, 4), "val_l1_ab_after_by_nearer_distance": by_gap(), "val_after_by_nearer_side": by_side(), "minutes": round((time.time() - started) / 60, 2)})
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
