"""Public surface of exemplar_vc.ops (STYLE item 4) and lazy Triton import (item 13)."""

import subprocess
import sys

import torch

import exemplar_vc.ops as ops

PUBLIC = {
    "backend_info", "correspondence", "Correspondence", "CorrespondenceResult",
    "local_attention", "LocalAttention", "LocalAttentionResult", "warp", "Warp", "WarpResult",
}


def test_public_names_exist():
    assert PUBLIC <= set(ops.__all__)
    for name in ops.__all__:
        assert hasattr(ops, name), name


def test_custom_ops_are_registered():
    for name in ("correspondence", "correspondence_backward", "local_attention", "local_attention_backward", "warp"):
        assert hasattr(torch.ops.exemplar_vc, name), name


def test_backend_info_names_a_path_and_a_reason():
    info = ops.backend_info()
    assert set(info) == {"correspondence", "local_attention", "warp"}
    for entry in info.values():
        assert entry["cpu"].startswith("aten: ") and len(entry["cpu"]) > 20
        assert entry["cuda"].split(":")[0] in {"aten", "triton"}
        assert entry["backward"]
    assert ops.backend_info(torch.float64)["correspondence"]["cuda"].startswith("aten")


def test_import_is_silent_and_does_not_import_triton():
    code = "import sys, exemplar_vc, exemplar_vc.ops; print('triton' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "False\n" and proc.stderr == ""
