"""plan_segments: the unit of work of stage 2, without any model."""

import pytest

from exemplar_vc.propagation import Segment, plan_segments


def _tuples(segments):
    return [(s.shot, s.start, s.end, s.left_anchor, s.right_anchor) for s in segments]


def test_one_exemplar_at_the_start_is_one_forward_segment():
    assert _tuples(plan_segments([0], [0], 10)) == [(0, 0, 10, 0, None)]


def test_exemplars_cut_a_shot_and_frames_before_the_first_look_right():
    assert _tuples(plan_segments([0], [3, 7], 10)) == [(0, 0, 3, None, 3), (0, 3, 7, 3, 7), (0, 7, 10, 7, None)]


def test_segments_never_cross_a_shot_and_a_shot_without_exemplar_stands_alone():
    segs = plan_segments([0, 5, 8], [2, 6], 12)
    assert _tuples(segs) == [(0, 0, 2, None, 2), (0, 2, 5, 2, None), (1, 5, 6, None, 6), (1, 6, 8, 6, None), (2, 8, 12, None, None)]


@pytest.mark.parametrize("shots,anchors,n", [([0], [0], 1), ([0, 3], [0, 1, 2, 3, 4], 5), ([0, 10, 20], [5, 25], 30), ([0], [29], 30)])
def test_segments_cover_every_frame_once_in_order(shots, anchors, n):
    segs = plan_segments(shots, anchors, n)
    frames = [f for s in segs for f in range(s.start, s.end)]
    assert frames == list(range(n))
    for s in segs:
        assert s.left_anchor in (None, s.start)
        assert s.right_anchor in (None, s.end)
        assert s.left_anchor is None or s.left_anchor in anchors
        assert s.right_anchor is None or s.right_anchor in anchors


def test_distances_to_the_two_anchors():
    seg = Segment(0, 3, 7, 3, 7)
    assert seg.distances(5) == (2, 2)
    assert Segment(0, 0, 3, None, 3).distances(1) == (None, 2)
    assert seg.bidirectional and len(seg) == 4


def test_anchor_outside_the_video_is_refused():
    with pytest.raises(ValueError, match="anchor frame in 0..9, got 12"):
        plan_segments([0], [12], 10)


def test_no_frames_no_segments():
    assert plan_segments([0], [], 0) == []


def test_a_range_of_segments_gives_the_frames_of_a_full_run(colorizer, clip_rgb, clip_gray):
    """Each segment depends only on its frames and its two anchors."""
    import numpy as np

    plan = colorizer.plan(clip_gray, {0: clip_rgb[0], 3: clip_rgb[3], 6: clip_rgb[6]})
    full = [f.rgb for f in colorizer._engine(plan.plan, plan.exemplars).run(iter(clip_gray))]
    engine = colorizer._engine(plan.plan, plan.exemplars)
    middle = engine.segments[1]
    part = [f for f in engine.run(iter(clip_gray[middle.start :]), [middle])]
    assert [f.index for f in part] == list(range(middle.start, middle.end))
    for f in part:
        assert np.array_equal(f.rgb, full[f.index])
