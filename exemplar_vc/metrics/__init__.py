"""Quality metrics of a colorization against its ground truth.

Every metric takes frames as (T, H, W, 3) uint8 RGB numpy arrays (torch tensors, float
arrays in [0, 1] and paths to videos or frame folders are accepted too) and returns a
float. Per-frame variants (``*_frames``, ``cdc_curve``, ``error_change_curves``) return
numpy arrays for plots.
"""

from .cdc import CDC_STEPS, cdc, cdc_curve, cdc_step
from .colorfulness import colorfulness, colorfulness_frames, colorfulness_ratio
from .error_change import JND_AB, error_change_curves
from .fd_effnet import effnet_features, fd_effnet
from .fid import fid
from .fidelity import psnr, psnr_ab, psnr_frames, ssim, ssim_ab, ssim_frames
from .frames import as_frames
from .frechet import frechet_distance, gaussian_stats
from .warp_error import truth_flows, warp_error, warp_error_frames

__all__ = [
    "cdc",
    "cdc_step",
    "cdc_curve",
    "error_change_curves",
    "JND_AB",
    "CDC_STEPS",
    "psnr",
    "ssim",
    "psnr_ab",
    "ssim_ab",
    "psnr_frames",
    "ssim_frames",
    "colorfulness",
    "colorfulness_frames",
    "colorfulness_ratio",
    "warp_error",
    "warp_error_frames",
    "truth_flows",
    "fd_effnet",
    "fid",
    "effnet_features",
    "frechet_distance",
    "gaussian_stats",
    "as_frames",
]
