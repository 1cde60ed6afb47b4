"""Train the propagation network (``exemplar_vc.modeling.PropagationNet``) on a CPU.

Data (read in place, never copied into the repository):
- ``../shared/data/clips``: all but ``bear`` and ``paragliding-launch`` (held out);
- ``../shared/data/train``: all but a fifth, chosen by a seeded shuffle of the sorted
  names (the held-out list is written to the log);
- synthetic clips made from the photos of ``../shared/data/photos/imagenet_samples``
  (``exemplar_vc.training.synthetic``: camera motion, moving pasted objects, lighting).

Every clip is cached once at the working size (gray, truth ab, frozen encoder features)
in ``--cache`` (outside the repository). Training resumes from ``--checkpoint`` when it
exists, so one training can continue over several runs of under 2 hours each; the final
weights are written as safetensors to ``--out``, the log (JSON lines) to ``--log``.

    nice python training/train_fusion.py --minutes 60 --cache /tmp/evc_cache \\
        --checkpoint /tmp/evc_train/ckpt.pt --out exemplar_vc/weights/propagation_net_v18.safetensors \\
        --log training/logs/propagation_net_v18.jsonl
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
def _read(path: Path, max_frames: int):
    import av

    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i >= max_frames:
                break
            yield frame.to_ndarray(format="rgb24")


def build_cache(args, encoder, log) -> list[str]:
    from exemplar_vc.training import synthetic_clips_from_folder
    from exemplar_vc.training.data import HELD_OUT_CLIPS, cache_clip, save_cached, split_train_folder

    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    train_clips, held = split_train_folder(Path(args.data) / "train")  # fixed: --seed does not move it
    real = [c for c in sorted((Path(args.data) / "clips").glob("*.mp4")) if c.stem not in HELD_OUT_CLIPS] + train_clips
    log({"event": "data", "real_clips": [c.name for c in real], "held_out_train": [c.name for c in held], "held_out_clips": list(HELD_OUT_CLIPS)})
    names = []
    for path in real:
        name = "real_" + path.stem
        if not (cache / f"{name}.feats.npy").exists():
            save_cached(cache_clip(name, _read(path, args.max_frames), encoder, args.working_size), cache)
        names.append(name)
    photos = Path(args.data) / "photos" / "imagenet_samples"
    if args.synthetic and photos.is_dir():
        size = (args.working_size, args.working_size * 16 // 9 // 8 * 8)
        for name, clip in synthetic_clips_from_folder(photos, args.synthetic, args.synthetic_frames, size, args.seed):
            name = "syn_" + name
            if not (cache / f"{name}.feats.npy").exists():
                save_cached(cache_clip(name, clip, encoder, args.working_size), cache)
            names.append(name)
    return names


def main(argv: list[str] | None = None) -> int:
    from exemplar_vc.modeling.encoder import LuminanceEncoder
    from exemplar_vc.modeling.propagation_net import PropagationNet, PropagationNetConfig
    from exemplar_vc.training.data import load_cached, sample_segment
    from exemplar_vc.training.degrade import degrade_segment
    from exemplar_vc.training.loop import LossWeights, train_step
    from exemplar_vc.training.widen import widen_propagation_net

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(DATA))
    p.add_argument("--cache", default="/tmp/evc_cache")
    p.add_argument("--checkpoint", default="/tmp/evc_train/ckpt.pt")
    p.add_argument("--out", default=str(ROOT / "exemplar_vc" / "weights" / "propagation_net_v18.safetensors"))
    p.add_argument("--log", default=str(ROOT / "training" / "logs" / "propagation_net_v18.jsonl"))
    p.add_argument("--minutes", type=float, default=60.0, help="wall-clock budget of this run")
    p.add_argument("--total-steps", type=int, default=3000, help="length of the learning-rate schedule over all runs")
    p.add_argument("--working-size", type=int, default=320)
    p.add_argument("--max-frames", type=int, default=72)
    p.add_argument("--synthetic", type=int, default=100, help="synthetic clips from photos")
    p.add_argument("--synthetic-frames", type=int, default=12)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--crop", type=int, default=176)
    p.add_argument("--min-length", type=int, default=5)
    p.add_argument("--max-length", type=int, default=10)
    p.add_argument("--p-static", type=float, default=0.0, help="share of segments that repeat one frame (a still shot)")
    p.add_argument("--p-trailing", type=float, default=0.0, help="share of batches of trailing segments (an exemplar at the start only, walked forward)")
    p.add_argument("--trailing-min-length", type=int, default=16)
    p.add_argument("--trailing-max-length", type=int, default=32)
    p.add_argument("--init", default=None, help="weights to start from when there is no checkpoint (default: --out if it exists)")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--chroma-weight", type=float, default=0.0, help="weight of the one-sided frame chroma loss (exemplar_vc/training/loop.py)")
    p.add_argument("--composed-weight", type=float, default=0.0, help="weight of the loss on the RGB composed on the kept luma (exemplar_vc/training/loop.py)")
    p.add_argument("--time-symmetric-merge", action="store_true", help="train the merge head time-symmetric (PropagationNetConfig.time_symmetric_merge; v1-v18 were trained without it, though it runs with it)")
    p.add_argument("--padding-mode", default="zeros", choices=["zeros", "replicate"], help="the U-Net's padding at the frame's edge (PropagationNetConfig.padding_mode)")
    p.add_argument("--widths", default="16,32,64", help="U-Net channels at 1/2, 1/4, 1/8 (PropagationNetConfig.widths); narrower --init weights are widened (exemplar_vc/training/widen.py)")
    p.add_argument("--backprop-steps", type=int, default=1, help="steps the gradient runs back through the recurrence (1: truncated)")
    p.add_argument("--threads", type=int, default=1, help="1 is fastest when anything else shares the 2 cores (OpenMP spin-waits)")
    p.add_argument("--flow-preset", default="medium", choices=["ultrafast", "fast", "medium", "fine"], help="DIS flow of the flow candidate in training (PropagationNetConfig.flow_preset; v9 saw medium)")
    p.add_argument("--p-degraded", type=float, default=0.0, help="share of segments whose gray is made dim or faded and grainy (exemplar_vc/training/degrade.py)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    torch.set_num_threads(args.threads)
    import cv2

    cv2.setNumThreads(args.threads)  # DIS flow too: no oversubscription of the cores
    Path(args.log).parent.mkdir(parents=True, exist_ok=True)
    started = time.time()

    def log(record: dict) -> None:
        record = {"time_s": round(time.time() - started, 1), **record}
        with open(args.log, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        print(json.dumps(record), flush=True)

    log({"event": "start", "argv": sys.argv, "torch": torch.__version__, "machine": platform.processor() or platform.machine(), "threads": args.threads})
    encoder = LuminanceEncoder()
    names = build_cache(args, encoder, log)
    clips = [load_cached(Path(args.cache), n) for n in names]
    log({"event": "cache", "clips": len(clips), "frames": int(sum(len(c) for c in clips)), "minutes": round((time.time() - started) / 60, 2)})

    torch.manual_seed(args.seed)
    widths = tuple(int(w) for w in args.widths.split(","))
    net = PropagationNet(PropagationNetConfig(padding_mode=args.padding_mode, widths=widths, flow_preset=args.flow_preset, time_symmetric_merge=args.time_symmetric_merge))
    optimizer = torch.optim.Adam(net.parameters(), lr=args.lr)
    step = 0
    ckpt = Path(args.checkpoint)
    if ckpt.exists():
        state = torch.load(ckpt, weights_only=False)
        net.load_state_dict(state["net"])
        optimizer.load_state_dict(state["optimizer"])
        step = state["step"]
        log({"event": "resume", "step": step})
    elif Path(args.init or args.out).exists():
        from safetensors.torch import load_file

        state = load_file(args.init or args.out)
        saved = tuple(int(state[f"unet.{k}.0.weight"].shape[0]) for k in ("enc1", "enc2", "enc3"))
        if saved != widths:  # start a wider U-Net from narrower trained weights
            narrow = PropagationNet(PropagationNetConfig(padding_mode=args.padding_mode, widths=saved))
            narrow.load_state_dict(state)
            state = widen_propagation_net(narrow, widths, seed=args.seed).state_dict()
        net.load_state_dict(state)
        log({"event": "resume_from_weights", "path": args.init or args.out, "widths": saved, "widened_to": widths if saved != widths else None})
    rng = np.random.default_rng(args.seed + step)
    # Real clips twice as often as synthetic ones: the network is judged on real footage.
    weights = np.array([2.0 if c.name.startswith("real_") else 1.0 for c in clips])
    weights /= weights.sum()
    deadline = started + args.minutes * 60
    loss_weights = LossWeights(chroma=args.chroma_weight, composed=args.composed_weight)
    running: dict[str, float] = {}

    def save() -> None:
        from safetensors.torch import save_file

        ckpt.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"net": net.state_dict(), "optimizer": optimizer.state_dict(), "step": step}, str(ckpt) + ".tmp")
        Path(str(ckpt) + ".tmp").replace(ckpt)
        save_file({k: v.contiguous() for k, v in net.state_dict().items()}, args.out)

    while time.time() < deadline and step < args.total_steps:
        lr = args.lr * 0.5 * (1 + np.cos(np.pi * step / args.total_steps))
        for group in optimizer.param_groups:
            group["lr"] = lr
        trailing = bool(rng.random() < args.p_trailing)
        if trailing:
            length = int(rng.integers(args.trailing_min_length, args.trailing_max_length + 1))
        else:
            length = int(rng.integers(args.min_length, args.max_length + 1))
        # Segments of one batch have one length: draw from the clips that are long enough.
        p_clip = weights * np.array([len(c) >= length for c in clips])
        batch = [
            sample_segment(clips[i], rng, encoder, length, args.crop, static=bool(rng.random() < args.p_static))
            for i in rng.choice(len(clips), args.batch, p=p_clip / p_clip.sum())
        ]
        if args.p_degraded > 0:
            batch = [degrade_segment(s, rng, encoder) if rng.random() < args.p_degraded else s for s in batch]
        stats = train_step(net, batch, optimizer, loss_weights, forward_only=trailing, backprop_steps=args.backprop_steps, flow_preset=args.flow_preset)
        stats = {("trail_" if trailing else "") + k: v for k, v in stats.items()}
        step += 1
        for k, v in stats.items():
            running[k] = 0.95 * running.get(k, v) + 0.05 * v
        if step % 10 == 0:
            log({"event": "step", "step": step, "lr": round(lr, 6), **{k: round(v, 4) for k, v in running.items()}})
        if step % 50 == 0:
            save()
    save()
    log({"event": "end", "step": step, "minutes": round((time.time() - started) / 60, 2)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
