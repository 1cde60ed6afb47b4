import shutil
import subprocess

import pytest

from exemplar_vc.evaluation import evaluate


@pytest.fixture
def report_dir(clip_dir, tmp_path, colorizer):
    pytest.importorskip("matplotlib")
    out = tmp_path / "report"
    evaluate([clip_dir], ["first-frame"], colorizer=colorizer, metric_names=["psnr", "cdc"], report_dir=out)
    return out


def test_report_files(report_dir):
    page = report_dir / "pan_first-frame"
    for name in ("index.html", "strip.png", "psnr.png", "cdc.png", "error_change.png"):
        assert (page / name).stat().st_size > 0
    assert (report_dir / "results.json").exists() and (report_dir / "results.md").exists()
    index = (report_dir / "index.html").read_text()
    assert "pan_first-frame/index.html" in index and "PSNR dB" in index


@pytest.mark.slow
def test_report_renders_in_headless_chromium(report_dir, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium); cannot check the report renders")
    shot = tmp_path / "page.png"
    page = (report_dir / "pan_first-frame" / "index.html").as_uri()
    args = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1200,1600"]
    subprocess.run(args + [f"--screenshot={shot}", page], check=True, capture_output=True, timeout=120)
    dom = subprocess.run(args + ["--dump-dom", page], check=True, capture_output=True, text=True, timeout=120).stdout
    assert "<table>" in dom and "strip.png" in dom
    import numpy as np
    from PIL import Image

    img = np.asarray(Image.open(shot).convert("RGB"))
    # Rendered, not blank: the frame strip puts many colours on the page.
    assert img.std() > 10 and len(np.unique(img.reshape(-1, 3), axis=0)) > 500
    # The images loaded: probe with a page of only the strip.
    loaded = subprocess.run(args + ["--dump-dom", "--virtual-time-budget=2000", page], capture_output=True, text=True, timeout=120).stdout
    assert "strip.png" in loaded
