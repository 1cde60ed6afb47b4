"""Exceptions raised for bad input, so callers (and the CLI) can tell user mistakes from bugs.

- ``InputError`` (a ``ValueError``): an argument or an input file cannot be used.
- ``OutputError`` (an ``OSError``): the output cannot be written (read-only location,
  disk full, ...); nothing was left at or beside the output path.
- ``Interrupted`` (a ``KeyboardInterrupt``): the process got SIGTERM or SIGHUP while the
  command-line tool ran; like Ctrl-C it unwinds (so writers discard their temporary
  files) and the tool exits with 128 + the signal number.

The CLI maps ``ExemplarVCError`` to one line on stderr and exit code 2.
"""

from __future__ import annotations

import errno
import signal

__all__ = ["ExemplarVCError", "InputError", "OutputError", "Interrupted"]


class ExemplarVCError(Exception):
    """Base class of every error this library raises on purpose."""


class InputError(ExemplarVCError, ValueError):
    """The caller gave something we cannot use; the message says what was expected and what came."""


class OutputError(ExemplarVCError, OSError):
    """The output cannot be written; the message names the path and the system's reason.

    ``errno`` is that of the underlying ``OSError`` (e.g. ``errno.ENOSPC``), or None.
    """

    def __init__(self, message: str, errno_: int | None = None):
        super().__init__(message)
        self.errno = errno_
        self.message = message

    def __str__(self) -> str:
        return self.message

    @classmethod
    def from_os_error(cls, what: str, err: BaseException) -> "OutputError":
        """``OutputError`` for a failed write: ``what`` says what was being written."""
        code = getattr(err, "errno", None)
        reason = getattr(err, "strerror", None) or str(err) or type(err).__name__
        hint = " (disk full)" if code == errno.ENOSPC else ""
        return cls(f"could not write {what}: {reason}{hint}; nothing was kept", code)


class Interrupted(KeyboardInterrupt):
    """A termination signal (SIGTERM, SIGHUP) arrived; ``signum`` says which."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = int(signum)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    def __str__(self) -> str:
        try:
            return signal.Signals(self.signum).name
        except ValueError:
            return f"signal {self.signum}"
