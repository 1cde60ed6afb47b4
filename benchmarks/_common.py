"""Shared helpers for benchmark scripts: machine description, commit, timing summary."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import subprocess
from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def machine() -> dict:
    import torch

    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "load_average": os.getloadavg()[0],
    }


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=Path(__file__).parent).stdout.strip()
    except OSError:
        return "unknown"


def summary(values: list[float]) -> dict:
    """Median and spread (min, max) of repeated measurements."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": len(values)}


def emit(report: dict, path: Path | None) -> None:
    """Print the JSON report, and write it to ``path`` when given."""
    text = json.dumps(report, indent=2)
    print(text)
    if path is not None:
        path.write_text(text)


REPO = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def checkout(rev: str | None, workdir: Path):
    """Yield {"this": this repository, "against": a temporary git worktree of ``rev``}
    (only "this" when ``rev`` is None), removing the worktree afterwards."""
    trees = {"this": REPO}
    if rev is None:
        yield trees
        return
    subprocess.run(["git", "worktree", "add", "--detach", str(workdir / "against"), rev], cwd=REPO, check=True, capture_output=True)
    trees["against"] = workdir / "against"
    try:
        yield trees
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(workdir / "against")], cwd=REPO, capture_output=True)


def tree_env(tree: Path, **extra: str) -> dict:
    """Environment for a child process that imports ``exemplar_vc`` from ``tree``."""
    return {**os.environ, "PYTHONPATH": str(tree), **extra}
