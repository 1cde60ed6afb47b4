"""Exceptions raised for bad input, so callers (and the CLI) can tell user mistakes from bugs."""

__all__ = ["ExemplarVCError", "InputError"]


class ExemplarVCError(Exception):
    """Base class of every error this library raises on purpose."""


class InputError(ExemplarVCError, ValueError):
    """The caller gave something we cannot use; the message says what was expected and what came."""
