"""ReferenceBank: build, save, load, add, remove, dedupe, integrity, moving, old formats,
retrieval, errors."""

import json
import shutil
import warnings

import cv2
import numpy as np
import pytest

from exemplar_vc.errors import InputError
from exemplar_vc.exemplars import ReferenceBank, Retriever
from exemplar_vc.exemplars.base import KeyFrame

from .conftest import scene


@pytest.fixture(scope="module")
def bank(encoder, scene_dir):
    return ReferenceBank.build(scene_dir, encoder=encoder)


def test_build_skips_non_images_and_embeds_all(bank, scene_dir):
    assert len(bank) == 6
    assert bank.vectors.shape == (6, bank.descriptor.dim) and bank.vectors.dtype == np.float16
    assert np.allclose(np.linalg.norm(bank.vectors.astype(np.float32), axis=1), 1, atol=2e-3)
    assert all(e.path.endswith(".png") and e.size == (128, 96) for e in bank.entries)
    assert bank.index_kind == "flat-ip"


def test_transformed_copy_is_found(bank, scene_dir):
    rgb = scene(3)
    gray = cv2.cvtColor(rgb[10:90, 12:120], cv2.COLOR_RGB2GRAY)  # crop, gray...
    gray = cv2.resize(gray, (162, 120), interpolation=cv2.INTER_LINEAR)  # ...rescale
    for rerank in (False, True):
        hits = bank.search(gray, k=3, rerank=rerank)[0]
        assert hits[0].path.endswith("scene3.png"), [h.path for h in hits]
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].dense_score is not None and hits[0].global_score > 0.5


def test_save_load_add_remove_dedupe(bank, encoder, scene_dir, tmp_path):
    d = bank.save(tmp_path / "bank")
    loaded = ReferenceBank.load(d, encoder=encoder)
    assert [e.path for e in loaded.entries] == [e.path for e in bank.entries]
    assert np.array_equal(loaded.vectors, bank.vectors)
    extra = tmp_path / "new.png"
    cv2.imwrite(str(extra), scene(42)[..., ::-1])
    copy = tmp_path / "copy.png"
    shutil.copy(scene_dir / "scene0.png", copy)
    with pytest.warns(UserWarning, match="duplicates"):
        added = loaded.add([extra, copy])
    assert [a.path for a in added] == [str(extra.resolve())] and len(loaded) == 7
    loaded.save(d)
    again = ReferenceBank.load(d, encoder=encoder)
    assert len(again) == 7 and again.search(cv2.cvtColor(scene(42), cv2.COLOR_RGB2GRAY), k=1)[0][0].path == str(extra.resolve())
    assert again.remove([str(extra)]) == 1 and again.remove([0]) == 1 and len(again) == 5
    assert again.check_files() == []


def test_integrity_checks(bank, encoder, tmp_path):
    d = bank.save(tmp_path / "bank")
    meta = json.loads((d / "meta.json").read_text())
    (d / "meta.json").write_text(json.dumps({**meta, "encoder": "other-encoder/v0"}))
    with pytest.raises(InputError, match="built with other-encoder"):
        ReferenceBank.load(d, encoder=encoder)
    (d / "meta.json").write_text(json.dumps(meta))
    vectors = (d / "vectors.npz").read_bytes()
    (d / "vectors.npz").write_bytes(vectors[:-8] + b"01234567")
    with pytest.raises(InputError, match="vectors.npz .* SHA-256 differs"):
        ReferenceBank.load(d, encoder=encoder)
    (d / "vectors.npz").write_bytes(vectors)
    raw = bytearray((d / "index.faiss").read_bytes())
    raw[100:110] = b"0123456789"
    (d / "index.faiss").write_bytes(bytes(raw))
    with pytest.raises(InputError, match="SHA-256 differs"):
        ReferenceBank.load(d, encoder=encoder)
    (d / "meta.json").write_text("{not json")
    with pytest.raises(InputError, match="corrupted"):
        ReferenceBank.load(d, encoder=encoder)
    with pytest.raises(InputError, match="meta.json and index.faiss"):
        ReferenceBank.load(tmp_path / "nowhere", encoder=encoder)


