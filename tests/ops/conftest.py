"""Fixtures of the ops tests: device and random unit-norm features (STYLE item 7)."""

import pytest
import torch

_GPU = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=_GPU)])
def device(request):
    """Every op test runs on the CPU, and on CUDA where there is one."""
    return torch.device(request.param)


@pytest.fixture
def features():
    """features(*shape, dim=1, dtype=..., seed=...): random features, unit norm along dim."""

    def make(*shape, dim=1, dtype=torch.float64, seed=0, device="cpu"):
        g = torch.Generator().manual_seed(seed)
        x = torch.randn(*shape, generator=g, dtype=torch.float64)
        return torch.nn.functional.normalize(x, dim=dim).to(dtype=dtype, device=device)

    return make

