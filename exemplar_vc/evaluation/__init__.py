"""Evaluation against ground truth: protocols (how a colour clip becomes gray input and
exemplars), reference baselines, a runner that scores everything, tables and an HTML
report. The command line is ``exemplar-vc eval``."""

from .baselines import BASELINES, flow_propagation, global_transfer
from .memory import PeakMemory
from .protocols import PROTOCOLS, exemplar_frames, make_gray, protocol_exemplars
from .results import ClipResult, EvalReport, MethodResult
from .runner import METHODS, evaluate, evaluate_clip, find_clips, load_clip
from .scoring import METRICS, ClipScorer, score
from .tables import markdown_clips, markdown_overall, markdown_report

__all__ = [
    "PROTOCOLS",
    "METHODS",
    "METRICS",
    "BASELINES",
    "exemplar_frames",
    "make_gray",
    "protocol_exemplars",
    "global_transfer",
    "flow_propagation",
    "PeakMemory",
    "ClipResult",
    "EvalReport",
    "MethodResult",
    "evaluate",
    "evaluate_clip",
    "find_clips",
    "load_clip",
    "score",
    "ClipScorer",
    "markdown_clips",
    "markdown_overall",
    "markdown_report",
]
