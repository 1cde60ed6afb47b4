"""The retrieval protocol runs against ``exemplar_vc.exemplars.ReferenceBank`` / ``Retriever``
(built by another part of the project); skipped until those are importable."""

import pytest


def _bank_api():
    try:
        from exemplar_vc.exemplars import ReferenceBank, Retriever  # noqa: F401
    except ImportError as e:
        pytest.skip(f"exemplar_vc.exemplars.ReferenceBank / Retriever not available yet ({e})")
    return ReferenceBank


def test_retrieval_protocol_uses_the_bank(clip, colorizer, tmp_path):
    import cv2

    from exemplar_vc.evaluation import evaluate_clip

    ReferenceBank = _bank_api()
    refs = tmp_path / "refs"
    refs.mkdir()
    for i in (0, 5):
        cv2.imwrite(str(refs / f"ref{i}.png"), clip[i][..., ::-1])
    bank_dir = tmp_path / "bank"
    ReferenceBank.build(refs).save(bank_dir)
    res = evaluate_clip("pan", clip, "retrieval", colorizer=colorizer, bank=bank_dir, metric_names=["psnr", "cdc"])
    assert set(res.methods) == {"pipeline", "global_transfer", "flow_propagation"}
    assert res.exemplar_frames  # the bank served at least one key frame
    assert res.methods["flow_propagation"].metrics["psnr"] > 15
