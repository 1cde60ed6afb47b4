"""All three sources follow the ExemplarSource protocol and report provenance."""

import cv2
import numpy as np
import pytest

from exemplar_vc.exemplars import ColorizerSource, ExemplarSource, ReferenceBank, Retriever, UserReferences
from exemplar_vc.exemplars.base import Exemplar, KeyFrame
from exemplar_vc.modeling.colorizer import ImageColorizer

from .conftest import scene


def _keys(*seeds):
    return [KeyFrame(10 * i, cv2.cvtColor(scene(s), cv2.COLOR_RGB2GRAY), shot=i) for i, s in enumerate(seeds)]


@pytest.fixture(scope="module")
def sources(encoder, scene_dir):
    import torch

    torch.manual_seed(0)
    return {
        "user": UserReferences(images=[scene(1), scene(2), scene(3)], min_similarity=0.0),
        "retrieval": Retriever(ReferenceBank.build(scene_dir, encoder=encoder), min_score=0.0),
        "colorizer": ColorizerSource(ImageColorizer.build(encoder, width=16)),
    }


@pytest.mark.parametrize("name", ["user", "retrieval", "colorizer"])
def test_protocol_conformance(sources, encoder, name):
    src = sources[name]
    assert isinstance(src, ExemplarSource)
    keys = _keys(2, 3)
    out = src.exemplars_for(keys, encoder)
    assert [e.frame for e in out] == [0, 10]
    for e in out:
        assert isinstance(e, Exemplar) and e.source == name and e.origin and isinstance(e.score, float)
        assert e.image.dtype == np.uint8 and e.image.ndim == 3 and e.image.shape[2] == 3
    assert src.exemplars_for([], encoder) == [] or name == "user"


@pytest.mark.parametrize("name", ["user", "retrieval", "colorizer"])
def test_images_past_the_allowance_wait_on_disk(sources, encoder, name, monkeypatch):
    from exemplar_vc.stored import StoredArray

    keys = _keys(2, 3)
    src = sources[name]
    if name == "user":
        shelved = UserReferences(explicit={0: scene(2), 10: scene(3)}, images_in_memory=1)
        in_memory = UserReferences(explicit={0: scene(2), 10: scene(3)}, images_in_memory=None)
    else:
        monkeypatch.setattr(src, "images_in_memory", 1)
        shelved = src
        in_memory = None
    out = shelved.exemplars_for(keys, encoder)
    assert isinstance(out[0].image, np.ndarray) and isinstance(out[1].image, StoredArray)
    if in_memory is not None:
        expected = in_memory.exemplars_for(keys, encoder)
    else:
        monkeypatch.setattr(src, "images_in_memory", None)
        expected = src.exemplars_for(keys, encoder)
    assert all(isinstance(e.image, np.ndarray) for e in expected)
    for a, b in zip(out, expected, strict=True):
        assert np.array_equal(np.asarray(a.image), b.image) and a.frame == b.frame


def test_user_references_pick_the_matching_image(sources, encoder):
    out = sources["user"].exemplars_for(_keys(3, 1), encoder)
    assert [e.origin for e in out] == ["image[2]", "image[0]"]
    assert out[0].score > 0.9


def test_user_references_threshold_warns_and_explicit_wins(encoder):
    refs = UserReferences(images=[scene(1)], explicit={10: scene(5)}, min_similarity=0.99)
    assert refs.explicit_frames == [10]
    with pytest.warns(UserWarning, match=r"shot 0 \(key frames 0\) has no trustworthy reference"):
        out = refs.exemplars_for(_keys(4, 2), encoder)
    assert [(e.frame, e.source) for e in out] == [(10, "user")]
    assert np.array_equal(out[0].image, scene(5))


def test_chained_sources_serve_each_key_frame_once(sources, encoder):
    from exemplar_vc.exemplars import ChainedSources

    explicit = UserReferences(explicit={10: scene(5)})
    chain = ChainedSources(explicit, sources["retrieval"], sources["colorizer"])
    assert isinstance(chain, ExemplarSource) and chain.explicit_frames == [10]
    out = chain.exemplars_for(_keys(2, 3), encoder)
    assert [(e.frame, e.source) for e in out] == [(0, "retrieval"), (10, "user")]
