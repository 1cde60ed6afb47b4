"""The pipeline's settings: one frozen dataclass, variants built by name in the registry."""

from __future__ import annotations

from dataclasses import dataclass, field

from .color.compose import COMPOSE_KEEPS
from .errors import InputError
from .keyframes import ShotConfig
from .modeling.encoder import EncoderConfig
from .modeling.fusion import HandFusionConfig
from .modeling.propagation_net import PropagationNetConfig

__all__ = ["PropagationConfig", "ColorizerConfig"]

FUSIONS = ("network", "hand")
UPSAMPLERS = ("bilinear", "guided")


@dataclass(frozen=True)
class PropagationConfig:
    """Stage 2 settings.

    fusion: which fusion module makes each frame's colour (``modeling/fusion.py``):
        "network" (the trained propagation network, settings in ``network``; the default:
        it beats the rule on held-out footage, benchmarks/README.md) or "hand" (the
        hand-written rule, settings in ``hand``).
    upsample: chroma upsampling to full resolution, "bilinear" or "guided" (guided filter
        on the full-resolution L; radius in pixels, eps on L in [0, 1]). The default is
        the better of the two on real footage (benchmarks/upsampling.py).
    aligned_tolerance: mean gray-level difference (0..255) under which an exemplar is taken
        as the key frame's own colour version and its chroma is used pixel for pixel.
    max_buffer_frames: frames of a segment kept in memory before the rest spill to disk
        (about 5 MB each for the network at the default working size; spilled frames
        come back bit for bit).
    pool_size: a segment that starts before its shot's first exemplar (no left anchor)
        matches the pool_size exemplars nearest to it in time, its own shot's first among
        them; a bound, so the keys held do not grow with the film's exemplars (issue 12).
    keep: what the output takes from the input frame when chroma is put on it: "luma"
        (the default: its BT.601 luma, so the output converted to gray is the input, and
        a key frame's own colour comes back exactly) or "lightness" (its CIE L read as a
        neutral gray, as before: saturated colours come out too dark and dull; held-out
        clips, first-frame, benchmarks/README.md). ``color.compose_rgb``.
    fill_in: where the confidence of the propagated colour is low, blend in the chroma of
        the image colorizer (``modeling/colorizer.py``): propagated colour alone at
        confidence >= fill_in_high, the colorizer's alone below fill_in_low, linear between.
        Costs one pass of the colorizer's own encoder per frame. Off by default: the
        committed colorizer's colour is muted (13.5 % below gray's ab error on held-out
        photos, 0.46 of the true colourfulness), and as a fill-in it lowered the
        first-frame PSNR on every clip measured (34.89 -> 33.67 dB; benchmarks/README.md).
    """

    fusion: str = "network"
    hand: HandFusionConfig = field(default_factory=HandFusionConfig)
    network: PropagationNetConfig = field(default_factory=PropagationNetConfig)
    upsample: str = "bilinear"
    upsample_radius: int = 8
    upsample_eps: float = 1e-3
    keep: str = "luma"
    aligned_tolerance: float = 2.0
    max_buffer_frames: int = 64
    pool_size: int = 16
    fill_in: bool = False
    fill_in_low: float = 0.3
    fill_in_high: float = 0.5

    def __post_init__(self) -> None:
        # Checked here, not where used: a bad value must fail before any work.
        for name, value, allowed in (("fusion", self.fusion, FUSIONS), ("upsample", self.upsample, UPSAMPLERS), ("keep", self.keep, COMPOSE_KEEPS)):
            if value not in allowed:
                raise InputError(f"expected propagation.{name} in {list(allowed)}, got {value!r}")
        if self.max_buffer_frames < 1:
            raise InputError(f"expected propagation.max_buffer_frames >= 1, got {self.max_buffer_frames}")
        if self.pool_size < 1:
            raise InputError(f"expected propagation.pool_size >= 1, got {self.pool_size}")
        if not self.fill_in_low < self.fill_in_high:
            raise InputError(f"expected propagation.fill_in_low < propagation.fill_in_high, got {self.fill_in_low} and {self.fill_in_high}")


@dataclass(frozen=True)
class ColorizerConfig:
    """Everything ``VideoColorizer`` needs besides its weights.

    working_size: short side (pixels) at which chroma is predicted; smaller inputs are
        upscaled to it and their chroma brought back onto their own gray. 416 (384 until
        the seventh session of 2026-12-07): on the 11 held-out clips from one exemplar
        +0.07 dB mean PSNR for 1.23x the time of 384 (benchmarks/README.md).
    detect_shots: cut the video into shots (colour never crosses a cut); off: one shot.
    auto_fill: stage 1 lets the image colorizer colour the shots that the user's exemplars,
        references or bank leave without a trustworthy exemplar (``--auto-fill``, or
        ``auto_fill=`` on a call, which wins over this). Off by default: the shipped
        colorizer is weak (docs/stage1.md), so an unmatched shot rather takes colour from
        the other exemplars. Without any exemplars the colorizer colours every key frame
        whatever this says (the automatic mode).
    images_in_memory: key-frame gray images and exemplar images stage 1 keeps in memory
        (each kind); past it they wait on disk in the temp folder until stage 2 reads them
        (``stored.py``), so a film's thousands of key frames do not grow memory.
    """

    working_size: int = 416
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    propagation: PropagationConfig = field(default_factory=PropagationConfig)
    shots: ShotConfig = field(default_factory=ShotConfig)
    detect_shots: bool = True
    auto_fill: bool = False
    images_in_memory: int = 32

    def __post_init__(self) -> None:
        if self.images_in_memory < 0:
            raise InputError(f"expected images_in_memory >= 0, got {self.images_in_memory}")
