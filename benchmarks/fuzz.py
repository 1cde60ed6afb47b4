"""The long fuzz run of issue 13: thousands of generated and mutated inputs of every kind
(``tests/fuzz/cases.py``) through the CLI and the public API, each checked by
``tests/fuzz/harness.py``: a correct result or a one-line error of the library's own, no
file left at or beside the output, no input modified.

    python benchmarks/fuzz.py --cases 2000 --seed 1 --json benchmarks/results/fuzz.json

Cases are split evenly over the kinds; hypothesis draws them from ``--seed`` (no shrinking,
no example database), so a run is reproducible on the same commit. CPU-heavy: one torch
thread, about 0.1-1 s a case. With ``coverage`` installed, ``--coverage`` also counts the
distinct lines of ``exemplar_vc`` the run reached.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))  # first: tests/fuzz/ (the package), not this script

from _common import commit, emit, machine  # noqa: E402


def _kind_runner(kind, seed_value, per_kind):
    """A hypothesis test that runs ``per_kind`` cases of ``kind`` and records them in STATE."""
    from hypothesis import HealthCheck, Phase, given, seed, settings
    from hypothesis import strategies as st

    from fuzz.cases import GENERATORS
    from fuzz.harness import run_case

    serial = iter(range(10**9))
    counts, totals, failures, known, work, start = (STATE[k] for k in ("counts", "totals", "failures", "known", "work", "start"))

    @seed(seed_value)
    @settings(max_examples=per_kind, phases=[Phase.generate], database=None, deadline=None, print_blob=False, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def one(data):
        # Fixed-width folder names: case files embed their folder's path, and hypothesis
        # needs a replayed case to draw from the same byte lengths.
        case = GENERATORS[kind](data.draw, work / f"{kind}_{next(serial):09d}")
        if case is None:
            counts[kind]["not_encodable"] += 1
            return
        outcome = run_case(case)
        counts[kind][outcome.status] += 1
        totals["cases"] += 1
        totals["tracebacks"] += outcome.traceback
        totals["leftovers"] += outcome.leftovers
        totals["inputs_modified"] += outcome.inputs_modified
        for k in outcome.known:
            known[k] += 1
        if outcome.status == "fail":
            failures.append({"kind": kind, "via": outcome.via, "detail": outcome.detail, "problems": outcome.problems})
        if totals["cases"] % 100 == 0:
            print(f"{totals['cases']} cases, {len(failures)} failing, {time.perf_counter() - start:.0f} s", file=sys.stderr)

    return one


STATE: dict = {}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=2000, help="cases in all, split evenly over the kinds (default 2000)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--kinds", default=None, help="comma-separated subset of the kinds (default: all)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--coverage", action="store_true", help="count distinct lines of exemplar_vc reached (needs `pip install coverage`)")
    p.add_argument("--json", type=Path, default=None, help="also write the JSON report here")
    args = p.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    from fuzz.cases import KINDS

    kinds = args.kinds.split(",") if args.kinds else KINDS
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        p.error(f"unknown kinds {unknown}; choose from {KINDS}")
    per_kind = max(1, args.cases // len(kinds))

    cov = None
    if args.coverage:
        try:
            import coverage
        except ImportError:
            p.error("--coverage needs `pip install coverage`")
        cov = coverage.Coverage(source=["exemplar_vc"], data_file=None)
        cov.start()

    counts: dict[str, collections.Counter] = {k: collections.Counter() for k in kinds}
    failures, known = [], collections.Counter()
    totals = collections.Counter()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="exemplar_vc_fuzz_") as tmp:
        work = Path(tmp)
        from fuzz.harness import use_private_tempdir

        use_private_tempdir(work / "tmp")  # segment spill folders of this run only
        STATE.update(counts=counts, totals=totals, failures=failures, known=known, work=work, start=start)
        for kind in kinds:
            one = _kind_runner(kind, args.seed, per_kind)
            one()
    elapsed = time.perf_counter() - start
    lines = None
    if cov is not None:
        cov.stop()
        data = cov.get_data()
        lines = sum(len(data.lines(f) or ()) for f in data.measured_files())

    report = {
        "benchmark": "fuzz",
        "command": "python benchmarks/fuzz.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "commit": commit(),
        "machine": machine(),
        "settings": {"cases": args.cases, "seed": args.seed, "kinds": kinds, "per_kind": per_kind, "threads": args.threads},
        "cases_run": totals["cases"],
        "per_kind": {k: dict(c) for k, c in counts.items()},
        "passed": sum(c["ok"] + c["error"] for c in counts.values()),
        "known_issues": dict(known),
        "failing": len(failures),
        "tracebacks": totals["tracebacks"],
        "partial_files_left": totals["leftovers"],
        "inputs_modified": totals["inputs_modified"],
        "lines_reached": lines,
        "seconds": round(elapsed, 1),
        "failures": failures[:100],
    }
    emit(report, args.json)
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
