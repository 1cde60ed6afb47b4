"""The public names of jobs and distributed work: this fails when one disappears; importing
them loads no Ray."""

import importlib
import subprocess
import sys

import pytest

PUBLIC = {
    "exemplar_vc.jobs": ["Job", "JobResult", "run_job", "SegmentStore", "SegmentRecord", "SegmentEngines", "save_plan", "load_plan", "plan_to_json", "plan_from_json", "segment_keys", "colorizer_key", "gray_frames_from", "CorruptSegment"],
    "exemplar_vc.distributed": ["run_batch", "BatchOptions", "BatchResult", "FilmResult", "FilmSpec", "find_films", "SegmentWorker", "model_payload", "build_colorizer"],
}
MEMBERS = {
    "exemplar_vc.pipeline:VideoColorizer": ["colorize_range", "colorize_job", "plan"],
    "exemplar_vc.pipeline:Stage1Plan": ["segments", "save", "load"],
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names_exist_and_are_exported(module):
    mod = importlib.import_module(module)
    for name in PUBLIC[module]:
        assert hasattr(mod, name) and name in mod.__all__, f"{module}.{name}"


@pytest.mark.parametrize("where", sorted(MEMBERS))
def test_public_members_exist(where):
    module, cls = where.split(":")
    obj = getattr(importlib.import_module(module), cls)
    for name in MEMBERS[where]:
        assert hasattr(obj, name), f"{cls}.{name} disappeared"


def test_importing_distributed_loads_no_ray():
    code = "import sys, exemplar_vc.distributed, exemplar_vc.jobs, exemplar_vc.cli.main; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
