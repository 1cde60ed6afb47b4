"""One training step of the propagation network on a batch of segments.

Each segment is walked forward from its left exemplar and backward from its right one,
exactly as stage 2 does at run time (``PropagationNet.anchor`` and ``step``: the same
cues, the key frame's match error carried, the same U-Net, the losses on the colour it
shows), and the two directions are merged by the merge head. Each step sees the
network's own previous output (so it learns to correct its drift). How far back the
gradient flows through that recurrence is ``backprop_steps``: 1 (the default) truncates
it at one step, so no gradient reaches the previous output; K lets a loss at frame t
reach the choices made at frames t-K+1..t (the carried blend and confidence go through
the flow warp and the local attention, both differentiable), so the network can learn
what mixing a dull candidate into the carry costs the frames after it.

Losses (chroma in CIE ab units / 10):
- L1 of each direction's chroma and of the merged chroma against the truth;
- temporal: L1 between the merged chroma at t and the merged chroma at t-1 carried by
  the flow, where the flow passes the forward-backward check (flicker);
- confidence: L1 between the predicted confidence and exp(-|error| / 10) of its own
  chroma (so confidence says how right the colour is, which the merge reads);
- chroma (off unless ``LossWeights.chroma`` > 0): per frame, the shown colour's mean
  chroma magnitude against the truth's, one-sided (only a shortfall counts). L1 settles
  on the average of the colours it hesitates between, which is duller than any of them;
  this asks the frame as a whole to stay as vivid as the truth without dictating hues.

A trailing segment (``forward_only``: an exemplar at its start and none after it, as
every segment of the first-frame protocol and the last segment of a shot) is walked
forward only, as stage 2 does it; the forward chroma then takes the merged chroma's
place in the L1 and temporal losses. Long trailing segments are where the network meets
its own drift: 1-step truncated recurrence never sees what 30 frames of it look like.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..color.luma import lab_to_rgb_keep_luma
from ..modeling.fusion import DirectionState, ExemplarKeys, FusionFrame
from ..modeling.propagation_net import (
    HAS_PREVIOUS,
    VALIDITY,
    PropagationNet,
    carry_match_error,
    compose_output,
    direction_cues,
    dis_flow_pair,
    flow_validity,
    hold_match_error,
    key_frame_match_error,
)
from ..ops import warp
from .data import TrainingSegment

__all__ = ["LossWeights", "train_step", "segment_losses"]


@dataclass(frozen=True)
class LossWeights:
    direction: float = 0.5
    merged: float = 1.0
    temporal: float = 0.2
    confidence: float = 0.5
    chroma: float = 0.0
    composed: float = 0.0


def _composed_error(ab: torch.Tensor, truth: torch.Tensor, luma: torch.Tensor) -> torch.Tensor:
    """Mean |RGB of ``ab`` on the gray - RGB of the truth's ab on it|, composed as the
    output is (``lab_to_rgb_keep_luma``: out-of-gamut chroma shrinks there), in 8-bit
    levels / 10, the scale of the ab terms. The ab loss alone never sees that step."""
    with torch.no_grad():
        target = lab_to_rgb_keep_luma(luma, truth)
    return (lab_to_rgb_keep_luma(luma, ab) - target).abs().mean() * 25.5


def _chroma_shortfall(ab: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Per frame of the batch: how much duller (mean |ab|) the shown colour is than the
    truth, in ab units / 10; zero when it is as vivid or more."""
    shown = ab.norm(dim=1).mean(dim=(1, 2))
    true = truth.norm(dim=1).mean(dim=(1, 2))
    return F.relu(true - shown).mean() / 10.0


def _keys(exemplar) -> ExemplarKeys:
    feats, ab, _, luma = exemplar

    def row(x):
        return F.adaptive_avg_pool2d(x, feats.shape[-2:]).flatten(2)[:, None, :, None, :]

    return ExemplarKeys(row(feats), row(ab), row(luma))


