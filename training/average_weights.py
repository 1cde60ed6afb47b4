"""Average two propagation-network weight files of the same architecture.

A fine-tune and the weights it started from usually lie in one basin of the loss, so
the straight line between them stays good and its middle can keep what each end does
best (Wortsman et al., "Model soups", ICML 2022). The result runs at the cost of one
network.

    python training/average_weights.py A.safetensors B.safetensors --alpha 0.5 --out C.safetensors

writes ``(1 - alpha) * A + alpha * B`` for every floating-point tensor.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from safetensors.torch import load_file, save

from exemplar_vc.jobs.atomic import write_bytes_atomic
from exemplar_vc.jobs.digest import file_sha256


def average(first: dict, second: dict, alpha: float) -> dict:
    """Return ``(1 - alpha) * first + alpha * second``, tensor by tensor."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
    if set(first) != set(second):
        only = sorted(set(first) ^ set(second))
        raise ValueError(f"the two weight files hold different tensors: {only[:5]}")
    out = {}
    for name, a in first.items():
        b = second[name]
        if a.shape != b.shape:
            raise ValueError(f"{name}: shapes differ, {tuple(a.shape)} vs {tuple(b.shape)}")
        out[name] = (1.0 - alpha) * a + alpha * b if a.is_floating_point() else a.clone()
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("first", type=Path)
    p.add_argument("second", type=Path)
    p.add_argument("--alpha", type=float, default=0.5, help="weight of the second file")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    if args.out.resolve() in (args.first.resolve(), args.second.resolve()):
        raise SystemExit("--out must not overwrite an input")
    averaged = average(load_file(str(args.first)), load_file(str(args.second)), args.alpha)
    metadata = {
        "averaged_from": f"{args.first.name} ({file_sha256(args.first)[:16]}), {args.second.name} ({file_sha256(args.second)[:16]})",
        "alpha": str(args.alpha),
    }
    write_bytes_atomic(args.out, save(averaged, metadata=metadata))
    print(f"wrote {args.out}: (1 - {args.alpha}) * {args.first.name} + {args.alpha} * {args.second.name}")


if __name__ == "__main__":
    main()
