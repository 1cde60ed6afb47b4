"""Issue 13: faults (signals, disk full, read-only output, failing close), temporary files
of killed runs, bank tampering, arguments refused up front, and bit-identical output."""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from exemplar_vc.cli.main import main
from exemplar_vc.errors import InputError, OutputError
from exemplar_vc.io import clean_stale_partials, clean_stale_spills, open_writer
from exemplar_vc.io.stale import MARKER_NAME, write_marker
from media import write_video

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str) -> tuple[int, str]:
    """``exemplar-vc ARGS`` in this process: (exit code, stderr)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            rc = main([str(a) for a in args])
        except SystemExit as e:
            rc = e.code
    return rc, err.getvalue()


def assert_one_error(rc: int, err: str, text: str) -> None:
    lines = [line for line in err.splitlines() if "warning:" not in line]
    assert rc == 2 and len(lines) == 1 and "error:" in lines[0] and "Traceback" not in err, err
    assert text in lines[0], err


@pytest.fixture(scope="module")
def media(tmp_path_factory, clip_rgb, clip_gray):
    d = tmp_path_factory.mktemp("reliability")
    write_video(d / "gray.mp4", np.repeat(clip_gray[..., None], 3, axis=3), fps=12)
    cv2.imwrite(str(d / "ref.png"), clip_rgb[0][..., ::-1])
    cv2.imwrite(str(d / "ref8.png"), clip_rgb[0][:8, :8, ::-1])
    write_video(d / "tiny.mp4", np.zeros((3, 2, 2, 3), np.uint8), fps=12)
    long = np.concatenate([clip_gray] * 40)  # 320 frames: long enough to be signalled mid-run
    write_video(d / "long.mp4", np.repeat(long[..., None], 3, axis=3), fps=12)
    return d


# -- arguments and inputs refused up front (the tracebacks of issue 13) --------------------
@pytest.mark.parametrize(
    "args, text",
    [
        ("colorize {d}/tiny.mp4 -o {o}/x.mp4 --exemplar 0={d}/ref.png", "at least 16x16"),
        ("colorize {d}/gray.mp4 -o {o}/x.mp4 --exemplar 0={d}/ref.png --working-size 8", "working_size >= 16"),
        ("colorize {d}/gray.mp4 -o {o}/x.mp4 --exemplar 0={d}/ref.png --working-size -5", "positive number"),
        ("colorize {d}/gray.mp4 -o {o}/x.mp4 --exemplar 0={d}/ref8.png", "at least 16x16"),
        ("colorize {d}/gray.mp4 -o {o}/x.mp4 --exemplar ²={d}/ref.png", "FRAME=IMAGE"),
        ("colorize {d}/gray.mp4 -o {o}/x.mp4 --exemplar 0={d}/ref.png --model bogus", "bogus"),
        ("colorize {d}/gray.mp4 -o {o}/x.mp4 --exemplar 0={d}/ref.png --exemplar 0={d}/ref.png", "twice"),
        ("colorize {d}/gray.mp4 -o {o}/x.avi --exemplar 0={d}/ref.png", "output video"),
        ("colorize {d}/gray.mp4 -o {o}/none/x.mp4 --exemplar 0={d}/ref.png", "to exist"),
        ("colorize", "required"),
        ("", "expected a command"),
    ],
)
def test_mistakes_give_one_line(media, tmp_path, args, text):
    rc, err = cli(*args.format(d=media, o=tmp_path).split())
    assert_one_error(rc, err, text)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("junk", ["file", "subfolder"])
def test_occupied_output_folder_is_refused_before_any_work(media, tmp_path, junk):
    out = tmp_path / "frames"
    (out / "sub").mkdir(parents=True) if junk == "subfolder" else (out.mkdir(), (out / "notes.txt").write_text("x"))
    rc, err = cli("colorize", media / "gray.mp4", "-o", out, "--exemplar", f"0={media / 'ref.png'}", "-q")
    assert_one_error(rc, err, "not empty")
    assert sorted(os.listdir(tmp_path)) == ["frames"]


def test_fifo_inputs_never_block(media, tmp_path):
    fifo = tmp_path / "fifo.png"
    os.mkfifo(fifo)
    rc, err = cli("colorize", media / "gray.mp4", "-o", tmp_path / "x.mp4", "--exemplar", f"0={fifo}", "-q")
    assert_one_error(rc, err, "FIFO")
    from exemplar_vc.io import load_color_image

    with pytest.raises(InputError, match="FIFO"):
        load_color_image(fifo)


def test_bank_build_onto_a_file(media, tmp_path):
    (tmp_path / "taken").write_text("x")
    rc, err = cli("bank", "build", media / "ref.png", "-o", tmp_path / "taken")
    assert_one_error(rc, err, "is a file")


# -- failing writes ---------------------------------------------------------------------
@pytest.mark.parametrize("name", ["out.mp4", "frames"])
def test_failed_write_leaves_nothing(colorizer, clip_gray, clip_rgb, tmp_path, monkeypatch, name):
    from exemplar_vc.io import writer

    method = "_write_video" if name.endswith(".mp4") else "_write_png"
    original = getattr(writer.FrameWriter, method)

    def failing(self, rgb):
        if self.count == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return original(self, rgb)

    monkeypatch.setattr(writer.FrameWriter, method, failing)
    with pytest.raises(OutputError, match="disk full") as e:
        colorizer.colorize_to(clip_gray, tmp_path / name, exemplars={0: clip_rgb[0]})
    assert e.value.errno == errno.ENOSPC and isinstance(e.value, OSError)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("name", ["out.mp4", "frames"])
def test_failing_close_aborts(tmp_path, monkeypatch, name):
    from exemplar_vc.io import writer

    def refuse(src, dst):
        raise OSError(errno.ENOTEMPTY, os.strerror(errno.ENOTEMPTY))

    monkeypatch.setattr(writer.os, "replace", refuse)
    with pytest.raises(OutputError, match="not empty"):
        with open_writer(tmp_path / name, Fraction(12)) as w:
            w.write(np.zeros((16, 16, 3), np.uint8))
    assert os.listdir(tmp_path) == []


@contextlib.contextmanager
def tmpfs(path: Path, size: str, read_only: bool = False):
    """A small tmpfs at ``path`` (root only; skipped where mount is not allowed)."""
    path.mkdir(parents=True, exist_ok=True)
    opts = f"size={size}" + (",ro" if read_only else "")
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a tmpfs")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


@pytest.mark.parametrize("name", ["out.mp4", "frames"])
def test_disk_full_is_a_clear_error(colorizer, clip_gray, clip_rgb, tmp_path, name):
    with tmpfs(tmp_path / "full", "8k") as full:
        with pytest.raises(OutputError, match="No space left") as e:
            colorizer.colorize_to(clip_gray, full / name, exemplars={0: clip_rgb[0]})
        assert e.value.errno == errno.ENOSPC
        assert os.listdir(full) == []


def test_disk_full_cli_and_bank(media, tmp_path):
    with tmpfs(tmp_path / "full", "8k") as full:
        rc, err = cli("colorize", media / "gray.mp4", "-o", full / "frames", "--exemplar", f"0={media / 'ref.png'}", "--working-size", "32", "-q")
        assert_one_error(rc, err, "disk full")
        (full / "filler").write_bytes(bytes(6 * 1024))
        rc, err = cli("bank", "build", media / "ref.png", "-o", full / "bank", "-q")
        assert_one_error(rc, err, "disk full")
        assert os.listdir(full) == ["filler"]


def test_read_only_output_is_refused_up_front(colorizer, clip_gray, clip_rgb, tmp_path):
    with tmpfs(tmp_path / "ro", "1m", read_only=True) as ro:
        with pytest.raises(OutputError, match="Read-only"):
            colorizer.colorize_to(clip_gray, ro / "out.mp4", exemplars={0: clip_rgb[0]})


# -- signals ----------------------------------------------------------------------------
def _start(media: Path, out: Path, tmpdir: Path) -> subprocess.Popen:
    env = {**os.environ, "TMPDIR": str(tmpdir), "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    # Exemplars at both ends: one bidirectional segment, whose frames spill to disk past 2.
    ref = media / "ref.png"
    args = ["colorize", media / "long.mp4", "-o", out, "--exemplar", f"0={ref}", "--exemplar", f"319={ref}", "--working-size", "32", "--device", "cpu", "-q", "--set", "propagation.max_buffer_frames=2"]
    return subprocess.Popen([sys.executable, "-m", "exemplar_vc.cli.main", *map(str, args)], env=env, stderr=subprocess.PIPE, text=True)


def _wait_for_partial(proc: subprocess.Popen, folder: Path, tmpdir: Path, timeout: float = 240) -> None:
    """Until the writer's owner marker is beside the output and frames spill to ``tmpdir``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if any(n.endswith(".owner") for n in os.listdir(folder)) and any(n.startswith("exemplar_vc_segment_") for n in os.listdir(tmpdir)):
            time.sleep(0.2)
            return
        if proc.poll() is not None:
            pytest.fail(f"the run ended before it could be signalled: {proc.stderr.read()}")
        time.sleep(0.02)
    proc.kill()
    pytest.fail("no partial output or spill folder appeared")


