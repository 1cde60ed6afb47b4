"""Job folders: the output equals an uninterrupted plain run byte for byte; resume redoes
only what is unfinished; a new exemplar redoes only the segments it touches."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from exemplar_vc import InputError
from exemplar_vc.jobs import Job, SegmentStore
from exemplar_vc.cli.main import main
from job_media import write_folder, write_gop_video, write_png

EXEMPLARS = (0, 4, 8)


def _segment_files(job: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in sorted((job / "segments").iterdir())}


@pytest.fixture(scope="module")
def plain_mp4(small_colorizer, clip12, tmp_path_factory):
    rgb, gray = clip12
    out = tmp_path_factory.mktemp("plain") / "plain.mp4"
    small_colorizer.colorize_to(gray, out, exemplars={f: rgb[f] for f in EXEMPLARS})
    return out.read_bytes()


@pytest.mark.parametrize("segment_format", ["npy", "png"])
def test_job_output_is_byte_identical_to_a_plain_run(small_colorizer, clip12, plain_mp4, tmp_path, segment_format):
    rgb, gray = clip12
    done = small_colorizer.colorize_job(gray, tmp_path / "out.mp4", Job(tmp_path / "job", segment_format), exemplars={f: rgb[f] for f in EXEMPLARS})
    assert (tmp_path / "out.mp4").read_bytes() == plain_mp4
    assert [s.start for s in done.computed] == [0, 4, 8] and done.reused == []
    assert len(done.result) == 12
    again = small_colorizer.colorize_job(gray, tmp_path / "out2.mp4", tmp_path / "job", resume=True)
    assert again.computed == [] and len(again.reused) == 3
    assert (tmp_path / "out2.mp4").read_bytes() == plain_mp4


def test_png_folder_output_equals_the_plain_run(small_colorizer, clip12, tmp_path):
    rgb, gray = clip12
    ex = {f: rgb[f] for f in EXEMPLARS}
    plain = small_colorizer(gray, exemplars=ex).frames
    small_colorizer.colorize_job(gray, tmp_path / "frames", tmp_path / "job", exemplars=ex)
    import cv2

    got = np.stack([cv2.imread(str(p))[..., ::-1] for p in sorted((tmp_path / "frames").iterdir())])
    assert np.array_equal(got, plain)


def test_a_new_exemplar_recomputes_only_the_segments_that_touch_its_key_frame(small_colorizer, clip12, tmp_path):
    rgb, gray = clip12
    small_colorizer.colorize_job(gray, tmp_path / "a.mp4", tmp_path / "job", exemplars={f: rgb[f] for f in EXEMPLARS})
    before = _segment_files(tmp_path / "job")
    done = small_colorizer.colorize_job(gray, tmp_path / "b.mp4", tmp_path / "job", exemplars={8: rgb[9]}, resume=True)
    assert [(s.start, s.end) for s in done.computed] == [(4, 8), (8, 12)]  # right anchor 8, left anchor 8
    assert [(s.start, s.end) for s in done.reused] == [(0, 4)]
    after = _segment_files(tmp_path / "job")
    kept = [n for n in before if n.startswith("000000000-")]
    assert kept and all(after[n] == before[n] for n in kept)  # not rewritten
    assert len(after) == 6  # replaced versions pruned
    fresh = tmp_path / "fresh.mp4"
    small_colorizer.colorize_to(gray, fresh, exemplars={0: rgb[0], 4: rgb[4], 8: rgb[9]})
    assert (tmp_path / "b.mp4").read_bytes() == fresh.read_bytes()


def test_a_new_anchor_splits_one_segment_and_the_frames_before_the_first_depend_on_all(small_colorizer, clip12, tmp_path):
    rgb, gray = clip12
    small_colorizer.colorize_job(gray, tmp_path / "a.mp4", tmp_path / "job", exemplars={2: rgb[2], 8: rgb[8]})
    done = small_colorizer.colorize_job(gray, tmp_path / "b.mp4", tmp_path / "job", exemplars={5: rgb[5]}, resume=True)
    # (0, 2) has no left anchor: it matches every exemplar, so a new one changes it too.
    assert [(s.start, s.end) for s in done.computed] == [(0, 2), (2, 5), (5, 8)]
    assert [(s.start, s.end) for s in done.reused] == [(8, 12)]


def test_a_damaged_segment_is_recomputed_before_anything_is_published(small_colorizer, clip12, plain_mp4, tmp_path):
    rgb, gray = clip12
    small_colorizer.colorize_job(gray, tmp_path / "a.mp4", tmp_path / "job", exemplars={f: rgb[f] for f in EXEMPLARS})
    data = sorted((tmp_path / "job" / "segments").glob("000000004-*.npy"))[0]
    raw = bytearray(data.read_bytes())
    raw[-5] ^= 0xFF
    data.write_bytes(bytes(raw))
    done = small_colorizer.colorize_job(gray, tmp_path / "b.mp4", tmp_path / "job", resume=True)
    assert [s.start for s in done.computed] == [4]
    assert (tmp_path / "b.mp4").read_bytes() == plain_mp4


def test_a_folder_holding_a_job_needs_resume_and_resume_needs_exemplars_or_a_plan(small_colorizer, clip12, tmp_path):
    rgb, gray = clip12
    small_colorizer.colorize_job(gray, tmp_path / "a.mp4", tmp_path / "job", exemplars={0: rgb[0]})
    with pytest.raises(InputError, match="add --resume"):
        small_colorizer.colorize_job(gray, tmp_path / "b.mp4", tmp_path / "job", exemplars={0: rgb[0]})
    with pytest.raises(InputError, match="expected exemplars for a new job"):
        small_colorizer.colorize_job(gray, tmp_path / "b.mp4", tmp_path / "other", resume=True)


def test_video_input_with_short_gops_resumes_to_the_same_bytes(small_colorizer, tmp_path):
    from conftest import moving_clip

    rgb = moving_clip(20, (48, 64))
    video = write_gop_video(tmp_path / "in.mp4", rgb, gop=4)
    ex = {0: rgb[0], 7: rgb[7], 13: rgb[13]}
    small_colorizer.colorize_to(video, tmp_path / "plain.mp4", exemplars=ex)
    job = tmp_path / "job"
    small_colorizer.colorize_job(video, tmp_path / "a.mp4", job, exemplars=ex)
    for p in sorted((job / "segments").glob("000000007-*")):
        p.unlink()  # as if the run had died in that segment
    done = small_colorizer.colorize_job(video, tmp_path / "b.mp4", job, resume=True)
    assert [s.start for s in done.computed] == [7]
    assert (tmp_path / "b.mp4").read_bytes() == (tmp_path / "plain.mp4").read_bytes()


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from exemplar_vc.jobs import store
    real, n = store.SegmentWriter.write, [0]
    def write(self, rgb, conf):
        real(self, rgb, conf)
        n[0] += 1
        if n[0] == int(os.environ["KILL_AT_FRAME"]):
            os.kill(os.getpid(), signal.SIGKILL)
    store.SegmentWriter.write = write
    from exemplar_vc.cli.main import main
    sys.exit(main(sys.argv[1:]))
    """
)


