"""Triton kernels on a machine without a GPU: executed by the interpreter, compiled for sm_80/90.

The interpreter run happens in a subprocess (TRITON_INTERPRET must be set before Triton is
imported and must not leak into the rest of the suite). Ahead-of-time compilation to
cubin needs no driver: a kernel the interpreter accepts but the compiler rejects fails here.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

triton = pytest.importorskip("triton", reason="triton is not installed")

# fp32 error at T = 0.01 is ~eps |s| / T (see test_correspondence.fp32_atol); half inputs
# round the features themselves (2^-11 relative for fp16, 2^-8 for bf16).
TOL = {"float32": 3e-5, "float16": 3e-3, "bfloat16": 3e-2}


@pytest.fixture(scope="module")
def interpreted():
    script = Path(__file__).with_name("triton_interpret_check.py")
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_interpreted_kernels_match_reference(interpreted):
    assert len(interpreted) >= 28, sorted(interpreted)
    for case, value in interpreted.items():
        if case.endswith("_agree"):
            assert value == 1.0, case
        elif case.endswith("_best"):
            assert value < 1e-6, (case, value)  # fp32 dot of the (rounded) inputs
        else:
            dtype = case.split("_")[-2]
            assert value < TOL[dtype], (case, value)


COMPILE_CASES = [
    ("correspondence", "fp16"), ("correspondence", "bf16"), ("correspondence", "fp32"),
    ("local_attention", "fp16"), ("local_attention", "bf16"), ("local_attention", "fp32"),
    ("warp", "fp16"), ("warp", "fp32"),
]


@pytest.mark.parametrize("capability", [80, 90])
@pytest.mark.parametrize("op,dtype", COMPILE_CASES)
def test_kernels_compile_for_sm80_and_sm90(op, dtype, capability):
    from triton.backends.compiler import GPUTarget

    import importlib

    module = importlib.import_module(f"exemplar_vc.ops._{op}_triton")
    kernel = triton.compile(module.ast_source(dtype), target=GPUTarget("cuda", capability, 32))
    assert kernel.asm["cubin"], "no cubin produced"
    assert f".target sm_{capability}" in kernel.asm["ptx"]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_paths_are_triton():
    from exemplar_vc.ops import backend_info

    for op, entry in backend_info(torch.float16).items():
        assert entry["cuda"].startswith("triton"), (op, entry)