@pytest.mark.slow
@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_cleanly(media, tmp_path, sig, code):
    out_dir, tmpdir = tmp_path / "out", tmp_path / "tmp"
    out_dir.mkdir()
    tmpdir.mkdir()
    proc = _start(media, out_dir / "x.mp4", tmpdir)
    _wait_for_partial(proc, out_dir, tmpdir)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert err.strip().splitlines()[-1].endswith("no partial output was kept") and "Traceback" not in err
    assert os.listdir(out_dir) == []
    assert [n for n in os.listdir(tmpdir) if n.startswith("exemplar_vc_segment_")] == []


@pytest.mark.slow
def test_sigkill_then_the_next_run_cleans_its_own(media, tmp_path):
    out_dir, tmpdir = tmp_path / "out", tmp_path / "tmp"
    out_dir.mkdir()
    tmpdir.mkdir()
    proc = _start(media, out_dir / "x.mp4", tmpdir)
    _wait_for_partial(proc, out_dir, tmpdir)
    proc.kill()
    proc.wait(timeout=60)
    left = sorted(os.listdir(out_dir))
    assert "x.mp4" not in left and any(n.endswith(".owner") for n in left)
    spills = [n for n in os.listdir(tmpdir) if n.startswith("exemplar_vc_segment_")]
    assert spills  # the killed run's spill folder (the run was past its second frame)
    # They go once they carry an owner marker (the 2-line change to propagation/buffer.py).
    clean_stale_spills(tmpdir)
    assert not [n for n in os.listdir(tmpdir) if (tmpdir / n / MARKER_NAME).exists()]
    # Look-alikes the next run must not touch: no marker; a marker of a live process.
    (out_dir / ".x.mp4.exvc-1-zzzzzzzz.partial.mp4").write_bytes(b"someone else's")
    write_marker(out_dir / f".x.mp4.exvc-{os.getpid()}-livelive.owner")
    (out_dir / f".x.mp4.exvc-{os.getpid()}-livelive.partial.mp4").write_bytes(b"a live run's")
    removed = clean_stale_partials(out_dir)
    assert sorted(p.name for p in removed) == left
    assert sorted(os.listdir(out_dir)) == sorted([".x.mp4.exvc-1-zzzzzzzz.partial.mp4", f".x.mp4.exvc-{os.getpid()}-livelive.owner", f".x.mp4.exvc-{os.getpid()}-livelive.partial.mp4"])


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_spill_folders_removed_only_when_owner_dead(tmp_path):
    dead = _dead_pid()
    for name, pid in [("exemplar_vc_segment_dead", dead), ("exemplar_vc_stage1_dead", dead), ("exemplar_vc_segment_live", os.getpid()), ("other_dead", dead)]:
        (tmp_path / name).mkdir()
        (tmp_path / name / "00000000.pt").write_bytes(b"x")
        (tmp_path / name / MARKER_NAME).write_text(json.dumps({"owner": "exemplar_vc", "pid": pid, "start": None, "host": os.uname().nodename}))
    (tmp_path / "exemplar_vc_segment_nomarker").mkdir()
    assert sorted(p.name for p in clean_stale_spills(tmp_path)) == ["exemplar_vc_segment_dead", "exemplar_vc_stage1_dead"]
    assert sorted(os.listdir(tmp_path)) == ["exemplar_vc_segment_live", "exemplar_vc_segment_nomarker", "other_dead"]


