"""The trained propagation network: the second implementation of the fusion slot.

Per frame and direction it gathers cues at the working resolution (``direction_cues``):

- ``flow``: the previous output's chroma and confidence carried by dense optical flow
  (OpenCV DIS between the two gray frames, warped with ``ops.warp``), with a validity
  mask from the forward-backward check (Sundaram, Brox and Keutzer, ECCV 2010) and the
  photometric error of the warp: sharp, saturated colour wherever the flow holds;
- ``global``: the softmax match of the frame's encoder features to the exemplar(s)
  (``ops.correspondence``): colour that recovers after occlusions and drift; less the
  match's own error at the last key frame, carried along the flow (``match_bias``);
- ``local``: the softmax match to the previous frame within a small window
  (``ops.local_attention``) carrying the previous output: colour that follows motion
  too large or too ambiguous for the flow;
- agreement of the two correspondences: how far the gray of what each matched lies from
  this frame's gray, and how spread the colours it averaged are (a match that averages
  unlike colours gives a dull, doubtful candidate). The match carries the matched gray and
  squared chroma alongside the chroma, so this costs no second search.

A small encoder-decoder (``PropagationUNet``) reads these cues, the luminance and the
frozen encoder's features and predicts, per pixel at half the working resolution, how
much to trust each of the three candidate colours, a chroma correction and a confidence.
The output chroma is the trusted blend of the candidates at the working resolution, so
where the flow holds, colour keeps its full-resolution edges. Only the blend is handed on
to the next frame: a correction fed back frame after frame drifted (on held-out clips,
1.5-3 dB lost over 60 frames). The correction, trained to be added to what is shown,
gained nothing measurable on held-out clips, so by default it is not shown either
(``PropagationNetConfig.show_correction``). The two directions are merged by a per-pixel
learned weight (``MergeHead``) from both outputs, their confidences and the temporal
distances to the two exemplars (trained on segments as long as the gaps between
exemplars: ``exemplar_vc.training.merge``).

Trained by ``training/train_fusion.py``; weights ship in ``exemplar_vc/weights/``.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InputError
from ..ops import correspondence, local_attention, warp, warp_replicate
from .fusion import DirectionState, ExemplarKeys, Fusion, FusionFrame, global_match

__all__ = ["PropagationNetConfig", "PropagationNet", "PropagationUNet", "MergeHead", "distance_feature", "widen_merge_head", "direction_cues", "carry_detail", "dis_flow_pair", "CUE_CHANNELS", "HAS_PREVIOUS", "VALIDITY", "DEFAULT_WEIGHTS", "key_frame_match_error", "carry_match_error", "hold_match_error"]

DEFAULT_WEIGHTS = Path(__file__).resolve().parent.parent / "weights" / "propagation_net_v18.safetensors"

# Chroma is fed and predicted in units of AB_SCALE (CIE a, b of real footage mostly lie
# within +-64), so inputs sit near [-1, 1].
AB_SCALE = 64.0
# |a|, |b| of sRGB colours stay below ~110 (D65); nothing beyond is a colour to predict.
AB_LIMIT = 110.0
# Input channels of the U-Net: L; flow ab, confidence, validity, photometric error;
# global ab, similarity; local ab, carried confidence, similarity; "has a previous frame";
# then (added in v9) how far the gray of what each correspondence matched is from this
# frame's (global, local) and how far apart the colours it averaged lie (global, local).
CUE_CHANNELS = 18
HAS_PREVIOUS = 13  # the channel saying whether a previous frame exists
VALIDITY = 4  # the channel of the flow's forward-backward validity


# name -> (OpenCV DIS preset, finest scale or None for the preset's own). "fine" is
# MEDIUM estimated down to full resolution (MEDIUM stops at half and upsamples).
_PRESETS = {"ultrafast": (0, None), "fast": (1, None), "medium": (2, None), "fine": (2, 0)}


@dataclass(frozen=True)
class PropagationNetConfig:
    """Settings of the propagation network.

    weights: safetensors file of the trained weights (None: the shipped ones).
    encoder_channels: channels of the frozen encoder's features (176 for
        EfficientNet-Lite0 blocks 2, 4, 10).
    widths: channels of the U-Net at 1/2, 1/4 and 1/8 of the working resolution.
    feature_channels: the encoder's features are reduced to this many at 1/8.
    global_temperature, local_radius, local_temperature: the two correspondences
        (as in the hand rule).
    flow_preset: OpenCV DIS preset, "ultrafast", "fast", "medium" (how the shipped weights
        were trained) or "fine" (the default: MEDIUM estimated down to full resolution
        instead of stopping at half; about 4x the flow's time, +0.09 dB first-frame on
        the held-out clips with the same weights, benchmarks/README.md).
    flow_cache_pairs: frame pairs whose flows are kept for the other direction's pass
        (4 MB each at 384x680); 0 recomputes them.
    padding_mode: how the U-Net's 3x3 convolutions see past the frame's edge:
        "replicate" (the edge pixel continues; the default since v9) or "zeros" (as the
        shipped weights were trained). With zeros the edge looks unlike the interior: on
        a still shot the network gives the exemplar match up to 3/4 of the weight along
        the edges (interior: under 1 %) and the colour there drifts by up to 15 levels in
        5 frames (v9 with plain matches; v7: 34, v5: 53); "replicate" with the same weights
        leaves 2 levels. With ``match_detail`` both leave at most 1 level.
        It cost v5 0.07 dB mean PSNR on the held-out clips (first-frame), but v9 gains
        0.01 dB with it in both protocols (benchmarks/README.md).
    flow_border: what the flow candidate holds where the flow points outside the
        previous frame (new ground entering the picture): "replicate" (the nearest edge
        colour, as the flow baseline does; the validity cue still says it is outside) or
        "zeros" (no colour, as v1-v5 were trained).
    match_detail: the global and local candidates (chroma on the 1/8 feature grid,
        bilinearly enlarged) get the flow candidate's detail finer than that grid where
        the flow is valid, so mixing them in corrects the colour without blurring it.
        Without it every frame that gives the matches some weight smooths the colour it
        hands on, and the blur compounds: on a dim, noisy held-out clip (sample4) the
        network gave them ~25 % and fell 3.8 dB behind plain flow. With the same
        weights (trained without it) it gains there and costs nothing elsewhere
        (benchmarks/README.md).
    carry_detail: a key frame rendered from its exemplar's own chroma at full resolution
        hands the part of it finer than the working resolution (``DirectionState.detail``)
        on along the flow, kept where the flow is valid, so its neighbours keep the detail
        instead of stepping down to the working resolution's (as plain flow at full
        resolution keeps it).
    match_bias: at a key frame with its own colour version, the exemplar match's error
        (the match minus the exemplar's chroma: colour averaged over the feature grid, a
        saturated region matched duller) is known exactly; it is carried along the flow and
        taken off the exemplar match of the following frames, for the share of each pixel
        whose flow has held since the key frame. A match that is off by a broad colour
        then no longer pulls the propagated colour towards it frame after frame.
    time_symmetric_merge: the merge weighs the two directions as it would weigh them in
        the clip played backwards (``MergeHead.time_symmetric``), when both have an
        exemplar. Both directions run one recurrence, so nothing but the footage should
        make one of them more trusted; v18's head, fitted without this, gave the forward
        colour one frame after an exemplar 0.64 of the weight where it gave the backward
        colour one frame before one 0.98 (benchmarks/README.md).
    show_correction: whether the shown colour adds the U-Net's chroma correction to the
        blend of the candidates (as the network was trained). Off by default: on the 11
        held-out clips it is worth -0.06 to +0.05 dB on ten and costs 0.48 dB on the dim
        blue one, whose keep-luma composition magnifies small chroma errors
        (benchmarks/README.md); the blend alone is what the network hands on anyway.
    """

    weights: str | None = None
    encoder_channels: int = 176
    widths: tuple[int, int, int] = (16, 32, 64)
    feature_channels: int = 32
    global_temperature: float = 0.01
    local_radius: int = 4
    local_temperature: float = 0.01
    flow_preset: str = "fine"
    flow_cache_pairs: int = 32
    padding_mode: str = "replicate"
    flow_border: str = "replicate"
    match_detail: bool = True
    carry_detail: bool = True
    match_bias: bool = True
    show_correction: bool = False
    time_symmetric_merge: bool = True

    def __post_init__(self) -> None:
        if self.flow_preset not in _PRESETS:
            raise InputError(f"expected propagation.network.flow_preset in {sorted(_PRESETS)}, got {self.flow_preset!r}")
        for name in ("padding_mode", "flow_border"):
            value = getattr(self, name)
            if value not in ("replicate", "zeros"):
                raise InputError(f"expected propagation.network.{name} 'replicate' or 'zeros', got {value!r}")


# -- cues ---------------------------------------------------------------------------


def _to_u8(luma: torch.Tensor) -> np.ndarray:
    return (luma[0, 0].float().clamp(0, 1) * 255.0).round().to(torch.uint8).cpu().numpy()


def dis_flow_pair(luma_a: torch.Tensor, luma_b: torch.Tensor, preset: str = "medium") -> tuple[torch.Tensor, torch.Tensor]:
    """Optical flow both ways between two (1, 1, H, W) gray frames in [0, 1] (DIS,
    Kroeger et al., ECCV 2016). Returns (flow a->b, flow b->a), each (1, 2, H, W) float32
    pixels on the frames' device."""
    import cv2

    if preset not in _PRESETS:
        raise ValueError(f"expected flow_preset in {sorted(_PRESETS)}, got {preset!r}")
    code, finest = _PRESETS[preset]
    dis = cv2.DISOpticalFlow_create(code)
    if finest is not None:
        dis.setFinestScale(finest)
    a, b = _to_u8(luma_a), _to_u8(luma_b)
    flows = [torch.from_numpy(dis.calc(x, y, None)).permute(2, 0, 1)[None] for x, y in ((a, b), (b, a))]
    return flows[0].to(luma_a.device), flows[1].to(luma_a.device)


