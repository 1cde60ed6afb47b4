"""The ``exemplar-vc`` command. Each subcommand lives in its own module with a
``register(subparsers)`` function; user mistakes end in one line on stderr and exit 2."""

from __future__ import annotations

import argparse
import sys
import warnings

from .._version import __version__
from ..errors import ExemplarVCError
from . import bank_cmd, colorize_cmd, eval_cmd

__all__ = ["main", "build_parser"]

# Modules providing subcommands, in the order `--help` lists them.
SUBCOMMANDS = [colorize_cmd, eval_cmd, bank_cmd]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="exemplar-vc", description="Exemplar-based video colorization.")
    parser.add_argument("--version", action="version", version=f"exemplar-vc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.register(sub)
    return parser


def _warning_line(message, category, filename, lineno, file=None, line=None):
    print(f"exemplar-vc: warning: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return 2
    warnings.showwarning = _warning_line
    try:
        return int(args.run(args) or 0)
    except (ExemplarVCError, FileNotFoundError, NotADirectoryError, PermissionError) as e:
        print(f"exemplar-vc: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("exemplar-vc: interrupted; no partial output was kept", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
