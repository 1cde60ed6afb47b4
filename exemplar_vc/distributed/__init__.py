"""Scale-out on Ray: a batch of films, their segments spread over workers that hold one
model each (``batch.py``, ``worker.py``); which films and exemplars (``inputs.py``).

Ray is an optional dependency (``pip install 'exemplar_vc[cluster]'``): importing this
package does not import it; ``run_batch`` raises an ``ImportError`` saying how to install
it when it is missing.
"""

from ._ray import ray_available, require_ray
from .batch import BatchOptions, BatchResult, FilmResult, run_batch
from .inputs import FilmSpec, find_films
from .worker import SegmentWorker, assemble_film, build_colorizer, model_payload

__all__ = [
    "run_batch",
    "BatchOptions",
    "BatchResult",
    "FilmResult",
    "FilmSpec",
    "find_films",
    "SegmentWorker",
    "assemble_film",
    "model_payload",
    "build_colorizer",
    "require_ray",
    "ray_available",
]
