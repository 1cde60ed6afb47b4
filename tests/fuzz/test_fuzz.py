"""The fuzz slice of the test suite: about 100 seeded cases over every kind of input
(``cases.KINDS``), each run through the CLI or the public API and checked by
``harness.run_case`` (a clean result or a one-line error; nothing left beside the output;
inputs untouched). Deterministic (hypothesis ``derandomize``), tiny inputs; the long run
is ``benchmarks/fuzz.py``."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from fuzz.cases import GENERATORS, KINDS
from fuzz.harness import run_case, use_private_tempdir

CASES_PER_KIND = 11  # x 9 kinds = 99 cases
_counter = itertools.count()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    import tempfile

    d = tmp_path_factory.mktemp("fuzz")
    previous = use_private_tempdir(d / "tmp")  # spill folders of this slice only
    yield d
    tempfile.tempdir = previous


@pytest.mark.parametrize("kind", KINDS)
def test_fuzz_slice(kind, workdir):
    seen = []

    @settings(max_examples=CASES_PER_KIND, derandomize=True, phases=[Phase.explicit, Phase.generate], database=None, deadline=None, print_blob=False, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def one(data):
        # Fixed-width folder names: case files embed their folder's path, and hypothesis
        # needs a replayed case to draw from the same byte lengths.
        case = GENERATORS[kind](data.draw, workdir / f"{kind}_{next(_counter):09d}")
        if case is None:
            return
        outcome = run_case(case)
        seen.append(outcome.status)
        assert outcome.status != "fail", f"{kind} [{outcome.via}] {outcome.detail}: {outcome.problems}"

    one()
    assert seen, f"no {kind} case could be generated"
