"""Train the chroma decoder of ``exemplar_vc.modeling.ImageColorizer`` on a CPU.

Data (read in place, never copied into the repository): colour photos of scikit-image
and of the Debian wallpaper packages (unpacked with ``apt-get download`` + ``dpkg-deb -x``
into a temporary folder) and every 3rd frame of the colour clips of
``../shared/data/clips``. Held out for evaluation: the clip ``teddy`` and the photos
whose name sorts last in each folder.

Loss: Zhang et al. 2016 eq. (2)-(4): cross-entropy against soft-encoded targets (5
nearest bins, Gaussian sigma 5) weighted per pixel by class rebalancing with lambda 0.5.
The encoder is frozen, so its features are computed once per crop and cached.

    nice python training/train_colorizer.py --photos /tmp/s1deb/x/usr/share \\
        --clips ../shared/data/clips --minutes 12 --out exemplar_vc/weights/colorizer_lite0_v1.pt
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import random
import time
from pathlib import Path

import av
import cv2
import numpy as np
import torch
import torch.nn.functional as F

from exemplar_vc.color.lab import rgb_to_lab
from exemplar_vc.io.images import IMAGE_SUFFIXES, is_grayscale, load_color_image
from exemplar_vc.modeling.colorizer import ImageColorizer

CROP = 192


def photo_paths(roots: list[Path]) -> tuple[list[Path], list[Path]]:
    """(train, held-out): per folder, the last image by name is held out."""
    train, held = [], []
    folders: dict[Path, list[Path]] = {}
    for root in roots:
        for p in sorted(root.rglob("*")):
            if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and "dark" not in p.parent.name:
                folders.setdefault(p.parent, []).append(p)
    for ps in folders.values():
        if len(ps) > 2:
            held.append(ps[-1])
            train += ps[:-1]
        else:
            train += ps
    return train, held


def clip_frames(path: Path, every: int) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for i, f in enumerate(c.decode(video=0)) if i % every == 0]


def crops(rgb: np.ndarray, n: int, rng: random.Random) -> list[np.ndarray]:
    """Resize the short side to 1.0-1.5 x CROP, then random CROP x CROP crops (+ flips)."""
    out = []
    for _ in range(n):
        s = CROP * rng.uniform(1.0, 1.5) / min(rgb.shape[:2])
        im = cv2.resize(rgb, (max(CROP, round(rgb.shape[1] * s)), max(CROP, round(rgb.shape[0] * s))), interpolation=cv2.INTER_AREA)
        y, x = rng.randint(0, im.shape[0] - CROP), rng.randint(0, im.shape[1] - CROP)
        c = im[y : y + CROP, x : x + CROP]
        out.append(np.ascontiguousarray(c[:, ::-1] if rng.random() < 0.5 else c))
    return out


@torch.no_grad()
def featurize(model: ImageColorizer, images: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """RGB crops -> encoder features (N, C, h, w) float16 and target ab (N, 2, h, w)."""
    feats, abs_ = [], []
    for i in range(0, len(images), 16):
        rgb = torch.from_numpy(np.stack(images[i : i + 16])).float().div(255).permute(0, 3, 1, 2)
        gray = torch.from_numpy(np.stack([cv2.cvtColor(im, cv2.COLOR_RGB2GRAY) for im in images[i : i + 16]])).float().div(255)[:, None]
        f = model.encoder(gray)
        feats.append(f.half())
        abs_.append(F.adaptive_avg_pool2d(rgb_to_lab(rgb)[:, 1:], f.shape[-2:]))
    return torch.cat(feats), torch.cat(abs_)


def soft_encode(ab: torch.Tensor, bins: torch.Tensor, k: int = 5, sigma: float = 5.0) -> torch.Tensor:
    """(N, 2, h, w) ab -> (N, Q, h, w) soft targets on the k nearest bins (Zhang 2016 Sec. 2.1)."""
    flat = ab.permute(0, 2, 3, 1).reshape(-1, 2)
    d2 = torch.cdist(flat, bins) ** 2
    val, idx = d2.topk(k, largest=False)
    w = torch.exp(-val / (2 * sigma**2))
    z = torch.zeros(len(flat), len(bins)).scatter_(1, idx, w / w.sum(1, keepdim=True))
    n, _, h, w_ = ab.shape
    return z.reshape(n, h, w_, -1).permute(0, 3, 1, 2)


def rebalance_weights(z: torch.Tensor, bins: torch.Tensor, lam: float = 0.5, sigma: float = 5.0) -> torch.Tensor:
    """Zhang 2016 eq. (4): w ~ ((1 - lam) p~ + lam / Q)^-1, normalised so E_p~[w] = 1."""
    p = z.sum(dim=(0, 2, 3))
    p = p / p.sum()
    k = torch.exp(-torch.cdist(bins, bins) ** 2 / (2 * sigma**2))
    p = (k @ p) / (k @ p).sum()
    w = 1.0 / ((1 - lam) * p + lam / len(bins))
    return w / (p * w).sum()


def evaluate(model: ImageColorizer, feats: torch.Tensor, ab: torch.Tensor) -> dict:
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model.chroma(feats[i : i + 32].float())[0] for i in range(0, len(feats), 32)])
    rmse = float(((pred - ab) ** 2).sum(1).mean().sqrt())
    gray = float((ab**2).sum(1).mean().sqrt())
    return {"ab_rmse": rmse, "gray_ab_rmse": gray, "pred_chroma": float(pred.norm(dim=1).mean()), "true_chroma": float(ab.norm(dim=1).mean())}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", nargs="+", type=Path, default=[Path("/tmp/s1deb/x/usr/share")])
    ap.add_argument("--clips", type=Path, default=Path("../shared/data/clips"))
    ap.add_argument("--holdout-clip", default="teddy")
    ap.add_argument("--minutes", type=float, default=12.0)
    ap.add_argument("--out", type=Path, default=Path("exemplar_vc/weights/colorizer_lite0_v1.pt"))
    ap.add_argument("--log", type=Path, default=Path("training/logs/colorizer_lite0_v1.log"))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    args.log.parent.mkdir(parents=True, exist_ok=True)
    log = args.log.open("w")

    def say(msg: str) -> None:
        print(msg, flush=True)
        log.write(msg + "\n")
        log.flush()

    import skimage

    sk = Path(skimage.__file__).parent / "data"
    train_p, held_p = photo_paths(args.photos)
    train_p += [sk / n for n in ("astronaut.png", "chelsea.png", "coffee.png", "motorcycle_left.png")]
    held_p += [sk / "rocket.jpg"] if (sk / "rocket.jpg").exists() else []
    train_img, held_img = [], []
    for p in train_p + held_p:
        rgb = load_color_image(p, warn_gray=False)
        if is_grayscale(rgb) or min(rgb.shape[:2]) < 64:
            continue
        (held_img if p in held_p else train_img).append(crops(rgb, 6 if p in train_p else 2, rng))
    n_photos = (len(train_img), len(held_img))
    for clip in sorted(args.clips.glob("*.mp4")):
        frames = clip_frames(clip, 3)
        (held_img if clip.stem == args.holdout_clip else train_img).extend(crops(f, 1, rng) for f in frames)
    train_img = [c for group in train_img for c in group]
    held_img = [c for group in held_img for c in group]
    say(f"machine={platform.platform()} torch={torch.__version__} threads={torch.get_num_threads()}")
    say(f"photos train/held={n_photos} crops train={len(train_img)} held={len(held_img)}")

    model = ImageColorizer.build()
    t0 = time.time()
    xf, xab = featurize(model, train_img)
    hf, hab = featurize(model, held_img)
    z = soft_encode(xab, model.bins)
    w_bin = rebalance_weights(z, model.bins)
    pix_w = w_bin[z.argmax(1)]  # v(Z) = w_{q*}, q* the most likely bin (eq. 3)
    say(f"features in {time.time() - t0:.0f}s: {tuple(xf.shape)}; bins={len(model.bins)}")
    say(f"before training: {json.dumps(evaluate(model, hf, hab))}")

    opt = torch.optim.Adam(model.decoder.parameters(), lr=1e-3, weight_decay=1e-5)
    budget, start, epoch = args.minutes * 60, time.time(), 0
    while time.time() - start < budget:
        model.decoder.train()
        perm = torch.randperm(len(xf))
        total = 0.0
        for i in range(0, len(perm), 32):
            b = perm[i : i + 32]
            logp = torch.log_softmax(model.decoder(xf[b].float()), dim=1)
            loss = -(pix_w[b] * (z[b] * logp).sum(1)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(b)
        epoch += 1
        frac = (time.time() - start) / budget
        for g in opt.param_groups:
            g["lr"] = 1e-3 * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0)))
        if epoch % 1 == 0:
            say(f"epoch {epoch} t={time.time() - start:.0f}s loss={total / len(perm):.4f} held={json.dumps(evaluate(model, hf, hab))}")
    final = evaluate(model, hf, hab)
    say(f"final after {epoch} epochs, {time.time() - start:.0f}s: {json.dumps(final)}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save_decoder(args.out, extra={"epochs": epoch, "held_out": final, "train_crops": len(train_img), "seed": args.seed})
    say(f"saved {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