# -- banks ------------------------------------------------------------------------------
@pytest.fixture
def bank_dir(colorizer, clip_rgb, tmp_path):
    from exemplar_vc.exemplars import ReferenceBank

    photos = tmp_path / "photos"
    photos.mkdir()
    for k in (0, 4):
        cv2.imwrite(str(photos / f"p{k}.png"), clip_rgb[k][..., ::-1])
    cv2.imwrite(str(tmp_path / "other.png"), clip_rgb[7][::-1, :, ::-1])
    ReferenceBank.build(photos, encoder=colorizer.encoder).save(tmp_path / "bank")
    return tmp_path / "bank"


def _edit(bank: Path, reseal: bool, **changes) -> None:
    from exemplar_vc.exemplars.bank_meta import meta_digest

    meta = json.loads((bank / "meta.json").read_text())
    for key, value in changes.items():
        if key == "path0":
            meta["entries"][0]["path"] = value
        elif key in ("backbone", "blocks"):
            meta["encoder_config"][key] = value
        else:
            meta[key] = value
    if reseal:
        meta["meta_sha256"] = meta_digest(meta)
    (bank / "meta.json").write_text(json.dumps(meta))


@pytest.mark.parametrize("field, value, text", [("backbone", "evil", "backbone"), ("blocks", [99], "blocks"), ("next_id", "abc", "next_id"), ("dim", -1, "dim")])
def test_edited_bank_metadata_is_refused(colorizer, bank_dir, field, value, text):
    from exemplar_vc.exemplars import ReferenceBank

    _edit(bank_dir, reseal=True, **{field: value})
    with pytest.raises(InputError, match=text):
        ReferenceBank.load(bank_dir)


