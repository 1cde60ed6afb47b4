"""Run protocols on colour clips: make the gray input and exemplars, run the pipeline and
the baselines on the same input, time them, and score every output against the truth."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import InputError
from ..io import IMAGE_SUFFIXES, VIDEO_SUFFIXES, open_video
from ..stored import as_array
from .baselines import BASELINES
from .memory import PeakMemory
from .protocols import PROTOCOLS, make_gray, protocol_exemplars
from .results import ClipResult, EvalReport, MethodResult
from .scoring import METRICS, ClipScorer

__all__ = ["METHODS", "find_clips", "load_clip", "evaluate_clip", "evaluate", "machine_info"]

METHODS = ("pipeline",) + tuple(BASELINES)


def find_clips(inputs: Sequence[str | os.PathLike]) -> list[Path]:
    """Expand inputs into clips: a video file or a folder of frames is one clip; a folder
    of videos or of frame folders gives each of them, sorted by name."""
    clips: list[Path] = []
    for item in inputs:
        p = Path(item)
        if not p.exists():
            raise InputError(f"expected a colour clip, frame folder or folder of clips, but {str(p)!r} does not exist")
        if p.is_file():
            clips.append(p)
            continue
        entries = sorted(p.iterdir())
        if any(e.is_file() and e.suffix.lower() in IMAGE_SUFFIXES for e in entries):
            clips.append(p)
            continue
        found = [e for e in entries if (e.is_file() and e.suffix.lower() in VIDEO_SUFFIXES) or (e.is_dir() and any(q.suffix.lower() in IMAGE_SUFFIXES for q in e.iterdir()))]
        if not found:
            raise InputError(f"expected videos, frames or frame folders in {str(p)!r}, found none")
        clips.extend(found)
    return clips


def load_clip(path: str | os.PathLike, max_frames: int | None = None) -> np.ndarray:
    """(T, H, W, 3) uint8 RGB frames of a colour clip (the first ``max_frames`` if given)."""
    frames = []
    for f in open_video(path).rgb_frames():
        frames.append(f)
        if max_frames and len(frames) >= max_frames:
            break
    if not frames:
        raise InputError(f"expected frames in {str(path)!r}, found none")
    return np.stack(frames)


def _timed(fn: Callable[[], Any]) -> tuple[Any, float, PeakMemory]:
    with PeakMemory() as mem:
        start = time.perf_counter()
        out = fn()
        seconds = time.perf_counter() - start
    return out, seconds, mem


def _method_result(name: str, out: np.ndarray, scorer: ClipScorer, seconds: float, mem: PeakMemory, metric_names: Sequence[str]) -> MethodResult:
    from ..metrics import cdc_curve, psnr_frames

    gt = scorer.gt
    change, visible = scorer.error_change(out)
    return MethodResult(
        method=name,
        metrics=scorer.score(out, metric_names),
        seconds=seconds,
        fps=len(gt) / max(seconds, 1e-12),
        peak_mem_mib=mem.peak_increase_mib,
        cuda_peak_mib=None if mem.cuda_peak_bytes is None else mem.cuda_peak_bytes / 2**20,
        psnr_curve=psnr_frames(out, gt).tolist(),
        cdc_curve=cdc_curve(out).tolist() if len(out) > 1 else [],
        error_change_curve=change.tolist(),
        visible_change_curve=visible.tolist(),
    )


def evaluate_clip(
    name: str,
    gt: np.ndarray,
    protocol: str,
    colorizer: Any = None,
    methods: Sequence[str] = METHODS,
    metric_names: Sequence[str] = METRICS,
    bank: str | os.PathLike | None = None,
    report_dir: str | os.PathLike | None = None,
    extra_metrics: dict[str, Callable] | None = None,
    scorer: ClipScorer | None = None,
    variants: dict[str, Any] | None = None,
    progress: bool = False,
) -> ClipResult:
    """One clip ((T, H, W, 3) uint8 RGB ground truth) under one protocol.

    ``colorizer`` is a ``VideoColorizer`` (needed for the "pipeline" method and for the
    retrieval protocol); baselines get the same exemplars as the pipeline. ``scorer``:
    a ``ClipScorer`` of this ground truth to share across protocols (made if None).
    ``variants``: more named colorizers (e.g. another fusion module) run exactly like the
    pipeline on the same input and exemplars, each reported under its name.
    ``progress``: the colorizers' own progress bars (stage 1, colorizing) on stderr.
    """
    variants = variants or {}
    unknown = [m for m in methods if m not in METHODS and m not in variants]
    if unknown:
        raise InputError(f"expected methods among {list(METHODS)}, got {unknown}")
    if protocol not in PROTOCOLS:
        raise InputError(f"expected a protocol in {list(PROTOCOLS)}, got {protocol!r}")
    if scorer is None:
        scorer = ClipScorer(gt, extra_metrics)
    gray = make_gray(gt)
    source = protocol_exemplars(protocol, gt, bank)
    outputs: dict[str, np.ndarray] = {}
    results: dict[str, MethodResult] = {}
    confidence = None
    if "pipeline" in methods or protocol == "retrieval":
        if colorizer is None:
            raise InputError("expected a colorizer for the pipeline method or the retrieval protocol, got None")
    if "pipeline" in methods:
        res, seconds, mem = _timed(lambda: colorizer(gray, exemplars=source, progress=progress))
        outputs["pipeline"], confidence = res.frames, res.confidence
        exemplars = {e.frame: as_array(e.image) for e in res.exemplars}
        results["pipeline"] = _method_result("pipeline", res.frames, scorer, seconds, mem, metric_names)
    elif protocol == "retrieval":
        exemplars = {e.frame: as_array(e.image) for e in colorizer.plan(gray, source, progress=progress).exemplars}
    else:
        exemplars = source
    for v, variant in variants.items():
        if v in methods:
            res, seconds, mem = _timed(lambda: variant(gray, exemplars=source, progress=progress))
            outputs[v] = res.frames
            results[v] = _method_result(v, res.frames, scorer, seconds, mem, metric_names)
    for m in methods:
        if m in BASELINES:
            out, seconds, mem = _timed(lambda: BASELINES[m](gray, exemplars))
            outputs[m] = out
            results[m] = _method_result(m, out, scorer, seconds, mem, metric_names)
    from ..metrics import cdc_curve

    clip = ClipResult(
        clip=name,
        protocol=protocol,
        num_frames=len(gt),
        size=(int(gt.shape[1]), int(gt.shape[2])),
        exemplar_frames=sorted(int(f) for f in exemplars),
        methods=results,
        ground_truth=scorer.ground_truth(metric_names),
        gt_cdc_curve=cdc_curve(gt).tolist() if len(gt) > 1 else [],
    )
    if report_dir is not None:
        from .report import write_clip_page

        clip.page = write_clip_page(report_dir, clip, gray, outputs, gt, confidence)
    return clip


def machine_info() -> dict[str, Any]:
    """Where and on what code a run happened."""
    import torch

    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=Path(__file__).parent, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "commit": commit,
    }


def evaluate(
    inputs: Sequence[str | os.PathLike],
    protocols: Sequence[str] = ("first-frame",),
    colorizer: Any = None,
    methods: Sequence[str] = METHODS,
    metric_names: Sequence[str] = METRICS,
    bank: str | os.PathLike | None = None,
    report_dir: str | os.PathLike | None = None,
    max_frames: int | None = None,
    extra_metrics: dict[str, Callable] | None = None,
    log: Callable[[str], None] | None = None,
    on_result: Callable[[ClipResult], None] | None = None,
    variants: dict[str, Any] | None = None,
    progress: bool = False,
) -> EvalReport:
    """Every protocol on every clip found in ``inputs`` (in that order); returns an
    ``EvalReport``. Writes an HTML report (index.html, one page per clip) when
    ``report_dir`` is given; ``on_result`` is called with each clip result as it is done
    (e.g. to save partial results of a long run). ``variants``: more named colorizers,
    see ``evaluate_clip``. ``progress``: the colorizers' progress bars on stderr (the
    frames of each pipeline run; ``log`` names the clip and protocol before each)."""
    methods = list(methods) + [v for v in (variants or {}) if v not in methods]
    for p in protocols:
        if p not in PROTOCOLS:
            raise InputError(f"expected protocols among {list(PROTOCOLS)}, got {p!r}")
    paths = find_clips(inputs)
    clips = []
    warm = colorizer is None or "pipeline" not in methods
    for path in paths:
        gt = load_clip(path, max_frames)
        name = path.stem if path.is_file() else path.name
        if not warm:  # first call pays one-off costs (allocator, kernels): keep it out of fps
            for c in [colorizer, *(variants or {}).values()]:
                c(make_gray(gt[:2]), exemplars={0: gt[0]})
            warm = True
        scorer = ClipScorer(gt, extra_metrics)
        for protocol in protocols:
            if log:
                log(f"{name} ({len(gt)} frames), {protocol}")
            clips.append(evaluate_clip(name, gt, protocol, colorizer, methods, metric_names, bank, report_dir, extra_metrics, scorer, variants, progress))
            if on_result:
                on_result(clips[-1])
        del gt, scorer
    settings = {
        "inputs": [str(p) for p in paths],
        "protocols": list(protocols),
        "methods": list(methods),
        "metrics": list(metric_names) + sorted(extra_metrics or {}),
        "max_frames": max_frames,
        "colorizer": _describe(colorizer),
        "memory": "peak RSS increase during the method call, sampled every 5 ms, MiB",
        "machine": machine_info(),
    }
    report = EvalReport(clips, settings)
    if report_dir is not None:
        from .report import write_index

        write_index(report_dir, report)
    return report


def _describe(colorizer: Any) -> Any:
    if colorizer is None:
        return None
    config = getattr(colorizer, "config", None)
    return {"working_size": getattr(config, "working_size", None), "device": str(getattr(colorizer, "device", ""))}
