"""What an exemplar is, and the protocol every exemplar source implements.

The types live in ``exemplar_vc/types.py``; they are re-exported here, where they used
to be defined, so ``from exemplar_vc.exemplars.base import Exemplar`` keeps working.
"""

from __future__ import annotations

from ..types import Exemplar, ExemplarSource, KeyFrame

__all__ = ["KeyFrame", "Exemplar", "ExemplarSource"]
