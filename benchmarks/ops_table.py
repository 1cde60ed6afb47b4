"""Render the JSON of ops_correspondence.py / ops_local_attention.py as Markdown tables.

    python benchmarks/ops_table.py benchmarks/results/ops_correspondence.json
"""

from __future__ import annotations

import json
import sys


def _cell(row: dict) -> tuple[str, str, str]:
    if "skipped" in row:
        return "skipped", "-", "-"
    if "error" in row:
        return "error: " + row["error"][:60], "-", "-"
    t = f"{row['median_s']:.3f} ({row['min_s']:.3f}-{row['max_s']:.3f})"
    mem = "-" if row["peak_extra_mb"] is None else f"{row['peak_extra_mb']:.0f}"
    return t, mem, f"{row['gflops']:.2f}"


def render(doc: dict) -> str:
    size_keys = [k for k in ("H", "W", "N_ref", "C", "V", "radius") if k in doc["results"][0]]
    lines = [
        f"commit {doc['commit']}, {doc['machine']['cpu']}, {doc['machine']['cores']} cores, "
        f"torch {doc['machine']['torch']}, load average at the end {doc['machine']['load_average_1_5_15']}",
        "",
        "| " + " | ".join(size_keys) + " | GFLOP/call | method | time s, median (min-max) | peak extra MB | GFLOP/s |",
        "|" + "---|" * (len(size_keys) + 5),
    ]
    for row in doc["results"]:
        t, mem, gf = _cell(row)
        sizes = " | ".join(str(row[k]) for k in size_keys)
        lines.append(f"| {sizes} | {row['flops'] / 1e9:.1f} | {row['method']} | {t} | {mem} | {gf} |")
    skipped = [f"{r['method']} at {r['H']}x{r['W']}: {r['skipped']}" for r in doc["results"] if "skipped" in r]
    lines += [""] + [f"Skipped {s}." for s in skipped]
    return "\n".join(lines)


if __name__ == "__main__":
    for path in sys.argv[1:]:
        print(render(json.load(open(path))))
        print()
