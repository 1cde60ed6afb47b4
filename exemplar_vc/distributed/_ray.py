"""Ray, loaded on first use with an actionable error when it is missing."""

from __future__ import annotations

__all__ = ["require_ray", "ray_available"]

INSTALL_HINT = "pip install 'exemplar_vc[cluster]'  (or: pip install ray)"


def ray_available() -> bool:
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


def require_ray():
    """The ``ray`` module; ``ImportError`` saying how to install it when it is missing."""
    try:
        import ray
    except ImportError as e:
        raise ImportError(f"batch colorization runs on Ray, which is not installed: {INSTALL_HINT}") from e
    return ray
