"""The held-out clips stay held out: the split of ``train/`` is fixed, and the tools that
read a clip cache learn from it which clips to skip."""

import pytest

from exemplar_vc.training.data import HELD_OUT_CLIPS, held_out_names, split_train_folder


def _folder(tmp_path, n=20):
    train = tmp_path / "train"
    train.mkdir()
    for i in range(n):
        (train / f"clip_{i:02d}.mp4").write_bytes(b"")
    (train / "notes.txt").write_text("not a clip")
    return train


def test_a_fifth_of_the_training_folder_is_held_out_the_same_way_every_time(tmp_path):
    train = _folder(tmp_path)
    kept, held = split_train_folder(train)
    assert len(held) == 4 and len(kept) == 16 and not set(kept) & set(held)
    assert split_train_folder(train) == (kept, held)
    assert all(p.suffix == ".mp4" for p in kept + held)


def test_held_out_names_are_the_named_clips_and_the_held_out_fifth(tmp_path):
    train = _folder(tmp_path)
    names = held_out_names(tmp_path)
    assert names == set(HELD_OUT_CLIPS) | {p.stem for p in split_train_folder(train)[1]}


def test_held_out_names_need_the_training_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="expected the training clips folder"):
        held_out_names(tmp_path)
