"""A batch on a local Ray (2 CPUs): the same bytes as single runs; a worker killed in the
middle of a segment is restarted, the segment retried, and nothing finished is lost or
redone."""

import os
import signal
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'exemplar_vc[cluster]'); the batch tests need a local Ray")

import exemplar_vc  # noqa: E402
from conftest import moving_clip, to_gray  # noqa: E402
from exemplar_vc.distributed import BatchOptions, run_batch  # noqa: E402
from job_media import write_folder, write_png  # noqa: E402

WORKING_SIZE = 64
FILMS = {"a": (10, [0, 5]), "b": (12, [0, 5, 9]), "c": (8, [3])}  # frames, exemplar frames


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=100 * 2**20, log_to_driver=False, configure_logging=False)
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the hooks below, in the workers
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("archive")
    for seed, (name, (n, frames)) in enumerate(FILMS.items()):
        rgb = moving_clip(n, (48, 64), seed=seed)
        write_folder(root / name, to_gray(rgb))
        (root / f"{name}.exemplars").mkdir()
        for f in frames:
            write_png(root / f"{name}.exemplars" / f"{f}.png", rgb[f])
    return root


@pytest.fixture(scope="module")
def singles(archive, tmp_path_factory):
    """Each film colorized alone, the ordinary way."""
    colorizer = exemplar_vc.VideoColorizer.from_pretrained("default", device="cpu", working_size=WORKING_SIZE)
    out = tmp_path_factory.mktemp("singles")
    result = {}
    for name, (_, frames) in FILMS.items():
        ex = {f: str(archive / f"{name}.exemplars" / f"{f}.png") for f in frames}
        colorizer.colorize_to(archive / name, out / f"{name}.mp4", exemplars=ex)
        result[name] = (out / f"{name}.mp4").read_bytes()
    return result


class LogFrames:
    """Appends 'film start index pid' per stored frame; with ``kill`` = (film, index),
    SIGKILLs its own worker process there, once."""

    def __init__(self, log: Path, kill: tuple[str, int] | None = None):
        self.log, self.kill = str(log), kill

    def __call__(self, film, segment, index):
        with open(self.log, "a") as f:
            f.write(f"{film} {segment.start} {index} {os.getpid()}\n")
        if self.kill == (film, index):
            flag = self.log + ".killed"
            if not os.path.exists(flag):
                open(flag, "w").close()
                os.kill(os.getpid(), signal.SIGKILL)


def _log(path: Path) -> list[tuple[str, int, int, int]]:
    return [(a, int(b), int(c), int(d)) for a, b, c, d in (line.split() for line in path.read_text().splitlines())]


def test_a_batch_of_three_clips_equals_three_single_runs_and_resumes_to_nothing(local_ray, archive, singles, tmp_path):
    log = tmp_path / "frames.log"
    opts = BatchOptions(workers=2, frame_hook=LogFrames(log))
    colorizer = exemplar_vc.VideoColorizer.from_pretrained("default", device="cpu", working_size=WORKING_SIZE)
    result = run_batch(archive, tmp_path / "out", colorizer, opts)
    assert [f.status for f in result.films] == ["done"] * 3, [f.error for f in result.films]
    for name in FILMS:
        assert (tmp_path / "out" / f"{name}.mp4").read_bytes() == singles[name], name
    counts = Counter((film, index) for film, _, index, _ in _log(log))
    assert sorted(counts) == sorted((n, i) for n, (frames, _) in FILMS.items() for i in range(frames))
    assert set(counts.values()) == {1}
    again = run_batch(archive, tmp_path / "out", colorizer, opts)
    assert [f.status for f in again.films] == ["up to date"] * 3
    assert len(_log(log)) == sum(counts.values())  # nothing computed again
    assert (tmp_path / "out" / ".jobs" / "batch.json").is_file()


def test_a_worker_killed_mid_segment_is_retried_and_nothing_finished_is_redone(local_ray, archive, singles, tmp_path):
    log = tmp_path / "frames.log"
    # Film b's segment 5..8: killed after storing frame 6 (frames 5 and 6 written, not committed).
    # One worker, so one CPU is left for assembly as separate Ray tasks (the GPU layout).
    opts = BatchOptions(workers=1, frame_hook=LogFrames(log, kill=("b", 6)), assemble_in_tasks=True)
    colorizer = exemplar_vc.VideoColorizer.from_pretrained("default", device="cpu", working_size=WORKING_SIZE)
    result = run_batch(archive, tmp_path / "out", colorizer, opts)
    assert Path(str(log) + ".killed").exists()
    assert [f.status for f in result.films] == ["done"] * 3, [f.error for f in result.films]
    for name in FILMS:
        assert (tmp_path / "out" / f"{name}.mp4").read_bytes() == singles[name], name
    entries = _log(log)
    counts = Counter((film, index) for film, _, index, _ in entries)
    twice = {k for k, v in counts.items() if v > 1}
    assert twice == {("b", 5), ("b", 6)}  # only the killed segment's frames, once more each
    assert all(v <= 2 for v in counts.values())
    pids = {pid for film, start, _, pid in entries if (film, start) == ("b", 5)}
    assert len(pids) == 2  # retried in a restarted worker process
    segs = tmp_path / "out" / ".jobs" / "b" / "segments"
    assert not any(".partial" in n or n.endswith(".owner") for n in os.listdir(segs))


def test_cli_batch_writes_every_film(local_ray, archive, singles, tmp_path, capsys):
    from exemplar_vc.cli.main import main

    args = ["batch", str(archive), "-o", str(tmp_path / "out"), "--workers", "2", "--working-size", str(WORKING_SIZE), "--discard-segments"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "3 of 3 films done" in err and "b: done (12 frames, 3 segments colorized, 0 reused)" in err
    for name in FILMS:
        assert (tmp_path / "out" / f"{name}.mp4").read_bytes() == singles[name], name
        assert list((tmp_path / "out" / ".jobs" / name / "segments").iterdir()) == []  # --discard-segments
    assert main(args) == 0  # again: every film is up to date, nothing to compute
    err = capsys.readouterr().err
    assert "3 of 3 films done" in err and "b: up to date" in err
