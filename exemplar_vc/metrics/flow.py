"""Dense optical flow (OpenCV DIS), backward warping (the package's ``ops.warp``) and
forward-backward occlusion masks, shared by the warp-error metric and the
flow-propagation baseline.

A flow ``f`` from frame A to frame B is (H, W, 2) float32 in pixels (x, y): the pixel
(x, y) of A is seen at (x + f_x, y + f_y) in B.
"""

from __future__ import annotations

import numpy as np

__all__ = ["dis_flow", "warp_backward", "consistency_mask"]


def dis_flow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Flow from gray frame ``a`` to gray frame ``b``, both (H, W) uint8; DIS (Kroeger et
    al., ECCV 2016), OpenCV's MEDIUM preset. Returns (H, W, 2) float32 pixels."""
    import cv2

    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return dis.calc(a, b, None)


def warp_backward(image: np.ndarray, flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample ``image`` (H, W[, C]) at x + flow(x) with bilinear interpolation
    (``exemplar_vc.ops.warp``), the border replicated (as OpenCV's BORDER_REPLICATE).

    Returns the warped image as float32 and an (H, W) bool mask of the pixels whose
    source lies inside the image.
    """
    import torch

    from ..ops import warp_replicate

    x = torch.from_numpy(np.ascontiguousarray(image, np.float32))
    x = x[None, None] if image.ndim == 2 else x.permute(2, 0, 1)[None]
    f = torch.from_numpy(np.ascontiguousarray(flow, np.float32)).permute(2, 0, 1)[None]
    with torch.no_grad():
        warped, inside = warp_replicate(x, f)
    warped = warped[0, 0] if image.ndim == 2 else warped[0].permute(1, 2, 0)
    return np.ascontiguousarray(warped.numpy()), inside[0, 0].numpy() > 0


def consistency_mask(flow_ab: np.ndarray, flow_ba: np.ndarray) -> np.ndarray:
    """(H, W) bool: pixels of A whose flow to B is undone by B's flow back to A.

    Forward-backward check of Sundaram, Brox and Keutzer (ECCV 2010), as used for the
    warping error by Lai et al. (ECCV 2018): with w = flow_ab(x) and v = flow_ba(x + w),
    x is kept when |w + v|^2 < 0.01 (|w|^2 + |v|^2) + 0.5 and x + w is inside B.
    """
    back, inside = warp_backward(flow_ba, flow_ab)
    err = np.sum((flow_ab + back) ** 2, axis=-1)
    bound = 0.01 * (np.sum(flow_ab**2, axis=-1) + np.sum(back**2, axis=-1)) + 0.5
    return (err < bound) & inside
