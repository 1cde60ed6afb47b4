"""Resumable colorization of one video in a job folder.

A job folder holds the stage-1 plan (``plan_io``), every finished segment (``store``)
and ``job.json`` (what was assembled last)::

    JOB/plan.json, JOB/images/     the plan: shots, key frames, exemplars, segments
    JOB/segments/                  finished segments: frames (lossless) + records
    JOB/job.json                   format, segment format, last assembly
    JOB/.lock                      held while a run uses the folder

``run_job`` makes the plan (or loads it), colorizes the segments that are not finished
with the current exemplars and settings (``keys``), each written as it completes, then
assembles the output through the usual writer. Interrupted at any point (kill -9
included), the next run with ``resume=True`` redoes only the unfinished segments; the
output is the same, byte for byte, as an uninterrupted run's: segment frames equal a full
run's (``PropagationEngine.run``), storage is lossless, and the writers are deterministic.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from ..errors import InputError
from ..io import open_video, open_writer
from ..io.writer import check_output_path
from ..propagation.segments import Segment
from ..types import KeyFrame, VideoPlan
from .atomic import write_bytes_atomic
from .digest import data_sha256
from .frames import gray_frame, gray_frames_from
from .keys import colorizer_key, segment_keys
from .plan_io import PLAN_FILE, load_plan, save_plan
from .store import FORMATS, SEGMENTS_DIR, CorruptSegment, SegmentRecord, SegmentStore

__all__ = ["Job", "JobResult", "run_job", "update_exemplars", "colorize_segments", "SegmentEngines", "assemble", "consecutive_runs", "FrameHook"]

JOB_FILE = "job.json"
JOB_FORMAT = "exemplar_vc.job"
# Called after each frame is stored: (segment, frame index). Progress, monitoring, tests.
FrameHook = Callable[[Segment, int], None]


@dataclass
class JobResult:
    """What ``run_job`` did.

    result: the ``ColorizationResult`` (frames written to ``result.output``).
    job: the job folder. computed: segments colorized by this call, in order.
    reused: segments taken from the folder as they were.
    """

    result: Any
    job: Path
    computed: list[Segment] = field(default_factory=list)
    reused: list[Segment] = field(default_factory=list)


class Job:
    """A job folder (see the module docstring); created on first use.

    segment_format: how new segments are stored, "npy" (fast) or "png" (half the disk).
    """

    def __init__(self, directory: str | os.PathLike, segment_format: str = "npy"):
        if segment_format not in FORMATS:
            raise InputError(f"expected a segment format in {FORMATS}, got {segment_format!r}")
        self.directory = Path(directory)
        if self.directory.exists() and not self.directory.is_dir():
            raise InputError(f"expected a job folder, but {str(self.directory)!r} is a file")
        self.segment_format = segment_format

    @property
    def has_plan(self) -> bool:
        return (self.directory / PLAN_FILE).is_file()

    def is_empty(self) -> bool:
        return not self.directory.exists() or not any(n for n in os.listdir(self.directory) if n != ".lock")

    def store(self) -> SegmentStore:
        return SegmentStore(self.directory / SEGMENTS_DIR, self.segment_format)

    def info(self) -> dict:
        try:
            data = json.loads((self.directory / JOB_FILE).read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) and data.get("format") == JOB_FORMAT else {}

    def write_info(self, **fields: Any) -> None:
        data = {**self.info(), "format": JOB_FORMAT, "version": 1, **fields}
        write_bytes_atomic(self.directory / JOB_FILE, (json.dumps(data, indent=1) + "\n").encode())

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the folder for one run; ``InputError`` when another process holds it."""
        import fcntl

        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / ".lock", "a+") as f:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise InputError(f"expected the job folder {str(self.directory)!r} to be free, but another run is using it") from None
            try:
                yield
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def update_exemplars(colorizer, stage1, exemplars: Any):
    """``stage1`` with the exemplars ``exemplars`` gives replacing or adding to its own, frame
    by frame; everything else (shots, key frames) is kept. A frame given explicitly that
    is not a key frame yet becomes one (its gray image is read from the input)."""
    from ..io.limits import check_exemplar_sizes, check_plan_inputs
    from ..pipeline import Stage1Plan, _as_source

    src = _as_source(exemplars)
    plan = stage1.plan
    check_plan_inputs(colorizer.config, colorizer.encoder, stage1.source.size, src)
    keyframes = {k.index: k for k in plan.keyframes}
    reasons = dict(plan.reasons)
    for f in getattr(src, "explicit_frames", []):
        if f >= plan.num_frames:
            raise InputError(f"expected exemplar frames in 0..{plan.num_frames - 1}, got frame {f} ({plan.num_frames} frames)")
        if f not in keyframes:
            keyframes[f] = KeyFrame(f, gray_frame(stage1.source, f, plan.num_frames), plan.shot_of(f))
            reasons[f] = "wanted"
    ordered = [keyframes[f] for f in sorted(keyframes)]
    import torch

    with torch.no_grad():
        found = src.exemplars_for(ordered, colorizer.encoder)
    check_exemplar_sizes(found, colorizer.encoder)
    merged = {e.frame: e for e in stage1.exemplars}
    merged.update({e.frame: e for e in found})
    new_plan = VideoPlan(plan.num_frames, list(plan.shot_starts), ordered, reasons)
    updated = Stage1Plan(source=stage1.source, plan=new_plan, exemplars=[merged[f] for f in sorted(merged)])
    if hasattr(updated, "keyframes"):  # how each key frame is coloured now
        from ..pipeline import _records

        updated.keyframes = _records(new_plan, updated.exemplars)
    return updated


