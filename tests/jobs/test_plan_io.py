"""Stage1Plan as JSON + PNGs, and colorize_range on whole segments."""

import json

import numpy as np
import pytest

from exemplar_vc import InputError, Stage1Plan


@pytest.fixture(scope="module")
def plan3(small_colorizer, clip12):
    rgb, gray = clip12
    return small_colorizer.plan(gray, {0: rgb[0], 4: rgb[4], 8: rgb[8]})


def test_plan_round_trips_through_json_and_pngs(plan3, clip12, tmp_path):
    _, gray = clip12
    path = plan3.save(tmp_path)
    data = json.loads(path.read_text())
    assert [s["start"] for s in data["segments"]] == [0, 4, 8]
    assert all(len(e["sha256"]) == 64 for e in data["exemplars"] + data["plan"]["keyframes"])
    back = Stage1Plan.load(tmp_path, gray)
    assert back.segments == plan3.segments
    assert back.plan.num_frames == plan3.plan.num_frames and back.plan.shot_starts == plan3.plan.shot_starts
    assert [k.index for k in back.plan.keyframes] == [k.index for k in plan3.plan.keyframes]
    for a, b in zip(back.plan.keyframes, plan3.plan.keyframes):
        assert np.array_equal(a.gray, b.gray)
    for a, b in zip(back.exemplars, plan3.exemplars):
        assert (a.frame, a.source, a.origin, a.score) == (b.frame, b.source, b.origin, b.score)
        assert np.array_equal(a.image, b.image)


def test_loading_against_other_frames_is_refused(plan3, clip12, tmp_path):
    _, gray = clip12
    plan3.save(tmp_path)
    other = gray.copy()
    other[5, 0, 0] ^= 1
    with pytest.raises(InputError, match="differs from it"):
        Stage1Plan.load(tmp_path, other)
    with pytest.raises(InputError, match="in-memory array"):
        Stage1Plan.load(tmp_path)


def test_a_damaged_exemplar_image_is_refused(plan3, clip12, tmp_path):
    _, gray = clip12
    plan3.save(tmp_path)
    png = sorted((tmp_path / "images").glob("exemplar_000000004_*.png"))[0]
    import cv2

    img = cv2.imread(str(png))
    img[0, 0, 0] ^= 1
    cv2.imwrite(str(png), img)
    with pytest.raises(InputError, match="changed or damaged"):
        Stage1Plan.load(tmp_path, gray)


def test_colorize_range_of_whole_segments_equals_a_full_run(small_colorizer, plan3, clip12):
    _, gray = clip12
    full = [f.rgb for f in small_colorizer._engine(plan3.plan, plan3.exemplars).run(iter(gray))]
    for start, end in [(0, 4), (4, 8), (8, 12), (4, 12), (0, 12)]:
        part = list(small_colorizer.colorize_range(gray, plan3, start, end))
        assert [f.index for f in part] == list(range(start, end))
        assert all(np.array_equal(f.rgb, full[f.index]) for f in part)


def test_colorize_range_refuses_a_range_that_cuts_a_segment(small_colorizer, plan3, clip12):
    with pytest.raises(InputError, match="segment boundaries"):
        small_colorizer.colorize_range(clip12[1], plan3, 2, 8)


def test_key_frame_records_survive_the_round_trip(plan3, clip12, tmp_path):
    plan3.save(tmp_path)
    back = Stage1Plan.load(tmp_path, clip12[1])
    assert back.keyframes == plan3.keyframes and [k.frame for k in back.keyframes] == [0, 4, 8]