def test_bank_entries_are_checked_on_use(colorizer, bank_dir):
    from exemplar_vc.exemplars import ReferenceBank

    other = str(bank_dir.parent / "other.png")
    _edit(bank_dir, reseal=False, path0=other)
    with pytest.raises(InputError, match="checksum"):  # an edit of meta.json
        ReferenceBank.load(bank_dir, encoder=colorizer.encoder)
    _edit(bank_dir, reseal=True, path0=other)  # edited and re-sealed: caught on use
    bank = ReferenceBank.load(bank_dir, encoder=colorizer.encoder)
    with pytest.raises(InputError, match="pixels differ"):
        bank.image(bank.entries[0])
    fifo = bank_dir.parent / "fifo.png"
    os.mkfifo(fifo)
    _edit(bank_dir, reseal=True, path0=str(fifo))
    bank = ReferenceBank.load(bank_dir, encoder=colorizer.encoder)
    with pytest.raises(InputError, match="FIFO"):
        bank.image(bank.entries[0])
    _edit(bank_dir, reseal=True, path0="../../etc/hostname")
    with pytest.raises(InputError, match="inside the bank folder"):
        ReferenceBank.load(bank_dir, encoder=colorizer.encoder)


def test_bank_paths_relative_inside_and_outside_refused_on_request(colorizer, clip_rgb, tmp_path):
    from exemplar_vc.exemplars import ReferenceBank

    bank = tmp_path / "bank"
    (bank / "images").mkdir(parents=True)
    cv2.imwrite(str(bank / "images" / "a.png"), clip_rgb[0][..., ::-1])
    ReferenceBank.build(bank / "images", encoder=colorizer.encoder).save(bank)
    assert json.loads((bank / "meta.json").read_text())["entries"][0]["path"] == "images/a.png"
    moved = shutil.move(str(bank), str(tmp_path / "moved"))
    loaded = ReferenceBank.load(moved, encoder=colorizer.encoder, allow_outside=False)
    assert loaded.image(loaded.entries[0]).shape == clip_rgb[0].shape
    cv2.imwrite(str(tmp_path / "out.png"), clip_rgb[3][..., ::-1])
    loaded.add([tmp_path / "out.png"])
    loaded.save(moved)
    with pytest.raises(InputError, match="allow_outside=False"):
        ReferenceBank.load(moved, encoder=colorizer.encoder, allow_outside=False)
    assert len(ReferenceBank.load(moved, encoder=colorizer.encoder)) == 2


# -- determinism ------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["out.mp4", "out.mkv", "frames"])  # mkv: no random segment UID (fflags +bitexact)
def test_two_runs_are_bit_identical(colorizer, clip_gray, clip_rgb, tmp_path, name):
    outputs = []
    for run in ("a", "b"):
        out = tmp_path / run / name
        out.parent.mkdir()
        colorizer.colorize_to(clip_gray[:, :, :142], out, exemplars={0: clip_rgb[0][:, :142]})  # 142: odd chroma width
        files = sorted(out.iterdir()) if out.is_dir() else [out]
        outputs.append([(f.name, f.read_bytes()) for f in files])
    assert outputs[0] == outputs[1]


def test_h264_writer_is_bit_identical_where_x264_varied(tmp_path):
    # 854 px wide: x264's SIMD lookahead with mbtree gave different files for identical frames.
    rng = np.random.default_rng(0)
    frames = [np.ascontiguousarray(np.repeat(rng.integers(0, 256, (64, 1, 3), dtype=np.uint8), 854, axis=1) ^ rng.integers(0, 32, (64, 854, 3), dtype=np.uint8)) for _ in range(6)]
    digests = set()
    for k in range(3):
        with open_writer(tmp_path / f"{k}.mp4", Fraction(24)) as w:
            for f in frames:
                w.write(f)
        digests.add((tmp_path / f"{k}.mp4").read_bytes())
    assert len(digests) == 1