def test_bank_with_its_images_inside_survives_moving_the_folder(encoder, scene_dir, tmp_path):
    inside = tmp_path / "bank"
    shutil.copytree(scene_dir, inside / "images")
    ReferenceBank.build(inside / "images", encoder=encoder).save(inside)
    meta = json.loads((inside / "meta.json").read_text())
    assert all(e["path"].startswith("images/") for e in meta["entries"])  # relative to the bank
    moved = tmp_path / "elsewhere" / "moved_bank"
    moved.parent.mkdir()
    shutil.move(str(inside), str(moved))
    bank = ReferenceBank.load(moved, encoder=encoder)
    assert all(e.path.startswith(str(moved.resolve())) for e in bank.entries)
    assert bank.check_files() == []
    hit = bank.search(cv2.cvtColor(scene(1), cv2.COLOR_RGB2GRAY), k=2)[0][0]
    assert hit.path.endswith("scene1.png")


def test_old_bank_format_is_refused_with_the_rebuild_command(bank, tmp_path):
    d = bank.save(tmp_path / "old")
    meta = json.loads((d / "meta.json").read_text())
    meta["format"] = "exemplar_vc.bank/1"
    (d / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match=r"format 'exemplar_vc.bank/2', got 'exemplar_vc.bank/1'.*exemplar-vc bank build"):
        ReferenceBank.load(d)


def test_progress_bar_is_shown_when_asked(encoder, scene_dir, capsys):
    ReferenceBank.build(scene_dir, encoder=encoder, progress=True)
    assert "describing images" in capsys.readouterr().err
    ReferenceBank.build(scene_dir, encoder=encoder, progress=False)
    assert "describing images" not in capsys.readouterr().err


def test_bad_inputs(encoder, tmp_path):
    with pytest.raises(InputError, match="empty bank"):
        ReferenceBank(encoder).search(np.zeros((32, 32), np.uint8))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="found none"):
        ReferenceBank.build(empty, encoder=encoder)
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a png at all")
    with pytest.raises(InputError, match="could not decode"):
        ReferenceBank.build([bad], encoder=encoder)
    gray = tmp_path / "gray.png"
    cv2.imwrite(str(gray), np.full((32, 32), 90, np.uint8))
    with pytest.warns(UserWarning, match="grayscale"), pytest.raises(InputError, match="every image was gray"):
        ReferenceBank.build([gray], encoder=encoder)


def test_retriever_checks_encoder_and_gives_provenance(bank, encoder):
    keys = [KeyFrame(0, cv2.cvtColor(scene(2), cv2.COLOR_RGB2GRAY)), KeyFrame(9, cv2.cvtColor(scene(5), cv2.COLOR_RGB2GRAY))]
    out = Retriever(bank, k=3, min_score=0.0).exemplars_for(keys, encoder)
    assert [e.frame for e in out] == [0, 9]
    assert out[0].source == "retrieval" and out[0].origin.endswith("scene2.png") and out[0].image.shape == (96, 128, 3)
    with pytest.warns(UserWarning, match="shot 0 .*has no trustworthy bank image"):
        assert Retriever(bank, min_score=1.1).exemplars_for(keys[:1], encoder) == []
    other = ReferenceBank(encoder)
    other.signature = "another/encoder"
    other.entries, other.vectors = bank.entries, bank.vectors
    with pytest.raises(InputError, match="rebuild the bank"):
        Retriever(other).exemplars_for(keys, encoder)


def test_damaged_vectors_file_with_a_matching_checksum_is_explained(bank, tmp_path):
    """Found by the fuzz cases: a vectors.npz that is no zip any more (its SHA-256 re-sealed
    into meta.json) used to escape as zipfile.BadZipFile."""
    import hashlib

    from exemplar_vc.exemplars.bank_meta import meta_digest

    d = bank.save(tmp_path / "damaged")
    data = bytearray((d / "vectors.npz").read_bytes())
    data[:4] = b"\0\0\0\0"  # the zip's local header magic
    (d / "vectors.npz").write_bytes(bytes(data))
    meta = json.loads((d / "meta.json").read_text())
    meta["vectors_sha256"] = hashlib.sha256(bytes(data)).hexdigest()
    meta["meta_sha256"] = meta_digest(meta)
    (d / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match="readable vectors.npz"):
        ReferenceBank.load(d)
