"""Flicker at exemplar frames, read from saved ``benchmarks/quality.py`` results.

A colorizer that drifts between exemplars and snaps back at each one shows a jump in
colour into the exemplar frame. ``quality.py`` stores, per clip and method, the
per-pair term of CDC (``cdc_curve[i]``: Jensen-Shannon divergence of the colour
histograms of frames i and i + 1, NTIRE 2023 report eq. 1) and the ground truth's own
(``gt_cdc_curve``). Here, for every exemplar frame e after the first, the pairs
(e - 1, e) ("into") and (e, e + 1) ("out of") are compared with the truth's same pairs;
all other pairs give the method's ordinary level. A ratio near the ordinary level means
no visible jump; a ratio of several times it is a jump.

On a still shot the truth's own divergence is tiny, so a ratio can be large for a change
no one sees. Results that also hold the error-change curves (``error_change_curve``,
``visible_change_curve``: ``exemplar_vc.metrics.error_change_curves``) get a second
table in colour units: at the same pairs, how much the colour error changes (mean CIE
ab) and on what share of pixels the change exceeds the just-noticeable difference (2.3).

    python benchmarks/exemplar_flicker.py benchmarks/results/quality_network_v2_heldout.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def exemplar_pairs(exemplar_frames: list[int], n_pairs: int) -> dict[str, list[int]] | None:
    """Indices of the pairs (i, i + 1) into ("into") and out of ("out_of") each exemplar
    frame after the first, and of all other pairs ("rest"); None without such exemplars."""
    inner = [e for e in exemplar_frames if e > 0]
    if not inner or n_pairs == 0:
        return None
    at = {e - 1 for e in inner} | {e for e in inner}
    return {"into": [e - 1 for e in inner if e - 1 < n_pairs], "out_of": [e for e in inner if e < n_pairs], "rest": [i for i in range(n_pairs) if i not in at]}


def _median(values: np.ndarray) -> float:
    return float(np.median(values)) if len(values) else float("nan")


def clip_ratios(clip: dict, method: str) -> dict | None:
    """JS(method) / JS(truth) at the pairs into and out of each exemplar frame after the
    first, and the median ratio over all other pairs; None without such exemplars."""
    curve = np.asarray(clip["methods"][method]["cdc_curve"], float)
    truth = np.asarray(clip["gt_cdc_curve"], float)
    pairs = exemplar_pairs(clip["exemplar_frames"], len(curve))
    if pairs is None or len(curve) != len(truth):
        return None
    floor = max(float(np.median(truth)), 1e-9)  # a still truth pair must not divide by ~0
    ratio = curve / np.maximum(truth, floor)
    return {"into": ratio[pairs["into"]].tolist(), "out_of": ratio[pairs["out_of"]].tolist(), "elsewhere": _median(ratio[pairs["rest"]])}


def clip_changes(clip: dict, method: str) -> dict | None:
    """Mean error change (CIE ab) and visible share at the pairs into and out of each
    exemplar frame after the first, and their medians over all other pairs; None without
    such exemplars or without the curves."""
    change = np.asarray(clip["methods"][method].get("error_change_curve") or [], float)
    visible = np.asarray(clip["methods"][method].get("visible_change_curve") or [], float)
    pairs = exemplar_pairs(clip["exemplar_frames"], len(change))
    if pairs is None:
        return None
    out = {k: {"change": change[pairs[k]].tolist(), "visible": visible[pairs[k]].tolist()} for k in ("into", "out_of")}
    out["elsewhere"] = {"change": _median(change[pairs["rest"]]), "visible": _median(visible[pairs["rest"]])}
    return out


def change_table(clips: list[dict], methods: list[str]) -> dict[str, dict]:
    """The error-change table (printed) for the methods whose results have the curves."""
    table: dict[str, dict] = {}
    rows = []
    for m in methods:
        got = [r for c in clips if m in c["methods"] for r in [clip_changes(c, m)] if r is not None]
        if not got:
            continue
        t = {}
        for side in ("into", "out_of"):
            ch = [x for r in got for x in r[side]["change"]]
            vis = [x for r in got for x in r[side]["visible"]]
            t[side] = {"change_mean": float(np.mean(ch)), "change_max": float(np.max(ch)), "visible_mean": float(np.mean(vis)), "visible_max": float(np.max(vis))}
        t["elsewhere"] = {"change": float(np.median([r["elsewhere"]["change"] for r in got])), "visible": float(np.median([r["elsewhere"]["visible"] for r in got]))}
        table[m] = t
        rows.append(
            f"| {m} | {t['into']['change_mean']:.2f}, {t['into']['change_max']:.2f} | {100 * t['into']['visible_mean']:.1f} %, {100 * t['into']['visible_max']:.1f} % "
            f"| {t['out_of']['change_mean']:.2f}, {t['out_of']['change_max']:.2f} | {100 * t['out_of']['visible_mean']:.1f} %, {100 * t['out_of']['visible_max']:.1f} % "
            f"| {t['elsewhere']['change']:.2f}, {100 * t['elsewhere']['visible']:.1f} % |"
        )
    if rows:
        print("\nChange of the colour error (CIE ab; visible: share of pixels above 2.3):\n")
        print("| method | into: change (mean, max) | into: visible (mean, max) | out of: change | out of: visible | elsewhere: change, visible (median of clip medians) |")
        print("|---|---|---|---|---|---|")
        print("\n".join(rows))
    return table


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("results", nargs="+", help="JSON files written by benchmarks/quality.py (merged)")
    p.add_argument("--methods", default=None, help="comma-separated methods (default: all in the files)")
    p.add_argument("--json", default=None, help="write the numbers here")
    args = p.parse_args(argv)

    clips = [c for f in args.results for c in json.loads(Path(f).read_text())["clips"]]
    methods = args.methods.split(",") if args.methods else sorted({m for c in clips for m in c["methods"]})
    table: dict[str, dict] = {}
    print("| method | exemplar frames | into exemplar, JS / truth's (mean, max) | out of exemplar (mean, max) | elsewhere (median of clip medians) |")
    print("|---|---|---|---|---|")
    for m in methods:
        into, out, rest = [], [], []
        for c in clips:
            if m not in c["methods"]:
                continue
            r = clip_ratios(c, m)
            if r is None:
                continue
            into += r["into"]
            out += r["out_of"]
            rest.append(r["elsewhere"])
        if not into:
            continue
        table[m] = {"exemplar_frames": len(into), "into_mean": float(np.mean(into)), "into_max": float(np.max(into)),
                    "out_mean": float(np.mean(out)), "out_max": float(np.max(out)), "elsewhere": float(np.median(rest))}
        t = table[m]
        print(f"| {m} | {t['exemplar_frames']} | {t['into_mean']:.2f}, {t['into_max']:.2f} | {t['out_mean']:.2f}, {t['out_max']:.2f} | {t['elsewhere']:.2f} |")
    changes = change_table(clips, methods)
    if args.json:
        doc = {"inputs": args.results, "methods": table}
        if changes:
            doc["error_change"] = changes
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
