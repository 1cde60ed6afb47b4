"""The fully automatic mode (no exemplars: the colorizer colours every key frame), auto-fill,
and the per-key-frame record of sources, end to end on a tiny clip."""

import warnings

import cv2
import numpy as np
import pytest

from exemplar_vc.cli.main import main
from exemplar_vc.exemplars import AutoFill, ColorizerSource, UserReferences
from exemplar_vc.pixels import rgb_to_gray
from exemplar_vc.types import KeyFrame

from ..conftest import moving_clip, to_gray
from ..media import write_video
from .conftest import scene


@pytest.fixture(scope="module")
def two_shots():
    """(T, H, W) uint8 gray: two shots of 5 frames (a hard cut at frame 5), as in
    tests/test_pipeline.py."""
    a = moving_clip(frames=5, seed=1)
    b = (np.ascontiguousarray(moving_clip(frames=5, seed=7)[..., ::-1]) * 0.45).astype(np.uint8)
    return to_gray(np.concatenate([a, b]))


def test_no_exemplars_colorizes_every_key_frame(colorizer, two_shots):
    result = colorizer(two_shots)
    assert result.frames.shape == (*two_shots.shape, 3)
    assert result.shot_starts == [0, 5]
    assert [r.source for r in result.keyframes] == ["colorizer"] * len(result.keyframes) and len(result.keyframes) >= 2
    assert {r.shot for r in result.keyframes} == {0, 1}
    assert result.unmatched_keyframes == [r.frame for r in result.keyframes]
    assert all(e.source == "colorizer" for e in result.exemplars)
    # The input's luma is kept; some colour was added.
    gray_rgb = np.repeat(two_shots[..., None], 3, axis=3)
    assert np.array_equal(rgb_to_gray(result.frames), two_shots)
    assert np.abs(result.frames.astype(int) - gray_rgb).max() > 0


def test_auto_fill_covers_only_the_shots_the_references_leave(colorizer, two_shots):
    """A reference of shot 0 (its own colour frame) colours shot 0; shot 1 has no match, so
    with auto-fill the colorizer colours it, and the record says so."""
    ref = np.repeat(two_shots[0][..., None], 3, axis=2).copy()
    ref[..., 0] = np.clip(ref[..., 0].astype(int) + 40, 0, 255)
    with pytest.warns(UserWarning, match="shot 1 .*no trustworthy reference"):
        result = colorizer(two_shots, [ref], auto_fill=True)
    by_shot = {}
    for r in result.keyframes:
        by_shot.setdefault(r.shot, set()).add(r.source)
    assert by_shot[1] == {"colorizer"} and "user" in by_shot[0] and "colorizer" not in by_shot[0]
    assert set(result.unmatched_keyframes) == {r.frame for r in result.keyframes if r.shot == 1 or r.source == "none"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = colorizer(two_shots, [ref])
    assert {r.source for r in plain.keyframes if r.shot == 1} == {"none"}


def test_auto_fill_source_leaves_served_shots_alone(encoder):
    keys = [KeyFrame(0, cv2.cvtColor(scene(1), cv2.COLOR_RGB2GRAY), 0), KeyFrame(7, cv2.cvtColor(scene(2), cv2.COLOR_RGB2GRAY), 0), KeyFrame(9, cv2.cvtColor(scene(4), cv2.COLOR_RGB2GRAY), 1)]
    from exemplar_vc.modeling.colorizer import ImageColorizer

    fill = ColorizerSource(ImageColorizer.build(encoder, width=16))
    src = AutoFill(UserReferences(explicit={0: scene(1)}), fill)
    assert src.explicit_frames == [0]
    out = src.exemplars_for(keys, encoder)
    assert [(e.frame, e.source) for e in out] == [(0, "user"), (9, "colorizer")]  # frame 7 propagates from 0


def test_cli_without_references_is_the_automatic_mode(two_shots, tmp_path, capsys):
    video = write_video(tmp_path / "gray.mp4", np.repeat(two_shots[..., None], 3, axis=3))
    out = tmp_path / "colour"
    assert main(["colorize", str(video), "-o", str(out), "--working-size", "64", "--device", "cpu", "-q"]) == 0
    assert len(list(out.iterdir())) == len(two_shots)
    assert "<-colorizer" in capsys.readouterr().err


def _shot1_sources(result):
    return {r.source for r in result.keyframes if r.shot == 1}


def test_auto_fill_is_a_setting_that_the_argument_overrides(two_shots):
    """``auto_fill`` in the config (``from_pretrained`` overrides, ``--set``) turns it on for
    every call; an explicit ``auto_fill=`` on the call wins."""
    import exemplar_vc

    filling = exemplar_vc.VideoColorizer.from_pretrained("default", device="cpu", working_size=96, auto_fill=True)
    assert filling.config.auto_fill is True
    ref = np.repeat(two_shots[0][..., None], 3, axis=2).copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shot 1 has no trustworthy reference: warned, tested above
        assert _shot1_sources(filling(two_shots, [ref])) == {"colorizer"}
        assert _shot1_sources(filling(two_shots, [ref], auto_fill=False)) == {"none"}


def test_cli_set_auto_fill_fills_like_the_flag(two_shots, tmp_path, capsys):
    video = write_video(tmp_path / "gray.mp4", np.repeat(two_shots[..., None], 3, axis=3))
    ref = tmp_path / "ref.png"
    cv2.imwrite(str(ref), np.repeat(two_shots[0][..., None], 3, axis=2))
    args = ["colorize", str(video), "--exemplar", f"0={ref}", "--working-size", "64", "--device", "cpu", "-q"]
    assert main([*args, "-o", str(tmp_path / "plain")]) == 0
    assert "<-colorizer" not in capsys.readouterr().err
    assert main([*args, "-o", str(tmp_path / "set"), "--set", "auto_fill=true"]) == 0
    assert "<-colorizer" in capsys.readouterr().err
