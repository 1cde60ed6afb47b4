"""The public names other tools call must not disappear."""

import numpy as np
import pytest

import exemplar_vc.metrics as metrics

PUBLIC = ["cdc", "psnr", "ssim", "colorfulness", "warp_error", "fd_effnet", "psnr_ab", "ssim_ab", "colorfulness_ratio"]


@pytest.mark.parametrize("name", PUBLIC)
def test_public_name_exists(name):
    assert name in metrics.__all__ and callable(getattr(metrics, name))


def test_every_metric_returns_a_float_and_reads_folders(tmp_path, panning_clip):
    import cv2

    for i, f in enumerate(panning_clip):
        cv2.imwrite(str(tmp_path / f"{i:03d}.png"), f[..., ::-1])
    assert isinstance(metrics.cdc(tmp_path), float)
    assert metrics.psnr(tmp_path, panning_clip) == 100.0  # lossless PNG round trip
    for fn in (metrics.ssim, metrics.warp_error, metrics.fd_effnet):
        assert isinstance(fn(panning_clip, panning_clip), float)
    assert isinstance(metrics.colorfulness(panning_clip), float)