def test_kill_9_mid_segment_then_resume_redoes_only_unfinished_segments(clip12, plain_mp4, tmp_path, capsys):
    rgb, gray = clip12
    frames = write_folder(tmp_path / "in", gray)
    args = [str(frames), "-o", str(tmp_path / "out.mp4"), "--working-size", "64", "--device", "cpu", "-q", "--job", str(tmp_path / "job")]
    for f in EXEMPLARS:
        args += ["--exemplar", f"{f}={write_png(tmp_path / f'ex{f}.png', rgb[f])}"]
    env = {**os.environ, "KILL_AT_FRAME": "6", "OMP_NUM_THREADS": "1"}  # segment 0..3 done, 2 frames into 4..7
    proc = subprocess.run([sys.executable, "-c", KILLER, "colorize", *args], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9, proc.stderr
    assert not (tmp_path / "out.mp4").exists()
    segs = tmp_path / "job" / "segments"
    finished = _segment_files(tmp_path / "job")
    assert [n for n in finished if n.endswith(".json")] == [n for n in finished if n.startswith("000000000-") and n.endswith(".json")]
    assert any(".partial" in n for n in finished)  # what the killed process was writing
    assert main(["colorize", *args, "--resume"]) == 0
    assert "2 segments colorized, 1 reused" in capsys.readouterr().err
    assert (tmp_path / "out.mp4").read_bytes() == plain_mp4
    after = _segment_files(tmp_path / "job")
    assert all(after[n] == finished[n] for n in finished if n.startswith("000000000-"))
    assert not any(".partial" in n or n.endswith(".owner") for n in os.listdir(segs))


def test_cli_resume_needs_a_job(tmp_path, capsys, clip12):
    _, gray = clip12
    frames = write_folder(tmp_path / "in", gray)
    assert main(["colorize", str(frames), "-o", str(tmp_path / "o.mp4"), "--resume", "-q"]) == 2
    assert "expected --job JOB_DIR with --resume" in capsys.readouterr().err


def test_each_segment_engine_holds_only_the_exemplars_it_needs(small_colorizer, clip12):
    from exemplar_vc.jobs import SegmentEngines

    rgb, gray = clip12
    plan = small_colorizer.plan(gray, {2: rgb[2], 5: rgb[5], 8: rgb[8]})
    engines = SegmentEngines(small_colorizer, plan)
    held = {(s.start, s.end): sorted(engines.for_segment(s).anchors) for s in plan.segments}
    # (0, 2) has no left anchor: it matches every exemplar; the others hold their two anchors at most.
    assert held == {(0, 2): [2, 5, 8], (2, 5): [2, 5], (5, 8): [5, 8], (8, 12): [8]}


def test_a_deep_input_is_refused_with_the_way_out(small_colorizer, clip12, tmp_path):
    rgb, gray = clip12
    with pytest.raises(InputError, match="8-bit frames for a job.*without a job folder"):
        small_colorizer.colorize_job(gray.astype(np.uint16) * 257, tmp_path / "o.mp4", tmp_path / "job", exemplars={0: rgb[0]})
