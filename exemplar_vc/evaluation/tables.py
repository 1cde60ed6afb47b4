"""Markdown tables of an evaluation for people (the JSON is for machines)."""

from __future__ import annotations

import math

from .results import ClipResult, EvalReport

__all__ = ["COLUMNS", "markdown_overall", "markdown_clips", "markdown_report", "format_value"]

# (key, header, format); arrows say which way is better.
COLUMNS = [
    ("psnr", "PSNR dB ↑", "{:.2f}"),
    ("ssim", "SSIM ↑", "{:.4f}"),
    ("psnr_ab", "PSNR ab ↑", "{:.2f}"),
    ("ssim_ab", "SSIM ab ↑", "{:.4f}"),
    ("cdc", "CDC ↓", "{:.5f}"),
    ("colorfulness", "colourful.", "{:.1f}"),
    ("colorfulness_ratio", "colourful. / GT", "{:.2f}"),
    ("warp_error", "warp err ↓", "{:.5f}"),
    ("fd_effnet", "FD-EffNet ↓", "{:.3f}"),
    ("fid", "FID ↓", "{:.2f}"),
    ("fps", "frames/s", "{:.2f}"),
    ("peak_mem_mib", "peak MiB", "{:.0f}"),
]


def format_value(key: str, value: float | None) -> str:
    fmt = dict((k, f) for k, _, f in COLUMNS).get(key, "{:.4g}")
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return fmt.format(value)


def _columns(rows: list[dict[str, float]]) -> list[tuple[str, str, str]]:
    present = set().union(*rows) if rows else set()
    return [c for c in COLUMNS if c[0] in present]


def _table(lead: list[str], rows: list[tuple[list[str], dict[str, float]]]) -> str:
    cols = _columns([r for _, r in rows])
    head = "| " + " | ".join(lead + [h for _, h, _ in cols]) + " |"
    sep = "|" + "---|" * (len(lead) + len(cols))
    body = ["| " + " | ".join(names + [format_value(k, r.get(k)) for k, _, _ in cols]) + " |" for names, r in rows]
    return "\n".join([head, sep] + body)


def _clip_rows(c: ClipResult) -> list[tuple[list[str], dict[str, float]]]:
    rows = []
    for name, m in c.methods.items():
        rows.append(([c.clip, c.protocol, name], dict(m.metrics, fps=m.fps, peak_mem_mib=m.peak_mem_mib)))
    rows.append(([c.clip, c.protocol, "ground truth"], dict(c.ground_truth)))
    return rows


def markdown_clips(clips: list[ClipResult]) -> str:
    """One row per clip, protocol and method (and the ground truth's own scores)."""
    return _table(["clip", "protocol", "method"], [r for c in clips for r in _clip_rows(c)])


def markdown_overall(report: EvalReport) -> str:
    """One row per protocol and method: means over clips."""
    rows = []
    for protocol, methods in report.overall.items():
        for name, values in methods.items():
            rows.append(([protocol, name.replace("_", " ")], values))
    return _table(["protocol", "method"], rows)


def markdown_report(report: EvalReport) -> str:
    """Overall table, then per-clip table."""
    n = len({c.clip for c in report.clips})
    return f"### Overall (mean over {n} clips)\n\n{markdown_overall(report)}\n\n### Per clip\n\n{markdown_clips(report.clips)}\n"
