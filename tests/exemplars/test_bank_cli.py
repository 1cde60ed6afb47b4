"""``exemplar-vc bank ...`` end to end on synthetic images."""

import json

import cv2
import numpy as np

from exemplar_vc.cli.main import main

from .conftest import scene


def test_build_add_search_json(scene_dir, tmp_path, capsys):
    bank = tmp_path / "bank"
    assert main(["bank", "build", str(scene_dir), "-o", str(bank)]) == 0
    new = tmp_path / "new.png"
    cv2.imwrite(str(new), scene(77)[..., ::-1])
    assert main(["bank", "add", str(bank), str(new)]) == 0
    query = tmp_path / "query.png"
    cv2.imwrite(str(query), cv2.cvtColor(scene(4), cv2.COLOR_RGB2GRAY)[5:90, 4:125])
    capsys.readouterr()
    assert main(["bank", "search", str(bank), str(query), "--k", "2", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [d["frame"] for d in doc] == [0] and len(doc[0]["results"]) == 2
    assert doc[0]["results"][0]["path"].endswith("scene4.png")
    assert doc[0]["results"][0]["score"] >= doc[0]["results"][1]["score"]


def test_errors_are_one_line(tmp_path, capsys):
    (tmp_path / "bank").mkdir()
    assert main(["bank", "search", str(tmp_path / "bank"), str(tmp_path / "q.png")]) == 2
    assert "expected a bank folder" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["bank", "build", str(empty), "-o", str(tmp_path / "b2")]) == 2
    assert "found none" in capsys.readouterr().err


def test_progress_bars_unless_quiet(scene_dir, tmp_path, capsys):
    """build, add and search show their bars on stderr; -q silences them (the summary line
    stays)."""
    from ..media import write_video

    bank = tmp_path / "bank"
    assert main(["bank", "build", str(scene_dir), "-o", str(bank)]) == 0
    assert "describing images" in capsys.readouterr().err
    assert main(["bank", "build", str(scene_dir), "-o", str(tmp_path / "quiet"), "-q"]) == 0
    assert capsys.readouterr().err.startswith("built bank ")
    new = tmp_path / "new.png"
    cv2.imwrite(str(new), scene(77)[..., ::-1])
    assert main(["bank", "add", str(bank), str(new), "-q"]) == 0
    assert capsys.readouterr().err.startswith("added 1 images")
    # A video query: a bar over its frames (key frames), then over its key frames' searches.
    cut = np.concatenate([np.repeat(scene(1)[None], 3, axis=0), np.repeat(scene(4)[None], 3, axis=0)])
    video = write_video(tmp_path / "query.mp4", cut)
    assert main(["bank", "search", str(bank), str(video), "--k", "1", "--json"]) == 0
    err = capsys.readouterr().err
    assert "key frames" in err and "searching the bank" in err
    assert main(["bank", "search", str(bank), str(video), "--k", "1", "--json", "-q"]) == 0
    assert capsys.readouterr().err == ""
