"""The exemplar-vc command end to end, run as a user would (a subprocess)."""

import subprocess
import sys

import cv2
import numpy as np
import pytest

from media import audio_packets, write_video


def run(*args):
    return subprocess.run([sys.executable, "-m", "exemplar_vc.cli.main", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def files(tmp_path_factory, clip_rgb, clip_gray):
    d = tmp_path_factory.mktemp("cli")
    gray3 = np.repeat(clip_gray[..., None], 3, axis=3)
    write_video(d / "gray.mp4", gray3, fps=12, audio=True)
    cv2.imwrite(str(d / "ref.png"), clip_rgb[0][..., ::-1])
    frames = d / "frames"
    frames.mkdir()
    for i, g in enumerate(clip_gray):
        cv2.imwrite(str(frames / f"img_{i:02d}.png"), g)
    return d


def test_version():
    out = run("--version")
    assert out.returncode == 0 and out.stdout.startswith("exemplar-vc ")


def test_colorize_video_keeps_audio_and_count(files):
    out = run("colorize", str(files / "gray.mp4"), "-o", str(files / "out.mp4"), "--exemplar", f"0={files / 'ref.png'}", "--working-size", "96", "--device", "cpu")
    assert out.returncode == 0, out.stderr
    assert "colorizing" in out.stderr  # the progress bar goes to stderr
    from exemplar_vc.io import open_video

    video = open_video(files / "out.mp4")
    assert len(list(video.gray_frames())) == 8 and video.fps == 12
    assert audio_packets(files / "out.mp4") == audio_packets(files / "gray.mp4") > 0


def test_colorize_with_settings_from_set_and_config(files):
    (files / "settings.toml").write_text("[propagation]\nupsample = \"guided\"\n")
    out = run("colorize", str(files / "frames"), "-o", str(files / "set_out"), "--exemplar", f"0={files / 'ref.png'}", "--config", str(files / "settings.toml"), "--set", "working_size=96", "--set", "propagation.fill_in=false", "-q")
    assert out.returncode == 0, out.stderr
    assert len(list((files / "set_out").iterdir())) == 8


def test_colorize_folder_with_references(files):
    out = run("colorize", str(files / "frames"), "-o", str(files / "out_frames"), "--references", str(files), "--working-size", "96", "-q")
    assert out.returncode == 0, out.stderr
    names = sorted(p.name for p in (files / "out_frames").iterdir())
    assert names == [f"img_{i:02d}.png" for i in range(8)]


@pytest.mark.parametrize(
    "args, message",
    [
        ("{d}/missing.mp4 -o {d}/x.mp4 --exemplar 0={d}/ref.png", "does not exist"),
        ("{d}/gray.mp4 -o {d}/x.mp4 --exemplar zero={d}/ref.png", "FRAME=IMAGE"),
        ("{d}/gray.mp4 -o {d}/x.mp4 --exemplar 99={d}/ref.png", "got frame 99"),
        ("{d}/gray.mp4 -o {d}/gray.mp4 --exemplar 0={d}/ref.png", "different from the input"),
        ("{d}/gray.mp4 -o {d}/x.mp4 --exemplar 0={d}/gray.mp4", "could not decode"),
        ("{d}/gray.mp4 -o {d}/x.mp4 --exemplar 0={d}/ref.png --set propagation.fil_in=true", "'fill_in'"),
        ("{d}/gray.mp4 -o {d}/x.mp4 --exemplar 0={d}/ref.png --config {d}/missing.toml", "does not exist"),
    ],
)
def test_user_mistakes_give_one_line(files, args, message):
    out = run("colorize", *args.format(d=files).split(), "--working-size", "96", "-q")
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert not (files / "x.mp4").exists()


def test_corrupt_video_is_explained(files):
    bad = files / "corrupt.mp4"
    bad.write_bytes((files / "gray.mp4").read_bytes()[:600])
    out = run("colorize", str(bad), "-o", str(files / "y.mp4"), "--exemplar", f"0={files / 'ref.png'}", "-q")
    assert out.returncode == 2 and "video" in out.stderr and "Traceback" not in out.stderr
    assert not (files / "y.mp4").exists()


def test_mismatched_frame_sizes_are_explained(files, clip_gray):
    d = files / "mixed"
    d.mkdir()
    cv2.imwrite(str(d / "a.png"), clip_gray[0])
    cv2.imwrite(str(d / "b.png"), clip_gray[1][:40])
    out = run("colorize", str(d), "-o", str(files / "mixed_out"), "--exemplar", f"0={files / 'ref.png'}", "-q")
    assert out.returncode == 2 and "like the first" in out.stderr
    assert not (files / "mixed_out").exists()


def test_colorize_from_a_reference_bank(files, clip_rgb):
    photos = files / "photos"
    photos.mkdir()
    cv2.imwrite(str(photos / "scene.png"), clip_rgb[0][..., ::-1])
    cv2.imwrite(str(photos / "other.png"), np.ascontiguousarray(clip_rgb[4][::-1, :, ::-1]))
    built = run("bank", "build", str(photos), "-o", str(files / "bank"))
    assert built.returncode == 0, built.stderr
    out = run("colorize", str(files / "frames"), "-o", str(files / "bank_out"), "--bank", str(files / "bank"), "--working-size", "96", "-q")
    assert out.returncode == 0, out.stderr
    assert "scene.png" in out.stderr  # the key frame got the bank image of its own scene
    assert len(list((files / "bank_out").iterdir())) == 8
