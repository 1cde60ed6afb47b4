"""Colorize an archive on Ray: stage 1 per film, then the segments of all films at once.

The driver (this module) holds no model. It puts the model's weights in Ray's object
store once, starts ``workers`` actors (``SegmentWorker``, one model each, one per GPU
with ``gpus_per_worker=1``) and feeds them from one queue:

1. *plan* one task per film: stage 1, saved in the film's job folder (or the saved plan
   reloaded), and the list of segments left to do;
2. *segments* of the films in order, each film's longest first, on whichever worker is
   free: a long film is spread over all workers instead of occupying one, and only a
   film or two are in flight at a time (the next film is planned one film ahead);
3. *assemble* each film as soon as its last segment is stored.

Where workers hold GPUs, stage 1 and assembly (decoding, encoding: CPU work) run as
separate one-CPU Ray tasks on the CPUs no worker holds, all plans at once; the GPU
workers only colorize.

Finished segments are files in the job folders on shared storage, written atomically,
so nothing finished is lost when a worker dies: Ray restarts the actor
(``max_restarts``) and retries its task (``max_task_retries``), and a retried segment
that was already stored is not computed again. ``OUTPUT_DIR/.jobs/batch.json`` (the
manifest) lists every film's state; running the same batch again continues where it
stopped: up-to-date films are skipped, others reuse their stored plan and segments.
"""

from __future__ import annotations

import heapq
import itertools
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import InputError
from ..jobs.atomic import write_bytes_atomic
from ..jobs.runner import Job
from ._ray import require_ray
from .inputs import JOBS_DIR, FilmSpec, find_films
from ..jobs.keys import colorizer_key
from .worker import FrameHook, SegmentWorker, assemble_film, model_payload, plan_film_task

__all__ = ["BatchOptions", "BatchResult", "FilmResult", "run_batch", "MANIFEST"]

MANIFEST = "batch.json"


@dataclass(frozen=True)
class BatchOptions:
    """How a batch runs.

    ray_address: None starts a local Ray (or uses the one already initialised); "auto"
        joins the cluster this machine belongs to; "ray://HOST:10001" a remote one.
    workers: actors (one model each); None: as many as the cluster's CPUs (or GPUs,
        with ``gpus_per_worker``) allow.
    gpus_per_worker: GPUs per actor (0: CPU workers; 1: one actor per GPU; 0.5: two).
    cpus_per_worker: CPUs reserved per actor, and its torch threads.
    output_format: "mp4", "mkv" or "png" (a folder of frames per film).
    segment_format: how finished segments are stored, "npy" or "png" (``jobs/store.py``).
    max_restarts / max_task_retries: how often a dead worker is restarted and its task
        retried before the batch gives up on it.
    assemble_in_tasks: run stage 1 and assembly as separate one-CPU tasks (None: when
        workers hold GPUs); only where the cluster has a CPU that no worker holds, else
        on the workers.
    keep_segments: keep each film's segments after its assembly (a new exemplar later
        recomputes only the segments it touches); False deletes them (an archive's
        segments would otherwise fill the disk: ``docs/long_films.md``).
    frame_hook: ``(film, segment, index)`` called in the worker after each stored frame.
    """

    ray_address: str | None = None
    workers: int | None = None
    gpus_per_worker: float = 0.0
    cpus_per_worker: int = 1
    output_format: str = "mp4"
    segment_format: str = "npy"
    max_restarts: int = 3
    max_task_retries: int = 3
    assemble_in_tasks: bool | None = None
    keep_segments: bool = True
    frame_hook: FrameHook | None = None


@dataclass
class FilmResult:
    """name, input, output; status: "done", "up to date" or "failed"; frames: its length;
    computed / reused: segments colorized by this batch / found stored; error: why it failed."""

    name: str
    input: str
    output: str
    status: str = "pending"
    frames: int = 0
    segments: int = 0
    computed: int = 0
    reused: int = 0
    error: str | None = None


@dataclass
class BatchResult:
    """films: one ``FilmResult`` per film, in input order. seconds: wall time. workers:
    actors used. manifest: path of ``batch.json``."""

    films: list[FilmResult]
    seconds: float
    workers: int
    manifest: Path
    failed: list[FilmResult] = field(default_factory=list)

    @property
    def frames(self) -> int:
        return sum(f.frames for f in self.films if f.status in ("done", "up to date"))


def _write_manifest(path: Path, films: list[FilmResult], started: float) -> None:
    data = {"format": "exemplar_vc.batch", "version": 1, "updated": time.time(), "started": started, "films": [vars(f) for f in films]}
    write_bytes_atomic(path, (json.dumps(data, indent=1) + "\n").encode())


