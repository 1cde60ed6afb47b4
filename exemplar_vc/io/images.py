"""Load exemplar images (colour photos) from paths, PIL images, arrays or tensors, and
find the image files in folders."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Iterable

import numpy as np

from ..errors import InputError
from ..pixels import as_channels_last, to_rgb
from .limits import read_image_file

__all__ = ["load_color_image", "is_grayscale", "expand_image_paths", "IMAGE_SUFFIXES"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".dpx", ".exr")


def expand_image_paths(paths_or_dir: str | os.PathLike | Iterable[str | os.PathLike]) -> list[Path]:
    """Files as given, folders replaced by the image files under them (recursive, sorted)."""
    items = [paths_or_dir] if isinstance(paths_or_dir, (str, os.PathLike)) else list(paths_or_dir)
    out: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            out += sorted(q for q in p.rglob("*") if q.is_file() and q.suffix.lower() in IMAGE_SUFFIXES)
        elif p.is_file():
            out.append(p)
        else:
            raise InputError(f"expected an image file or a folder of images, but {str(p)!r} does not exist")
    return out


# Channel spread (grey levels) up to which an image counts as gray: JPEG compression leaves
# the channels of a gray photo a few levels apart.
GRAY_TOLERANCE = 3


def is_grayscale(rgb: np.ndarray, tol: int = GRAY_TOLERANCE) -> bool:
    """True when the (H, W, 3) image carries no colour (all channels within ``tol`` levels)."""
    r, g, b = (rgb[..., i].astype(np.int16) for i in range(3))
    return bool(max(np.abs(r - g).max(), np.abs(g - b).max()) <= tol)


def _read_path(path: Path) -> np.ndarray:
    if not path.exists():
        raise InputError(f"expected an image file, but {str(path)!r} does not exist")
    if path.is_dir():
        raise InputError(f"expected an image file, got the folder {str(path)!r}")
    if path.suffix.lower() in (".dpx", ".exr"):
        from .formats import read_av_image

        return read_av_image(path)[0]  # through FFmpeg; RGB already
    arr = read_image_file(path)  # cv2.imread, refusing FIFOs and pixel bombs (limits.py)
    if arr is None:
        raise InputError(f"expected an image file (png, jpg, tif, ...), could not decode {str(path)!r}")
    if arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[..., :3]
    if arr.ndim == 3:
        arr = arr[..., ::-1]  # OpenCV reads BGR
    return np.ascontiguousarray(arr)


def load_color_image(image, name: str = "exemplar", warn_gray: bool = True) -> np.ndarray:
    """Return an exemplar as (H, W, 3) uint8 RGB.

    Accepts a path, a PIL image, a numpy array (H, W, 3) / (H, W) of uint8, uint16 or float
    in [0, 1] (converted by ``exemplar_vc.pixels.to_uint8``), or a torch tensor (3, H, W) /
    (H, W, 3). An alpha channel is dropped. A grayscale image is accepted with a warning,
    since it carries no colour to propagate.
    """
    if isinstance(image, (str, os.PathLike)):
        arr = _read_path(Path(image))
        name = f"{name} {os.fspath(image)!r}"
    elif hasattr(image, "convert") and hasattr(image, "size"):  # PIL
        arr = np.asarray(image.convert("RGB"))
    elif hasattr(image, "detach"):  # torch
        arr = as_channels_last(image)
    elif isinstance(image, np.ndarray):
        arr = image
    else:
        raise InputError(f"expected {name} as a path, PIL image, numpy array or tensor, got {type(image).__name__}")
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
        raise InputError(f"expected {name} of shape (H, W, 3) RGB, got {tuple(arr.shape)}")
    if arr.shape[0] < 8 or arr.shape[1] < 8:
        raise InputError(f"expected {name} of at least 8x8 pixels, got {arr.shape[1]}x{arr.shape[0]}")
    arr = to_rgb(arr, name)
    if warn_gray and is_grayscale(arr):
        warnings.warn(f"{name} is grayscale: it carries no colour to propagate", UserWarning, stacklevel=2)
    return arr
