"""Flicker at exemplar frames, read from saved ``benchmarks/quality.py`` results.

A colorizer that drifts between exemplars and snaps back at each one shows a jump in
colour into the exemplar frame. ``quality.py`` stores, per clip and method, the
per-pair term of CDC (``cdc_curve[i]``: Jensen-Shannon divergence of the colour
histograms of frames i and i + 1, NTIRE 2023 report eq. 1) and the ground truth's own
(``gt_cdc_curve``). Here, for every exemplar frame e after the first, the pairs
(e - 1, e) ("into") and (e, e + 1) ("out of") are compared with the truth's same pairs;
all other pairs give the method's ordinary level. A ratio near the ordinary level means
no visible jump; a ratio of several times it is a jump.

    python benchmarks/exemplar_flicker.py benchmarks/results/quality_network_v2_heldout.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def clip_ratios(clip: dict, method: str) -> dict | None:
    """JS(method) / JS(truth) at the pairs into and out of each exemplar frame after the
    first, and the median ratio over all other pairs; None without such exemplars."""
    inner = [e for e in clip["exemplar_frames"] if e > 0]
    curve = np.asarray(clip["methods"][method]["cdc_curve"], float)
    truth = np.asarray(clip["gt_cdc_curve"], float)
    if not inner or len(curve) != len(truth) or len(curve) == 0:
        return None
    floor = max(float(np.median(truth)), 1e-9)  # a still truth pair must not divide by ~0
    ratio = curve / np.maximum(truth, floor)
    into = [ratio[e - 1] for e in inner if e - 1 < len(ratio)]
    out = [ratio[e] for e in inner if e < len(ratio)]
    at = {e - 1 for e in inner} | {e for e in inner}
    rest = [r for i, r in enumerate(ratio) if i not in at]
    return {"into": into, "out_of": out, "elsewhere": float(np.median(rest)) if rest else float("nan")}


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
    if args.json:
        Path(args.json).write_text(json.dumps({"inputs": args.results, "methods": table}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
