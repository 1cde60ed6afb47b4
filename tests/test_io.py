from fractions import Fraction

import cv2
import numpy as np
import pytest
import torch

from exemplar_vc.errors import InputError
from exemplar_vc.io import check_output_path, load_color_image, open_video, open_writer, to_gray
from media import audio_packets, write_video


def test_mp4_round_trip_keeps_fps_count_and_audio(tmp_path, clip_rgb):
    src = write_video(tmp_path / "in.mp4", clip_rgb, fps=12, audio=True)
    video = open_video(src)
    assert video.fps == Fraction(12) and video.num_frames == len(clip_rgb) and video.has_audio
    assert video.size == clip_rgb.shape[1:3]
    out = tmp_path / "out.mp4"
    with open_writer(out, video.fps, audio_from=src) as w:
        for f in video.rgb_frames():
            w.write(f)
    back = open_video(out)
    assert back.fps == Fraction(12)
    assert len(list(back.gray_frames())) == len(clip_rgb)
    assert audio_packets(out) == audio_packets(src) > 0


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".mkv"])
@pytest.mark.parametrize("fps", [Fraction(5000), Fraction(30000, 1001), Fraction(1, 7)])
def test_short_clips_at_any_frame_rate_decode_whole(tmp_path, fps, suffix):
    # Found by the fuzz run: 3 frames at 5000 frames/s, which x264 codes with a B-frame,
    # gave an MP4 that decoded to none (its edit list rounded to the millisecond).
    y, x = np.mgrid[0:19, 0:17]
    out = tmp_path / f"out{suffix}"
    with open_writer(out, fps) as w:
        for i in range(3):
            w.write(np.stack([(x * 10 + i * 3) % 255, (y * 10) % 255, np.full_like(x, 100 + i)], -1).astype(np.uint8))
    back = open_video(out)
    assert back.fps == fps and len(list(back.gray_frames())) == 3


def test_video_gray_follows_opencv_protocol(tmp_path, clip_rgb):
    src = write_video(tmp_path / "in.mp4", clip_rgb)
    video = open_video(src)
    for rgb, gray in zip(video.rgb_frames(), video.gray_frames()):
        assert np.array_equal(gray, cv2.cvtColor(rgb[..., ::-1].copy(), cv2.COLOR_BGR2GRAY))


def test_folder_round_trip_keeps_names_and_order(tmp_path, clip_rgb):
    folder = tmp_path / "frames"
    folder.mkdir()
    names = [f"shot_{i:03d}.png" for i in range(len(clip_rgb))]
    for name, f in zip(names, clip_rgb):
        cv2.imwrite(str(folder / name), f[..., ::-1])
    (folder / "notes.txt").write_text("not a frame")
    video = open_video(folder)
    assert video.names == names
    out = tmp_path / "out"
    with open_writer(out, video.fps, names=video.names) as w:
        for f in video.rgb_frames():
            w.write(f)
    assert sorted(p.name for p in out.iterdir()) == names
    assert np.array_equal(cv2.imread(str(out / names[3]))[..., ::-1], clip_rgb[3])


