"""The hand-written fusion rule of stage 2 (until a trained fusion network replaces it).

Forward (or backward) step at frame t:
- global: softmax match of frame t to the direction's exemplar(s) -> ab_g, sim_g;
- local: softmax match of frame t to frame t-1 (t+1 backward) in a small window,
  carrying that frame's chroma and confidence -> ab_l, sim_l, conf_l;
- mix: per position, the better similarity wins (softmax over {sim_g, sim_l + bias} at
  ``mix_temperature``; the small bias favours continuity in time); confidence is sim_g for global colour and
  sim_l * conf_l * decay for carried colour, so it fades with distance from an exemplar.
The two directions are merged by confidence and temporal distance.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..config import PropagationConfig
from ..ops import correspondence, local_attention

__all__ = ["DirectionState", "global_match", "step", "merge_directions"]


@dataclass
class DirectionState:
    """Colour of one frame in one direction: ab (1, 2, h, w), conf (1, 1, h, w) in [0, 1],
    feats (1, C, h, w) of that frame (for the next local match)."""

    ab: torch.Tensor
    conf: torch.Tensor
    feats: torch.Tensor


def global_match(feats: torch.Tensor, ex_feats: torch.Tensor, ex_ab: torch.Tensor, temperature: float):
    """Match (1, C, h, w) features to exemplar features (1, N, C, he, we) carrying chroma
    (1, N, 2, he, we); returns (ab, similarity)."""
    res = correspondence(feats, ex_feats, ex_ab, temperature)
    return res.values, res.max_similarity.clamp(min=0)


def step(feats: torch.Tensor, prev: DirectionState | None, ex_feats, ex_ab, cfg: PropagationConfig) -> DirectionState:
    """Colour of the next frame in one direction (see module doc)."""
    feats = feats.float()
    ab_g, sim_g = global_match(feats, ex_feats, ex_ab, cfg.global_temperature)
    if prev is None:
        return DirectionState(ab_g, sim_g, feats)
    carried = torch.cat([prev.ab, prev.conf], dim=1)
    loc = local_attention(feats, prev.feats.float(), carried, cfg.local_radius, cfg.local_temperature)
    ab_l, conf_l = loc.values[:, :2], loc.values[:, 2:]
    sim_l = loc.max_similarity.clamp(min=0)
    w = torch.softmax(torch.cat([sim_g, sim_l + cfg.continuity_bias], dim=1) / cfg.mix_temperature, dim=1)
    w_g, w_l = w[:, :1], w[:, 1:]
    ab = w_g * ab_g + w_l * ab_l
    conf = w_g * sim_g + w_l * (sim_l * conf_l * cfg.local_decay)
    return DirectionState(ab, conf, feats)


def merge_directions(fwd: DirectionState | None, bwd: DirectionState | None, t_from_start: float, t_to_end: float):
    """Blend the forward and backward colour of a frame: each direction is weighted by its
    confidence and by closeness to the exemplar it came from. Returns (ab, conf)."""
    if fwd is None:
        return bwd.ab, bwd.conf
    if bwd is None:
        return fwd.ab, fwd.conf
    span = t_from_start + t_to_end
    wf = fwd.conf * (t_to_end / span) + 1e-6
    wb = bwd.conf * (t_from_start / span) + 1e-6
    total = wf + wb
    return (wf * fwd.ab + wb * bwd.ab) / total, (wf * fwd.conf + wb * bwd.conf) / total
