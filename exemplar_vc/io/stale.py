"""Temporary files of runs that died without cleaning up (SIGKILL, power loss), found
and removed by the next run.

A run marks everything temporary it creates with an owner marker: a small JSON file
``{"owner": "exemplar_vc", "pid": ..., "start": ..., "host": ...}`` (``start`` is the
process's start time in clock ticks since boot, from ``/proc``, so a reused PID is not
mistaken for the owner). Cleanup removes only what matches *both* a name pattern of this
library and a marker naming a process of this host that no longer runs; anything else,
including files of live runs and of other machines sharing the folder, is left alone.

- Output partials (``writer.py``), next to the output: ``.NAME.exvc-PID-RANDOM.partial[.ext]``
  with the marker ``.NAME.exvc-PID-RANDOM.owner`` beside it (created first).
- Segment spill folders (``propagation/buffer.py``), in the system temp folder:
  ``exemplar_vc_segment_*`` with the marker ``.owner`` inside; stage 1's image folders
  (``stored.py``), ``exemplar_vc_stage1_*``, the same way.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import stat
import tempfile
from pathlib import Path

__all__ = [
    "MARKER_NAME",
    "SPILL_PREFIX",
    "STAGE1_PREFIX",
    "owner_record",
    "write_marker",
    "marker_is_stale",
    "clean_stale_partials",
    "clean_stale_spills",
    "PARTIAL_TAG",
]

OWNER = "exemplar_vc"
MARKER_NAME = ".owner"  # inside a spill folder
SPILL_PREFIX = "exemplar_vc_segment_"
STAGE1_PREFIX = "exemplar_vc_stage1_"
PARTIAL_TAG = "exvc"
# .NAME.exvc-PID-RANDOM.owner  /  .NAME.exvc-PID-RANDOM.partial[.ext]
_MARKER_RE = re.compile(r"^\.(?P<stem>.+\." + PARTIAL_TAG + r"-(?P<pid>\d+)-[A-Za-z0-9_]+)\.owner$")


def _start_time(pid: int) -> int | None:
    """Start time of ``pid`` in clock ticks since boot (Linux ``/proc``), else None."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    try:  # the command name (field 2) may hold spaces and parentheses: split after its end
        return int(data[data.rindex(")") + 2 :].split()[19])
    except (ValueError, IndexError):
        return None


def owner_record(pid: int | None = None) -> dict:
    """The marker content for this process (or ``pid``)."""
    pid = os.getpid() if pid is None else pid
    return {"owner": OWNER, "pid": pid, "start": _start_time(pid), "host": socket.gethostname()}


def write_marker(path: str | os.PathLike) -> Path:
    """Write this process's owner marker at ``path`` (exclusive create; raises OSError)."""
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(owner_record(), f)
    return path


def _read_marker(path: Path) -> dict | None:
    try:
        st = path.lstat()
        if not stat.S_ISREG(st.st_mode) or st.st_size > 4096:
            return None
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("owner") != OWNER or not isinstance(doc.get("pid"), int) or isinstance(doc.get("pid"), bool):
        return None
    return doc


def _process_is_gone(pid: int, start: object) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # exists, another user's
        pass
    except OSError:
        return False
    # A process with that id runs: it is the owner unless its start time says it is newer.
    now = _start_time(pid)
    return isinstance(start, int) and now is not None and now != start


def marker_is_stale(path: str | os.PathLike, pid: int | None = None) -> bool:
    """True when ``path`` is an owner marker of this library, written on this host by a
    process that no longer runs (and, when ``pid`` is given, naming that pid)."""
    doc = _read_marker(Path(path))
    if doc is None or doc.get("host") != socket.gethostname():
        return False
    if pid is not None and doc["pid"] != pid:
        return False
    if doc["pid"] == os.getpid() and doc.get("start") == _start_time(os.getpid()):
        return False
    return _process_is_gone(doc["pid"], doc.get("start"))


def _remove(path: Path) -> bool:
    try:
        if path.is_symlink() or not path.is_dir():
            path.unlink()
        else:
            shutil.rmtree(path)
        return True
    except FileNotFoundError:
        return False
    except OSError:
        return False


def clean_stale_partials(directory: str | os.PathLike) -> list[Path]:
    """Remove output partials in ``directory`` left by dead runs; returns what was removed.

    Only ``.NAME.exvc-PID-RANDOM.partial[.ext]`` entries whose marker
    ``.NAME.exvc-PID-RANDOM.owner`` names this host and a dead ``PID`` are touched.
    """
    d = Path(directory)
    try:
        names = os.listdir(d)
    except OSError:
        return []
    removed: list[Path] = []
    for name in names:
        m = _MARKER_RE.match(name)
        if not m or not marker_is_stale(d / name, pid=int(m.group("pid"))):
            continue
        partial = "." + m.group("stem") + ".partial"
        for other in names:
            if other == partial or (other.startswith(partial + ".") and "/" not in other and other.count(".") == partial.count(".") + 1):
                if _remove(d / other):
                    removed.append(d / other)
        if _remove(d / name):
            removed.append(d / name)
    return removed


def clean_stale_spills(directory: str | os.PathLike | None = None) -> list[Path]:
    """Remove spill folders (``exemplar_vc_segment_*`` and ``exemplar_vc_stage1_*`` in the
    temp folder, or in ``directory``) whose ``.owner`` marker names a dead process of this
    host."""
    d = Path(directory if directory is not None else tempfile.gettempdir())
    removed: list[Path] = []
    try:
        names = [n for n in os.listdir(d) if n.startswith((SPILL_PREFIX, STAGE1_PREFIX))]
    except OSError:
        return removed
    for name in names:
        folder = d / name
        if folder.is_symlink() or not folder.is_dir():
            continue
        if marker_is_stale(folder / MARKER_NAME) and _remove(folder):
            removed.append(folder)
    return removed
