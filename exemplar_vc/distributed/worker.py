"""What runs on the cluster: ``SegmentWorker`` (one per worker process, a Ray actor
holding one model) and ``assemble_film`` (also a plain Ray task where workers hold GPUs).

Every method returns a small dict (never raises for a film's own problem), so one bad
film does not stop a batch. Everything a worker writes goes into the film's job folder on
shared storage, atomically (``jobs/store.py``); what it returns is only bookkeeping.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable

from ..errors import ExemplarVCError
from ..jobs.digest import data_sha256
from ..jobs.keys import colorizer_key, segment_keys
from ..jobs.plan_io import PLAN_FILE, load_plan
from ..jobs.runner import Job, SegmentEngines, assemble, colorize_segments, prepare_plan
from ..jobs.store import CorruptSegment
from ..propagation.segments import Segment
from .inputs import FilmSpec

__all__ = ["SegmentWorker", "model_payload", "build_colorizer", "plan_film", "plan_film_task", "assemble_film"]

# (film name, segment, frame index) after each stored frame: monitoring, fault-injection tests.
FrameHook = Callable[[str, Segment, int], None]
_FILMS_CACHED = 4  # films whose plan and prepared exemplars a worker keeps


def model_payload(colorizer) -> dict:
    """Everything a worker needs to rebuild ``colorizer`` exactly: the config and the
    encoder's and fusion module's weights (put in the object store once)."""
    from ..config_io import config_to_dict

    def cpu(state):
        return {k: v.detach().cpu() for k, v in state.items()}

    return {"config": config_to_dict(colorizer.config), "encoder": cpu(colorizer.encoder.state_dict()), "fusion": cpu(colorizer.fusion.state_dict())}


def build_colorizer(payload: dict, device: str):
    """The ``VideoColorizer`` of ``model_payload`` output, on ``device``."""
    from ..config import ColorizerConfig
    from ..config_io import config_from_dict
    from ..modeling.encoder import LuminanceEncoder
    from ..pipeline import VideoColorizer, resolve_device

    config = config_from_dict(ColorizerConfig, payload["config"])
    encoder = LuminanceEncoder(config.encoder, pretrained=False)
    encoder.load_state_dict(payload["encoder"])
    colorizer = VideoColorizer(config, encoder.eval(), resolve_device(device))
    colorizer.fusion.load_state_dict(payload["fusion"])
    return colorizer


def _error(e: BaseException) -> dict:
    return {"ok": False, "error": " ".join(str(e).split()) or type(e).__name__}


def _keys_digest(keys: list[str]) -> str:
    return data_sha256(keys)


def assemble_film(spec: FilmSpec, keys: list[str], segment_format: str = "npy", keep_segments: bool = True) -> dict:
    """Write ``spec``'s output from its stored segments (``keys`` in segment order); with
    ``keep_segments`` False, delete them once the output is published."""
    try:
        job = Job(spec.job, segment_format)
        stage1 = load_plan(spec.job, spec.input)
        store = job.store()
        segments = stage1.segments
        if len(keys) != len(segments):
            return {"ok": False, "error": f"expected {len(segments)} segment keys for film {spec.name!r}, got {len(keys)}"}
        records = [store.record(s, k) for s, k in zip(segments, keys)]
        missing = [s.to_dict() for s, r in zip(segments, records) if r is None]
        if missing:
            return {"ok": False, "redo": missing}
        try:
            result = assemble(stage1, records, store, Path(spec.output))
        except CorruptSegment as e:
            store.forget(e.record)
            return {"ok": False, "redo": [e.record.segment.to_dict()]}
        store.prune({(s.start, s.end, k) for s, k in zip(segments, keys)})
        store.clean_stale()  # what workers killed mid-segment on this host left
        if not keep_segments:
            store.prune(set())  # the film is done: its segments go (a later change recomputes it all)
        job.write_info(segment_format=segment_format, assembled={"output": os.fspath(Path(spec.output)), "keys": _keys_digest(keys)})
        return {"ok": True, "frames": len(result)}
    except (ExemplarVCError, OSError) as e:
        return _error(e)


def plan_film(colorizer, key: str, spec: FilmSpec, segment_format: str = "npy") -> dict:
    """Stage 1 of a film (or its saved plan, updated with the spec's exemplars); which
    segments are left to do, and whether its output is already up to date. ``key``:
    ``colorizer_key`` of the workers that will colorize."""
    try:
        job = Job(spec.job, segment_format)
        with job.lock():
            stage1 = prepare_plan(colorizer, spec.input, spec.exemplar_source(), job, resume=True)
        store = job.store()
        store.clean_stale()
        keys = segment_keys(stage1, key)
        ordered = [keys[s] for s in stage1.segments]
        assembled = job.info().get("assembled") or {}
        up_to_date = assembled.get("keys") == _keys_digest(ordered) and assembled.get("output") == os.fspath(Path(spec.output)) and Path(spec.output).exists()
        todo = [s.to_dict() for s in stage1.segments if store.record(s, keys[s]) is None]
        return {"ok": True, "keys": ordered, "segments": [s.to_dict() for s in stage1.segments], "todo": todo, "up_to_date": up_to_date, "frames": stage1.plan.num_frames}
    except (ExemplarVCError, OSError) as e:
        return _error(e)


_CPU_COLORIZER: list = []  # [(model id, colorizer)]: one per task process, reused by later tasks


def plan_film_task(payload: dict, model_id: str, spec: FilmSpec, segment_format: str, device_type: str) -> dict:
    """``plan_film`` as a plain CPU task (beside GPU workers): the model is built on the
    CPU once per process; segment keys name the workers' ``device_type``."""
    if not _CPU_COLORIZER or _CPU_COLORIZER[0][0] != model_id:
        _CPU_COLORIZER[:] = [(model_id, build_colorizer(payload, "cpu"))]
    colorizer = _CPU_COLORIZER[0][1]
    return plan_film(colorizer, colorizer_key(colorizer, device_type), spec, segment_format)


class SegmentWorker:
    """One model, many films: plans films, colorizes segments, assembles outputs.

    Args:
        payload: ``model_payload`` output (an object-store reference resolves to it).
        device: "cpu", "cuda" or "auto". threads: torch CPU threads.
        frame_hook: optional ``(film, segment, index)`` called after each stored frame.
        segment_format: how segments are stored ("npy" or "png").
    """

    def __init__(self, payload: dict, device: str = "cpu", threads: int = 1, frame_hook: FrameHook | None = None, segment_format: str = "npy"):
        import torch

        torch.set_num_threads(max(1, int(threads)))
        self.colorizer = build_colorizer(payload, device)
        self.key = colorizer_key(self.colorizer)
        self.frame_hook = frame_hook
        self.segment_format = segment_format
        self._films: OrderedDict[tuple, tuple] = OrderedDict()

    def pid(self) -> int:
        return os.getpid()

    def _film(self, spec: FilmSpec):
        """(stage1, engines, store) of a film, cached while its plan file is unchanged."""
        st = (Path(spec.job) / PLAN_FILE).stat()
        key = (spec.job, st.st_mtime_ns, st.st_size)
        if key in self._films:
            self._films.move_to_end(key)
            return self._films[key]
        stage1 = load_plan(spec.job, spec.input)
        entry = (stage1, SegmentEngines(self.colorizer, stage1), Job(spec.job, self.segment_format).store())
        self._films[key] = entry
        while len(self._films) > _FILMS_CACHED:
            self._films.popitem(last=False)
        return entry

    def plan(self, spec: FilmSpec) -> dict:
        return plan_film(self.colorizer, self.key, spec, self.segment_format)

    def colorize(self, spec: FilmSpec, segment: dict, key: str) -> dict:
        """Colorize and store one segment (nothing when it is already stored with ``key``:
        a retried task does not redo a finished segment)."""
        try:
            stage1, engines, store = self._film(spec)
            seg = Segment(**segment)
            if store.record(seg, key) is not None:
                return {"ok": True, "computed": False, "segment": segment}
            hook = None
            if self.frame_hook is not None:
                user_hook = self.frame_hook

                def hook(s: Segment, i: int, name: str = spec.name) -> None:
                    user_hook(name, s, i)

            for _ in colorize_segments(engines, stage1, [seg], store, {seg: key}, hook):
                pass
            return {"ok": True, "computed": True, "segment": segment, "pid": os.getpid()}
        except (ExemplarVCError, OSError) as e:
            return _error(e)

    def assemble(self, spec: FilmSpec, keys: list[str], keep_segments: bool = True) -> dict:
        return assemble_film(spec, keys, self.segment_format, keep_segments)