def _worker_count(ray, options: BatchOptions) -> int:
    if options.workers is not None:
        if options.workers < 1:
            raise InputError(f"expected --workers >= 1, got {options.workers}")
        return options.workers
    res = ray.cluster_resources()
    if options.gpus_per_worker > 0:
        return max(1, int(res.get("GPU", 0) // options.gpus_per_worker))
    return max(1, int(res.get("CPU", 1) // max(1, options.cpus_per_worker)))


def run_batch(
    inputs: str | os.PathLike | list[FilmSpec],
    output_dir: str | os.PathLike,
    colorizer: Any = "default",
    options: BatchOptions = BatchOptions(),
    progress: Callable[[FilmResult], None] | None = None,
) -> BatchResult:
    """Colorize every film of ``inputs`` (a folder or list file, ``inputs.py``, or
    ``FilmSpec``s) into ``output_dir``; see the module docstring.

    ``colorizer``: a ``VideoColorizer``, or a variant name / saved folder for
    ``VideoColorizer.from_pretrained``. ``progress`` is called with a film's result each
    time one finishes or fails. Returns a ``BatchResult``; films that failed are listed
    in ``failed`` (the others are done regardless).
    """
    from ..pipeline import VideoColorizer

    if options.gpus_per_worker < 0 or options.cpus_per_worker < 1:
        raise InputError(f"expected gpus_per_worker >= 0 and cpus_per_worker >= 1, got {options.gpus_per_worker} and {options.cpus_per_worker}")
    out_dir = Path(output_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"expected an output folder, but {str(out_dir)!r} is a file")
    specs = list(inputs) if isinstance(inputs, list) else find_films(inputs, out_dir, options.output_format)
    ray = require_ray()  # before any work: an actionable error when Ray is missing
    if not isinstance(colorizer, VideoColorizer):
        colorizer = VideoColorizer.from_pretrained(colorizer, device="cpu")
    (out_dir / JOBS_DIR).mkdir(parents=True, exist_ok=True)
    started = time.time()
    results = {s.name: FilmResult(s.name, s.input, s.output) for s in specs}
    manifest = out_dir / JOBS_DIR / MANIFEST
    own_ray = not ray.is_initialized()
    if own_ray:
        ray.init(address=options.ray_address, include_dashboard=False, log_to_driver=False, configure_logging=False)
    workers: list = []
    try:
        with Job(out_dir / JOBS_DIR).lock():  # one driver per output folder
            n = _worker_count(ray, options)
            device = "cuda" if options.gpus_per_worker > 0 else "cpu"
            payload = ray.put(model_payload(colorizer))  # the weights, once
            actor = ray.remote(SegmentWorker).options(
                num_cpus=options.cpus_per_worker,
                num_gpus=options.gpus_per_worker,
                max_restarts=options.max_restarts,
                max_task_retries=options.max_task_retries,
                runtime_env={"env_vars": {"OMP_NUM_THREADS": str(options.cpus_per_worker)}},
            )
            workers = [actor.remote(payload, device, options.cpus_per_worker, options.frame_hook, options.segment_format) for _ in range(n)]
            in_tasks = options.assemble_in_tasks if options.assemble_in_tasks is not None else options.gpus_per_worker > 0
            # Actors hold their CPUs for life: assembly tasks need one left over, or they would wait for ever.
            in_tasks = in_tasks and ray.cluster_resources().get("CPU", 0) - n * options.cpus_per_worker >= 1
            _Scheduler(ray, specs, results, workers, in_tasks, options, manifest, started, progress, payload, colorizer_key(colorizer)).run()
    finally:
        for w in workers:
            try:
                ray.kill(w)
            except Exception:  # already gone
                pass
        if own_ray:
            ray.shutdown()
    films = [results[s.name] for s in specs]
    _write_manifest(manifest, films, started)
    return BatchResult(films, time.time() - started, len(workers), manifest, [f for f in films if f.status == "failed"])


class _Scheduler:
    """One queue over the workers. Films are taken in order: a film's segments (longest
    first) go before the next film's, so all workers share a long film and few films are
    in flight at once (their segments wait on disk until assembled); the next film's plan
    is taken one film early, so its segments are ready when the current film's run out.
    With ``in_tasks``, plans and assemblies are plain one-CPU Ray tasks instead (GPU
    workers only colorize): all plans are submitted at once and run on the spare CPUs.
    Ray places the actors, moves the weights and restarts dead workers; this only decides
    what an idle actor does next."""

    PLAN, ASSEMBLE, SEGMENT = 0, 1, 2
    LOOKAHEAD = 1  # films planned ahead of the one being colorized

    def __init__(self, ray, specs, results, workers, in_tasks, options, manifest, started, progress, payload=None, model_id=""):
        self.ray, self.results, self.options = ray, results, options
        self.specs = {s.name: s for s in specs}
        self.rank = {s.name: i for i, s in enumerate(specs)}
        self.idle = list(workers)
        self.in_tasks = in_tasks
        self.manifest, self.started, self.progress = manifest, started, progress
        self.queue: list = []
        self.seq = itertools.count()
        self.running: dict = {}  # future -> (kind, film, payload, worker or None)
        self.left: dict[str, set] = {}
        self.keys: dict[str, list[str]] = {}
        self.seg_keys: dict[str, dict[tuple[int, int], str]] = {}
        self.assemble_task = self.plan_task = None
        if in_tasks:
            retries = options.max_task_retries
            self.assemble_task = ray.remote(assemble_film).options(num_cpus=1, max_retries=retries)
            plan_task = ray.remote(plan_film_task).options(num_cpus=1, max_retries=retries)
            device = "cuda" if options.gpus_per_worker > 0 else "cpu"
            for spec in specs:
                f = plan_task.remote(payload, model_id, spec, options.segment_format, device)
                self.running[f] = (self.PLAN, spec.name, None, None)
        else:
            for spec in specs:
                self._push(self.PLAN, 0, spec.name, None)

    def _push(self, kind: int, size: int, film: str, payload: Any) -> None:
        rank = self.rank[film] - (self.LOOKAHEAD if kind == self.PLAN else 0)
        heapq.heappush(self.queue, (rank, kind, -size, next(self.seq), film, payload))

    def _save(self) -> None:
        _write_manifest(self.manifest, [self.results[n] for n in self.specs], self.started)

    def _finish(self, film: str, status: str, error: str | None = None) -> None:
        r = self.results[film]
        r.status, r.error = status, error
        self.left.pop(film, None)
        self._save()
        if self.progress is not None:
            self.progress(r)

    def _submit(self) -> None:
        keep = self.options.keep_segments
        while self.queue:
            _, kind, _, _, film, payload = self.queue[0]
            if self.results[film].status == "failed":
                heapq.heappop(self.queue)
                continue
            if kind == self.ASSEMBLE and self.in_tasks:
                heapq.heappop(self.queue)
                f = self.assemble_task.remote(self.specs[film], self.keys[film], self.options.segment_format, keep)
                self.running[f] = (kind, film, payload, None)
                continue
            if not self.idle:
                return
            heapq.heappop(self.queue)
            w = self.idle.pop()
            spec = self.specs[film]
            if kind == self.PLAN:
                f = w.plan.remote(spec)
            elif kind == self.ASSEMBLE:
                f = w.assemble.remote(spec, self.keys[film], keep)
            else:
                f = w.colorize.remote(spec, payload[0], payload[1])
            self.running[f] = (kind, film, payload, w)

    def run(self) -> None:
        self._save()
        while self.queue or self.running:
            self._submit()
            if not self.running:
                if not self.idle:
                    raise RuntimeError("every worker died; see the Ray logs")
                continue
            done, _ = self.ray.wait(list(self.running), num_returns=1)
            kind, film, payload, worker = self.running.pop(done[0])
            try:
                out = self.ray.get(done[0])
            except self.ray.exceptions.RayActorError as e:  # restarts exhausted: the worker is gone
                self._finish(film, "failed", f"worker died: {' '.join(str(e).split())[:300]}")
                continue
            except self.ray.exceptions.RayError as e:
                out = {"ok": False, "error": " ".join(str(e).split())[:300]}
            if worker is not None:
                self.idle.append(worker)
            self._handle(kind, film, out)

    def _handle(self, kind: int, film: str, out: dict) -> None:
        r = self.results[film]
        if r.status == "failed":
            return
        if kind == self.PLAN:
            if not out.get("ok"):
                return self._finish(film, "failed", out.get("error"))
            r.frames, r.segments = out["frames"], len(out["segments"])
            r.reused = r.segments - len(out["todo"])
            self.keys[film] = out["keys"]
            if out["up_to_date"]:
                return self._finish(film, "up to date")
            r.status = "running"
            self.seg_keys[film] = {(s["start"], s["end"]): k for s, k in zip(out["segments"], out["keys"])}
            self.left[film] = set()
            self._queue_segments(film, out["todo"])
            if not out["todo"]:
                self._push(self.ASSEMBLE, 0, film, None)
            self._save()
        elif kind == self.SEGMENT:
            if not out.get("ok"):
                return self._finish(film, "failed", out.get("error"))
            r.computed += bool(out.get("computed"))
            left = self.left.get(film, set())
            left.discard((out["segment"]["start"], out["segment"]["end"]))
            if not left:
                self._push(self.ASSEMBLE, 0, film, None)
        else:
            if out.get("ok"):
                return self._finish(film, "done")
            if out.get("redo"):  # a stored segment was damaged or lost: compute it again, then assemble
                return self._queue_segments(film, out["redo"])
            self._finish(film, "failed", out.get("error"))

    def _queue_segments(self, film: str, segments: list[dict]) -> None:
        for s in segments:
            span = (s["start"], s["end"])
            self.left.setdefault(film, set()).add(span)
            self._push(self.SEGMENT, s["end"] - s["start"], film, (s, self.seg_keys[film][span]))
