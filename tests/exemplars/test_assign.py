"""Assignment of images to key frames: only a clear, good match is trusted; unserved shots warn."""

import warnings

import cv2
import numpy as np
import pytest

from exemplar_vc.exemplars import AssignmentRule, UserReferences
from exemplar_vc.exemplars.assign import assign, warn_unserved
from exemplar_vc.exemplars.bank import BankEntry, SearchHit
from exemplar_vc.types import KeyFrame

from .conftest import scene

RULE = AssignmentRule(min_score=0.5, margin=0.02, tolerance=0.06)
IMAGES = {name: BankEntry(i, name, (8, 8), "0" * 64) for i, name in enumerate("ABCD")}


def _hit(name, score):
    return SearchHit(IMAGES[name], score, score, score)


def _key(index, shot):
    return KeyFrame(index, np.zeros((8, 8), np.uint8), shot)


def _decide(rows, same=lambda a, b: False):
    keys = [_key(10 * i, shot) for i, (shot, _) in enumerate(rows)]
    return assign(keys, [hits for _, hits in rows], RULE, same, lambda h: h.path)


def test_each_rule_refuses_what_it_should():
    d = _decide(
        [
            (0, [_hit("A", 0.80), _hit("B", 0.60)]),  # clearly A: assigned
            (1, [_hit("A", 0.59), _hit("B", 0.55)]),  # A, but A fits shot 0 far better
            (2, [_hit("B", 0.45), _hit("C", 0.40)]),  # not good enough
            (3, [_hit("C", 0.70), _hit("D", 0.69)]),  # C or D? not clearly its best
        ]
    )
    assert d[0].hit.path == "A" and d[0].reason == ""
    assert d[1].hit is None and "fits key frame 0 of shot 0 better" in d[1].reason
    assert d[2].hit is None and "0.45 < 0.50" in d[2].reason
    assert d[3].hit is None and "not clearly better than D" in d[3].reason
    assert all(x.best is not None for x in d)


def test_near_copies_are_not_rivals_and_a_photo_may_serve_two_shots_of_one_scene():
    d = _decide([(0, [_hit("C", 0.70), _hit("D", 0.69)])], same=lambda a, b: True)
    assert d[0].hit.path == "C"
    d = _decide([(0, [_hit("A", 0.80)]), (1, [_hit("A", 0.77)])])  # within the tolerance
    assert [x.hit.path for x in d] == ["A", "A"]


def test_one_warning_per_shot_left_without_exemplar_naming_it():
    d = _decide([(0, [_hit("A", 0.8)]), (1, [_hit("B", 0.3)]), (1, [_hit("B", 0.4)]), (2, [_hit("C", 0.2)])])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_unserved(d, "reference")
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2
    assert messages[0].startswith("shot 1 (key frames 10, 20) has no trustworthy reference: best B scores 0.30")
    assert messages[1].startswith("shot 2 (key frames 30)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_unserved(d, "reference", served_shots=frozenset({1, 2}))
    assert caught == []


def test_user_references_leave_a_shot_without_its_photo_unassigned(encoder):
    """Five shots, photos of three: each of those gets its own photo, the other two get
    nothing and are named in warnings, and ``decisions`` says why."""
    shots = [3, 11, 5, 17, 8]
    keys = [KeyFrame(20 * i, cv2.cvtColor(scene(s), cv2.COLOR_RGB2GRAY), shot=i) for i, s in enumerate(shots)]
    refs = UserReferences(images=[scene(3), scene(5), scene(8)])
    with pytest.warns(UserWarning) as caught:
        out = refs.exemplars_for(keys, encoder)
    assert [(e.frame, e.origin) for e in out] == [(0, "image[0]"), (40, "image[1]"), (80, "image[2]")]
    warned = sorted(str(w.message).split(" (")[0] for w in caught if "trustworthy" in str(w.message))
    assert warned == ["shot 1", "shot 3"]
    assert [d.key.shot for d in refs.decisions if d.hit is None] == [1, 3]