def test_sixteen_bit_frames_are_reduced_to_eight(tmp_path):
    folder = tmp_path / "f16"
    folder.mkdir()
    frame = (np.arange(32 * 32, dtype=np.uint16).reshape(32, 32) * 64).astype(np.uint16)
    cv2.imwrite(str(folder / "a.tif"), frame)
    gray = next(open_video(folder).gray_frames())
    assert gray.dtype == np.uint8
    assert np.array_equal(gray, ((frame.astype(np.uint32) + 128) // 257).astype(np.uint8))


def test_arrays_and_tensors(clip_rgb, clip_gray):
    assert np.array_equal(next(open_video(clip_rgb).gray_frames()), clip_gray[0])
    t = torch.from_numpy(clip_rgb).permute(0, 3, 1, 2).float() / 255
    assert np.abs(next(open_video(t).gray_frames()).astype(int) - clip_gray[0]).max() <= 1
    assert np.array_equal(next(open_video(torch.from_numpy(clip_gray)).gray_frames()), clip_gray[0])


class _LimitedFrames:
    """A (T, H, W) frame store that fails if anything reads past frame ``limit``."""

    def __init__(self, frames, limit):
        self.frames, self.limit, self.shape, self.read = frames, limit, (10_000,) + frames.shape[1:], []

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, i):
        if i > self.limit:
            raise AssertionError(f"frame {i} was read, but only frames up to {self.limit} were consumed")
        self.read.append(i)
        return self.frames[i % len(self.frames)]


def test_reading_is_streamed(clip_gray):
    store = _LimitedFrames(clip_gray, limit=2)
    frames = open_video(store).gray_frames()
    got = [next(frames) for _ in range(3)]  # no read-ahead: frame 3 of 10 000 is never touched
    assert [g.shape for g in got] == [clip_gray.shape[1:]] * 3
    assert max(store.read) == 2


def test_reading_a_folder_is_streamed(tmp_path, clip_gray):
    for i, g in enumerate(clip_gray[:3]):
        cv2.imwrite(str(tmp_path / f"f{i}.png"), g)
    (tmp_path / "f3.png").write_bytes(b"not a png")  # reading it would raise
    frames = open_video(tmp_path).gray_frames()
    assert all(np.array_equal(next(frames), g) for g in clip_gray[:3])
    with pytest.raises(InputError, match="could not decode"):
        next(frames)


def test_decoding_a_video_is_streamed(tmp_path, monkeypatch):
    import av

    class CountingContainer:
        """Wraps a PyAV container and counts the frames its decoder has produced."""

        def __init__(self, container):
            self.container, self.decoded = container, 0

        def __enter__(self):
            self.container.__enter__()
            return self

        def __exit__(self, *exc):
            return self.container.__exit__(*exc)

        def __getattr__(self, name):
            return getattr(self.container, name)

        def decode(self, *args, **kwargs):
            for frame in self.container.decode(*args, **kwargs):
                self.decoded += 1
                yield frame

    frames = np.stack([np.full((48, 64, 3), 4 * t, np.uint8) for t in range(60)])
    video = open_video(write_video(tmp_path / "long.mp4", frames))
    opened = []
    real_open = av.open
    monkeypatch.setattr(av, "open", lambda *a, **k: opened.append(CountingContainer(real_open(*a, **k))) or opened[-1])
    stream = video.gray_frames()
    for _ in range(3):
        next(stream)
    assert opened[-1].decoded == 3  # 3 of 60 frames decoded: nothing is read ahead
    stream.close()


def test_to_gray_rejects_bad_dtype():
    with pytest.raises(InputError, match="int64"):
        to_gray(np.zeros((4, 4), np.int64))


def test_floats_on_another_scale_are_refused_everywhere(tmp_path):
    wrong = np.full((16, 16, 3), 200.0)  # 0..255 floats, not [0, 1]
    with pytest.raises(InputError, match=r"float in \[0, 1\]"):
        to_gray(wrong)
    with pytest.raises(InputError, match=r"float in \[0, 1\]"):
        load_color_image(wrong)
    with pytest.raises(InputError, match=r"float in \[0, 1\]"):
        next(open_video(wrong[None]).rgb_frames())


def test_interrupted_write_leaves_nothing(tmp_path, clip_rgb):
    out = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError):
        with open_writer(out, 12) as w:
            w.write(clip_rgb[0])
            raise RuntimeError("interrupted")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_output_folder_with_frames_is_refused(tmp_path, clip_rgb):
    (tmp_path / "done").mkdir()
    cv2.imwrite(str(tmp_path / "done" / "000000.png"), clip_rgb[0])
    with pytest.raises(InputError, match="already holds frames"):
        check_output_path(tmp_path / "done")


def test_output_equal_to_input_is_refused(tmp_path):
    p = tmp_path / "a.mp4"
    p.write_bytes(b"x")
    with pytest.raises(InputError, match="different from the input"):
        check_output_path(p, p)


def test_gray_exemplar_warns(tmp_path):
    with pytest.warns(UserWarning, match="grayscale"):
        load_color_image(np.full((16, 16, 3), 128, np.uint8))


def test_non_image_exemplar_is_explained(tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("hello")
    with pytest.raises(InputError, match="could not decode"):
        load_color_image(bad)
