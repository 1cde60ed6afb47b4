"""Colour tags in PNG and TIFF frame folders (exemplar_vc/io/image_tags.py), read back by
other libraries than the one that wrote them."""

from __future__ import annotations

import hashlib
import io
from fractions import Fraction

import cv2
import numpy as np
import pytest

from exemplar_vc.io import open_writer
from exemplar_vc.io.formats import ColorTags
from exemplar_vc.io.image_tags import png_chunks, srgb_icc_profile


def _frames(depth: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    top = 255 if depth == 8 else 65535
    return rng.integers(0, top + 1, (2, 20, 24, 3), dtype=np.uint8 if depth == 8 else np.uint16)


def _write(folder, codec: str, frames: np.ndarray, color: ColorTags | None = None) -> list:
    with open_writer(folder, Fraction(24), codec=codec, color=color) as w:
        for f in frames:
            w.write(f)
    return sorted(folder.iterdir())


def _png_chunk_types(path) -> list[bytes]:
    data, at, kinds = path.read_bytes(), 8, []
    while at < len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        kinds.append(data[at + 4 : at + 8])
        at += 12 + size
    return kinds


@pytest.mark.parametrize("codec, depth", [("png", 8), ("png16", 16)])
def test_png_frames_say_srgb_and_keep_their_pixels(tmp_path, codec, depth):
    from PIL import Image

    frames = _frames(depth)
    files = _write(tmp_path / "out", codec, frames)
    with Image.open(files[0]) as im:
        info = dict(im.info)
    assert info["srgb"] == 0 and info["gamma"] == pytest.approx(0.45455)
    assert info["chromaticity"] == pytest.approx((0.3127, 0.329, 0.64, 0.33, 0.3, 0.6, 0.15, 0.06))
    kinds = _png_chunk_types(files[0])
    assert kinds[:2] == [b"IHDR", b"cICP"] and kinds.index(b"sRGB") < kinds.index(b"IDAT")
    back = cv2.imread(str(files[0]), cv2.IMREAD_UNCHANGED)[..., ::-1]
    assert np.array_equal(back, frames[0])


def test_png_frames_carry_the_inputs_primaries(tmp_path):
    from PIL import Image

    files = _write(tmp_path / "out", "png16", _frames(16), ColorTags(primaries=9, transfer=14, matrix=9, range=1))
    with Image.open(files[0]) as im:
        info = dict(im.info)
    assert "srgb" not in info and info["chromaticity"][2:4] == pytest.approx((0.708, 0.292))  # BT.2020 red
    data = files[0].read_bytes()
    at = data.index(b"cICP")
    assert data[at + 4 : at + 8] == bytes([9, 14, 0, 1])  # H.273 code points, RGB, full range


def test_tiff_frames_carry_an_srgb_icc_profile(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    from PIL import ImageCms

    frames = _frames(16)
    files = _write(tmp_path / "out", "tiff16", frames)
    with tifffile.TiffFile(files[0]) as tif:
        page = tif.pages[0]
        profile = bytes(page.tags[34675].value)
        pixels = page.asarray()
    assert profile == srgb_icc_profile()
    assert "sRGB" in ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(profile)))
    assert np.array_equal(pixels, frames[0])
    assert np.array_equal(cv2.imread(str(files[0]), cv2.IMREAD_UNCHANGED)[..., ::-1], frames[0])


def test_tagged_frames_are_byte_identical_run_to_run(tmp_path):
    digests = []
    for run in range(2):
        files = _write(tmp_path / f"run{run}", "tiff16", _frames(16)) + _write(tmp_path / f"png{run}", "png", _frames(8))
        digests.append([hashlib.sha256(f.read_bytes()).hexdigest() for f in files])
    assert digests[0] == digests[1]


def test_unknown_code_points_give_only_cicp():
    chunks = png_chunks(ColorTags(primaries=22, transfer=16, matrix=0, range=2))  # EBU 3213, PQ
    assert chunks[4:8] == b"cICP" and b"sRGB" not in chunks and b"gAMA" not in chunks and b"cHRM" not in chunks