def _direction(
    net: PropagationNet, segs: list[TrainingSegment], order: list[int], side: int, flows, backprop_steps: int = 1
) -> list[DirectionState]:
    """Run one direction over all segments of the batch in lockstep; returns the batched
    state (B, ...) at every position of ``order`` (listed in that order). The carried
    state is cut from the graph every ``backprop_steps`` steps (see the module doc)."""
    if backprop_steps < 1:
        raise ValueError(f"expected backprop_steps >= 1, got {backprop_steps}")
    config = net.config
    keys = [_keys(s.left if side == 0 else s.right) for s in segs]
    prev: list[DirectionState | None] = [None] * len(segs)
    bias: list[torch.Tensor | None] = [None] * len(segs)  # the key frame's match error, as ``PropagationNet.step`` carries it
    out = []
    for step, t in enumerate(order):
        frames = [FusionFrame(t, s.feats[t : t + 1], s.luma[t : t + 1]) for s in segs]
        if step == 0:
            states = []
            for i, s in enumerate(segs):
                aligned = (s.left if side == 0 else s.right)[2]
                if aligned is not None:
                    states.append(DirectionState(aligned, torch.ones_like(aligned[:, :1]), frames[i].feats, frames[i].luma))
                    if config.match_bias:
                        bias[i] = key_frame_match_error(config, frames[i], keys[i], aligned)
                else:
                    states.append(None)
            need = [i for i, st in enumerate(states) if st is None]
        else:
            states = [None] * len(segs)
            need = list(range(len(segs)))
        if need:
            cues, cands = [], []
            for i in need:
                f = flows[i].get((t, order[step - 1])) if step else None
                if bias[i] is not None:
                    bias[i] = carry_match_error(bias[i], f[0])
                c, cand = direction_cues(config, frames[i], prev[i], keys[i], f, bias[i])
                if bias[i] is not None:
                    bias[i] = hold_match_error(bias[i], c[:, VALIDITY : VALIDITY + 1])
                cues.append(c)
                cands.append(cand)
            feats = torch.cat([frames[i].feats for i in need])
            head = net.unet(torch.cat(cues), feats)
            cues_all = torch.cat(cues)
            ab, conf, blend = compose_output(head, torch.cat(cands), cues_all[:, HAS_PREVIOUS : HAS_PREVIOUS + 1])
            shown = ab if config.show_correction else blend  # the losses see what stage 2 shows
            for j, i in enumerate(need):
                states[i] = DirectionState(shown[j : j + 1], conf[j : j + 1], frames[i].feats, frames[i].luma, carry=blend[j : j + 1])
        out.append(states)
        if (step + 1) % backprop_steps == 0:  # truncate: the next step reads this output without its gradient
            prev = [DirectionState(st.ab.detach(), st.conf.detach(), st.feats, st.luma, carry=st.carried_ab.detach()) for st in states]
        else:
            prev = states
    return [DirectionState(torch.cat([st.ab for st in states]), torch.cat([st.conf for st in states])) for states in out]


def _flows(segs: list[TrainingSegment], preset: str) -> list[dict]:
    """Flows between consecutive frames of each segment, both ways, computed once."""
    out = []
    for s in segs:
        d = {}
        for t in range(len(s.indices) - 1):
            a_to_b, b_to_a = dis_flow_pair(s.luma[t : t + 1], s.luma[t + 1 : t + 2], preset)
            d[(t, t + 1)] = (a_to_b, b_to_a)  # frame t reads t+1 (backward pass)
            d[(t + 1, t)] = (b_to_a, a_to_b)  # frame t+1 reads t (forward pass)
        out.append(d)
    return out


def segment_losses(
    net: PropagationNet,
    segs: list[TrainingSegment],
    weights: LossWeights = LossWeights(),
    flow_preset: str = "medium",
    forward_only: bool = False,
    backprop_steps: int = 1,
) -> tuple[torch.Tensor, dict]:
    """Total loss of a batch of segments of equal length and crop, and its parts.
    ``forward_only``: trailing segments (see the module doc); their right exemplars are
    not used. ``backprop_steps``: how far the gradient runs back through the recurrence."""
    T = len(segs[0].indices)
    flows = _flows(segs, flow_preset)
    gt = torch.stack([s.ab for s in segs], dim=1)  # (T, B, 2, h, w)
    luma = torch.stack([s.luma for s in segs], dim=1)  # (T, B, 1, h, w)
    fwd = _direction(net, segs, list(range(T)), 0, flows, backprop_steps)
    if forward_only:
        return _trailing_losses(fwd, gt, flows, weights, luma)
    bwd = _direction(net, segs, list(range(T - 1, -1, -1)), 1, flows, backprop_steps)[::-1]

    def l1(ab, t):
        return (ab - gt[t]).abs().mean() / 10.0

    def conf_loss(state, t):
        target = torch.exp(-(state.ab.detach() - gt[t]).abs().sum(1, keepdim=True) / 10.0)
        return (state.conf - target).abs().mean()

    stats = {"fwd": 0.0, "bwd": 0.0, "merged": 0.0, "temporal": 0.0, "conf": 0.0, "flow_1step": 0.0}
    total = torch.zeros(())
    inner = range(1, T - 1)
    merged = {}
    for t in range(T):
        lf, lb = l1(fwd[t].ab, t), l1(bwd[t].ab, t)
        lc = (conf_loss(fwd[t], t) + conf_loss(bwd[t], t)) / 2
        total = total + weights.direction * (lf + lb) / 2 / T + weights.confidence * lc / T
        stats["fwd"] += lf.item() / T
        stats["bwd"] += lb.item() / T
        stats["conf"] += lc.item() / T
    for t in inner:
        share = torch.tensor([(T - 1 - t) / (T - 1)] * len(segs)).view(-1, 1, 1, 1)
        ab, conf = net.merge_head(fwd[t].ab, fwd[t].conf, bwd[t].ab, bwd[t].conf, share, torch.ones_like(share), t, T - 1 - t)
        merged[t] = ab
        lm = l1(ab, t)
        total = total + weights.merged * lm / len(inner)
        stats["merged"] += lm.item() / len(inner)
        if weights.chroma:
            ls = _chroma_shortfall(ab, gt[t])
            total = total + weights.chroma * ls / len(inner)
            stats["chroma"] = stats.get("chroma", 0.0) + ls.item() / len(inner)
        if weights.composed:
            lr = _composed_error(ab, gt[t], luma[t])
            total = total + weights.composed * lr / len(inner)
            stats["composed"] = stats.get("composed", 0.0) + lr.item() / len(inner)
    lt = _temporal(merged, flows, inner)
    total = total + weights.temporal * lt
    stats["temporal"] = lt.item()
    stats["flow_1step"] = _flow_1step(gt, flows)
    return total, stats


