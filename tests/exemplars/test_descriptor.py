"""ContentDescriptor: shape, unit norm, luminance invariance, and R-MAC regions."""

import cv2
import numpy as np
import pytest
import torch

from exemplar_vc.errors import InputError
from exemplar_vc.exemplars import ContentDescriptor, ReferenceBank
from exemplar_vc.exemplars.descriptor import rmac, rmac_regions

from ..conftest import textured_scene
from .conftest import scene


@pytest.fixture(scope="module")
def descriptor():
    return ContentDescriptor()


def test_shape_norm_and_batch(descriptor):
    gray = cv2.cvtColor(scene(0, 120, 200), cv2.COLOR_RGB2GRAY)
    v = descriptor.describe(gray)
    assert v.shape == (descriptor.dim,) == (2280,) and v.dtype == np.float32
    assert abs(np.linalg.norm(v) - 1) < 1e-5
    batch = torch.from_numpy(np.stack([gray, gray[:, ::-1].copy()])).float().div(255)[:, None]
    out = descriptor(batch)
    assert out.shape == (2, descriptor.dim)
    assert torch.allclose(out[0], torch.from_numpy(v), atol=1e-5)  # batched equals one by one
    assert descriptor.describe(gray[:32, :40]).shape == (descriptor.dim,)  # tiny images too
    with pytest.raises(InputError, match=r"\(H, W\) uint8 gray"):
        descriptor.describe(scene(0))


def test_gray_frame_and_its_colour_original_retrieve_each_other(encoder, tmp_path):
    """The colour photo's descriptor is that of its luminance: a gray frame finds its colour
    original among other photos, and the original finds the gray frame among gray frames."""
    photos = [textured_scene(96, 160, seed) for seed in range(5)] + [scene(s, 96, 160) for s in range(5)]
    bank = ReferenceBank(encoder)
    bank.add_images(photos, [f"photo{i}" for i in range(len(photos))])
    grays = [cv2.cvtColor(p, cv2.COLOR_RGB2GRAY) for p in photos]
    for i in (0, 3, 7):
        query = cv2.resize(grays[i][4:92, 6:150], (200, 122), interpolation=cv2.INTER_LINEAR)  # cropped, rescaled
        assert bank.search(query, k=3, rerank=False)[0][0].path == f"photo{i}"
    frames = ReferenceBank(encoder)
    frames.add_images([np.repeat(g[..., None], 3, axis=2) for g in grays], [f"gray{i}" for i in range(len(grays))])
    for i in (1, 8):
        assert frames.search(grays[i], k=1, rerank=False)[0][0].path == f"gray{i}"
        np.testing.assert_allclose(bank.vectors[i].astype(np.float32), frames.vectors[i].astype(np.float32), atol=2e-3)


def test_rmac_regions_cover_the_map_and_pool_maxima():
    for h, w in ((7, 12), (12, 7), (7, 7), (1, 2)):
        covered = np.zeros((h, w), bool)
        for y, x, s in rmac_regions(h, w, 3):
            assert 0 <= y and y + s <= h and 0 <= x and x + s <= w and s >= 1
            covered[y : y + s, x : x + s] = True
        assert covered.all(), (h, w)
    f = torch.zeros(1, 4, 5, 5)
    f[0, 2, 1, 3] = 3.0  # one active channel: its R-MAC vector points along it
    assert torch.allclose(rmac(f), torch.tensor([[0.0, 0.0, 1.0, 0.0]]))
