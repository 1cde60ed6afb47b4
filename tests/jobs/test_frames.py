"""Reading from frame N: the frames a sequential read gives, without decoding all before N."""

import numpy as np
import pytest

from exemplar_vc.io import open_video
from exemplar_vc.jobs import frames as frames_mod
from exemplar_vc.jobs import gray_frames_from, index_video
from job_media import write_folder, write_gop_video


@pytest.fixture(scope="module")
def gop_video(tmp_path_factory, clip12):
    from conftest import moving_clip

    return write_gop_video(tmp_path_factory.mktemp("gop") / "gop5.mp4", moving_clip(30, (48, 64)), gop=5)


def test_every_start_of_a_video_gives_the_sequential_frames(gop_video):
    source = open_video(gop_video)
    full = list(source.gray_frames())
    for start in range(len(full)):
        got = list(gray_frames_from(source, start, len(full)))
        assert len(got) == len(full) - start
        assert all(np.array_equal(a, b) for a, b in zip(got, full[start:]))


def test_a_late_start_seeks_instead_of_decoding_from_the_first_frame(gop_video, monkeypatch):
    source = open_video(gop_video)
    index = index_video(gop_video, 30)
    assert index is not None and len(index.keys) == 6
    decoded = []
    real = frames_mod._decode

    def counting(path, size, seek_pts):
        for item in real(path, size, seek_pts):
            decoded.append(item[0])
            yield item

    monkeypatch.setattr(frames_mod, "_decode", counting)
    assert len(list(gray_frames_from(source, 27, 30))) == 3
    assert len(decoded) <= 10  # from the key frame one before frame 27's (frame 20), not 30


def test_an_index_that_does_not_match_the_frame_count_falls_back_to_a_full_read(gop_video):
    source = open_video(gop_video)
    full = list(source.gray_frames())
    assert index_video(gop_video, 31) is None
    got = list(gray_frames_from(source, 12, 31))
    assert all(np.array_equal(a, b) for a, b in zip(got, full[12:])) and len(got) == 18


def test_folders_and_arrays_start_at_the_frame_asked(tmp_path, clip12):
    _, gray = clip12
    for source in (open_video(write_folder(tmp_path / "f", gray)), open_video(gray)):
        got = list(gray_frames_from(source, 7))
        assert len(got) == 5 and all(np.array_equal(a, b) for a, b in zip(got, gray[7:]))
