"""A small colorizer and a tiny clip for the job tests (writers of inputs: tests/job_media.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import exemplar_vc
from conftest import moving_clip, to_gray

WORKING_SIZE = 64


@pytest.fixture(scope="session")
def small_colorizer() -> exemplar_vc.VideoColorizer:
    torch.manual_seed(0)
    return exemplar_vc.VideoColorizer.from_pretrained("default", device="cpu", working_size=WORKING_SIZE)


@pytest.fixture(scope="session")
def clip12() -> tuple[np.ndarray, np.ndarray]:
    """(rgb, gray) of a 12-frame 48x64 moving clip."""
    rgb = moving_clip(12, (48, 64))
    return rgb, to_gray(rgb)
