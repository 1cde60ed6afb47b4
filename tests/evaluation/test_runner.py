import json

import numpy as np
import pytest

from exemplar_vc.errors import InputError
from exemplar_vc.evaluation import METRICS, ClipScorer, evaluate, evaluate_clip, markdown_report, score
from exemplar_vc.evaluation.memory import PeakMemory

BASELINES_ONLY = ("global_transfer", "flow_propagation")


def test_baselines_scored_with_every_metric(clip):
    res = evaluate_clip("pan", clip, "first-frame", methods=BASELINES_ONLY)
    assert set(res.methods) == set(BASELINES_ONLY)
    for m in res.methods.values():
        assert set(m.metrics) == set(METRICS)
        assert m.fps > 0 and len(m.psnr_curve) == 8 and len(m.cdc_curve) == 7
        assert len(m.error_change_curve) == len(m.visible_change_curve) == 7
    assert set(res.ground_truth) == {"cdc", "colorfulness", "warp_error"}
    assert res.exemplar_frames == [0]


def test_pipeline_and_baselines_in_one_run(clip, colorizer):
    res = evaluate_clip("pan", clip, "every-50", colorizer=colorizer)
    assert set(res.methods) == {"pipeline", *BASELINES_ONLY}
    p = res.methods["pipeline"]
    assert 10 < p.metrics["psnr"] < 100 and p.psnr_curve[0] >= max(p.psnr_curve[1:])  # best at the exemplar
    assert p.peak_mem_mib >= 0


def test_scorer_matches_plain_metrics(clip):
    from exemplar_vc import metrics

    noisy = np.clip(clip.astype(int) + 8 * (np.arange(8)[:, None, None, None] % 2), 0, 255).astype(np.uint8)
    s = ClipScorer(clip).score(noisy, ["warp_error", "fd_effnet", "psnr"])
    assert s["warp_error"] == pytest.approx(metrics.warp_error(noisy, clip))
    assert s["fd_effnet"] == pytest.approx(metrics.fd_effnet(noisy, clip), rel=1e-4)  # thread count changes float sums
    assert s["psnr"] == pytest.approx(metrics.psnr(noisy, clip))


def test_short_clips_give_nan_not_errors(clip):
    s = score(clip[:3], clip[:3], ["cdc", "psnr"])
    assert np.isnan(s["cdc"]) and s["psnr"] == 100.0


def test_report_json_and_markdown(clip_dir):
    report = evaluate([clip_dir], ["first-frame", "every-50"], methods=BASELINES_ONLY, metric_names=["psnr", "cdc"])
    d = json.loads(json.dumps(report.to_dict()))
    assert set(d["overall"]) == {"first-frame", "every-50"}
    assert set(d["overall"]["first-frame"]) == {"global_transfer", "flow_propagation", "ground_truth"}
    assert d["settings"]["machine"]["cpu_count"] >= 1
    text = markdown_report(report)
    assert "| first-frame | flow propagation |" in text and "| pan | every-50 | ground truth |" in text


def test_bad_inputs_raise(clip, tmp_path):
    with pytest.raises(InputError, match="methods"):
        evaluate_clip("pan", clip, "first-frame", methods=["magic"])
    with pytest.raises(InputError, match="colorizer"):
        evaluate_clip("pan", clip, "first-frame", methods=["pipeline"])
    with pytest.raises(InputError, match="does not exist"):
        evaluate([tmp_path / "missing"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="found none"):
        evaluate([tmp_path / "empty"])


def test_peak_memory_sees_an_allocation():
    with PeakMemory(interval_s=0.001) as m:
        block = np.ones(40 * 2**20 // 8)
        block += 1
        import time

        time.sleep(0.02)
    assert m.peak_increase_mib > 20


def test_scorer_ab_pass_matches_plain_metrics(clip):
    from exemplar_vc import metrics

    shifted = clip.copy()
    shifted[..., 2] = np.clip(shifted[..., 2].astype(int) + 25, 0, 255)
    s = ClipScorer(clip).score(shifted, ["psnr_ab", "ssim_ab"])
    assert s["psnr_ab"] == pytest.approx(metrics.psnr_ab(shifted, clip), abs=1e-3)
    assert s["ssim_ab"] == pytest.approx(metrics.ssim_ab(shifted, clip), abs=1e-5)


def test_report_round_trips_through_json(clip):
    from exemplar_vc.evaluation import EvalReport

    report = EvalReport([evaluate_clip("pan", clip[:3], "first-frame", methods=BASELINES_ONLY, metric_names=["psnr", "cdc"])], {})
    back = EvalReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert markdown_report(back) == markdown_report(report)
