"""The FID network is checked with random weights: the real file cannot be downloaded here."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from exemplar_vc.errors import InputError  # noqa: E402
from exemplar_vc.metrics.fid import fid, load_fid_inception  # noqa: E402
from exemplar_vc.metrics.inception import FIDInceptionV3  # noqa: E402


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory):
    torch.manual_seed(0)
    net = FIDInceptionV3()
    path = tmp_path_factory.mktemp("fid") / "random_inception.pth"
    torch.save(net.state_dict(), path)
    return path


def test_layout_matches_the_usual_port():
    tv = pytest.importorskip("torchvision.models")
    ref = tv.inception_v3(weights=None, aux_logits=False, init_weights=False, num_classes=1008).state_dict()
    ours = FIDInceptionV3().state_dict()
    assert {k: tuple(v.shape) for k, v in ours.items()} == {k: tuple(v.shape) for k, v in ref.items()}


def test_pool3_features_shape():
    net = FIDInceptionV3().eval()
    with torch.no_grad():
        assert net(torch.rand(2, 3, 40, 50)).shape == (2, 2048)


def test_fid_with_random_weights(random_weights):
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    assert fid(a, a, weights=random_weights) == pytest.approx(0.0, abs=1e-4)
    assert fid(255 - a, a, weights=random_weights) > 0


def test_wrong_file_is_rejected(tmp_path):
    bad = tmp_path / "bad.pth"
    torch.save({"x": torch.zeros(1)}, bad)
    with pytest.raises(InputError, match="missing"):
        load_fid_inception(str(bad))
    with pytest.raises(InputError, match="not a file"):
        load_fid_inception(str(tmp_path / "none.pth"))
