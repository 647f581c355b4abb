"""Author disambiguation: split a name block into persons, rank candidate persons for a paper.

Pure code (no ORM, no requests): pass signatures in, get plain results out. See service.py for
the API and training.py for how the model is made.
"""

from assignments.clustering.linkage import ConstraintError
from assignments.clustering.model import ClusteringModel, load_model
from assignments.clustering.service import (
    BlockResult,
    Candidate,
    Cluster,
    rank_candidates,
    split_block,
)

__all__ = [
    "BlockResult",
    "Candidate",
    "Cluster",
    "ClusteringModel",
    "ConstraintError",
    "load_model",
    "rank_candidates",
    "split_block",
]
