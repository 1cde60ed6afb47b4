"""Fuzz case generators: every kind of input the library reads, built from hypothesis draws.

Each generator takes ``draw`` (hypothesis ``data.draw``) and a fresh, empty case folder
and returns a ``Case`` (or None when the drawn input cannot even be encoded, e.g. a codec
refusing a size). Inputs live under ``case/in``, outputs go to ``case/out``. Sizes stay
tiny (16-64 px, 2-4 frames, working size 32) so a case takes a fraction of a second.

Kinds: ``video`` (containers, codecs, sizes, frame rates, variable frame rate, audio,
then byte mutations: truncate, flip, splice, zero-length, random bytes), ``image``
(exemplars as PNG/JPEG/TIFF/BMP/WebP at 1/8/16 bit with 1-4 channels, tiny to large,
mutated), ``folder`` (frame folders: empty, mixed sizes and depths, junk files,
subfolders, unicode names, corrupt frames), ``exemplar_spec`` (``--exemplar`` strings and
API mappings), ``bank`` (banks of the current format 2, their images inside with relative paths or
outside with absolute ones: edits of every meta.json field and of index.faiss and
vectors.npz, with and without a re-computed checksum, a format-1 bank, entry paths to
other images, FIFOs, links and paths leaving the bank), ``config`` (``--config``
TOML files and ``--set`` assignments), ``cli`` (argument lists from the grammar of every
subcommand), ``output`` (occupied, odd or impossible output paths), ``api`` (wrong types
and values for the public functions).
"""

from __future__ import annotations

import json
import os
import shutil
import string
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

import numpy as np
from hypothesis import strategies as st

from .harness import Case

WORKING_SIZE = 32
Draw = Callable[[st.SearchStrategy], Any]
_CACHE: dict[str, Any] = {}

KINDS = ["video", "image", "folder", "exemplar_spec", "bank", "config", "cli", "output", "api"]


# -- shared pieces -------------------------------------------------------------------
def colorizer():
    """One small CPU colorizer per process (the API cases share it)."""
    if "colorizer" not in _CACHE:
        import exemplar_vc

        _CACHE["colorizer"] = exemplar_vc.VideoColorizer.from_pretrained("default", device="cpu", working_size=WORKING_SIZE)
    return _CACHE["colorizer"]


