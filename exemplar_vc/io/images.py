"""Load exemplar images (colour photos) from paths, PIL images, arrays or tensors."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from ..errors import InputError

__all__ = ["load_color_image", "is_grayscale", "IMAGE_SUFFIXES"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")


def _to_uint8(arr: np.ndarray, what: str) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.uint16:
        return ((arr.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if np.issubdtype(arr.dtype, np.floating):
        if arr.size and (np.nanmin(arr) < -1e-3 or np.nanmax(arr) > 1 + 1e-3):
            raise InputError(f"expected {what} as float in [0, 1], got values in [{arr.min():.3g}, {arr.max():.3g}]")
        return np.round(np.clip(arr, 0, 1) * 255).astype(np.uint8)
    raise InputError(f"expected {what} as uint8, uint16 or float in [0, 1], got dtype {arr.dtype}")


def is_grayscale(rgb: np.ndarray, tol: int = 3) -> bool:
    """True when the (H, W, 3) image carries no colour (all channels within ``tol`` levels)."""
    r, g, b = (rgb[..., i].astype(np.int16) for i in range(3))
    return bool(max(np.abs(r - g).max(), np.abs(g - b).max()) <= tol)


def _read_path(path: Path) -> np.ndarray:
    if not path.exists():
        raise InputError(f"expected an image file, but {str(path)!r} does not exist")
    if path.is_dir():
        raise InputError(f"expected an image file, got the folder {str(path)!r}")
    import cv2

    arr = cv2.imread(os.fspath(path), cv2.IMREAD_UNCHANGED)
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
    in [0, 1], or a torch tensor (3, H, W) / (H, W, 3). A grayscale image is accepted with a
    warning, since it carries no colour to propagate.
    """
    if isinstance(image, (str, os.PathLike)):
        arr = _read_path(Path(image))
        name = f"{name} {os.fspath(image)!r}"
    elif hasattr(image, "convert") and hasattr(image, "size"):  # PIL
        arr = np.asarray(image.convert("RGB"))
    elif hasattr(image, "detach"):  # torch
        t = image.detach().cpu()
        if t.dim() == 3 and t.shape[0] == 3 and t.shape[-1] != 3:
            t = t.permute(1, 2, 0)
        arr = t.numpy()
    elif isinstance(image, np.ndarray):
        arr = image
    else:
        raise InputError(f"expected {name} as a path, PIL image, numpy array or tensor, got {type(image).__name__}")
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise InputError(f"expected {name} of shape (H, W, 3) RGB, got {tuple(arr.shape)}")
    if arr.shape[0] < 8 or arr.shape[1] < 8:
        raise InputError(f"expected {name} of at least 8x8 pixels, got {arr.shape[1]}x{arr.shape[0]}")
    arr = np.ascontiguousarray(_to_uint8(arr, name))
    if warn_gray and is_grayscale(arr):
        warnings.warn(f"{name} is grayscale: it carries no colour to propagate", UserWarning, stacklevel=2)
    return arr
