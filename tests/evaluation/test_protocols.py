import numpy as np
import pytest

from exemplar_vc.errors import InputError
from exemplar_vc.evaluation import exemplar_frames, make_gray, protocol_exemplars


def test_every_50_is_the_challenge_numbering_made_0_based():
    assert exemplar_frames("every-50", 49) == [0]
    assert exemplar_frames("every-50", 50) == [0, 49]
    assert exemplar_frames("every-50", 150) == [0, 49, 99, 149]
    assert exemplar_frames("first-frame", 150) == [0]


def test_gray_is_opencv_bgr2gray_of_bgr_frames(clip):
    import cv2

    expected = np.stack([cv2.cvtColor(cv2.cvtColor(f, cv2.COLOR_RGB2BGR), cv2.COLOR_BGR2GRAY) for f in clip])
    np.testing.assert_array_equal(make_gray(clip), expected)


def test_ground_truth_exemplars_are_the_true_frames(clip):
    ex = protocol_exemplars("first-frame", clip)
    assert list(ex) == [0] and ex[0] is not None
    np.testing.assert_array_equal(ex[0], clip[0])


def test_unknown_protocol_and_missing_bank_raise(clip):
    with pytest.raises(InputError, match="protocol"):
        protocol_exemplars("every-10", clip)
    with pytest.raises(InputError, match="--bank"):
        protocol_exemplars("retrieval", clip)