def _temporal(shown: dict, flows: list[dict], ts) -> torch.Tensor:
    """Mean over ``ts`` of the flicker loss: L1 between the colour shown at t and the
    colour shown at t-1 carried by the flow, where the flow passes its check."""
    total, count = torch.zeros(()), max(1, len(ts))
    for t in ts:
        if t - 1 not in shown:
            continue
        to_prev = torch.cat([f[(t, t - 1)][0] for f in flows])
        from_prev = torch.cat([f[(t, t - 1)][1] for f in flows])
        carried, inside = warp(shown[t - 1].detach(), to_prev)
        valid = flow_validity(to_prev, from_prev) * inside
        total = total + ((shown[t] - carried).abs() * valid).mean() / 10.0 / count
    return total


def _flow_1step(gt: torch.Tensor, flows: list[dict]) -> float:
    """Reference: the error of carrying the true colour one frame by the flow."""
    T = gt.shape[0]
    err = 0.0
    for t in range(1, T):
        to_prev = torch.cat([f[(t, t - 1)][0] for f in flows])
        err += (warp(gt[t - 1], to_prev).warped - gt[t]).abs().mean().item() / 10.0 / (T - 1)
    return err


def _trailing_losses(fwd: list[DirectionState], gt: torch.Tensor, flows: list[dict], weights: LossWeights, luma: torch.Tensor) -> tuple[torch.Tensor, dict]:
    """Losses of a trailing segment: the forward output is what is shown."""
    T = gt.shape[0]
    later = range(1, T)  # frame 0 is the exemplar's own colour when it is aligned
    total = torch.zeros(())
    stats = {"fwd": 0.0, "conf": 0.0, "late": 0.0}
    for t in later:
        lf = (fwd[t].ab - gt[t]).abs().mean() / 10.0
        target = torch.exp(-(fwd[t].ab.detach() - gt[t]).abs().sum(1, keepdim=True) / 10.0)
        lc = (fwd[t].conf - target).abs().mean()
        total = total + (weights.merged * lf + weights.confidence * lc) / len(later)
        stats["fwd"] += lf.item() / len(later)
        stats["conf"] += lc.item() / len(later)
        if weights.chroma:
            ls = _chroma_shortfall(fwd[t].ab, gt[t])
            total = total + weights.chroma * ls / len(later)
            stats["chroma"] = stats.get("chroma", 0.0) + ls.item() / len(later)
        if weights.composed:
            lr = _composed_error(fwd[t].ab, gt[t], luma[t])
            total = total + weights.composed * lr / len(later)
            stats["composed"] = stats.get("composed", 0.0) + lr.item() / len(later)
    stats["late"] = (fwd[-1].ab - gt[-1]).abs().mean().item() / 10.0  # the drift at the end
    lt = _temporal({t: fwd[t].ab for t in range(T)}, flows, later)
    total = total + weights.temporal * lt
    stats["temporal"] = lt.item()
    stats["flow_1step"] = _flow_1step(gt, flows)
    return total, stats


def train_step(
    net: PropagationNet,
    segs: list[TrainingSegment],
    optimizer: torch.optim.Optimizer,
    weights: LossWeights = LossWeights(),
    clip_norm: float = 1.0,
    forward_only: bool = False,
    backprop_steps: int = 1,
    flow_preset: str = "medium",
) -> dict:
    """One optimisation step; returns the loss parts (floats)."""
    net.train()
    optimizer.zero_grad(set_to_none=True)
    total, stats = segment_losses(net, segs, weights, flow_preset, forward_only=forward_only, backprop_steps=backprop_steps)
    total.backward()
    torch.nn.utils.clip_grad_norm_(net.parameters(), clip_norm)
    optimizer.step()
    stats["total"] = total.item()
    return stats
