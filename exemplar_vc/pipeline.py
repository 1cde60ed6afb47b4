"""The front door: ``VideoColorizer`` and the one-line ``colorize``."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping

import numpy as np
import torch

from .config import ColorizerConfig
from .config_io import apply_overrides
from .errors import InputError
from .exemplars.user import UserReferences
from .io import FrameSource, check_output_path, open_video, open_writer
from .keyframes import plan_video
from .modeling.encoder import LuminanceEncoder
from .modeling.fusion import Fusion, build_fusion
from .propagation import ColorizedFrame, PreparedExemplar, PropagationEngine, prepare_exemplar
from .propagation.frames import AnchorExemplars
from .registry import get_config
from .stored import ArrayShelf, as_array
from .types import Exemplar, ExemplarSource, VideoPlan

if TYPE_CHECKING:  # pragma: no cover
    from .propagation.segments import Segment

__all__ = ["VideoColorizer", "ColorizationResult", "Stage1Plan", "KeyFrameRecord", "colorize", "resolve_device"]


@dataclass(frozen=True)
class KeyFrameRecord:
    """How one key frame was coloured.

    frame: 0-based index. shot: 0-based shot. reason: why it is a key frame ("shot",
    "drift", "gap" or "wanted"). source: where its exemplar came from: "user", "retrieval",
    "colorizer", or "none" when no source had a trustworthy exemplar for it (its colour is
    then propagated from the other exemplars of its shot). origin, score: its exemplar's
    (None without one).
    """

    frame: int
    shot: int
    reason: str
    source: str
    origin: str | None = None
    score: float | None = None


def _records(plan: VideoPlan, exemplars: list[Exemplar]) -> list[KeyFrameRecord]:
    by_frame = {ex.frame: ex for ex in exemplars}
    out = []
    for key in plan.keyframes:
        ex = by_frame.get(key.index)
        reason = plan.reasons.get(key.index, "wanted")
        out.append(KeyFrameRecord(key.index, key.shot, reason, ex.source, ex.origin, ex.score) if ex else KeyFrameRecord(key.index, key.shot, reason, "none"))
    return out


@dataclass
class Stage1Plan:
    """What stage 1 (``VideoColorizer.plan``) produced.

    source: the opened video (frames are read again, streamed, by stage 2).
    plan: frame count, shot starts and key frames (with their gray images).
    exemplars: one per served key frame, ascending by frame, with source and origin.
    keyframes: one record per key frame: which source coloured it, or "none".
    """

    source: FrameSource
    plan: VideoPlan
    exemplars: list[Exemplar]
    keyframes: list[KeyFrameRecord] = field(default_factory=list)

    @property
    def segments(self) -> list["Segment"]:
        """Stage 2's units of work: the video cut at shot starts and exemplar frames."""
        from .propagation.segments import plan_segments

        return plan_segments(self.plan.shot_starts or [0], [e.frame for e in self.exemplars], self.plan.num_frames)

    def save(self, directory: str | os.PathLike) -> Path:
        """Write ``plan.json`` (JSON: shots, key frames, exemplars, segments, the input's
        signature) and ``images/`` (key frames and exemplars as PNG, with their SHA-256)."""
        from .jobs.plan_io import save_plan

        return save_plan(self, directory)

    @classmethod
    def load(cls, directory: str | os.PathLike, video: Any = None) -> "Stage1Plan":
        """The plan ``save`` wrote; the input is reopened (or ``video``) and checked."""
        from .jobs.plan_io import load_plan

        return load_plan(directory, video)


