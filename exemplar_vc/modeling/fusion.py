"""The fusion slot of stage 2: how one frame's colour is made from its cues, per direction,
and how the two directions are merged.

Stage 2's engine (``propagation/engine.py``) walks each segment forward and backward and
asks a ``Fusion`` module three things:

- ``anchor(frame, exemplar, keys)``: the colour of a key frame from its own exemplar;
- ``step(frame, previous, keys)``: the colour of the next frame in one direction, from the
  exemplar(s) ``keys`` (global correspondence) and the previous frame's state in that
  direction (local correspondence, and for the network also optical flow);
- ``merge(forward, backward, distances)``: one colour from the two directions.

Two implementations: ``HandFusion`` (the hand-written rule, no weights) and
``PropagationNet`` (``modeling/propagation_net.py``, trained). ``build_fusion`` picks one by
name; the engine never needs to know which.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..ops import correspondence, local_attention

__all__ = ["build_fusion", "FusionFrame", "ExemplarKeys", "DirectionState", "Fusion", "HandFusion", "HandFusionConfig", "global_match"]


@dataclass
class FusionFrame:
    """What fusion sees of a frame.

    index: 0-based frame index. feats: (1, C, h, w) unit-norm encoder features at the
    feature grid. luma: (1, 1, H', W') float32 gray in [0, 1] at the working resolution.
    """

    index: int
    feats: torch.Tensor
    luma: torch.Tensor


@dataclass
class ExemplarKeys:
    """Exemplar positions laid side by side as one row of keys for ``ops.correspondence``.

    feats: (1, 1, C, 1, K) unit-norm features; ab: (1, 1, 2, 1, K) CIE a, b per position;
    luma: (1, 1, 1, 1, K) the exemplar's gray in [0, 1] averaged per position (the network
    compares it with the frame's to judge a match; the hand rule does not read it), or None.
    """

    feats: torch.Tensor
    ab: torch.Tensor
    luma: torch.Tensor | None = None


@dataclass
class DirectionState:
    """The colour of one frame in one direction.

    ab: (1, 2, h, w) CIE a, b (at the feature grid for ``HandFusion``, at the working
    resolution for the network). conf: (1, 1, h, w) in [0, 1]. feats, luma: the frame's
    ``FusionFrame`` tensors, kept for the next step's local match (None once no longer
    needed). ab_full: (1, 2, H, W) chroma at the output resolution when it is known
    exactly (a key frame's own colour version), else None. index: the frame's index.
    carry: the chroma handed on to the next frame of this direction when it is not
    ``ab`` (the network, with ``show_correction``, shows a correction it does not
    propagate), else None. detail: (1, 2, H, W) float16 chroma at the output resolution
    finer than ``ab``'s grid, carried from a key frame's exact exemplar
    (``Fusion.carries_detail``), added when the frame is rendered; else None. match_bias: (1, 3, h, w) for the network's exemplar
    match corrected by what it got wrong at the key frame (``PropagationNetConfig.
    match_bias``): that error in a, b carried along the flow, and the share of it still
    trusted (1 at the key frame, 0 once the flow has failed there); else None.
    """

    ab: torch.Tensor
    conf: torch.Tensor
    feats: torch.Tensor | None = None
    luma: torch.Tensor | None = None
    ab_full: torch.Tensor | None = None
    index: int | None = None
    carry: torch.Tensor | None = None
    detail: torch.Tensor | None = None
    match_bias: torch.Tensor | None = None

    @property
    def carried_ab(self) -> torch.Tensor:
        """The chroma the next frame of this direction starts from."""
        return self.ab if self.carry is None else self.carry

    def detached(self) -> "DirectionState":
        """The colour only (what a segment buffer keeps while the backward pass waits)."""
        return DirectionState(self.ab, self.conf, detail=self.detail)


def global_match(feats: torch.Tensor, keys: ExemplarKeys, temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Match (1, C, h, w) features to the exemplar keys; returns (ab (1, 2, h, w),
    max cosine similarity (1, 1, h, w) clamped at 0)."""
    res = correspondence(feats, keys.feats, keys.ab, temperature)
    return res.values, res.max_similarity.clamp(min=0)


class Fusion(nn.Module):
    """Interface of a stage-2 fusion module (see the module doc).

    ``exact_exemplars``: when True, a key frame whose exemplar is its own colour version is
    rendered from the exemplar's chroma at full resolution (``DirectionState.ab_full``).
    ``carries_detail``: when True, such a key frame's chroma finer than the module's grid
    (``DirectionState.detail``) is handed to ``step`` with its state, which carries it on.
    """

    exact_exemplars: bool = False
    carries_detail: bool = False

    def anchor(self, frame: FusionFrame, exemplar, keys: ExemplarKeys) -> DirectionState:  # pragma: no cover - interface
        raise NotImplementedError

    def step(self, frame: FusionFrame, previous: DirectionState | None, keys: ExemplarKeys) -> DirectionState:  # pragma: no cover
        raise NotImplementedError

    def merge(self, forward: DirectionState, backward: DirectionState, distances: tuple[int | None, int]) -> DirectionState:  # pragma: no cover
        raise NotImplementedError


@dataclass(frozen=True)
class HandFusionConfig:
    """Settings of the hand-written rule.

    global_temperature: softmax temperature of the match to exemplars (cosine / T).
    local_radius, local_temperature: window radius (feature cells) and temperature of the
        match to the neighbouring frame.
    mix_temperature: how sharply the better of the global and local matches wins.
    continuity_bias: similarity added to the local match before that contest, so colour
        stays continuous in time unless the exemplar match is clearly better (no flicker).
    local_decay: confidence kept per propagated frame (1.0 = no decay) for the merge.
    unanchored_trust: factor on the confidence of forward colour that no earlier exemplar
        anchors (frames before a shot's first key frame), which matched every exemplar
        with no temporal anchor.
    unanchored_distance: temporal distance given to such colour in the merge.
    """

    global_temperature: float = 0.01
    local_radius: int = 4
    local_temperature: float = 0.01
    mix_temperature: float = 0.02
    continuity_bias: float = 0.01
    local_decay: float = 0.98
    unanchored_trust: float = 0.5
    unanchored_distance: float = 1.0


class HandFusion(Fusion):
    """The hand-written rule (no trained weights).

    Step at frame t:
    - global: softmax match of frame t to the direction's exemplar(s) -> ab_g, sim_g;
    - local: softmax match of frame t to frame t-1 (t+1 backward) in a small window,
      carrying that frame's chroma and confidence -> ab_l, sim_l, conf_l;
    - mix: per position, the better similarity wins (softmax over {sim_g, sim_l + bias} at
      ``mix_temperature``; the bias favours continuity in time); confidence is sim_g for
      global colour and sim_l * conf_l * decay for carried colour, so it fades with
      distance from an exemplar.
    Merge: each direction weighted by its confidence and by closeness to its exemplar.
    Everything is on the feature grid.
    """

    def __init__(self, config: HandFusionConfig = HandFusionConfig()):
        super().__init__()
        self.config = config

    def anchor(self, frame: FusionFrame, exemplar, keys: ExemplarKeys) -> DirectionState:
        if exemplar.ab_aligned is not None:
            ab = exemplar.ab_aligned
            return DirectionState(ab, torch.ones_like(ab[:, :1]), frame.feats, frame.luma)
        return self.step(frame, None, keys)

    def step(self, frame: FusionFrame, previous: DirectionState | None, keys: ExemplarKeys) -> DirectionState:
        cfg = self.config
        feats = frame.feats.float()
        ab_g, sim_g = global_match(feats, keys, cfg.global_temperature)
        if previous is None:
            return DirectionState(ab_g, sim_g, feats, frame.luma)
        carried = torch.cat([previous.ab, previous.conf], dim=1)
        loc = local_attention(feats, previous.feats.float(), carried, cfg.local_radius, cfg.local_temperature)
        ab_l, conf_l = loc.values[:, :2], loc.values[:, 2:]
        sim_l = loc.max_similarity.clamp(min=0)
        w = torch.softmax(torch.cat([sim_g, sim_l + cfg.continuity_bias], dim=1) / cfg.mix_temperature, dim=1)
        w_g, w_l = w[:, :1], w[:, 1:]
        ab = w_g * ab_g + w_l * ab_l
        conf = w_g * sim_g + w_l * (sim_l * conf_l * cfg.local_decay)
        return DirectionState(ab, conf, feats, frame.luma)

    def merge(self, forward: DirectionState, backward: DirectionState, distances: tuple[int | None, int]) -> DirectionState:
        t_from_start, t_to_end = distances
        if t_from_start is None:  # no earlier exemplar anchors the forward colour
            forward = DirectionState(forward.ab, forward.conf * self.config.unanchored_trust)
            t_from_start = self.config.unanchored_distance
        span = t_from_start + t_to_end
        wf = forward.conf * (t_to_end / span) + 1e-6
        wb = backward.conf * (t_from_start / span) + 1e-6
        total = wf + wb
        return DirectionState((wf * forward.ab + wb * backward.ab) / total, (wf * forward.conf + wb * backward.conf) / total)


def build_fusion(name: str, hand: HandFusionConfig = HandFusionConfig(), network=None, pretrained: bool = True) -> Fusion:
    """The fusion module named ``name``: "hand" or "network" (``network`` settings; with
    its trained weights unless ``pretrained`` is False, e.g. when saved weights follow)."""
    if name == "hand":
        return HandFusion(hand)
    if name == "network":
        from .propagation_net import PropagationNet, PropagationNetConfig

        network = network or PropagationNetConfig()
        return PropagationNet.from_pretrained(network) if pretrained else PropagationNet(network)
    raise ValueError(f"expected fusion 'hand' or 'network', got {name!r}")
