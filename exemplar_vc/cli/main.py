"""The ``exemplar-vc`` command. Each subcommand lives in its own module with a
``register(subparsers)`` function.

Exit codes: 0 done; 2 a user mistake or an environment problem (bad argument, unreadable
input, output that cannot be written, disk full), one line on stderr; 130 Ctrl-C (SIGINT),
143 SIGTERM, 129 SIGHUP: the run unwinds, so temporary files are removed and no partial
output is kept. Anything else (exit 1 with a traceback) is a bug.
"""

from __future__ import annotations

import argparse
import gc
import signal
import sys
import threading
import warnings

from .._version import __version__
from ..errors import ExemplarVCError, Interrupted
from . import bank_cmd, batch_cmd, colorize_cmd, eval_cmd

__all__ = ["main", "build_parser"]

# Modules providing subcommands, in the order `--help` lists them.
SUBCOMMANDS = [colorize_cmd, eval_cmd, bank_cmd, batch_cmd]
# Signals that stop a run cleanly (SIGINT is Python's KeyboardInterrupt already).
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (the usage is one ``--help`` away)."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {_one_line(message)} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="exemplar-vc", description="Exemplar-based video colorization.")
    parser.add_argument("--version", action="version", version=f"exemplar-vc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.register(sub)
    return parser


def _one_line(text: object) -> str:
    return " ".join(str(text).split()) or type(text).__name__


def _warning_line(message, category, filename, lineno, file=None, line=None):
    print(f"exemplar-vc: warning: {_one_line(message)}", file=sys.stderr)


def _os_error_line(e: OSError) -> str:
    reason = e.strerror or str(e) or type(e).__name__
    name = e.filename if e.filename is not None else None
    return _one_line(f"{reason}: {name!r}" if name is not None else reason)


def _raise_interrupted(signum, frame):
    # Later stop signals are ignored while the first one unwinds and cleans up.
    for s in STOP_SIGNALS:
        signal.signal(s, signal.SIG_IGN)
    raise Interrupted(signum)


def _install_signal_handlers() -> dict:
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous = {}
    for s in STOP_SIGNALS:
        try:
            previous[s] = signal.signal(s, _raise_interrupted)
        except (OSError, ValueError):  # pragma: no cover - not settable here
            pass
    return previous


def _restore_signal_handlers(previous: dict) -> None:
    for s, handler in previous.items():
        try:
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
        except (OSError, ValueError, TypeError):  # pragma: no cover
            pass


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        commands = ", ".join(m.__name__.rsplit(".", 1)[-1].removesuffix("_cmd") for m in SUBCOMMANDS)
        print(f"exemplar-vc: error: expected a command ({commands}), got none (see exemplar-vc --help)", file=sys.stderr)
        return 2
    previous_handlers = _install_signal_handlers()
    previous_showwarning = warnings.showwarning
    warnings.showwarning = _warning_line
    try:
        return int(args.run(args) or 0)
    except ExemplarVCError as e:
        print(f"exemplar-vc: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except OSError as e:  # the environment: unreadable input, disk full, read-only, ...
        print(f"exemplar-vc: error: {_os_error_line(e)}", file=sys.stderr)
        return 2
    except MemoryError:
        print("exemplar-vc: error: out of memory; try a smaller --working-size or fewer frames between exemplars", file=sys.stderr)
        return 2
    except Interrupted as e:
        print(f"exemplar-vc: stopped by {e}; no partial output was kept", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("exemplar-vc: interrupted; no partial output was kept", file=sys.stderr)
        return 130
    finally:
        # Suspended generators of the run (and their temporary spill folders) are closed now,
        # not at interpreter exit.
        gc.collect()
        warnings.showwarning = previous_showwarning
        _restore_signal_handlers(previous_handlers)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