@dataclass
class ColorizationResult:
    """What a colorization produced.

    frames: (T, H, W, 3) uint8 sRGB (uint16 for an input of 10-16 bits or float), or None
        when the frames were written straight to disk.
    confidence: (T, h, w) float32 in [0, 1] at the feature grid: how well each position
        matched an exemplar or its neighbour (low means the colour is a guess); None when
        the frames were written straight to disk (it would grow with the video's length).
    mean_confidence: (T,) float32, the mean of each frame's confidence map.
    exemplars: the exemplars used, one per key frame, with their source and origin.
    shot_starts: first frame of every detected shot.
    fps: frame rate of the input. names: file names of a folder input, else None.
    output: where the frames were written, if they were.
    keyframes: per key frame, which source coloured it ("user", "retrieval", "colorizer"
        or "none"); ``unmatched_keyframes`` lists those the user's images and the bank
        left without a trustworthy exemplar.
    audio_from, color, timestamps: the input file whose audio ``save`` copies, the input's
        colour tags (``io.formats.ColorTags``, None: BT.709) and its timestamps when its
        frame rate is variable (``(pts, time_base)``, else None).
    """

    frames: np.ndarray | None
    confidence: np.ndarray | None
    mean_confidence: np.ndarray
    exemplars: list[Exemplar]
    shot_starts: list[int]
    fps: Fraction
    names: list[str] | None = None
    output: Path | None = None
    keyframes: list[KeyFrameRecord] = field(default_factory=list)
    # what save() carries over from the input: its audio, colour tags, VFR timestamps
    audio_from: Path | None = None
    color: Any = None
    timestamps: Any = None

    def __len__(self) -> int:
        return len(self.mean_confidence)

    @property
    def unmatched_keyframes(self) -> list[int]:
        """Key frames with no trustworthy exemplar from the user's images or a bank (coloured
        by the colorizer, or only by propagation)."""
        return [r.frame for r in self.keyframes if r.source not in ("user", "retrieval")]

    def save(self, path: str | os.PathLike, codec: str | None = None) -> Path:
        """Write the frames to a video (.mp4/.mkv/.mov) or a folder of frames, with the
        input's audio, frame timing and colour tags; ``codec``: a name of
        ``exemplar_vc.io.formats.CODECS`` (default: H.264 for a video, PNG for a folder)."""
        if self.frames is None:
            raise ValueError(f"the frames were written to {self.output} and not kept in memory")
        audio = self.audio_from if self.audio_from is not None and Path(self.audio_from).is_file() else None
        with open_writer(path, self.fps, names=self.names, audio_from=audio, codec=codec, color=self.color, timestamps=self.timestamps) as writer:
            for frame in self.frames:
                writer.write(frame)
        return Path(path)


