"""Result records of an evaluation run, and their JSON form."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = ["MethodResult", "ClipResult", "EvalReport", "overall"]


@dataclass
class MethodResult:
    """One method on one clip under one protocol.

    metrics: {name: value} (see ``evaluation.scoring.METRICS``); NaN when not computable.
    seconds: wall time of the method's call alone (no decoding, no metrics).
    fps: frames / seconds. peak_mem_mib: peak RSS increase during the call (MiB).
    cuda_peak_mib: peak CUDA memory allocated by torch during the call (None on CPU).
    psnr_curve: (T,) per-frame RGB PSNR (dB). cdc_curve: (T - 1,) JS divergence between
    consecutive frames (nats). error_change_curve, visible_change_curve: (T - 1,) mean
    change of the colour error from frame i to i + 1 (CIE ab) and the share of pixels
    where it exceeds the just-noticeable difference (``metrics.error_change_curves``).
    """

    method: str
    metrics: dict[str, float]
    seconds: float
    fps: float
    peak_mem_mib: float
    cuda_peak_mib: float | None = None
    psnr_curve: list[float] = field(default_factory=list)
    cdc_curve: list[float] = field(default_factory=list)
    error_change_curve: list[float] = field(default_factory=list)
    visible_change_curve: list[float] = field(default_factory=list)


@dataclass
class ClipResult:
    """Every method on one clip under one protocol, plus the ground truth's own scores."""

    clip: str
    protocol: str
    num_frames: int
    size: tuple[int, int]
    exemplar_frames: list[int]
    methods: dict[str, MethodResult]
    ground_truth: dict[str, float]
    gt_cdc_curve: list[float] = field(default_factory=list)
    page: str | None = None


def _clean(x: Any) -> Any:
    """NaN/inf -> None so the JSON is standard."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, np.generic):
        return _clean(x.item())
    return x


def _mean(values: list[float]) -> float:
    v = [x for x in values if x is not None and math.isfinite(x)]
    return float(np.mean(v)) if v else float("nan")


def overall(clips: list[ClipResult]) -> dict[str, dict[str, dict[str, float]]]:
    """{protocol: {method or "ground_truth": {metric: mean over clips}}}; unweighted mean
    over clips (each clip counts once whatever its length); fps is total frames / total
    seconds; peak_mem_mib the largest over clips."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for protocol in dict.fromkeys(c.protocol for c in clips):
        group = [c for c in clips if c.protocol == protocol]
        rows: dict[str, dict[str, float]] = {}
        for method in dict.fromkeys(m for c in group for m in c.methods):
            results = [c.methods[method] for c in group if method in c.methods]
            row = {k: _mean([r.metrics.get(k, float("nan")) for r in results]) for k in results[0].metrics}
            row["fps"] = sum(c.num_frames for c in group if method in c.methods) / max(sum(r.seconds for r in results), 1e-12)
            row["peak_mem_mib"] = max(r.peak_mem_mib for r in results)
            rows[method] = row
        rows["ground_truth"] = {k: _mean([c.ground_truth.get(k, float("nan")) for c in group]) for k in group[0].ground_truth}
        out[protocol] = rows
    return out


@dataclass
class EvalReport:
    """A whole run: per-clip results, the overall means, and the settings used."""

    clips: list[ClipResult]
    settings: dict[str, Any]

    @property
    def overall(self) -> dict[str, dict[str, dict[str, float]]]:
        return overall(self.clips)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (NaN written as null)."""
        return _clean({"settings": self.settings, "overall": self.overall, "clips": [asdict(c) for c in self.clips]})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "EvalReport":
        """Inverse of ``to_dict`` (null read back as NaN), e.g. to re-render saved results."""

        def nan(x: Any) -> Any:
            if isinstance(x, dict):
                return {k: nan(v) for k, v in x.items()}
            return float("nan") if x is None else x

        clips = []
        for c in data["clips"]:
            methods = {k: MethodResult(**dict(m, metrics=nan(m["metrics"]))) for k, m in c["methods"].items()}
            clips.append(ClipResult(**dict(c, methods=methods, ground_truth=nan(c["ground_truth"]), size=tuple(c["size"]))))
        return cls(clips, data.get("settings", {}))
