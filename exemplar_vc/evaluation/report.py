"""A small HTML report people can look at: per clip, a strip of frames (gray input, each
method's output, ground truth, confidence map) at a few times, per-frame PSNR and CDC
plots (matplotlib, PNG), and the tables; ``index.html`` links the clips.

Needs matplotlib (in the ``dev`` extra); it is imported only when a report is written.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import numpy as np

from .results import ClipResult, EvalReport
from .tables import COLUMNS, format_value, markdown_clips, markdown_overall

__all__ = ["write_clip_page", "write_index", "strip_times"]

_CSS = "body{font-family:sans-serif;margin:1.5em;max-width:1400px}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td:first-child,th:first-child{text-align:left}img{max-width:100%}"


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError("the HTML report needs matplotlib: `pip install matplotlib` (or the package's `dev` extra)") from e
    return plt


def strip_times(num_frames: int, count: int = 4) -> list[int]:
    """``count`` frame indices spread over the clip, first and last included.

    >>> strip_times(100)
    [0, 33, 66, 99]
    """
    return sorted(set(np.linspace(0, num_frames - 1, min(count, num_frames)).round().astype(int).tolist()))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def _html_table(rows: list[tuple[list[str], dict]], lead: list[str]) -> str:
    keys = [c for c in COLUMNS if any(c[0] in r for _, r in rows)]
    head = "".join(f"<th>{html.escape(h)}</th>" for h in lead + [h for _, h, _ in keys])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(n)}</td>" for n in names) + "".join(f"<td>{format_value(k, r.get(k))}</td>" for k, _, _ in keys) + "</tr>"
        for names, r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _write_strip(path: Path, clip: ClipResult, gray: np.ndarray, outputs: dict[str, np.ndarray], gt: np.ndarray, confidence: np.ndarray | None) -> None:
    plt = _pyplot()
    times = strip_times(len(gt))
    rows: list[tuple[str, list[np.ndarray], dict]] = [("gray input", [gray[t] for t in times], {"cmap": "gray", "vmin": 0, "vmax": 255})]
    for name, frames in outputs.items():
        rows.append((name.replace("_", " "), [frames[t] for t in times], {}))
    rows.append(("ground truth", [gt[t] for t in times], {}))
    if confidence is not None:
        rows.append(("confidence", [confidence[t] for t in times], {"cmap": "viridis", "vmin": 0, "vmax": 1}))
    h, w = gt.shape[1:3]
    cell = 2.6
    fig, axes = plt.subplots(len(rows), len(times), figsize=(cell * len(times), cell * h / w * len(rows) + 0.3 * len(rows)), squeeze=False)
    for r, (label, images, kw) in enumerate(rows):
        for c, img in enumerate(images):
            ax = axes[r][c]
            ax.imshow(img, interpolation="nearest", aspect="auto", **kw)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"frame {times[c]}" + (" (exemplar)" if times[c] in clip.exemplar_frames else ""), fontsize=9)
            if c == 0:
                ax.set_ylabel(label, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _write_curve(path: Path, title: str, ylabel: str, curves: dict[str, list[float]], exemplars: list[int], start: int) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3))
    for name, values in curves.items():
        ax.plot(np.arange(start, start + len(values)), values, label=name.replace("_", " "), linewidth=1.2)
    for f in exemplars:
        ax.axvline(f, color="0.7", linestyle=":", linewidth=1)
    ax.set_xlabel("frame")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def write_clip_page(report_dir: str | os.PathLike, clip: ClipResult, gray: np.ndarray, outputs: dict[str, np.ndarray], gt: np.ndarray, confidence: np.ndarray | None) -> str:
    """Write ``<report_dir>/<clip>_<protocol>/index.html`` with its PNGs; returns the page
    path relative to ``report_dir``. gray: (T, H, W) uint8; outputs and gt: (T, H, W, 3)
    uint8 sRGB; confidence: (T, h, w) float in [0, 1] or None."""
    slug = _slug(f"{clip.clip}_{clip.protocol}")
    out = Path(report_dir) / slug
    out.mkdir(parents=True, exist_ok=True)
    _write_strip(out / "strip.png", clip, gray, outputs, gt, confidence)
    _write_curve(out / "psnr.png", f"{clip.clip}, {clip.protocol}: PSNR per frame (RGB, dB)", "PSNR (dB)", {m: r.psnr_curve for m, r in clip.methods.items()}, clip.exemplar_frames, 0)
    cdc_curves = {m: r.cdc_curve for m, r in clip.methods.items()}
    cdc_curves["ground truth"] = clip.gt_cdc_curve
    _write_curve(out / "cdc.png", f"{clip.clip}, {clip.protocol}: JS divergence of frame t-1 and t (CDC_1 terms)", "JS (nats)", cdc_curves, clip.exemplar_frames, 1)
    change_curves = {m: r.error_change_curve for m, r in clip.methods.items()}
    _write_curve(out / "error_change.png", f"{clip.clip}, {clip.protocol}: change of the colour error from frame t-1 to t", "mean CIE ab", change_curves, clip.exemplar_frames, 1)
    rows = [([n], dict(r.metrics, fps=r.fps, peak_mem_mib=r.peak_mem_mib)) for n, r in clip.methods.items()] + [(["ground truth"], clip.ground_truth)]
    title = html.escape(f"{clip.clip} — {clip.protocol}")
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>{_CSS}</style></head><body>"
        f"<p><a href='../index.html'>all clips</a></p><h1>{title}</h1>"
        f"<p>{clip.num_frames} frames, {clip.size[1]}x{clip.size[0]}; exemplar frames (0-based): {html.escape(str(clip.exemplar_frames))}</p>"
        f"{_html_table(rows, ['method'])}"
        f"<h2>Frames</h2><img src='strip.png' alt='frame strip'>"
        f"<h2>Over time</h2><img src='psnr.png' alt='PSNR per frame'><br><img src='cdc.png' alt='CDC per frame'>"
        "<br><img src='error_change.png' alt='change of the colour error per frame'>"
        "</body></html>"
    )
    (out / "index.html").write_text(page, encoding="utf-8")
    return f"{slug}/index.html"


def _run_section(settings: dict) -> str:
    """Version, commit and every setting of the run, as a two-column table."""
    from .._version import __version__

    machine = settings.get("machine") or {}
    rows = [("exemplar_vc version", __version__), ("commit", machine.get("commit") or "unknown")]
    rows += [(k, v) for k, v in settings.items() if k != "machine"] + [(f"machine: {k}", v) for k, v in machine.items() if k != "commit"]
    cells = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return f"<h2>Run</h2><table class='run'><tr><th>setting</th><th>value</th></tr>{cells}</table>"


def write_index(report_dir: str | os.PathLike, report: EvalReport) -> Path:
    """Write ``<report_dir>/index.html``: overall table, per-clip table, links; also
    ``results.json`` and ``results.md`` beside it."""
    import json

    out = Path(report_dir)
    out.mkdir(parents=True, exist_ok=True)
    overall_rows = [([p, m.replace("_", " ")], v) for p, ms in report.overall.items() for m, v in ms.items()]
    links = "".join(f"<li><a href='{html.escape(c.page)}'>{html.escape(c.clip)} — {html.escape(c.protocol)}</a></li>" for c in report.clips if c.page)
    clip_rows = []
    for c in report.clips:
        for n, r in c.methods.items():
            clip_rows.append(([c.clip, c.protocol, n], dict(r.metrics, fps=r.fps, peak_mem_mib=r.peak_mem_mib)))
        clip_rows.append(([c.clip, c.protocol, "ground truth"], c.ground_truth))
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>exemplar-vc evaluation</title><style>{_CSS}</style></head><body>"
        f"<h1>exemplar-vc evaluation</h1>{_run_section(report.settings)}<h2>Overall (mean over clips)</h2>"
        f"{_html_table(overall_rows, ['protocol', 'method'])}<h2>Clips</h2><ul>{links}</ul>"
        f"{_html_table(clip_rows, ['clip', 'protocol', 'method'])}</body></html>"
    )
    (out / "index.html").write_text(page, encoding="utf-8")
    (out / "results.json").write_text(json.dumps(report.to_dict(), indent=1), encoding="utf-8")
    (out / "results.md").write_text(markdown_overall(report) + "\n\n" + markdown_clips(report.clips) + "\n", encoding="utf-8")
    return out / "index.html"
