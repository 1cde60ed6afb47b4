"""Automatic image colorization: a frozen luminance encoder plus a small chroma decoder.

Chroma is predicted as a distribution over quantised ab bins and decoded by the annealed
mean, as in Zhang, Isola & Efros, "Colorful Image Colorization" (ECCV 2016): the softmax
re-sharpened with a temperature T (their Sec. 2.3 / eq. 5; T = 1 is the plain mean, the
least squared error, T -> 0 the mode). Bins are the in-gamut cells of a 10x10 ab grid
(the paper keeps Q = 313 such cells; ``ab_bins`` computes our set from the sRGB gamut).
The encoder is frozen (the matching encoder's taps plus the backbone's last block), so
the decoder is small (weights under 4 MB) and trains on a CPU
(``training/train_colorizer.py``).
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InputError
from .encoder import EncoderConfig, LuminanceEncoder

__all__ = ["ChromaDecoderConfig", "ChromaDecoder", "ImageColorizer", "ab_bins", "annealed_mean", "boost_chroma", "gated_fill", "DEFAULT_WEIGHTS", "DEFAULT_WORKING_SIZE"]

DEFAULT_WEIGHTS = Path(__file__).resolve().parent.parent / "weights" / "colorizer_lite0_v3.pt"
# Short side (pixels) at which ``colorize`` predicts chroma unless told otherwise: the size
# of the crops the decoder was trained on (training/train_colorizer.py); not tuned further.
DEFAULT_WORKING_SIZE = 256


def ab_bins(step: float = 10.0, limit: float = 110.0) -> torch.Tensor:
    """(Q, 2) float32 centres of the ab grid cells that hold an sRGB colour at some lightness.

    A cell is kept when its centre, at any L in 5..95, maps inside the sRGB cube.
    """
    from ..color.lab import lab_to_rgb

    centres = torch.arange(-limit + step / 2, limit, step, dtype=torch.float64)
    a, b = torch.meshgrid(centres, centres, indexing="ij")
    a, b = a.flatten(), b.flatten()
    keep = torch.zeros_like(a, dtype=torch.bool)
    for L in range(5, 100, 5):
        lab = torch.stack([torch.full_like(a, float(L)), a, b])[:, :, None]
        rgb = lab_to_rgb(lab, clip=False)
        keep |= ((rgb >= 0) & (rgb <= 1)).all(dim=0)[:, 0]
    return torch.stack([a[keep], b[keep]], dim=1).float()


def annealed_mean(logits: torch.Tensor, bins: torch.Tensor, temperature: float = 0.38) -> torch.Tensor:
    """Zhang et al. 2016 eq. (5): H(Z) = E[f_T(Z)], f_T(z) = exp(log z / T) / sum(...).

    logits: (B, Q, h, w); bins: (Q, 2) ab centres -> (B, 2, h, w) ab (CIE Lab units).
    T = 1 is the plain mean, T -> 0 the mode.
    """
    p = torch.softmax(logits / temperature, dim=1)
    return torch.einsum("bqhw,qc->bchw", p, bins.to(p))


def gated_fill(ab: torch.Tensor, confidence: torch.Tensor, prior_ab: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """Confidence-gated fill-in for stage 2: where propagation is unsure, take the
    colorizer's chroma instead.

    ab, prior_ab: (B, 2, h, w) CIE ab from propagation and from ``ImageColorizer.chroma``.
    confidence: (B, 1, h, w) in [0, 1], the propagated colour's confidence (the stage-2
    engine passes the merged confidence of the fusion module).
    The weight of the propagated chroma ramps linearly from 0 at ``low`` to 1 at ``high``;
    the pipeline passes ``PropagationConfig.fill_in_low`` and ``fill_in_high`` (0.3, 0.5).

    >>> ab, prior = torch.full((1, 2, 1, 3), 10.0), torch.full((1, 2, 1, 3), -10.0)
    >>> [round(v, 3) for v in gated_fill(ab, torch.tensor([[[[0.2, 0.35, 0.6]]]]), prior, 0.3, 0.5)[0, 0, 0].tolist()]
    [-10.0, -5.0, 10.0]
    """
    if not high > low:
        raise ValueError(f"expected fill-in thresholds low < high, got low={low}, high={high}")
    w = ((confidence - low) / (high - low)).clamp(0, 1)
    return w * ab + (1 - w) * prior_ab


@dataclass(frozen=True)
class ChromaDecoderConfig:
    """in_channels: encoder feature channels. width: hidden channels. dilations: one 3x3
    conv block per entry (dilation grows the receptive field, as in Zhang et al.'s conv5-6).
    num_bins: Q. temperature: annealed-mean temperature (training/train_colorizer.py picks
    it on validation photos). global_context: add an image-wide context vector (the mean
    feature through a linear layer) after the first block, as the fusion layer of Iizuka,
    Simo-Serra & Ishikawa, "Let there be Color!" (SIGGRAPH 2016): whether a scene is
    outdoors or indoors tints every region of it.
    reduce_first: a 1x1 convolution brings the features to ``width`` first (with
    ``dropout``, channel dropout during training), the dilated blocks then add a residual:
    fewer weights on wide, deep features, which a few hundred photos overfit otherwise.
    chroma_boost: CIE ab units added to the decoded chroma's magnitude, along its hue
    (``boost_chroma``); 0 keeps the annealed mean."""

    in_channels: int = 176
    width: int = 128
    dilations: tuple[int, ...] = (1, 2, 4, 1)
    num_bins: int = 0
    temperature: float = 0.38
    global_context: bool = False
    reduce_first: bool = False
    dropout: float = 0.0
    chroma_boost: float = 0.0


class ChromaDecoder(nn.Module):
    """Encoder features (B, C, h, w) -> ab-bin logits (B, Q, h, w), same grid."""

    def __init__(self, config: ChromaDecoderConfig):
        super().__init__()
        self.config = config
        c, w = config.in_channels, config.width
        self.reduce = nn.Sequential(nn.Conv2d(c, w, 1), nn.BatchNorm2d(w), nn.ReLU(inplace=True), nn.Dropout2d(config.dropout)) if config.reduce_first else None
        layers: list[nn.Module] = []
        c = w if config.reduce_first else c
        for d in config.dilations:
            layers += [nn.Conv2d(c, w, 3, padding=d, dilation=d), nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
            c = w
        self.body = nn.Sequential(*layers)
        self.context = nn.Linear(config.in_channels, w) if config.global_context else None
        self.head = nn.Conv2d(w, config.num_bins, 1)

    def _context(self, features: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.context(features.mean(dim=(2, 3))))[:, :, None, None]

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if features.dim() != 4 or features.shape[1] != self.config.in_channels:
            raise ValueError(f"expected features of shape (B, {self.config.in_channels}, h, w), got {tuple(features.shape)}")
        if self.reduce is not None:
            x = self.reduce(features)
            if self.context is not None:
                x = x + self._context(features)
            return self.head(self.body(x) + x)
        if self.context is None:
            return self.head(self.body(features))
        x = self.body[:3](features)  # the first block
        x = x + self._context(features)
        return self.head(self.body[3:](x))


def boost_chroma(ab: torch.Tensor, boost: float, floor: float = 2.0) -> torch.Tensor:
    """Add ``boost`` to the chroma magnitude along each pixel's hue; below ``floor`` (where
    the hue is noise) the addition fades in proportionally.

    The decoded mean m minimises the expected squared error; a prediction m + d * m/|m|
    costs d^2 more at every pixel whatever |m|, where a gain g costs (g - 1)^2 |m|^2: for
    the same added mean chroma, a constant boost is the cheaper in squared error.

    >>> [round(v, 2) for v in boost_chroma(torch.tensor([[[[3.0]], [[4.0]]]]), 5.0).flatten().tolist()]
    [6.0, 8.0]
    """
    if boost == 0:
        return ab
    magnitude = ab.norm(dim=1, keepdim=True)
    return ab * (1 + boost / magnitude.clamp_min(floor))


class ImageColorizer(nn.Module):
    """A gray image's chroma from a frozen encoder and a ``ChromaDecoder``.

    The encoder is the pipeline's when it taps the blocks the decoder was trained on, and
    the colorizer's own otherwise (the shipped decoder also reads the backbone's last
    block, which matching does not need). ``forward(gray)`` runs encoder and decoder;
    ``chroma(features)`` the decoder on features of ``self.encoder``.
    """

    def __init__(self, encoder: LuminanceEncoder, decoder: ChromaDecoder, bins: torch.Tensor, name: str = "colorizer"):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.register_buffer("bins", bins.float().clone())
        self.name = name

    @classmethod
    def build(cls, encoder: LuminanceEncoder | None = None, width: int = 128, global_context: bool = False, **decoder: object) -> "ImageColorizer":
        """Randomly initialised decoder on ``encoder`` (default: pretrained Lite0);
        ``decoder``: more ``ChromaDecoderConfig`` fields."""
        encoder = encoder if encoder is not None else LuminanceEncoder()
        bins = ab_bins()
        cfg = ChromaDecoderConfig(in_channels=encoder.channels, width=width, num_bins=len(bins), global_context=global_context, **decoder)
        return cls(encoder, ChromaDecoder(cfg), bins)

    @classmethod
    def from_pretrained(cls, encoder: LuminanceEncoder | None = None, path: str | os.PathLike = DEFAULT_WEIGHTS) -> "ImageColorizer":
        """Load decoder weights saved by ``save_decoder`` (default: the project's own, trained
        by ``training/train_colorizer.py``). ``encoder`` is reused when its configuration
        is the one the weights were trained on; otherwise the colorizer builds that one."""
        path = Path(path)
        if not path.is_file():
            raise InputError(f"expected colorizer weights at {str(path)!r}, the file does not exist")
        try:
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
            cfg = ChromaDecoderConfig(**{**ckpt["config"], "dilations": tuple(ckpt["config"]["dilations"])})
            enc_cfg = EncoderConfig(**{**ckpt["encoder"], "blocks": tuple(ckpt["encoder"]["blocks"])})
        except Exception as e:  # noqa: BLE001 - any unreadable file is the same user error
            raise InputError(f"expected a colorizer checkpoint in {str(path)!r}, could not read it ({e})") from e
        if encoder is None or encoder.config != enc_cfg:
            encoder = LuminanceEncoder(enc_cfg)
        model = cls(encoder, ChromaDecoder(cfg), ckpt["bins"], name=path.stem)
        model.decoder.load_state_dict(ckpt["decoder"])
        return model.eval()

    def save_decoder(self, path: str | os.PathLike, extra: dict | None = None) -> None:
        """Save the decoder (not the frozen encoder), its bins and configs; atomic."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        cfg = asdict(self.decoder.config)
        torch.save({"config": cfg, "encoder": asdict(self.encoder.config), "bins": self.bins.cpu(), "decoder": self.decoder.state_dict(), "extra": extra or {}}, tmp)
        os.replace(tmp, path)

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        return self.decoder(features)

    def chroma(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """features (B, C, h, w) from the encoder -> ab (B, 2, h, w) float32 CIE Lab
        (annealed mean, then ``boost_chroma``) and confidence (B, 1, h, w) in [0, 1]:
        1 - normalised entropy of the bin distribution (1: one bin certain, 0: uniform)."""
        logits = self.decoder(features)
        ab = boost_chroma(annealed_mean(logits, self.bins, self.decoder.config.temperature), self.decoder.config.chroma_boost)
        logp = torch.log_softmax(logits, dim=1)
        entropy = -(logp.exp() * logp).sum(dim=1, keepdim=True)
        return ab, (1 - entropy / math.log(logits.shape[1])).clamp(0, 1)

    def forward(self, gray: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """gray (B, 1, H, W) in [0, 1] -> (ab, confidence) on the encoder grid (H/8, W/8)."""
        return self.chroma(self.encoder(gray))

    @torch.no_grad()
    def colorize(self, gray: np.ndarray, working_size: int = DEFAULT_WORKING_SIZE) -> tuple[np.ndarray, float]:
        """(H, W) uint8 gray -> ((H, W, 3) uint8 sRGB, mean confidence). The input's luma
        is kept (``color.compose_rgb``); chroma is predicted at ``working_size`` and upsampled bilinearly."""
        from ..color.compose import compose_rgb
        from ..resize import gray_tensor, resize_short_side, resize_to

        if not isinstance(gray, np.ndarray) or gray.ndim != 2 or gray.dtype != np.uint8:
            raise InputError(f"expected an (H, W) uint8 gray image, got {getattr(gray, 'shape', type(gray).__name__)}")
        device = self.bins.device
        g = gray_tensor(gray).to(device)
        ab, conf = self(resize_short_side(g, working_size))
        return compose_rgb(g, resize_to(ab, gray.shape)), float(conf.mean())
