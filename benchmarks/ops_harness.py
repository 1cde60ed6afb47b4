"""Shared harness of the ops benchmarks: one measurement per fresh subprocess.

Each case runs in its own Python process so its peak memory is its own: after the inputs
are built, the kernel's peak-RSS counter is reset (/proc/self/clear_refs, "5") and the
peak extra memory is VmHWM - VmRSS(before). Timing: warm-up calls, then several timed
calls; we report the median and the spread (min, max). Threads are pinned to the
machine's cores (2 here).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def measure(fn, warmup: int, runs: int) -> dict:
    """Run fn warmup + runs times in this process; times (s) and peak extra memory (MB).

    The first warm-up call runs before the peak counter is reset: it pages in library code
    and one-time buffers (thread pools, BLAS scratch), which are not the kernel's memory.
    """
    import gc

    fn()
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM to the current RSS
    base = _status_kb("VmRSS")
    for _ in range(warmup - 1):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "runs": runs,
        "warmup": warmup,
        "peak_extra_mb": (_status_kb("VmHWM") - base) / 1024,
    }


def run_child(script: str, args: list[str], threads: int = 0, timeout: float = 900) -> dict:
    """Run ``script --threads T --one args`` in a fresh interpreter; parse its last JSON line."""
    proc = subprocess.run(
        [sys.executable, script, "--threads", str(threads), "--one", *args],
        capture_output=True, text=True, timeout=timeout,
    )
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"rc {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def set_threads(threads: int) -> None:
    """torch.set_num_threads(threads) when threads > 0 (0: torch's default, one per core)."""
    import torch

    if threads > 0:
        torch.set_num_threads(threads)


def machine() -> dict:
    import torch

    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_gb, 1),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        # Other users' load slows multi-threaded ATen a lot (threads wait at barriers).
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
    }


def commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "exemplar_vc/ops"], capture_output=True, text=True)
        return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def emit(doc: dict, out) -> None:
    """Write the result document to ``out`` (when given) and print it."""
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(doc, indent=1))
    print(json.dumps(doc))