def flow_validity(flow_ab: torch.Tensor, flow_ba: torch.Tensor) -> torch.Tensor:
    """(1, 1, H, W) 1.0 where the flow a->b is undone by b->a and lands inside b.

    Forward-backward check (Sundaram et al. 2010, as used by Lai et al., ECCV 2018):
    |w + v|^2 < 0.01 (|w|^2 + |v|^2) + 0.5 with w = flow_ab(x), v = flow_ba(x + w).
    """
    back, inside = warp(flow_ba, flow_ab)
    err = ((flow_ab + back) ** 2).sum(1, keepdim=True)
    bound = 0.01 * ((flow_ab**2).sum(1, keepdim=True) + (back**2).sum(1, keepdim=True)) + 0.5
    return ((err < bound).float() * inside)


def carry_detail(detail: torch.Tensor, to_prev: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """The previous frame's fine chroma (1, 2, H, W) at the output resolution carried to
    this frame by the working-resolution flow ``to_prev`` (enlarged and rescaled to H, W),
    kept where ``valid`` (1, 1, h, w), the flow's validity cue (``flow_validity``), holds
    and zero elsewhere; same dtype as ``detail``."""
    size = detail.shape[-2:]
    h, w = to_prev.shape[-2:]
    scale = torch.tensor([size[1] / w, size[0] / h], dtype=torch.float32, device=to_prev.device).view(1, 2, 1, 1)
    warped, inside = warp(detail.float(), _up(to_prev.float(), size) * scale)
    return (warped * _up(valid.float(), size) * inside).to(detail.dtype)


def _up(x: torch.Tensor, size) -> torch.Tensor:
    return x if tuple(x.shape[-2:]) == tuple(size) else F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def direction_cues(
    config: PropagationNetConfig,
    frame: FusionFrame,
    previous: DirectionState | None,
    keys: ExemplarKeys,
    flows: tuple[torch.Tensor, torch.Tensor] | None = None,
    match_bias: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The network's input for one frame in one direction.

    Args:
        frame: this frame (feats at 1/8 of ``luma``'s size).
        previous: the previous frame's output in this direction (ab, conf at the working
            resolution, with its feats and luma), or None at the start of a pass.
        keys: the direction's exemplar keys.
        flows: optional precomputed (flow this->previous, flow previous->this).
        match_bias: optional (1, 3, H, W) the exemplar match's error at the last key frame
            carried to this frame (a, b) and its trust before this frame's flow check
            (``PropagationNetConfig.match_bias``); taken off the global candidate only.

    Returns:
        cues (1, CUE_CHANNELS, H, W) and candidates (1, 3, 2, H, W): the flow, global and
        local chroma (CIE a, b) at the working resolution.
    """
    size = frame.luma.shape[-2:]
    feats = frame.feats.float()
    grid = feats.shape[-2:]
    luma_grid = F.adaptive_avg_pool2d(frame.luma, grid)
    match_g = correspondence(feats, keys.feats, _match_values(keys.ab, keys.luma, dim=2), config.global_temperature)
    ab_g, sim_g = _up(match_g.values[:, :2], size), _up(match_g.max_similarity.clamp(min=0), size)
    agree_g = _up(_agreement(match_g.values, luma_grid), size)
    if previous is None:
        zeros = torch.zeros_like(frame.luma)
        ab_w = ab_l = torch.zeros_like(ab_g)
        conf_w = valid = photo = conf_l = sim_l = has_prev = zeros
        agree_l = torch.zeros_like(agree_g)
        detail = 0.0
    else:
        if flows is None:
            flows = dis_flow_pair(frame.luma, previous.luma, config.flow_preset)
        to_prev, from_prev = flows
        carried = torch.cat([previous.carried_ab, previous.conf, previous.luma], dim=1)
        warped, inside = (warp_replicate if config.flow_border == "replicate" else warp)(carried, to_prev)
        photo = (frame.luma - warped[:, 3:4]).abs()  # with the border repeated: how far the edge is off
        if config.flow_border == "zeros":
            photo = photo * inside
        ab_w, conf_w = warped[:, :2], warped[:, 2:3]
        valid = flow_validity(to_prev, from_prev) * inside
        carried_grid = F.adaptive_avg_pool2d(torch.cat([previous.carried_ab, previous.conf, previous.luma], dim=1), grid)
        values = torch.cat([_match_values(carried_grid[:, :2], carried_grid[:, 3:4]), carried_grid[:, 2:3]], dim=1)
        loc = local_attention(feats, previous.feats.float(), values, config.local_radius, config.local_temperature)
        ab_l, conf_l = _up(loc.values[:, :2], size), _up(loc.values[:, 4:5], size)
        sim_l = _up(loc.max_similarity.clamp(min=0), size)
        agree_l = _up(_agreement(loc.values[:, :4], luma_grid), size)
        has_prev = torch.ones_like(frame.luma)
        # Added to the candidates only: the cues stay what the U-Net learnt from.
        detail = valid * (ab_w - _up(F.adaptive_avg_pool2d(ab_w, grid), size)) if config.match_detail else 0.0
    global_candidate = ab_g + detail
    if match_bias is not None and previous is not None:
        # The corrected match already holds the key frame's detail where it is trusted.
        trust = match_bias[:, 2:3] * valid
        global_candidate = ab_g - trust * match_bias[:, :2] + (1 - trust) * detail
    cues = torch.cat(
        [
            frame.luma, ab_w / AB_SCALE, conf_w, valid, photo, ab_g / AB_SCALE, sim_g, ab_l / AB_SCALE, conf_l, sim_l, has_prev,
            agree_g[:, :1], agree_l[:, :1], agree_g[:, 1:], agree_l[:, 1:],
        ],
        dim=1,
    )
    return cues, torch.stack([ab_w, global_candidate, ab_l + detail], dim=1)


def key_frame_match_error(config: PropagationNetConfig, frame: FusionFrame, keys: ExemplarKeys, ab: torch.Tensor) -> torch.Tensor:
    """(1, 3, H, W): the exemplar match's chroma minus the key frame's own ``ab``, and a
    trust of 1 (``PropagationNetConfig.match_bias``)."""
    matched = _up(global_match(frame.feats.float(), keys, config.global_temperature)[0], ab.shape[-2:])
    return torch.cat([matched - ab, torch.ones_like(ab[:, :1])], dim=1)


def carry_match_error(bias: torch.Tensor, to_prev: torch.Tensor) -> torch.Tensor:
    """The previous frame's match error and trust carried to this frame by the flow."""
    return warp_replicate(bias, to_prev)[0]


def hold_match_error(bias: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Trust only what the flow has carried unbroken since the key frame."""
    return torch.cat([bias[:, :2], bias[:, 2:3] * valid], dim=1)


def _match_values(ab: torch.Tensor, luma: torch.Tensor | None, dim: int = 1) -> torch.Tensor:
    """What a correspondence carries from each matched position: a, b, gray, a^2 + b^2
    (the last two say how alike the matched gray is and how spread the averaged colours
    are). ab and luma on the same positions, channels along ``dim``."""
    if luma is None:
        raise InputError("expected exemplar keys with their gray (ExemplarKeys.luma) for the propagation network, got None")
    return torch.cat([ab, luma, (ab**2).sum(dim, keepdim=True)], dim=dim)


def _agreement(values: torch.Tensor, luma_grid: torch.Tensor) -> torch.Tensor:
    """(B, 2, h, w): |this frame's gray - the matched gray| and the spread (standard
    deviation, AB_SCALE units) of the colours the match averaged, from ``_match_values``
    averaged by the match."""
    photo = (luma_grid - values[:, 2:3]).abs()
    spread = (values[:, 3:4] - (values[:, :2] ** 2).sum(1, keepdim=True)).clamp(min=0).sqrt() / AB_SCALE
    return torch.cat([photo, spread], dim=1)


# -- networks -----------------------------------------------------------------------
def _block(cin: int, cout: int, stride: int, padding_mode: str) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, 1, padding_mode=padding_mode),
        nn.LeakyReLU(0.1, inplace=True),
        nn.Conv2d(cout, cout, 3, 1, 1, padding_mode=padding_mode),
        nn.LeakyReLU(0.1, inplace=True),
    )


class PropagationUNet(nn.Module):
    """cues (B, CUE_CHANNELS, H, W), feats (B, C, H/8, W/8) -> (B, 6, H/2, W/2): three
    candidate logits, a chroma correction (a, b in AB_SCALE units) and a confidence logit.
    H and W must be multiples of 8."""

    def __init__(self, config: PropagationNetConfig):
        super().__init__()
        w1, w2, w3 = config.widths
        pad = config.padding_mode
        self.enc1 = _block(CUE_CHANNELS, w1, 1, pad)
        self.enc2 = _block(w1, w2, 2, pad)
        self.enc3 = _block(w2, w3, 2, pad)
        self.feats = nn.Sequential(nn.Conv2d(config.encoder_channels, config.feature_channels, 1), nn.LeakyReLU(0.1, inplace=True))
        self.fuse = _block(w3 + config.feature_channels, w3, 1, pad)
        self.dec2 = _block(w3 + w2, w2, 1, pad)
        self.dec1 = _block(w2 + w1, w1, 1, pad)
        self.head = nn.Conv2d(w1, 6, 1)
        with torch.no_grad():  # start close to the flow baseline: trust the flow candidate
            self.head.weight.mul_(0.1)
            self.head.bias.zero_()
            self.head.bias[0] = 2.0

    def forward(self, cues: torch.Tensor, feats: torch.Tensor) -> torch.Tensor:
        x1 = self.enc1(F.avg_pool2d(cues, 2))
        x2 = self.enc2(x1)
        x3 = self.enc3(x2)
        x3 = self.fuse(torch.cat([x3, self.feats(_up(feats, x3.shape[-2:]))], dim=1))
        y2 = self.dec2(torch.cat([_up(x3, x2.shape[-2:]), x2], dim=1))
        y1 = self.dec1(torch.cat([_up(y2, x1.shape[-2:]), x1], dim=1))
        return self.head(y1)


def compose_output(head: torch.Tensor, candidates: torch.Tensor, has_prev: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Blend the candidates by the predicted trust and add the correction.

    head: (B, 6, H/2, W/2) network output; candidates (B, 3, 2, H, W); has_prev
    (B, 1, H, W). Flow and local candidates that do not exist (no previous frame) get no
    weight. Returns ab (B, 2, H, W) with the correction, conf (B, 1, H, W) and the blend
    alone (B, 2, H, W), which is what the next frame is propagated from.
    """
    size = candidates.shape[-2:]
    head = _up(head, size)
    logits = head[:, :3]
    # No previous frame: only the global candidate exists.
    mask = torch.cat([has_prev, torch.ones_like(has_prev), has_prev], dim=1)
    logits = logits.masked_fill(mask == 0, -1e4)
    weights = torch.softmax(logits, dim=1)
    # The blend (what the next frame starts from) stays within its candidates; the shown
    # colour adds a bounded correction and is kept inside the range of real chroma.
    blend = (weights[:, :, None] * candidates).sum(1)
    ab = (blend + AB_SCALE * 0.5 * torch.tanh(head[:, 3:5])).clamp(-AB_LIMIT, AB_LIMIT)
    return ab, torch.sigmoid(head[:, 5:6]), blend


# Distances to the exemplars enter the merge as log(1 + frames) / DISTANCE_SCALE; a side
# with no exemplar counts as this many frames away.
DISTANCE_SCALE = 4.0
NO_ANCHOR_DISTANCE = 1000


def _mix(w: torch.Tensor, forward: torch.Tensor, backward: torch.Tensor) -> torch.Tensor:
    """The forward value weighted by ``w``, the backward by 1 - w."""
    return w * forward + (1 - w) * backward


def distance_feature(frames) -> torch.Tensor | float:
    """log(1 + frames) / DISTANCE_SCALE: how far (in recurrent steps) a direction has
    carried its colour, on a scale where its drift grows about linearly."""
    if isinstance(frames, torch.Tensor):
        return torch.log1p(frames.float()) / DISTANCE_SCALE
    return float(np.log1p(frames)) / DISTANCE_SCALE


class MergeHead(nn.Module):
    """Per-pixel weight of the forward colour: from both outputs, their confidences, the
    forward share of the temporal distance (t_to_end / span), whether the forward colour
    is anchored by an earlier exemplar, and each direction's distance to its exemplar.

    The share alone cannot tell a frame 10 steps into an 11-frame segment from one 44
    steps into a 49-frame segment, though the forward colour of the second has drifted
    about twice as far (measured on held-out clips): the distances say so.

    ``time_symmetric``: where both directions are anchored, the weight's logit is the
    mean of the head's logit for the frame as it is and minus its logit for the clip
    played backwards (directions, shares and distances swapped), so a pixel and its
    time-reversed twin are weighed alike, exactly.
    """

    INPUTS = 11

    def __init__(self, hidden: int = 16, time_symmetric: bool = False):
        super().__init__()
        self.time_symmetric = time_symmetric
        self.net = nn.Sequential(nn.Conv2d(self.INPUTS, hidden, 1), nn.LeakyReLU(0.1, inplace=True), nn.Conv2d(hidden, hidden, 1), nn.LeakyReLU(0.1, inplace=True), nn.Conv2d(hidden, 1, 1))

    def forward(self, ab_f, conf_f, ab_b, conf_b, share_f, anchored, dist_f, dist_b) -> tuple[torch.Tensor, torch.Tensor]:
        """ab_*: (B, 2, H, W); conf_*: (B, 1, H, W); share_f, anchored, dist_* (frames to
        each direction's exemplar): floats or (B, 1, 1, 1). Returns the merged ab, conf."""
        w = self.weight(ab_f, conf_f, ab_b, conf_b, share_f, anchored, dist_f, dist_b)
        return _mix(w, ab_f, ab_b), _mix(w, conf_f, conf_b)

    def weight(self, ab_f, conf_f, ab_b, conf_b, share_f, anchored, dist_f, dist_b) -> torch.Tensor:
        """(B, 1, H, W) weight of the forward colour (arguments as ``forward``)."""
        z = self._logit(ab_f, conf_f, ab_b, conf_b, share_f, anchored, dist_f, dist_b)
        if self.time_symmetric:
            reversed_z = self._logit(ab_b, conf_b, ab_f, conf_f, 1 - share_f, anchored, dist_b, dist_f)
            both = torch.as_tensor(anchored, dtype=z.dtype) > 0.5
            z = torch.where(both, 0.5 * (z - reversed_z), z)
        return torch.sigmoid(z)

    def _logit(self, ab_f, conf_f, ab_b, conf_b, share_f, anchored, dist_f, dist_b) -> torch.Tensor:
        def plane(v):
            return torch.as_tensor(v, dtype=conf_f.dtype).expand_as(conf_f)

        x = torch.cat(
            [
                ab_f / AB_SCALE, ab_b / AB_SCALE, conf_f, conf_b, plane(share_f), plane(anchored),
                (ab_f - ab_b).abs().sum(1, keepdim=True) / AB_SCALE, plane(distance_feature(dist_f)), plane(distance_feature(dist_b)),
            ],
            dim=1,
        )
        return self.net(x)


def _pad_inputs(state: dict[str, torch.Tensor], key: str, inputs: int) -> dict[str, torch.Tensor]:
    """``state`` with the convolution ``key`` given zero weight on input channels it
    predates (appended at the end), so it computes what it did until it is trained."""
    w = state.get(key)
    missing = 0 if w is None or w.dim() != 4 else inputs - w.shape[1]
    if missing <= 0:  # already wide, or not this network's weights (loading says so)
        return state
    out = dict(state)
    out[key] = torch.cat([w, w.new_zeros(w.shape[0], missing, *w.shape[2:])], dim=1)
    return out


def widen_merge_head(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Weights of a network whose merge head predates the distance inputs (9 inputs)
    made loadable: the new inputs start with zero weight."""
    return _pad_inputs(state, "merge_head.net.0.weight", MergeHead.INPUTS)


def widen_cues(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Weights of a U-Net that predates the agreement cues (v1-v8, 14 cue channels) made
    loadable: the new cues start with zero weight."""
    return _pad_inputs(state, "unet.enc1.0.weight", CUE_CHANNELS)


class PropagationNet(Fusion):
    """The trained fusion module (see the module doc). Works at the working resolution."""

    exact_exemplars = True

    def __init__(self, config: PropagationNetConfig = PropagationNetConfig()):
        super().__init__()
        self.config = config
        self.unet = PropagationUNet(config)
        self.merge_head = MergeHead(time_symmetric=config.time_symmetric_merge)
        # The backward pass needs the flows the forward pass computed for the same pair of
        # frames, swapped: keep the most recent pairs (exact reuse, never an approximation).
        self._flows: OrderedDict[tuple[int, int], tuple] = OrderedDict()

    # -- building -------------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, config: PropagationNetConfig | None = None) -> "PropagationNet":
        """The network with trained weights: ``config.weights`` or the shipped file."""
        from safetensors.torch import load_file

        config = config or PropagationNetConfig()
        path = Path(config.weights) if config.weights else DEFAULT_WEIGHTS
        if not path.is_file():
            raise FileNotFoundError(f"expected propagation network weights at {path}, found no file")
        net = cls(config)
        state = load_file(str(path))
        missing, unexpected = net.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise ValueError(f"weights {path} do not fit PropagationNet{asdict(config)}: missing {missing}, unexpected {unexpected}")
        return net.eval()

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        # Weights saved before the merge head read distances (v1, v2) or before the
        # agreement cues (v1-v8) load unchanged in what they compute.
        return super().load_state_dict(widen_cues(widen_merge_head(dict(state_dict))), strict=strict, assign=assign)

    # -- the fusion interface -------------------------------------------------------
    def anchor(self, frame: FusionFrame, exemplar, keys: ExemplarKeys) -> DirectionState:
        if exemplar.ab_working is not None:
            ab = exemplar.ab_working
            bias = key_frame_match_error(self.config, frame, keys, ab) if self.config.match_bias else None
            return DirectionState(ab, torch.ones_like(ab[:, :1]), frame.feats.float(), frame.luma, index=frame.index, match_bias=bias)
        return self.step(frame, None, keys)

    def step(self, frame: FusionFrame, previous: DirectionState | None, keys: ExemplarKeys, flows=None) -> DirectionState:
        if flows is None and previous is not None:
            flows = self._pair_flows(frame, previous)
        bias = None
        if previous is not None and previous.match_bias is not None and self.config.match_bias:
            bias = carry_match_error(previous.match_bias, flows[0])
        cues, candidates = direction_cues(self.config, frame, previous, keys, flows, bias)
        valid = cues[:, VALIDITY : VALIDITY + 1]
        head = self.unet(cues, frame.feats.float())
        ab, conf, blend = compose_output(head, candidates, cues[:, HAS_PREVIOUS : HAS_PREVIOUS + 1])
        if not self.config.show_correction:
            ab = blend
        detail = None
        if previous is not None and previous.detail is not None and self.carries_detail:
            detail = carry_detail(previous.detail, flows[0], valid)
        if bias is not None:
            bias = hold_match_error(bias, valid)
        return DirectionState(ab, conf, frame.feats.float(), frame.luma, index=frame.index, carry=blend, detail=detail, match_bias=bias)

    @property
    def carries_detail(self) -> bool:
        return self.config.carry_detail

    def _pair_flows(self, frame: FusionFrame, previous: DirectionState) -> tuple[torch.Tensor, torch.Tensor]:
        """(flow frame -> previous, flow previous -> frame), computed once per pair of frames.
        Entries hold the two luma tensors and match only those same tensors."""
        cached = self._flows.get((previous.index, frame.index))
        if cached is not None and cached[0] is previous.luma and cached[1] is frame.luma:
            return cached[3], cached[2]
        flows = dis_flow_pair(frame.luma, previous.luma, self.config.flow_preset)
        if self.config.flow_cache_pairs > 0 and frame.index is not None and previous.index is not None:
            self._flows[(frame.index, previous.index)] = (frame.luma, previous.luma, *flows)
            while len(self._flows) > self.config.flow_cache_pairs:
                self._flows.popitem(last=False)
        return flows

    def merge(self, forward: DirectionState, backward: DirectionState, distances: tuple[int | None, int]) -> DirectionState:
        t_from_start, t_to_end = distances
        if t_from_start is None:
            share, anchored, dist_f = 0.0, 0.0, NO_ANCHOR_DISTANCE
        else:
            share, anchored, dist_f = t_to_end / (t_from_start + t_to_end), 1.0, t_from_start
        w = self.merge_head.weight(forward.ab, forward.conf, backward.ab, backward.conf, share, anchored, dist_f, t_to_end)
        return DirectionState(_mix(w, forward.ab, backward.ab), _mix(w, forward.conf, backward.conf), detail=_merge_detail(forward.detail, backward.detail, w))


def _merge_detail(forward: torch.Tensor | None, backward: torch.Tensor | None, w: torch.Tensor) -> torch.Tensor | None:
    """The two directions' fine chroma weighted as their colours are (a missing one is 0)."""
    if forward is None and backward is None:
        return None
    like = forward if forward is not None else backward
    f, b = (torch.zeros_like(like) if x is None else x for x in (forward, backward))
    return _mix(_up(w.float(), like.shape[-2:]), f.float(), b.float()).to(like.dtype)