def consecutive_runs(segments: Iterable[Segment]) -> list[list[Segment]]:
    """Group segments (ascending) into runs where each starts where the previous ends.

    >>> [[s.start for s in r] for r in consecutive_runs([Segment(0, 0, 2, 0, 2), Segment(0, 2, 4, 2, None), Segment(1, 6, 8, None, None)])]
    [[0, 2], [6]]
    """
    runs: list[list[Segment]] = []
    for s in segments:
        if runs and runs[-1][-1].end == s.start:
            runs[-1].append(s)
        else:
            runs.append([s])
    return runs


class SegmentEngines:
    """Stage-2 engines that hold only the exemplars a segment needs, so memory does not
    grow with the number of exemplars: a segment with a left anchor gets an engine
    prepared with its one or two anchors (the segment is cut the same way from them:
    ``plan_segments`` places its bounds from the anchors inside it and the shot's ends,
    and its frames depend on nothing else, ``keys.py``). Segments with no left anchor
    match every exemplar of the video and share one engine over them all, built when
    first needed; that engine too prepares its exemplars lazily, per segment."""

    def __init__(self, colorizer, stage1):
        self.colorizer, self.stage1 = colorizer, stage1
        self._all = None

    def for_segment(self, segment: Segment):
        plan, exemplars = self.stage1.plan, self.stage1.exemplars
        if segment.left_anchor is None:
            if self._all is None:
                self._all = self.colorizer._engine(plan, exemplars)
            return self._all
        needed = {segment.left_anchor, segment.right_anchor}
        return self.colorizer._engine(plan, [e for e in exemplars if e.frame in needed])


class _SharedFrames:
    """One decoder's frames handed to one engine per segment: the frame an engine read
    ahead (its right anchor, the next segment's first frame) is given again to the next."""

    def __init__(self, frames: Iterator[np.ndarray], first: int):
        self._it, self._next = frames, first
        self._last: tuple[int, np.ndarray] | None = None

    def starting_at(self, start: int) -> Iterator[np.ndarray]:
        if self._last is not None and self._last[0] == start:
            yield self._last[1]
        elif self._next != start:  # pragma: no cover - callers go in order
            raise ValueError(f"expected to continue at frame {self._next}, asked for {start}")
        for frame in self._it:
            self._last = (self._next, frame)
            self._next += 1
            yield frame


def colorize_segments(
    engines: SegmentEngines,
    stage1,
    segments: list[Segment],
    store: SegmentStore,
    keys: dict[Segment, str],
    on_frame: FrameHook | None = None,
) -> Iterator[SegmentRecord]:
    """Colorize ``segments`` (ascending; gaps allowed) of ``stage1``, store each as it
    completes and yield its record. Each run of consecutive segments reads the input once,
    from its first frame (``frames.gray_frames_from``)."""
    n = stage1.plan.num_frames
    for run in consecutive_runs(segments):
        frames = gray_frames_from(stage1.source, run[0].start, n)
        try:
            shared = _SharedFrames(iter(frames), run[0].start)
            for segment in run:
                colorized = engines.for_segment(segment).run(shared.starting_at(segment.start), [segment])
                with store.writer(segment, keys[segment]) as writer:
                    for index in range(segment.start, segment.end):
                        out = next(colorized)
                        if out.index != index:  # pragma: no cover - the engine's contract
                            raise RuntimeError(f"expected frame {index} from the engine, got {out.index}")
                        writer.write(out.rgb, float(out.confidence.mean()))
                        if on_frame is not None:
                            on_frame(segment, index)
                    colorized.close()
                    yield writer.commit()
        finally:
            if hasattr(frames, "close"):
                frames.close()