def resolve_device(device: str | torch.device) -> torch.device:
    """'auto' picks CUDA when available, else the CPU."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise InputError(f"expected device 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}") from e
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError("expected a CUDA GPU for device='cuda', but torch sees none; use device='cpu' or 'auto'")
    return dev


def _as_source(exemplars: Any, images_in_memory: int | None = None) -> ExemplarSource:
    if isinstance(exemplars, ExemplarSource):
        return exemplars
    if isinstance(exemplars, Mapping):
        return UserReferences(explicit=exemplars, images_in_memory=images_in_memory)
    if isinstance(exemplars, (str, os.PathLike)) or hasattr(exemplars, "shape") or hasattr(exemplars, "convert"):
        return UserReferences(images=[exemplars])
    if isinstance(exemplars, (list, tuple)):
        if not exemplars:
            raise InputError("expected at least one exemplar image, got an empty list")
        return UserReferences(images=list(exemplars))
    raise InputError(f"expected exemplars as a dict, a list of images or an ExemplarSource, got {type(exemplars).__name__}")


class VideoColorizer:
    """Colorizes gray video from colour exemplars.

    Build it with ``VideoColorizer.from_pretrained()``; call it on a video (path, frame
    folder, (T, H, W) array or tensor) with exemplars:

    - ``{frame_index: image_or_path}``: explicit exemplars for 0-based frames;
    - a list of images or paths: assigned to key frames (shot starts) by similarity;
    - an ``ExemplarSource``: e.g. a reference bank retriever;
    - nothing (``None``): the automatic mode, the image colorizer colours every key frame.

    ``auto_fill=True``: the colorizer also colours the shots the exemplars leave without a
    trustworthy match (``None``, the default: ``config.auto_fill``). ``result.keyframes``
    says which source coloured each key frame.
    """

    def __init__(self, config: ColorizerConfig, encoder: LuminanceEncoder, device: torch.device, fusion: Fusion | None = None):
        self.config = config
        self.encoder = encoder.to(device)
        self.device = device
        prop = config.propagation
        if fusion is None:
            fusion = build_fusion(prop.fusion, prop.hand, prop.network)
        self.fusion = fusion.to(device).eval()
        self._colorizer = None  # loaded on first use by the fill-in

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike = "default", device: str | torch.device = "auto", **overrides: Any) -> "VideoColorizer":
        """Build a named variant ('default', 'fast', 'quality') or load a folder written by
        ``save_pretrained`` (its config and fusion weights).

        ``overrides`` change config fields; a dict merges into a nested group, e.g.
        ``from_pretrained("default", propagation={"fill_in": True}, working_size=320)``.
        An unknown setting raises ``InputError`` naming the valid ones.
        """
        from .pretrained import is_pretrained_dir, load_pretrained

        state = None
        if isinstance(name_or_path, os.PathLike) or is_pretrained_dir(name_or_path):
            config, state = load_pretrained(name_or_path)
        else:
            config = get_config(name_or_path)
        if overrides:
            saved_fusion = config.propagation.fusion
            config = apply_overrides(config, overrides)
            if state is not None and config.propagation.fusion != saved_fusion:
                state = None  # the folder's weights are another fusion module's: this one's shipped weights serve
        prop = config.propagation
        # Weights saved with the config replace the shipped ones: build without loading those.
        fusion = build_fusion(prop.fusion, prop.hand, prop.network, pretrained=state is None)
        colorizer = cls(config, LuminanceEncoder(config.encoder), resolve_device(device), fusion)
        if state is not None:
            colorizer._load_fusion_state(state, name_or_path)
        return colorizer

    def _load_fusion_state(self, state: dict[str, torch.Tensor], where: str | os.PathLike) -> None:
        try:
            self.fusion.load_state_dict(state)
        except RuntimeError as e:
            raise InputError(f"expected weights for the {self.config.propagation.fusion!r} fusion module in {os.fspath(where)!r}, they do not fit ({str(e).splitlines()[0]})") from e

    def save_pretrained(self, directory: str | os.PathLike) -> Path:
        """Write ``config.json`` (the full config), ``model.safetensors`` (the fusion
        module's weights; empty for the hand rule) and ``version.txt`` into ``directory``;
        ``from_pretrained(directory)`` gives back the same config and weights."""
        from .pretrained import save_pretrained

        return save_pretrained(directory, self.config, self.fusion.state_dict())

    # -- stage 1 ------------------------------------------------------------------
    def _image_colorizer(self):
        """The image colorizer (loaded once; it shares this pipeline's encoder when the
        weights were trained on its taps)."""
        if self._colorizer is None:
            from .modeling.colorizer import ImageColorizer

            self._colorizer = ImageColorizer.from_pretrained(self.encoder).to(self.device).eval()
        return self._colorizer

    def _source(self, exemplars: Any, auto_fill: bool | None) -> ExemplarSource:
        """The exemplar source: the user's, the colorizer alone (no exemplars), or the user's
        with the colorizer colouring the shots they leave without any exemplar (auto_fill;
        None: the config's)."""
        from .exemplars import AutoFill, ColorizerSource

        if exemplars is None:
            return ColorizerSource(self._image_colorizer())
        src = _as_source(exemplars, self.config.images_in_memory)
        if auto_fill is None:
            auto_fill = self.config.auto_fill
        # A source that already ends in the colorizer needs no second one.
        if not auto_fill or isinstance(src, (AutoFill, ColorizerSource)):
            return src
        return AutoFill(src, ColorizerSource(self._image_colorizer()))

    def plan(self, video: Any, exemplars: Any = None, auto_fill: bool | None = None, progress: bool = False) -> Stage1Plan:
        """First pass: open the video, find shots and key frames, and get their exemplars
        (``exemplars=None``: from the image colorizer; ``auto_fill``: the colorizer covers
        key frames the exemplars leave without a trustworthy match; None: ``config.auto_fill``)."""
        from .io.limits import check_exemplar_sizes, check_plan_inputs

        source = open_video(video)
        src = self._source(exemplars, auto_fill)
        check_plan_inputs(self.config, self.encoder, source.size, src)  # sizes the encoder accepts
        wanted = set(getattr(src, "explicit_frames", []))
        frames = _progress(source.gray_frames(), source.num_frames, progress, "stage 1: shots and key frames")
        # Key frames and exemplars past the allowance wait on disk (``stored.py``, issue 12).
        plan = plan_video(frames, wanted=wanted, config=self.config.shots, shelf=ArrayShelf(self.config.images_in_memory))
        if plan.num_frames == 0:
            raise InputError(f"expected at least one frame, got none from {source.path or 'the input'}")
        for f in sorted(wanted):
            if f >= plan.num_frames:
                raise InputError(f"expected exemplar frames in 0..{plan.num_frames - 1}, got frame {f} ({plan.num_frames} frames)")
        if not self.config.detect_shots:
            plan.shot_starts = [0]
        with torch.no_grad():
            found = src.exemplars_for(plan.keyframes, self.encoder)
        shelf = ArrayShelf(self.config.images_in_memory)
        found = [dataclasses.replace(ex, image=shelf.put(ex.image)) for ex in found]
        check_exemplar_sizes(found, self.encoder)
        for ex in found:
            if not 0 <= ex.frame < plan.num_frames:
                raise InputError(f"expected exemplar frames in 0..{plan.num_frames - 1}, got frame {ex.frame} from {ex.source}")
        if not found:
            raise InputError("expected at least one key frame to receive an exemplar, but none matched; pass auto_fill=True (--auto-fill, or the setting auto_fill) to let the colorizer colour them")
        return Stage1Plan(source=source, plan=plan, exemplars=found, keyframes=_records(plan, found))

    # -- stage 2 ------------------------------------------------------------------
    def _engine(self, plan: VideoPlan, exemplars: list[Exemplar], **options: Any) -> PropagationEngine:
        """Stage 2 for ``plan``; ``options`` go to ``tensors.PreciseEngine`` (rgb_tensor,
        video, batch_size), which also reads frames deeper than 8 bits and tensors."""
        from .tensors import PreciseEngine

        exemplar_frames = {ex.frame for ex in exemplars}
        grays = {k.index: k.gray for k in plan.keyframes if k.index in exemplar_frames}

        # Prepared when a segment reaches the anchor, not here: memory would grow with the
        # number of exemplars (issue 12).
        @torch.no_grad()
        def prepare(ex: Exemplar) -> PreparedExemplar:
            return prepare_exemplar(
                ex,
                self.encoder,
                self.config.working_size,
                self.device,
                frame_gray=as_array(grays.get(ex.frame)),
                aligned_tolerance=self.config.propagation.aligned_tolerance,
                working_chroma=self.fusion.exact_exemplars,
            )

        anchors = AnchorExemplars({ex.frame: ex for ex in exemplars}, prepare)
        return PreciseEngine(self.encoder, self.config, anchors, plan.shot_starts, plan.num_frames, self.device, self.fusion, prior=self._prior(), **options)

    def _prior(self):
        """The image colorizer's chroma for the confidence-gated fill-in, when enabled."""
        if not self.config.propagation.fill_in:
            return None
        return self._image_colorizer()

    def colorize_range(self, video: Any, plan: Stage1Plan, start: int, end: int) -> Iterator[ColorizedFrame]:
        """Colorize frames ``start .. end - 1``, a run of whole segments of ``plan``
        (``plan.segments``: ``start`` a segment's first frame, ``end`` one's end); the
        frames equal a full run's. The input is read from ``start`` on (a video seeks to
        the key frame before it, ``jobs/frames.py``) up to the last segment's right anchor.
        """
        from .jobs.frames import gray_frames_from

        segments = [s for s in plan.segments if start <= s.start and s.end <= end]
        if not segments or segments[0].start != start or segments[-1].end != end:
            bounds = sorted({s.start for s in plan.segments} | {plan.plan.num_frames})
            raise InputError(f"expected start and end at segment boundaries {bounds[:8]}{'...' if len(bounds) > 8 else ''}, got {start}..{end}")
        source = open_video(video)
        engine = self._engine(plan.plan, plan.exemplars)
        return engine.run(gray_frames_from(source, start, plan.plan.num_frames), segments)

    def colorize_job(self, video: Any, output: str | os.PathLike, job: str | os.PathLike, exemplars: Any = None, resume: bool = False, progress: bool = False):
        """``colorize_to`` through a job folder: the plan and each finished segment are
        kept there as the run goes, so ``resume=True`` after any interruption redoes only
        unfinished segments (and, with new ``exemplars``, only the segments they change);
        the output is byte-identical to an uninterrupted run. Returns a ``jobs.JobResult``."""
        from .jobs.runner import run_job

        return run_job(self, video, output, job, exemplars=exemplars, resume=resume, progress=progress)

    def stream(self, video: Any, exemplars: Any = None, auto_fill: bool | None = None) -> Iterator[ColorizedFrame]:
        """Yield ``ColorizedFrame``s in order as they are done (a generator)."""
        stage1 = self.plan(video, exemplars, auto_fill)
        yield from self._engine(stage1.plan, stage1.exemplars).run(stage1.source.precise_gray_frames())

    def colorize_tensor(self, gray: torch.Tensor, exemplars: Any = None, batch_size: int = 8, progress: bool = False, auto_fill: bool | None = None) -> torch.Tensor:
        """(T, 1, H, W) or (T, H, W) gray (float in [0, 1], uint8 or uint16, any device) ->
        (T, 3, H, W) sRGB in [0, 1] on the same device (float dtype kept, else float32),
        frames encoded ``batch_size`` at a time; see ``exemplar_vc.tensors``."""
        from .tensors import colorize_tensor

        return colorize_tensor(self, gray, exemplars, batch_size=batch_size, progress=progress, auto_fill=auto_fill)

    def stream_tensor(self, frames: Any, exemplars: Mapping[int, Any], num_frames: int | None = None, shot_starts: Any = (0,)):
        """Pull gray frames (tensors or arrays) from an iterable, yield ``tensors.TensorFrame``s
        as their colour becomes final; exemplars ``{frame: image}``; see ``exemplar_vc.tensors``."""
        from .tensors import stream_tensor

        return stream_tensor(self, frames, exemplars, num_frames=num_frames, shot_starts=shot_starts)

    def tensor_stream(self, exemplars: Mapping[int, Any], num_frames: int | None = None, shot_starts: Any = (0,)):
        """A ``tensors.TensorStream``: ``push(frame)`` returns the frames now final, ``close()`` the rest."""
        from .tensors import TensorStream

        return TensorStream(self, exemplars, num_frames=num_frames, shot_starts=shot_starts)

    def __call__(self, video: Any, exemplars: Any = None, progress: bool = False, auto_fill: bool | None = None) -> ColorizationResult:
        """Colorize a whole video in memory; see ``colorize_to`` for long videos.

        Without ``exemplars`` the image colorizer supplies every key frame's exemplar (the
        automatic mode); ``auto_fill`` lets it cover the key frames the exemplars leave
        without a trustworthy match (None: ``config.auto_fill``, off unless set).
        """
        from .tensors import host_frame

        stage1 = self.plan(video, exemplars, auto_fill, progress=progress)
        plan, source = stage1.plan, stage1.source
        frames, conf = [], []
        deep = source.bit_depth > 8  # frames come back as uint16
        for out in _progress(self._engine(plan, stage1.exemplars, rgb_tensor=deep).run(source.precise_gray_frames()), plan.num_frames, progress):
            rgb, confidence = host_frame(out)
            frames.append(rgb)
            conf.append(confidence)
        conf = np.stack(conf)
        return ColorizationResult(
            frames=np.stack(frames),
            confidence=conf,
            mean_confidence=conf.mean(axis=(1, 2)),
            exemplars=stage1.exemplars,
            shot_starts=plan.shot_starts,
            fps=source.fps,
            names=source.names,
            keyframes=stage1.keyframes,
            audio_from=source.path if source.has_audio else None,
            color=source.color,
            timestamps=source.timestamps(),
        )

    def colorize_to(self, video: Any, output: str | os.PathLike, exemplars: Any = None, progress: bool = False, auto_fill: bool | None = None, codec: str | None = None) -> ColorizationResult:
        """Colorize and stream the frames to ``output`` (video file or PNG folder) without
        keeping them in memory. The output appears only once it is complete.
        ``exemplars`` and ``auto_fill`` as for ``__call__``. ``codec``: a name of
        ``exemplar_vc.io.formats.CODECS`` (default: H.264 for a video, PNG for a folder);
        the input's audio, frame timing and colour tags are carried over."""
        from .io.formats import resolve_codec
        from .tensors import host_frame

        source = open_video(video)
        out_path = check_output_path(output, source.path)
        codec = resolve_codec(codec, out_path)  # a codec the output can hold, before any work
        stage1 = self.plan(source, exemplars, auto_fill, progress=progress)
        plan = stage1.plan
        conf = []
        audio = source.path if source.has_audio else None
        deep = source.bit_depth > 8 or codec.bit_depth > 8  # float RGB to the writer's depth
        with open_writer(out_path, source.fps, names=source.names, audio_from=audio, codec=codec, color=source.color, timestamps=source.timestamps()) as writer:
            for out in _progress(self._engine(plan, stage1.exemplars, rgb_tensor=deep).run(source.precise_gray_frames()), plan.num_frames, progress):
                rgb, confidence = host_frame(out, codec.bit_depth)
                writer.write(rgb)
                conf.append(float(confidence.mean()))
        return ColorizationResult(
            frames=None,
            confidence=None,
            mean_confidence=np.asarray(conf, dtype=np.float32),
            exemplars=stage1.exemplars,
            shot_starts=plan.shot_starts,
            fps=source.fps,
            names=source.names,
            output=out_path,
            keyframes=stage1.keyframes,
        )


def _progress(frames: Iterator[Any], total: int | None, enabled: bool, desc: str = "colorizing") -> Iterator[Any]:
    if not enabled:
        yield from frames
        return
    from tqdm import tqdm

    with tqdm(total=total, unit="frame", desc=desc, dynamic_ncols=True) as bar:
        for frame in frames:
            yield frame
            bar.update(1)


def colorize(input: Any, output: str | os.PathLike, exemplars: Any = None, name: str = "default", device: str = "auto", progress: bool = False, auto_fill: bool | None = None, **overrides: Any) -> ColorizationResult:
    """One line: colorize ``input`` into ``output`` with ``exemplars`` (None: the automatic
    mode; ``auto_fill``: the colorizer covers key frames the exemplars leave unmatched;
    None: the named variant's ``config.auto_fill``, off).

    >>> import numpy as np, tempfile, os, exemplar_vc
    >>> gray = np.tile(np.linspace(0, 255, 64, dtype=np.uint8), (3, 48, 1))
    >>> ref = np.zeros((48, 64, 3), np.uint8); ref[..., 0] = gray[0]
    >>> out = os.path.join(tempfile.mkdtemp(), "frames")
    >>> result = exemplar_vc.colorize(gray, out, exemplars={0: ref})
    >>> len(os.listdir(out)), len(result)
    (3, 3)
    """
    colorizer = VideoColorizer.from_pretrained(name, device=device, **overrides)
    return colorizer.colorize_to(input, output, exemplars=exemplars, progress=progress, auto_fill=auto_fill)
