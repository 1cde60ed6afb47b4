"""Peak memory of one call, measured by sampling the process's resident set size.

The process RSS high-water mark (``getrusage``) only ever grows, so it cannot tell one
clip from the next in a single process. Instead a thread samples the current RSS (Linux
``/proc/self/statm``) every few milliseconds during the call; the result is the peak
seen minus the RSS just before the call: the memory the call itself added. Short
spikes between two samples can be missed, so it is a lower bound within about one
sampling interval. Before the call, garbage is collected and glibc is asked to return
freed heap to the system (``malloc_trim``), so memory freed by an earlier call is not
silently reused and reported as zero. On CUDA, ``torch.cuda.max_memory_allocated`` is
reported as well.
"""

from __future__ import annotations

import os
import resource
import threading
import time
from dataclasses import dataclass

__all__ = ["PeakMemory", "current_rss_bytes"]

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def current_rss_bytes() -> int:
    """Resident set size of this process now, in bytes (falls back to the high-water mark
    where /proc is unavailable)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):  # pragma: no cover - non-Linux
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@dataclass
class PeakMemory:
    """Context manager: ``with PeakMemory() as m: ...`` then ``m.peak_increase_mib``.

    >>> with PeakMemory() as m:
    ...     block = bytearray(64 * 2**20)
    ...     time.sleep(0.05)
    >>> m.peak_increase_mib > 30
    True
    """

    interval_s: float = 0.005
    start_bytes: int = 0
    peak_bytes: int = 0
    cuda_peak_bytes: int | None = None

    def __enter__(self) -> "PeakMemory":
        _release_free_memory()
        self._stop = threading.Event()
        self._cuda = _cuda_reset()
        self.start_bytes = self.peak_bytes = current_rss_bytes()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, current_rss_bytes())
            time.sleep(self.interval_s)

    def __exit__(self, *exc: object) -> None:
        self.peak_bytes = max(self.peak_bytes, current_rss_bytes())
        self._stop.set()
        self._thread.join()
        if self._cuda:
            import torch

            self.cuda_peak_bytes = int(torch.cuda.max_memory_allocated())

    @property
    def peak_increase_mib(self) -> float:
        """Peak RSS during the call minus RSS before it, MiB."""
        return (self.peak_bytes - self.start_bytes) / 2**20

    @property
    def peak_rss_mib(self) -> float:
        """Peak RSS of the whole process during the call, MiB."""
        return self.peak_bytes / 2**20


def _release_free_memory() -> None:
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        pass


def _cuda_reset() -> bool:
    import sys

    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available() or not torch.cuda.is_initialized():
        return False
    torch.cuda.reset_peak_memory_stats()
    return True