def scene(h: int, w: int, seed: int) -> np.ndarray:
    """(h, w, 3) uint8 RGB: smooth colour over a luminance texture."""
    import cv2

    rng = np.random.default_rng(seed)
    base = rng.random((max(2, h // 8), max(2, w // 8), 3)).astype(np.float32)
    img = cv2.resize(base, (w, h), interpolation=cv2.INTER_LINEAR)
    img = 0.7 * img + 0.3 * rng.random((h, w, 1)).astype(np.float32)
    return np.clip(img * 255, 0, 255).astype(np.uint8)


def clip(t: int, h: int, w: int, seed: int) -> np.ndarray:
    big = scene(h, w + 2 * t, seed)
    return np.stack([big[:, 2 * i : 2 * i + w] for i in range(t)]) if t else np.zeros((0, h, w, 3), np.uint8)


def write_png(path: Path, rgb: np.ndarray) -> Path:
    import cv2

    if not cv2.imwrite(str(path), np.ascontiguousarray(rgb[..., ::-1]) if rgb.ndim == 3 and rgb.shape[2] == 3 else rgb):
        raise OSError(f"could not write {path}")
    return path


_CODECS = {  # codec -> (containers, pixel formats, needs even sizes)
    "libx264": ((".mp4", ".mkv", ".mov"), ("yuv420p",), True),
    "mpeg4": ((".avi", ".mkv", ".mov"), ("yuv420p",), True),
    "mjpeg": ((".avi", ".mov", ".mkv"), ("yuvj420p",), False),
    "png": ((".avi", ".mov"), ("rgb24", "gray", "rgb48be"), False),
    "ffv1": ((".mkv", ".avi"), ("gray16le",), False),
}


def encode_video(path: Path, frames: np.ndarray, codec: str, pix_fmt: str, rate: Fraction, pts: list[int] | None = None, audio: bool = False) -> None:
    import av

    with av.open(str(path), "w") as out:
        v = out.add_stream(codec, rate=rate)
        v.width, v.height = frames.shape[2], frames.shape[1]
        v.pix_fmt = pix_fmt
        v.codec_context.thread_count = 1
        a = None
        if audio:
            a = out.add_stream("aac", rate=8000)
            a.layout = "mono"
        for i, f in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")
            frame.pts = pts[i] if pts is not None else i
            frame.time_base = Fraction(1) / rate
            for p in v.encode(frame):
                out.mux(p)
        for p in v.encode():
            out.mux(p)
        if a is not None:
            tone = (0.2 * np.sin(np.arange(8000 * len(frames) // max(1, int(rate))) / 3)).astype(np.float32)[None]
            for start in range(0, tone.shape[1], 1024):
                af = av.AudioFrame.from_ndarray(tone[:, start : start + 1024], format="fltp", layout="mono")
                af.sample_rate, af.pts, af.time_base = 8000, start, Fraction(1, 8000)
                for p in a.encode(af):
                    out.mux(p)
            for p in a.encode():
                out.mux(p)


def mutate_bytes(draw: Draw, data: bytes, other: bytes = b"") -> tuple[bytes, str]:
    """A mutation of ``data``: truncated, bytes flipped, spliced with ``other``, emptied..."""
    how = draw(st.sampled_from(["none", "truncate", "flip", "splice", "empty", "random", "repeat", "zero_run"]))
    n = len(data)
    if how == "none" or n == 0:
        return data, "none"
    if how == "truncate":
        cut = draw(st.integers(0, n - 1))
        return data[:cut], f"truncate@{cut}/{n}"
    if how == "flip":
        b = bytearray(data)
        k = draw(st.integers(1, 16))
        for _ in range(k):
            i = draw(st.integers(0, n - 1))
            b[i] ^= draw(st.integers(1, 255))
        return bytes(b), f"flip{k}"
    if how == "splice":
        i = draw(st.integers(0, n))
        src = other or data
        j = draw(st.integers(0, len(src)))
        return data[:i] + src[j:], f"splice@{i}+{j}"
    if how == "empty":
        return b"", "empty"
    if how == "random":
        return draw(st.binary(min_size=0, max_size=2048)), "random"
    if how == "repeat":
        i = draw(st.integers(0, n - 1))
        j = draw(st.integers(i, min(n, i + 4096)))
        return data[:j] + data[i:j] * draw(st.integers(1, 4)) + data[j:], f"repeat{i}:{j}"
    i = draw(st.integers(0, n - 1))
    return data[:i] + bytes(draw(st.integers(1, 512))) + data[i:], f"zeros@{i}"


def count_frames(video: Any) -> int | None:
    """Frames the library's own reader gets from ``video``, or None when it refuses it."""
    try:
        from exemplar_vc.io import open_video

        return sum(1 for _ in open_video(video).gray_frames())
    except Exception:  # noqa: BLE001
        return None


def output_check(source: Any, want: tuple[int, int] | None = None) -> Callable[[Any], list[str]]:
    """A check that the output holds one frame per input frame, at the input's size."""
    expected = count_frames(source)

    def check(result: Any) -> list[str]:
        size = want
        from exemplar_vc.io import open_video

        path = getattr(result, "output", None) or result
        if path is None:
            frames = getattr(result, "frames", None)
            got = None if frames is None else len(frames)
            shape = None if frames is None else frames.shape[1:3]
        else:
            path = Path(path)
            if not path.exists():
                return [f"success, but no output at {path.name!r}"]
            src = open_video(path)
            got, shape = sum(1 for _ in src.gray_frames()), src.size
        problems = []
        if expected is not None and got != expected:
            problems.append(f"expected {expected} output frames, got {got}")
        if size is not None and shape is not None and path is not None and path.suffix:
            size = (size[0] + size[0] % 2, size[1] + size[1] % 2)  # H.264 4:2:0 pads odd edges (writer.py)
        if size is not None and shape is not None and tuple(shape) != tuple(size):
            problems.append(f"expected output frames of {size}, got {tuple(shape)}")
        return problems

    return check


def _dirs(case_dir: Path) -> tuple[Path, Path]:
    i, o = case_dir / "in", case_dir / "out"
    i.mkdir(parents=True, exist_ok=True)
    o.mkdir(parents=True, exist_ok=True)
    return i, o


def _reference(folder: Path, seed: int = 1, h: int = 40, w: int = 48) -> Path:
    return write_png(folder / "ref.png", scene(h, w, seed))


def _colorize(draw: Draw, video: Any, output: Path, exemplar: Any, inputs: list[Path], kind: str, detail: str, expect: str, size=None, extra: list[str] | None = None) -> Case:
    """The same colorization through the CLI or the API (drawn)."""
    check = output_check(video, size)
    if isinstance(video, (str, Path)) and isinstance(exemplar, (str, Path)) and draw(st.booleans()):
        argv = ["colorize", str(video), "-o", str(output), "--exemplar", f"0={exemplar}", "--working-size", str(WORKING_SIZE), "--device", "cpu", "-q", *(extra or [])]
        return Case(kind, detail, inputs, argv=argv, output=output, expect=expect, check=check)
    c = colorizer()
    return Case(kind, detail, inputs, api=lambda: c.colorize_to(video, output, exemplars={0: exemplar}), output=output, expect=expect, check=check)


# -- kinds ---------------------------------------------------------------------------
def video_case(draw: Draw, case_dir: Path) -> Case | None:
    i, o = _dirs(case_dir)
    codec = draw(st.sampled_from(sorted(_CODECS)))
    containers, pix_fmts, even = _CODECS[codec]
    suffix = draw(st.sampled_from(containers))
    pix_fmt = draw(st.sampled_from(pix_fmts))
    tiny = draw(st.integers(0, 5)) == 0
    h = draw(st.integers(1, 15)) if tiny else draw(st.integers(16, 64))
    w = draw(st.integers(1, 15)) if tiny else draw(st.integers(16, 64))
    if even:
        h, w = max(2, h + h % 2), max(2, w + w % 2)
    t = draw(st.integers(0, 4))  # 0: a video stream without frames
    rate = draw(st.sampled_from([Fraction(12), Fraction(30000, 1001), Fraction(1), Fraction(1, 7), Fraction(240), Fraction(1000), Fraction(5000)]))
    vfr = draw(st.booleans()) and suffix in (".mkv", ".mov")
    pts = sorted({0, *draw(st.lists(st.integers(1, 50), min_size=max(0, t - 1), max_size=max(0, t - 1), unique=True))})[:t] if vfr else None
    if pts is not None and len(pts) < t:
        pts = list(range(t))
    audio = draw(st.integers(0, 4)) == 0 and suffix in (".mp4", ".mkv", ".mov")
    video = i / f"clip{suffix}"
    try:
        encode_video(video, clip(t, h, w, draw(st.integers(0, 99))), codec, pix_fmt, rate, pts=pts, audio=audio)
    except Exception:  # noqa: BLE001 - the codec refused what we drew: not a case
        return None
    if not video.is_file():  # some muxers write nothing for a stream without frames
        return None
    data = video.read_bytes()
    other = b""
    if draw(st.booleans()):
        other_path = i / f"other{suffix}"
        try:
            encode_video(other_path, clip(2, 32, 32, 5), codec if not even else "mpeg4" if suffix != ".mp4" else codec, pix_fmt if codec != "ffv1" else "gray16le", Fraction(24))
            other = other_path.read_bytes()
        except Exception:  # noqa: BLE001
            pass
        other_path.unlink(missing_ok=True)
    data, how = mutate_bytes(draw, data, other)
    video.write_bytes(data)
    ref = _reference(i)
    out_name = draw(st.sampled_from(["out.mp4", "out.mkv", "out.mov", "frames"]))
    detail = f"{codec}/{pix_fmt}{suffix} {w}x{h}x{t} @{rate} vfr={vfr} audio={audio} {how} -> {out_name}"
    expect = "ok" if how == "none" and min(h, w) >= 16 and t else "error" if how == "none" else "any"
    return _colorize(draw, video, o / out_name, ref, [i], "video", detail, expect, size=(h, w) if how == "none" else None)


def _image_bytes(draw: Draw, folder: Path, h: int, w: int, seed: int) -> tuple[Path, str]:
    """An image file of a drawn format, bit depth and channel count."""
    import cv2

    fmt = draw(st.sampled_from([".png", ".jpg", ".tif", ".bmp", ".webp"]))
    channels = draw(st.sampled_from([1, 2, 3, 4]))
    depth = draw(st.sampled_from([1, 8, 16]))
    rgb = scene(h, w, seed)
    path = folder / f"img_{seed}{fmt}"
    if depth == 1:
        from PIL import Image

        fmt = fmt if fmt in (".png", ".tif", ".bmp") else ".png"
        path = path.with_suffix(fmt)
        Image.fromarray(rgb[..., 0] > 127).convert("1").save(path)
        return path, f"{fmt} 1-bit {w}x{h}"
    if channels == 2:  # gray + alpha: through PIL (OpenCV has no 2-channel images)
        from PIL import Image

        fmt = ".png"
        path = path.with_suffix(fmt)
        Image.fromarray(np.stack([rgb[..., 0], rgb[..., 1]], axis=2), "LA").save(path)
        return path, f".png LA {w}x{h}"
    arr = rgb[..., ::-1]  # BGR for OpenCV
    if channels == 1:
        arr = cv2.cvtColor(np.ascontiguousarray(arr), cv2.COLOR_BGR2GRAY)
    elif channels == 4:
        arr = np.concatenate([arr, np.full((h, w, 1), 200, np.uint8)], axis=2)
    if depth == 16 and fmt in (".png", ".tif"):
        arr = arr.astype(np.uint16) * 257
    if not cv2.imwrite(str(path), np.ascontiguousarray(arr)):
        path.write_bytes(b"")
    return path, f"{fmt} {depth}-bit {channels}ch {w}x{h}"


def image_case(draw: Draw, case_dir: Path) -> Case | None:
    i, o = _dirs(case_dir)
    size = draw(st.sampled_from(["tiny", "small", "normal", "large", "thin"]))
    h, w = {
        "tiny": (draw(st.integers(1, 15)), draw(st.integers(1, 15))),
        "small": (draw(st.integers(16, 24)), draw(st.integers(16, 24))),
        "normal": (draw(st.integers(24, 64)), draw(st.integers(24, 64))),
        "large": (draw(st.integers(300, 900)), draw(st.integers(300, 900))),
        "thin": (16, draw(st.integers(200, 2000))),
    }[size]
    path, what = _image_bytes(draw, i, h, w, draw(st.integers(0, 999)))
    special = draw(st.sampled_from(["none", "none", "mutate", "text_as_png", "huge_header", "named_wrong"]))
    if special == "mutate":
        data, how = mutate_bytes(draw, path.read_bytes())
        path.write_bytes(data)
        what += f" {how}"
    elif special == "text_as_png":
        path = path.with_name("notes.png")
        path.write_text("this is not an image\n" * draw(st.integers(0, 50)))
        what = "text named .png"
    elif special == "huge_header" and path.suffix == ".png":
        what += " IHDR 100000x100000"
        path.write_bytes(_png_with_size(path.read_bytes(), 100000, 100000))
    elif special == "named_wrong":
        new = path.with_suffix(".jpg" if path.suffix != ".jpg" else ".png")
        path.rename(new)
        path = new
        what += " wrong suffix"
    video = i / "gray.mp4"
    encode_video(video, clip(3, 32, 48, 3), "libx264", "yuv420p", Fraction(12))
    # Formats, depths and channel counts vary (gray, alpha, 1-bit): only a plain tiny image
    # has a known answer (too small for the encoder).
    expect = "error" if size == "tiny" and special == "none" else "any"
    out_name = draw(st.sampled_from(["out.mp4", "frames"]))
    return _colorize(draw, video, o / out_name, path, [i], "image", what, expect, size=(32, 48))


def _png_with_size(data: bytes, w: int, h: int) -> bytes:
    import struct
    import zlib

    if data[:8] != b"\x89PNG\r\n\x1a\n" or len(data) < 33:
        return data
    ihdr = bytearray(data[12:29])
    ihdr[4:12] = struct.pack(">II", w, h)
    crc = struct.pack(">I", zlib.crc32(bytes(ihdr)) & 0xFFFFFFFF)
    return data[:12] + bytes(ihdr) + crc + data[33:]


def folder_case(draw: Draw, case_dir: Path) -> Case | None:
    import cv2

    i, o = _dirs(case_dir)
    frames = i / draw(st.sampled_from(["frames", "kadrы ü", "with space", "x" * 100]))
    frames.mkdir()
    n = draw(st.integers(0, 4))
    h, w = draw(st.integers(16, 48)), draw(st.integers(16, 48))
    mixed = draw(st.integers(0, 3)) == 0
    details = [f"{n} frames {w}x{h}"]
    for k in range(n):
        hh, ww = (h + 2, w) if mixed and k == n - 1 and n > 1 else (h, w)
        g = cv2.cvtColor(scene(hh, ww, k), cv2.COLOR_RGB2GRAY)
        ext = draw(st.sampled_from([".png", ".png", ".jpg", ".tif", ".bmp"]))
        depth = draw(st.sampled_from([8, 8, 16]))
        channels = draw(st.sampled_from([1, 1, 3, 4]))
        arr = g if channels == 1 else np.repeat(g[..., None], channels, axis=2)
        if depth == 16 and ext in (".png", ".tif"):
            arr = arr.astype(np.uint16) * 257
        cv2.imwrite(str(frames / f"f{k:03d}{ext}"), arr)
    junk = draw(st.lists(st.sampled_from(["txt", "subdir", "empty_subdir", "hidden", "corrupt_png", "text_png", "unicode", "same_stem", "fifo", "symlink_loop"]), max_size=3, unique=True))
    for j in junk:
        if j == "txt":
            (frames / "README.txt").write_text("notes")
        elif j == "subdir":
            (frames / "sub").mkdir()
            cv2.imwrite(str(frames / "sub" / "x.png"), np.zeros((h, w), np.uint8))
        elif j == "empty_subdir":
            (frames / "empty").mkdir()
        elif j == "hidden":
            (frames / ".DS_Store").write_bytes(b"\x00\x01junk")
        elif j == "corrupt_png":
            (frames / "f500.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(20))
        elif j == "text_png":
            (frames / "f501.png").write_text("hello")
        elif j == "unicode":
            cv2.imencode(".png", np.zeros((h, w), np.uint8))[1].tofile(str(frames / "fé_ü_日本.png"))
        elif j == "same_stem" and n:
            cv2.imwrite(str(frames / "f000.bmp"), np.zeros((h, w), np.uint8))
        elif j == "fifo":
            os.mkfifo(frames / "f600.png")
        elif j == "symlink_loop":
            os.symlink(frames / "loop.png", frames / "loop.png")
    details.append(f"mixed={mixed} junk={junk}")
    ref = _reference(i)
    out_name = draw(st.sampled_from(["out.mp4", "frames_out"]))
    clean = n > 0 and not mixed and not ({"corrupt_png", "text_png", "same_stem", "fifo", "symlink_loop", "unicode"} & set(junk))
    return _colorize(draw, frames, o / out_name, ref, [i], "folder", " ".join(details), "ok" if clean else "any", size=(h, w) if clean else None)


_SPEC_FRAMES = ["0", "1", "2", "3", "99", "-1", "+1", "1.0", "1e2", "0x1", "²", "١", " 1", "1 ", "", "99999999999999999999999", "٣", "0 0", "0=0"]


def exemplar_spec_case(draw: Draw, case_dir: Path) -> Case | None:
    i, o = _dirs(case_dir)
    video = i / "gray.mp4"
    encode_video(video, clip(3, 32, 48, 4), "libx264", "yuv420p", Fraction(12))
    ref = _reference(i)
    out = o / "out.mp4"
    if draw(st.booleans()):  # CLI strings
        specs = []
        for _ in range(draw(st.integers(0, 3))):
            frame = draw(st.one_of(st.sampled_from(_SPEC_FRAMES), st.text(string.printable + "é²", max_size=6)))
            image = draw(st.sampled_from([str(ref), "", str(i / "missing.png"), str(i), str(video), "=", str(ref) + "=x"]))
            specs.append(f"{frame}={image}" if draw(st.integers(0, 5)) else frame + image)
        argv = ["colorize", str(video), "-o", str(out), "--working-size", str(WORKING_SIZE), "--device", "cpu", "-q"]
        for s in specs:
            argv += ["--exemplar", s]
        refs = draw(st.sampled_from([[], [str(ref)], [str(i)], [str(o)], [str(i / "missing")]]))
        for r in refs:
            argv += ["--references", r]
        return Case("exemplar_spec", f"{specs} refs={refs}", [i], argv=argv, output=out, check=output_check(video, (32, 48)))
    c = colorizer()
    key = draw(st.sampled_from([0, 1, 2, 3, -1, 1.0, "0", True, None, 2**70, np.int64(1)]))
    value = draw(st.sampled_from(["ref", "missing", "folder", "array_ok", "array_gray", "array_bool", "array_nan", "array_2ch", "array_tiny", "array_huge_values", "none", "int"]))
    image = {
        "ref": ref,
        "missing": i / "missing.png",
        "folder": i,
        "array_ok": scene(32, 48, 1),
        "array_gray": np.full((32, 48), 90, np.uint8),
        "array_bool": np.zeros((32, 48, 3), bool),
        "array_nan": np.full((32, 48, 3), np.nan, np.float32),
        "array_2ch": np.zeros((32, 48, 2), np.uint8),
        "array_tiny": np.zeros((4, 4, 3), np.uint8),
        "array_huge_values": np.full((32, 48, 3), 300.0),
        "none": None,
        "int": 5,
    }[value]
    form = draw(st.sampled_from(["dict", "list", "single"]))
    exemplars = {key: image} if form == "dict" else [image] if form == "list" else image
    return Case("exemplar_spec", f"api {form} key={key!r} value={value}", [i], api=lambda: c.colorize_to(video, out, exemplars=exemplars), output=out, check=output_check(video, (32, 48)))


def _bank_template(root: Path) -> tuple[Path, Path]:
    """A saved bank (current format) of three tiny photos kept inside it, so meta.json
    holds paths relative to the bank, plus copies of the photos outside it; built once per
    process, copied per case."""
    if "bank" not in _CACHE:
        from exemplar_vc.exemplars import ReferenceBank
        from exemplar_vc.exemplars.bank import FORMAT

        base = Path(root) / "_bank_template"
        shutil.rmtree(base, ignore_errors=True)
        inside = base / "bank" / "images"
        inside.mkdir(parents=True)
        for k in range(3):
            write_png(inside / f"p{k}.png", scene(32, 40, 100 + k))
        ReferenceBank.build(inside, encoder=colorizer().encoder).save(base / "bank")
        meta = json.loads((base / "bank" / "meta.json").read_text())
        # The cases below edit this schema: fail loudly if the bank format moves on.
        assert meta["format"] == FORMAT and [e["path"] for e in meta["entries"]] == [f"images/p{k}.png" for k in range(3)], meta
        shutil.copytree(inside, base / "photos")
        write_png(inside / "in.png", scene(32, 40, 200))  # inside the bank, no entry's image
        _CACHE["bank"] = base
    base = _CACHE["bank"]
    return base / "bank", base / "photos"


_JUNK = [None, -1, 0, 1, 2**70, "abc", "", [], {}, [99], [2, 2], 1.5, True, "evil", float("nan"), "../../../../etc/passwd", "/dev/zero", "x" * 5000]
# Every field of a format-2 meta.json (``exemplar_vc/exemplars/bank_meta.py``), nested ones too.
_BANK_FIELDS = [
    "format", "encoder", "encoder_config", "encoder_config.backbone", "encoder_config.blocks", "encoder_config.stride",
    "descriptor", "config", "config.descriptor", "config.descriptor.backbone", "config.descriptor.sizes",
    "config.descriptor.levels", "config.descriptor.class_weight", "config.rerank_size", "config.hubness",
    "config.hubness_min", "config.whiten_min", "config.whiten_dim", "config.whiten_alpha", "config.index_kind",
    "dim", "search_dim", "whitening_alpha", "index_kind", "index_sha256", "vectors_sha256", "next_id",
    "entries", "entries.0", "entries.0.id", "entries.0.path", "entries.0.size", "entries.0.sha256", "meta_sha256", "__delete__",
]  # fmt: skip
_BANK_FILES = ("index.faiss", "vectors.npz")


def _reseal(meta: dict) -> None:
    """Recompute the checksum, as a deliberate editor would (not possible for NaN)."""
    from exemplar_vc.exemplars.bank_meta import meta_digest

    try:
        meta["meta_sha256"] = meta_digest(meta)
    except (TypeError, ValueError):
        pass


def _bank_layout(draw: Draw, case_dir: Path, i: Path) -> tuple[Path, dict, str]:
    """The case's bank, copied from the template: "inside" keeps the relative entry paths
    (the copy is a moved bank), "outside" points them at absolute copies elsewhere."""
    template, photos = _bank_template(case_dir.parent)
    bank = i / "bank"
    shutil.copytree(template, bank)
    meta = json.loads((bank / "meta.json").read_text())
    layout = draw(st.sampled_from(["inside", "outside"]))
    if layout == "outside":
        shutil.copytree(photos, i / "photos")
        for e in meta["entries"]:
            e["path"] = str(i / "photos" / Path(e["path"]).name)
        _reseal(meta)
    return bank, meta, layout


def _entry_path_target(draw: Draw, i: Path, bank: Path) -> str:
    """A path for an entry: other images, special files, relative paths that leave the
    bank (directly or through a link inside it), missing files."""
    fifo = i / "fifo.png"
    os.mkfifo(fifo)
    link = bank / "images" / "link.png"
    os.symlink("/etc/hostname", link)
    return draw(st.sampled_from([
        "images/p2.png", "images/in.png", "images/link.png", "images/nosuch.png", "images", "p0.png",
        "../photos/p0.png", "images/../../bank/meta.json", "../../../../etc/hostname",
        str(bank / "images" / "p1.png"), str(fifo), "/dev/zero", str(i / "missing.png"), str(i), "/proc/self/environ",
    ]))  # fmt: skip


def _mutate_bank_file(draw: Draw, bank: Path, meta: dict, name: str) -> str:
    """Mutate index.faiss or vectors.npz, and maybe re-seal its SHA-256 in meta.json."""
    import hashlib

    data, m = mutate_bytes(draw, (bank / name).read_bytes())
    (bank / name).write_bytes(data)
    if not draw(st.booleans()):
        return f"{name} {m}"
    meta["index_sha256" if name == "index.faiss" else "vectors_sha256"] = hashlib.sha256(data).hexdigest()
    _reseal(meta)
    (bank / "meta.json").write_text(json.dumps(meta, indent=1))
    return f"{name} {m} resealed"


def bank_case(draw: Draw, case_dir: Path) -> Case | None:
    i, o = _dirs(case_dir)
    bank, meta, layout = _bank_layout(draw, case_dir, i)
    how = draw(st.sampled_from(["none", "field", "field_resealed", "old_format", "entry_path", "entry_path_resealed", "file_bytes", "meta_bytes", "missing_file", "deep_json"]))
    detail = f"{layout} {how}"
    expect = "ok" if how == "none" else "any"
    original = json.dumps(meta, sort_keys=True)
    if how in ("field", "field_resealed"):
        key = draw(st.sampled_from(_BANK_FIELDS))
        value = draw(st.sampled_from(_JUNK))
        _set_path(meta, key, value)
        detail = f"{detail} {key}={value!r}"[:120]
    elif how == "old_format":  # a format-1 bank: refused with the command that rebuilds it
        meta["format"] = "exemplar_vc.bank/1"
        expect = "error"
    elif how in ("entry_path", "entry_path_resealed"):
        target = _entry_path_target(draw, i, bank)
        meta["entries"][draw(st.integers(0, 2))]["path"] = target
        detail = f"{detail} -> {target}"
    if how.endswith("resealed") or (how == "old_format" and draw(st.booleans())):
        _reseal(meta)
    elif how in ("field", "entry_path") and json.dumps(meta, sort_keys=True) != original:
        expect = "error"  # an edit the checksum does not cover
    (bank / "meta.json").write_text(json.dumps(meta, indent=1))
    if how == "file_bytes":
        detail = f"{layout} " + _mutate_bank_file(draw, bank, meta, draw(st.sampled_from(_BANK_FILES)))
    elif how == "meta_bytes":
        data, m = mutate_bytes(draw, (bank / "meta.json").read_bytes())
        (bank / "meta.json").write_bytes(data)
        detail = f"{layout} meta.json {m}"
    elif how == "missing_file":
        name = draw(st.sampled_from(["meta.json", *_BANK_FILES, "image"]))
        target = bank / name if name != "image" else Path(meta["entries"][0]["path"]) if layout == "outside" else bank / "images" / "p0.png"
        target.unlink()
        detail = f"{layout} missing {name}"
    elif how == "deep_json":
        (bank / "meta.json").write_text("[" * 100000 + "]" * 100000)
    query = write_png(i / "query.png", scene(32, 40, 101))
    video = i / "gray.mp4"
    encode_video(video, clip(2, 32, 40, 101), "libx264", "yuv420p", Fraction(12))
    out = o / "out.mp4"
    # A format-1 bank is refused with the command that rebuilds it, not called corrupted.
    message = r"got 'exemplar_vc.bank/1'.*exemplar-vc bank build" if how == "old_format" else None
    route = draw(st.sampled_from(["search", "colorize", "api"]))
    if route == "search":
        argv = ["bank", "search", str(bank), str(query), "--k", str(draw(st.integers(1, 4))), "--json"]
        return Case("bank", f"search {detail}", [i], argv=argv, expect=expect, message=message)
    if route == "colorize":
        argv = ["colorize", str(video), "-o", str(out), "--bank", str(bank), "--working-size", str(WORKING_SIZE), "--device", "cpu", "-q"]
        return Case("bank", f"colorize {detail}", [i], argv=argv, output=out, expect="error" if expect == "error" else "any", check=output_check(video), message=message)
    allow_outside = draw(st.booleans())
    if not allow_outside and layout == "outside" and expect == "ok":
        expect = "error"  # entries outside a bank of unknown origin are refused

    def api():
        from exemplar_vc.exemplars import ReferenceBank

        b = ReferenceBank.load(bank, encoder=colorizer().encoder, allow_outside=allow_outside)
        hits = b.search(np.asarray(scene(32, 40, 101)[..., 1]), k=3)
        return [b.image(h.entry) for h in hits[0]]

    return Case("bank", f"api allow_outside={allow_outside} {detail}", [i], api=api, expect=expect, message=message)


def _set_path(doc: dict, key: str, value: Any) -> None:
    if key == "__delete__":
        doc.pop(sorted(doc)[0], None)
        return
    parts = key.split(".")
    cur: Any = doc
    for p in parts[:-1]:
        cur = cur[int(p)] if isinstance(cur, list) else cur[p]
    last = parts[-1]
    if isinstance(cur, list):
        cur[int(last)] = value
    else:
        cur[last] = value


_TOML = [
    "working_size = 32\n",
    "working_size = 'big'\n",
    "working_size = -3\n",
    "working_size = 99999999999999999999\n",
    "working_size = nan\n",
    "nosuch = 1\n",
    "[propagation]\nfill_in = true\n",
    "[propagation]\nfusion = 'bogus'\n",
    "[propagation]\nupsample = 'guided'\nupsample_radius = -4\n",
    "[propagation]\nmax_buffer_frames = 0\n",
    "[shots]\nnosuch = 2\n",
    "[encoder]\nbackbone = 'efficientnet-lite9'\n",
    "[encoder]\nblocks = [99]\n",
    "[encoder]\nstride = 0\n",
    "propagation = 3\n",
    "[[propagation]]\n",
    "working_size = [1, 2]\n",
    "= broken\n",
    "\x00\x01\x02",
    "",
    "detect_shots = 'yes'\n",
]
_SETS = [
    "working_size=32",
    "working_size=abc",
    "working_size=",
    "=3",
    "nosuch=1",
    "propagation.fill_in=maybe",
    "propagation.fill_in=true",
    "propagation=3",
    "propagation.max_buffer_frames=-1",
    "propagation.max_buffer_frames=1",
    "propagation.upsample=guided",
    "propagation.upsample=cubic",
    "propagation.aligned_tolerance=nan",
    "propagation.aligned_tolerance=inf",
    "propagation.fill_in_low=2",
    "shots.nosuch=1",
    "encoder.stride=3",
    "encoder.blocks=1,2",
    "detect_shots=false",
    "working_size=1e3",
    "propagation.hand.nosuch=1",
]


def config_case(draw: Draw, case_dir: Path) -> Case | None:
    i, o = _dirs(case_dir)
    video = i / "gray.mp4"
    encode_video(video, clip(3, 32, 48, 6), "libx264", "yuv420p", Fraction(12))
    ref = _reference(i)
    out = o / draw(st.sampled_from(["out.mp4", "frames"]))
    argv = ["colorize", str(video), "-o", str(out), "--exemplar", f"0={ref}", "--device", "cpu", "-q"]
    detail = []
    if draw(st.booleans()):
        text = draw(st.one_of(st.sampled_from(_TOML), st.text(max_size=60)))
        cfg = i / "settings.toml"
        cfg.write_bytes(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
        argv += ["--config", str(cfg)]
        detail.append(f"toml={text[:40]!r}")
    sets = draw(st.lists(st.one_of(st.sampled_from(_SETS), st.text(max_size=20)), max_size=3))
    for s in sets:
        argv += ["--set", s]
    detail.append(f"set={sets}")
    if "working_size" not in " ".join(detail):
        argv += ["--set", f"working_size={WORKING_SIZE}"]
    return Case("config", " ".join(detail), [i], argv=argv, output=out, check=output_check(video, (32, 48)))


def cli_case(draw: Draw, case_dir: Path) -> Case | None:
    i, o = _dirs(case_dir)
    video = i / "gray.mp4"
    encode_video(video, clip(2, 32, 32, 7), "libx264", "yuv420p", Fraction(12))
    ref = _reference(i, h=32, w=32)
    os.mkfifo(i / "fifo")
    paths = [str(video), str(ref), str(i), str(o / "new"), str(o / "new.mp4"), "", "-", "/dev/null", str(i / "fifo"), str(i / "missing"), "é/ü", "--", "-o"]
    values = ["0", "-1", "32", "abc", "1e9", "", "\x00x", "99999999999999999999", "cpu", "cuda", "auto", "tpu", "default", "fast", "bogus"]
    sub = draw(st.sampled_from(["colorize", "bank build", "bank add", "bank remove", "bank search", "eval", "", "nosuch"]))
    argv = sub.split()
    options = {
        "colorize": ["-o", "--exemplar", "--references", "--bank", "--working-size", "--device", "--model", "--config", "--set", "-q"],
        "bank build": ["-o", "-q"],
        "bank search": ["--k", "--json", "--no-rerank", "-q"],
        "eval": ["--protocol", "--report", "--methods"],
    }.get(sub, [])
    for _ in range(draw(st.integers(0, 3))):
        argv.append(draw(st.sampled_from(paths)))
    for _ in range(draw(st.integers(0, 4))):
        if options and draw(st.booleans()):
            opt = draw(st.sampled_from(options))
            argv.append(opt)
            if opt not in ("-q", "--json", "--no-rerank"):
                argv.append(draw(st.sampled_from(paths + values + [f"0={ref}", f"1={ref}"])))
        else:
            argv.append(draw(st.sampled_from(values + ["--help", "--version", "--bogus"])))
    if sub == "colorize" and "--working-size" not in argv:
        argv += ["--working-size", str(WORKING_SIZE)]
    if sub == "eval":
        return None  # eval reads whole clip folders and scores them: out of this harness's budget
    if "\x00x" in argv:
        argv = [a.replace("\x00", "") for a in argv]
    if "--help" in argv or "--version" in argv:
        return None  # exits 0 printing help: not a reliability case
    return Case("cli", " ".join(argv)[:200], [i], argv=argv, output=o / "new")


def output_case(draw: Draw, case_dir: Path) -> Case | None:
    i, o = _dirs(case_dir)
    video = i / "gray.mp4"
    encode_video(video, clip(2, 32, 32, 8), "libx264", "yuv420p", Fraction(12))
    ref = _reference(i, h=32, w=32)
    how = draw(st.sampled_from(["new_video", "new_folder", "nonempty_folder", "folder_with_subfolder", "empty_folder", "existing_file_as_folder", "existing_video", "image_name", "avi", "webm", "no_parent", "through_file", "long_name", "unicode", "same_as_input", "inside_input", "dot", "trailing_slash", "symlink_to_dir", "dangling_symlink", "stale_partial"]))
    out = o / "out.mp4"
    expect = "any"
    if how == "new_folder":
        out = o / "frames"
    elif how == "nonempty_folder":
        out = o / "frames"
        out.mkdir()
        (out / "notes.txt").write_text("x")
        expect = "error"
    elif how == "folder_with_subfolder":
        out = o / "frames"
        (out / "sub").mkdir(parents=True)
        expect = "error"
    elif how == "empty_folder":
        out = o / "frames"
        out.mkdir()
        expect = "ok"
    elif how == "existing_file_as_folder":
        out = o / "frames"
        out.write_text("x")
        expect = "error"
    elif how == "existing_video":
        out.write_bytes(b"old")
        expect = "ok"
    elif how == "image_name":
        out = o / "out.png"
        expect = "error"
    elif how in ("avi", "webm"):
        out = o / f"out.{how}"
        expect = "error"
    elif how == "no_parent":
        out = o / "a" / "b" / "out.mp4"
        expect = "error"
    elif how == "through_file":
        (o / "file").write_text("x")
        out = o / "file" / "out.mp4"
        expect = "error"
    elif how == "long_name":
        out = o / ("n" * draw(st.integers(200, 300)) + ".mp4")
    elif how == "unicode":
        out = o / "выход 日本 é.mp4"
        expect = "ok"
    elif how == "same_as_input":
        out = video
        expect = "error"
    elif how == "inside_input":
        out = i / "colour.mp4"
    elif how == "dot":
        out = Path(".")
        expect = "error"
    elif how == "symlink_to_dir":
        (o / "real").mkdir()
        os.symlink(o / "real", o / "link")
        out = o / "link"
    elif how == "dangling_symlink":
        os.symlink(o / "nowhere", o / "dangling.mp4")
        out = o / "dangling.mp4"
    elif how == "stale_partial":
        # A partial and marker of a dead run (pid 999999 does not exist on Linux by default).
        (o / ".out.mp4.exvc-999999-abcd1234.partial.mp4").write_bytes(b"partial")
        (o / ".out.mp4.exvc-999999-abcd1234.owner").write_text(json.dumps({"owner": "exemplar_vc", "pid": 999999, "start": None, "host": os.uname().nodename}))
        expect = "ok"
    argv_out = str(out) + ("/" if how == "trailing_slash" else "")
    if how == "inside_input":
        inputs = [video, ref]
    else:
        inputs = [i]
    if draw(st.booleans()):
        argv = ["colorize", str(video), "-o", argv_out, "--exemplar", f"0={ref}", "--working-size", str(WORKING_SIZE), "--device", "cpu", "-q"]
        return Case("output", how, inputs, argv=argv, output=out if how != "dot" else None, expect=expect, check=output_check(video, (32, 32)))
    c = colorizer()
    return Case("output", f"api {how}", inputs, api=lambda: c.colorize_to(video, argv_out, exemplars={0: ref}), output=out if how != "dot" else None, expect=expect, check=output_check(video, (32, 32)))


def api_case(draw: Draw, case_dir: Path) -> Case | None:
    import exemplar_vc

    i, o = _dirs(case_dir)
    ref = scene(32, 48, 9)
    gray = np.ascontiguousarray(clip(3, 32, 48, 9)[..., 1])
    video = draw(st.sampled_from(["ok", "none", "int", "str_missing", "bool", "int64", "float_nan", "float_255", "2ch", "empty", "zero_frames", "5d", "1d", "tiny", "tensor_chw", "list", "uint16", "huge_t"]))
    v = {
        "ok": gray,
        "none": None,
        "int": 7,
        "str_missing": str(i / "nope.mp4"),
        "bool": gray > 100,
        "int64": gray.astype(np.int64),
        "float_nan": np.full((2, 32, 48), np.nan, np.float32),
        "float_255": gray.astype(np.float32),
        "2ch": np.zeros((2, 32, 48, 2), np.uint8),
        "empty": np.zeros((0,), np.uint8),
        "zero_frames": np.zeros((0, 32, 48), np.uint8),
        "5d": np.zeros((1, 2, 32, 48, 3), np.uint8),
        "1d": np.zeros((5,), np.uint8),
        "tiny": np.zeros((2, 4, 4), np.uint8),
        "tensor_chw": None,
        "list": [gray[0], gray[1]],
        "uint16": gray.astype(np.uint16) * 257,
        "huge_t": np.broadcast_to(gray[:1], (1, 32, 48)),
    }[video]
    if video == "tensor_chw":
        import torch

        v = torch.from_numpy(np.repeat(gray[:, None], 3, axis=1).copy())
    call = draw(st.sampled_from(["colorize", "call", "stream", "colorize_to", "from_pretrained", "open_video", "open_writer"]))
    overrides = draw(st.sampled_from([{}, {"working_size": 0}, {"working_size": -1}, {"working_size": 1.5}, {"working_size": "32"}, {"working_size": True}, {"nosuch": 1}, {"propagation": 3}, {"propagation": {"fill_in": "maybe"}}]))
    name = draw(st.sampled_from(["default", "default", "bogus", "", None, 3]))
    device = draw(st.sampled_from(["cpu", "cpu", "tpu", "cuda:abc", None, 0]))
    ex = draw(st.sampled_from([{0: ref}, {0: ref}, [ref], None, {}, {5: ref}, "nope"]))
    out = o / draw(st.sampled_from(["out.mp4", "frames"]))
    detail = f"{call} video={video} name={name!r} device={device!r} overrides={overrides} exemplars={type(ex).__name__}"
    c = colorizer()
    if call == "colorize":
        fn = lambda: exemplar_vc.colorize(v, out, exemplars=ex, name=name, device=device, **{"working_size": WORKING_SIZE, **overrides})  # noqa: E731
    elif call == "call":
        fn = lambda: c(v, exemplars=ex)  # noqa: E731
    elif call == "stream":
        fn = lambda: [f.index for f in c.stream(v, exemplars=ex)]  # noqa: E731
    elif call == "colorize_to":
        fn = lambda: c.colorize_to(v, out, exemplars=ex)  # noqa: E731
    elif call == "from_pretrained":
        fn = lambda: exemplar_vc.VideoColorizer.from_pretrained(name, device=device, **overrides)  # noqa: E731
    elif call == "open_video":
        fn = lambda: list(exemplar_vc.io.open_video(v).gray_frames())  # noqa: E731
    else:
        fps = draw(st.sampled_from([24, 0, -1, float("nan"), float("inf"), "x", Fraction(1, 10**9), 10**6]))
        frames = draw(st.sampled_from(["ok", "wrong_dtype", "wrong_shape", "sizes_differ", "none"]))

        def fn():
            with exemplar_vc.io.open_writer(out, fps=fps) as w:
                if frames == "ok":
                    w.write(np.zeros((16, 16, 3), np.uint8))
                elif frames == "wrong_dtype":
                    w.write(np.zeros((16, 16, 3), np.float32))
                elif frames == "wrong_shape":
                    w.write(np.zeros((16, 16), np.uint8))
                elif frames == "sizes_differ":
                    w.write(np.zeros((16, 16, 3), np.uint8))
                    w.write(np.zeros((18, 16, 3), np.uint8))

        detail = f"open_writer fps={fps!r} frames={frames} -> {out.name}"
    return Case("api", detail, [i], api=fn, output=out)


GENERATORS: dict[str, Callable[[Draw, Path], Case | None]] = {
    "video": video_case,
    "image": image_case,
    "folder": folder_case,
    "exemplar_spec": exemplar_spec_case,
    "bank": bank_case,
    "config": config_case,
    "cli": cli_case,
    "output": output_case,
    "api": api_case,
}
assert sorted(GENERATORS) == sorted(KINDS)


def python_info() -> str:
    return sys.version.split()[0]
