"""Which films a batch finds and with which exemplars; no Ray needed."""

import sys

import numpy as np
import pytest

from exemplar_vc import InputError
from exemplar_vc.distributed import find_films, run_batch
from job_media import write_folder, write_png


@pytest.fixture
def archive(tmp_path):
    gray = np.zeros((3, 16, 16), np.uint8)
    rgb = np.zeros((16, 16, 3), np.uint8)
    write_folder(tmp_path / "in" / "reel1", gray)
    write_folder(tmp_path / "in" / "reel2", gray)
    (tmp_path / "in" / "reel1.exemplars").mkdir()
    write_png(tmp_path / "in" / "reel1.exemplars" / "0.png", rgb)
    write_png(tmp_path / "in" / "reel1.exemplars" / "still.png", rgb)
    (tmp_path / "in" / "reel2.exemplars").mkdir()
    write_png(tmp_path / "in" / "reel2.exemplars" / "2.png", rgb)
    return tmp_path


def test_a_folder_gives_its_films_with_their_exemplar_folders(archive):
    films = find_films(archive / "in", archive / "out")
    assert [f.name for f in films] == ["reel1", "reel2"]
    assert list(films[0].exemplars) == [0] and films[0].references[0].endswith("still.png")
    assert films[1].exemplars == {2: str(archive / "in" / "reel2.exemplars" / "2.png")}
    assert films[0].output == str(archive / "out" / "reel1.mp4")
    assert films[0].job == str(archive / "out" / ".jobs" / "reel1")
    assert find_films(archive / "in", archive / "out", "png")[0].output == str(archive / "out" / "reel1")


def test_a_list_file_names_films_and_exemplars_relative_to_itself(archive):
    (archive / "in" / "films.txt").write_text("# two reels\nreel2 1=reel1.exemplars/0.png\nreel1   # sidecar folder\n")
    films = find_films(archive / "in" / "films.txt", archive / "out")
    assert [f.name for f in films] == ["reel2", "reel1"]
    assert films[0].exemplars == {1: str(archive / "in" / "reel1.exemplars" / "0.png")}
    assert list(films[1].exemplars) == [0]


def test_a_film_without_exemplars_and_duplicate_names_are_refused(archive):
    write_folder(archive / "in" / "reel3", np.zeros((2, 16, 16), np.uint8))
    with pytest.raises(InputError, match="expected exemplars for film 'reel3'"):
        find_films(archive / "in", archive / "out")
    (archive / "in" / "l.txt").write_text("reel1\nreel1\n")
    with pytest.raises(InputError, match="distinct names"):
        find_films(archive / "in" / "l.txt", archive / "out")


def test_without_ray_the_batch_says_how_to_install_it(archive, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'exemplar_vc\[cluster\]'"):
        run_batch(archive / "in", archive / "out")


def test_cli_batch_without_ray_is_one_line_and_exit_2(archive, monkeypatch, capsys):
    from exemplar_vc.cli.main import main

    monkeypatch.setitem(sys.modules, "ray", None)
    assert main(["batch", str(archive / "in"), "-o", str(archive / "out")]) == 2
    err = capsys.readouterr().err
    assert "pip install 'exemplar_vc[cluster]'" in err and len(err.strip().splitlines()) == 1
