"""Widen a trained propagation U-Net without changing what it computes.

A wider U-Net (more channels at 1/4 and 1/8 of the working resolution) is started from
trained weights: every old channel keeps its weights, each new channel gets a fresh
random filter, and every weight *from* a new channel into an old one is zero. The widened
network therefore gives exactly the old output until training moves those zeros, and
training builds on what the narrow network learned instead of starting over (the idea of
Chen, Goodfellow and Shlens, "Net2Net", ICLR 2016, with zero outgoing weights in place of
their copied units).
"""

from __future__ import annotations

import torch

from ..modeling.propagation_net import CUE_CHANNELS, PropagationNet, PropagationNetConfig

__all__ = ["widen_propagation_net"]


def _channel_layout(widths: tuple[int, int, int], feature_channels: int) -> dict[str, list[tuple[str, int]]]:
    """For each convolution of the U-Net, its input as a list of (part, channels), in the
    order ``PropagationUNet.forward`` concatenates them."""
    w1, w2, w3 = widths
    return {
        "enc1.0": [("cues", CUE_CHANNELS)], "enc1.2": [("x1", w1)],
        "enc2.0": [("x1", w1)], "enc2.2": [("x2", w2)],
        "enc3.0": [("x2", w2)], "enc3.2": [("x3", w3)],
        "fuse.0": [("x3", w3), ("feats", feature_channels)], "fuse.2": [("x3", w3)],
        "dec2.0": [("x3", w3), ("x2", w2)], "dec2.2": [("y2", w2)],
        "dec1.0": [("y2", w2), ("x1", w1)], "dec1.2": [("y1", w1)],
    }


def _old_positions(old: list[tuple[str, int]], new: list[tuple[str, int]]) -> list[int]:
    """Where each old input channel sits in the widened input (parts keep their order;
    each part's old channels come first)."""
    starts, at = {}, 0
    for part, n in new:
        starts[part] = at
        at += n
    return [starts[part] + i for part, n in old for i in range(n)]


@torch.no_grad()
def widen_propagation_net(old: PropagationNet, widths: tuple[int, int, int], seed: int = 0) -> PropagationNet:
    """A ``PropagationNet`` with U-Net ``widths`` (each at least the old one) that computes
    what ``old`` computes; the merge head and the reduction of the encoder features are
    copied as they are."""
    cfg = old.config
    if any(n < o for n, o in zip(widths, cfg.widths)):
        raise ValueError(f"expected widths at least {cfg.widths}, got {widths}")
    torch.manual_seed(seed)
    new = PropagationNet(PropagationNetConfig(**{**cfg.__dict__, "widths": tuple(widths)}))
    old_layout, new_layout = _channel_layout(cfg.widths, cfg.feature_channels), _channel_layout(tuple(widths), cfg.feature_channels)
    old_unet, new_unet = dict(old.unet.named_modules()), dict(new.unet.named_modules())
    for name, parts in old_layout.items():
        src, dst = old_unet[name], new_unet[name]
        cols = torch.tensor(_old_positions(parts, new_layout[name]))
        n_old = src.out_channels
        # Old output channels read only the old inputs; new inputs reach them with weight 0.
        dst.weight[:n_old] = 0.0
        dst.weight[:n_old, cols] = src.weight
        dst.bias[:n_old] = src.bias
        # New output channels keep their fresh filter, scaled down so they start quiet.
        dst.weight[n_old:] *= 0.1
        dst.bias[n_old:] = 0.0
    new.unet.feats.load_state_dict(old.unet.feats.state_dict())
    new.unet.head.load_state_dict(old.unet.head.state_dict())
    new.merge_head.load_state_dict(old.merge_head.state_dict())
    return new
