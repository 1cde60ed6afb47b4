"""Training the propagation network: data, losses and the loop."""

from .synthetic import PHOTO_SUFFIXES, synthetic_clip, synthetic_clips_from_folder

__all__ = [
    "synthetic_clip",
    "synthetic_clips_from_folder",
    "PHOTO_SUFFIXES",
]
