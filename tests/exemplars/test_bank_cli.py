"""``exemplar-vc bank ...`` end to end on synthetic images."""

import json

import cv2

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
