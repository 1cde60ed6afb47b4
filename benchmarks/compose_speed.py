"""Time of the last step of every colorization, composing a frame's gray and chroma into
sRGB that keeps the gray's luma (``exemplar_vc.color.compose_rgb``), at video sizes.

Stage 2 analyses at the working size, whatever the input's size, but composes at the
input's own resolution, so at HD and above this step is a large share of a frame's time.
Input: a real colour frame (bear, frame 0) resized to each size, its gray and its own
CIE a, b. Each measurement runs in a fresh process; with ``--against REV`` the same
measurements run alternately on a checkout of REV (a temporary git worktree), so the
ratio between the two is measured under the same load, and the outputs are compared.

    python benchmarks/compose_speed.py [--sizes 854x480,1920x1080,3840x2160] [--runs 5] [--threads 1]
        [--against REV] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import SHARED_DATA, checkout, commit, emit, machine, summary, tree_env  # noqa: E402


def child(inputs: str, threads: int, repeats: int, out: str) -> None:
    """Time ``compose_rgb`` on saved inputs; prints one JSON line, saves the output."""
    import numpy as np
    import torch

    from exemplar_vc.color import compose_rgb

    torch.set_num_threads(threads)
    data = np.load(inputs)
    gray = torch.from_numpy(data["gray"])[None, None]
    ab = torch.from_numpy(data["ab"])[None]
    compose_rgb(gray, ab)  # warm-up
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        rgb = compose_rgb(gray, ab)
        seconds.append(time.perf_counter() - start)
    np.save(out, rgb)
    print(json.dumps({"seconds": min(seconds)}))


def make_inputs(size: tuple[int, int], path: Path) -> None:
    import cv2
    import numpy as np
    import torch

    from exemplar_vc.color import rgb_to_lab
    from exemplar_vc.io import open_video

    rgb = next(iter(open_video(SHARED_DATA / "clips" / "bear.mp4").rgb_frames()))
    rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_CUBIC)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255
    lab = rgb_to_lab(torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255)
    np.savez(path, gray=gray, ab=lab[0, 1:].numpy())


def run_child(tree: Path, inputs: Path, threads: int, repeats: int, out: Path) -> float:
    env = tree_env(tree, OMP_NUM_THREADS=str(threads))
    cmd = [sys.executable, __file__, "--child", str(inputs), str(threads), str(repeats), str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env, cwd=tree)
    return json.loads(done.stdout.strip().splitlines()[-1])["seconds"]


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="854x480,1920x1080,3840x2160")
    parser.add_argument("--runs", type=int, default=5, help="processes per size and tree (each: the best of 3 calls)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--against", metavar="REV", help="also time a checkout of this git revision, interleaved")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    import numpy as np

    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    report = {"benchmark": "compose_speed", "commit": commit(), "against": args.against, "threads": args.threads, "machine": machine(), "sizes": {}}
    with tempfile.TemporaryDirectory() as d, checkout(args.against, Path(d)) as trees:
        work = Path(d)
        for w, h in sizes:
            inputs = work / f"in_{w}x{h}.npz"
            make_inputs((w, h), inputs)
            times: dict[str, list[float]] = {name: [] for name in trees}
            for _ in range(args.runs):
                for name, tree in trees.items():
                    times[name].append(run_child(tree, inputs, args.threads, 3, work / f"out_{name}.npy"))
            row = {name: summary(t) for name, t in times.items()}
            if args.against:
                a, b = (np.load(work / f"out_{n}.npy").astype(int) for n in ("this", "against"))
                row["speedup"] = row["against"]["median"] / row["this"]["median"]
                row["outputs_equal_share"] = float((a == b).mean())
                row["outputs_max_difference"] = int(np.abs(a - b).max())
            report["sizes"][f"{w}x{h}"] = row
    emit(report, args.json)


if __name__ == "__main__":
    main()
