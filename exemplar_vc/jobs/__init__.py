"""Resumable runs of long videos: the stage-1 plan as JSON, finished segments on disk,
resume and assembly (``runner.py``). The distributed batch (``exemplar_vc.distributed``)
is built from the same pieces.

    colorizer.colorize_job("film.mkv", "film_color.mkv", job="film.job/", exemplars={0: "ref.png"})
    colorizer.colorize_job("film.mkv", "film_color.mkv", job="film.job/", resume=True)   # after a crash
    colorizer.colorize_job("film.mkv", "film_color.mkv", job="film.job/", exemplars={480: "new.png"}, resume=True)
"""

from .digest import data_sha256, file_sha256, pixels_sha256
from .frames import VideoIndex, gray_frames_from, index_video
from .keys import colorizer_key, segment_keys
from .plan_io import load_plan, plan_from_json, plan_to_json, save_plan, source_signature
from .runner import Job, JobResult, SegmentEngines, assemble, colorize_segments, consecutive_runs, run_job, update_exemplars
from .store import FORMATS, CorruptSegment, SegmentRecord, SegmentStore

__all__ = [
    "Job",
    "JobResult",
    "run_job",
    "update_exemplars",
    "colorize_segments",
    "SegmentEngines",
    "assemble",
    "consecutive_runs",
    "SegmentStore",
    "SegmentRecord",
    "CorruptSegment",
    "FORMATS",
    "save_plan",
    "load_plan",
    "plan_to_json",
    "plan_from_json",
    "source_signature",
    "colorizer_key",
    "segment_keys",
    "gray_frames_from",
    "index_video",
    "VideoIndex",
    "pixels_sha256",
    "file_sha256",
    "data_sha256",
]
