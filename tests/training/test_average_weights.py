"""training/average_weights.py: the average of two weight files, and what it refuses."""

import importlib.util
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

SCRIPT = Path(__file__).resolve().parents[2] / "training" / "average_weights.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("average_weights", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _weights(seed: int) -> dict:
    g = torch.Generator().manual_seed(seed)
    return {"conv.weight": torch.randn(4, 3, 3, 3, generator=g), "steps": torch.tensor([seed], dtype=torch.int64)}


def test_endpoints_and_middle(script):
    a, b = _weights(0), _weights(1)
    assert torch.equal(script.average(a, b, 0.0)["conv.weight"], a["conv.weight"])
    assert torch.equal(script.average(a, b, 1.0)["conv.weight"], b["conv.weight"])
    mid = script.average(a, b, 0.25)["conv.weight"]
    torch.testing.assert_close(mid, 0.75 * a["conv.weight"] + 0.25 * b["conv.weight"])
    # integer tensors are not averaged: the first file's are kept
    assert torch.equal(script.average(a, b, 0.5)["steps"], a["steps"])


def test_refuses_mismatches(script):
    a = _weights(0)
    with pytest.raises(ValueError, match="different tensors"):
        script.average(a, {"conv.weight": a["conv.weight"]}, 0.5)
    with pytest.raises(ValueError, match="shapes differ"):
        script.average(a, {**a, "conv.weight": torch.zeros(2, 3, 3, 3)}, 0.5)
    with pytest.raises(ValueError, match=r"alpha must lie in \[0, 1\], got 1.5"):
        script.average(a, a, 1.5)


def test_cli_writes_the_average_and_never_overwrites_an_input(script, tmp_path, monkeypatch):
    first, second, out = tmp_path / "a.safetensors", tmp_path / "b.safetensors", tmp_path / "c.safetensors"
    save_file(_weights(0), str(first))
    save_file(_weights(1), str(second))
    monkeypatch.setattr(sys, "argv", ["average_weights.py", str(first), str(second), "--alpha", "0.5", "--out", str(out)])
    script.main()
    got = load_file(str(out))["conv.weight"]
    torch.testing.assert_close(got, 0.5 * (_weights(0)["conv.weight"] + _weights(1)["conv.weight"]))
    before = first.read_bytes()
    monkeypatch.setattr(sys, "argv", ["average_weights.py", str(first), str(second), "--out", str(first)])
    with pytest.raises(SystemExit, match="must not overwrite an input"):
        script.main()
    assert first.read_bytes() == before