def assemble(stage1, records: list[SegmentRecord], store: SegmentStore, output: Path) -> Any:
    """Write the stored segments, in order, to ``output`` through the usual writer (the
    output appears only once complete). Raises ``CorruptSegment`` (nothing published)
    when a file does not match its record; returns the ``ColorizationResult``."""
    from ..pipeline import ColorizationResult

    source = stage1.source
    audio = source.path if source.kind == "video" and source.has_audio else None
    confidence: list[float] = []
    # As colorize_to writes it: the input's colour tags and (variable) frame timing carried over.
    timing = source.timestamps() if hasattr(source, "timestamps") else None
    with open_writer(output, source.fps, names=source.names, audio_from=audio, color=getattr(source, "color", None), timestamps=timing) as writer:
        for record in records:
            try:
                for rgb in store.read(record):
                    writer.write(rgb)
            except CorruptSegment as e:
                e.record = record
                raise
            confidence.extend(record.mean_confidence)
    result = ColorizationResult(
        frames=None,
        confidence=None,
        mean_confidence=np.asarray(confidence, dtype=np.float32),
        exemplars=stage1.exemplars,
        shot_starts=stage1.plan.shot_starts,
        fps=source.fps,
        names=source.names,
        output=Path(output),
    )
    if hasattr(result, "keyframes"):
        result.keyframes = list(getattr(stage1, "keyframes", []))
    return result


def prepare_plan(colorizer, video: Any, exemplars: Any, job: Job, resume: bool):
    """The job's plan: loaded (``resume``; updated with ``exemplars`` when given) or made
    by stage 1 and saved."""
    if job.has_plan:
        if not resume:
            raise InputError(f"expected a new or empty job folder, but {str(job.directory)!r} holds a job; add --resume (resume=True) to continue it, or choose another folder")
        stage1 = load_plan(job.directory, video)
        if exemplars is not None:
            stage1 = update_exemplars(colorizer, stage1, exemplars)
            save_plan(stage1, job.directory)
        return stage1
    if not resume and not job.is_empty():
        raise InputError(f"expected a new or empty job folder, but {str(job.directory)!r} holds other files")
    if exemplars is None:
        raise InputError("expected exemplars for a new job (the job folder holds no plan yet)")
    stage1 = colorizer.plan(video, exemplars)
    save_plan(stage1, job.directory)
    return stage1


def run_job(
    colorizer,
    video: Any,
    output: str | os.PathLike,
    job: str | os.PathLike | Job,
    exemplars: Any = None,
    resume: bool = False,
    progress: bool = False,
    on_frame: FrameHook | None = None,
) -> JobResult:
    """Colorize ``video`` into ``output`` through the job folder ``job``; see the module
    docstring. ``exemplars`` may be None on resume (the job's own are used)."""
    job = job if isinstance(job, Job) else Job(job)
    source = open_video(video)
    out_path = check_output_path(output, source.path)
    if getattr(source, "bit_depth", 8) > 8:
        raise InputError(f"expected 8-bit frames for a job (segments are stored as 8-bit RGB), got a {source.bit_depth}-bit input; colorize it without a job folder")
    with job.lock():
        stage1 = prepare_plan(colorizer, source, exemplars, job, resume)
        store = job.store()
        store.clean_stale()
        keys = segment_keys(stage1, colorizer_key(colorizer))
        computed: list[Segment] = []
        reused = [s for s in stage1.segments if store.record(s, keys[s]) is not None]
        for _attempt in range(3):
            records = {s: store.record(s, keys[s]) for s in stage1.segments}
            todo = [s for s in stage1.segments if records[s] is None]
            if todo:
                hook = _Progress(sum(len(s) for s in todo), progress, on_frame)
                try:
                    for record in colorize_segments(SegmentEngines(colorizer, stage1), stage1, todo, store, keys, hook):
                        records[record.segment] = record
                        computed.append(record.segment)
                finally:
                    hook.close()
            try:
                result = assemble(stage1, [records[s] for s in stage1.segments], store, out_path)
                break
            except CorruptSegment as e:
                store.forget(e.record)
                reused = [s for s in reused if s != e.record.segment]
        else:  # pragma: no cover - a disk that damages what was just written
            raise InputError(f"expected the job folder {str(job.directory)!r} to keep its files, but segments were damaged again after being recomputed")
        store.prune({(s.start, s.end, keys[s]) for s in stage1.segments})
        job.write_info(segment_format=job.segment_format, assembled={"output": os.fspath(out_path), "keys": data_sha256([keys[s] for s in stage1.segments])})
    return JobResult(result=result, job=job.directory, computed=computed, reused=reused)


class _Progress:
    """The user's hook plus a tqdm bar over the frames to colorize."""

    def __init__(self, total: int, enabled: bool, hook: FrameHook | None):
        self.hook = hook
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="frame", desc="colorizing", dynamic_ncols=True)

    def __call__(self, segment: Segment, index: int) -> None:
        if self.bar is not None:
            self.bar.update(1)
        if self.hook is not None:
            self.hook(segment, index)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
