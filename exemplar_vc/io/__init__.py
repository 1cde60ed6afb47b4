"""Frame input and output: video files, frame folders, arrays; atomic writers."""

from .images import IMAGE_SUFFIXES, expand_image_paths, is_grayscale, load_color_image
from .reader import VIDEO_SUFFIXES, FrameSource, open_video, to_gray
from .stale import clean_stale_partials, clean_stale_spills
from .writer import FrameWriter, check_output_path, open_writer

__all__ = [
    "FrameSource",
    "open_video",
    "to_gray",
    "FrameWriter",
    "open_writer",
    "check_output_path",
    "clean_stale_partials",
    "clean_stale_spills",
    "load_color_image",
    "is_grayscale",
    "expand_image_paths",
    "IMAGE_SUFFIXES",
    "VIDEO_SUFFIXES",
]
