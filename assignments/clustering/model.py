"""The trained artifact: a pairwise classifier plus the corpus statistics its features need.

It holds word IDF (hashed), hashed name counts and a gradient-boosted classifier over pair
features; nothing in it maps a paper's content to an author.
"""

import functools
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from threadpoolctl import ThreadpoolController

from assignments.clustering.corpus import Corpus
from assignments.clustering.features import FEATURE_NAMES
from assignments.clustering.merging import FEATURE_NAMES as MERGE_FEATURE_NAMES
from assignments.clustering.names import NameStats

FORMAT_VERSION = 2


def single_threaded(func):
    """Run `func` with OpenMP and BLAS on one thread each. A block's matrices are small: thread
    start-up and contention cost more than they save (ranking 200 candidates took a median
    ~90 ms with two BLAS threads, ~54 ms with one), and refresh_suggestions parallelises over
    processes instead."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with single_thread():
            return func(*args, **kwargs)

    return wrapper


def single_thread():
    """A context in which OpenMP and BLAS run on one thread (also what makes training's SVD and
    matrix products give the same bits on every run)."""
    return _threads().limit(limits=1)


@dataclass
class ClusteringModel:
    # pair classifier (signature vs signature) with predict_proba (sklearn ships no types)
    classifier: Any
    idf: np.ndarray  # float16, one per hashed term
    name_stats: NameStats
    corpus: Corpus | None = None  # whole-Anthology topic space and coauthor graph
    merger: Any = None  # component-pair classifier (stage 2) with predict_proba
    # typical merge-feature values of one person's groups, to rank the reasons of a separation
    merge_reference: np.ndarray | None = None
    threshold: float = 0.5  # stage-2 average-linkage merge threshold on pair probability
    hub_degree: float = 400.0  # stage 1: one shared coauthor this prolific does not join alone
    common_name: float = 0.3  # stage 1: nor one whose name has this many expected namesakes
    all_pairs_max: int = 250  # blocks up to this size score every pair (ranking, pair model)
    neighbours: int = 25  # text neighbours per signature in larger blocks
    component_neighbours: int = 40  # stage 2: component pairs scored per component in large blocks
    feature_names: list[str] = field(default_factory=lambda: list(FEATURE_NAMES))
    merge_feature_names: list[str] = field(default_factory=lambda: list(MERGE_FEATURE_NAMES))
    info: dict = field(default_factory=dict)  # how it was trained
    version: int = FORMAT_VERSION

    @single_threaded
    def predict(self, x: np.ndarray) -> np.ndarray:
        """Pair model: probability that two signatures are one person."""
        if len(x) == 0:
            return np.zeros(0, dtype=np.float32)
        proba = self.classifier.predict_proba(np.asarray(x, dtype=np.float64))
        return proba[:, 1].astype(np.float32)

    @single_threaded
    def predict_merge(self, x: np.ndarray) -> np.ndarray:
        """Merge model: probability that two components are one person."""
        if len(x) == 0:
            return np.zeros(0, dtype=np.float32)
        proba = self.merger.predict_proba(np.asarray(x, dtype=np.float64))
        return proba[:, 1].astype(np.float32)

    def save(self, path: Path | str) -> None:
        joblib.dump(self, path, compress=("xz", 6))


_controller: ThreadpoolController | None = None


def _threads() -> ThreadpoolController:
    # Finding the thread pools costs ~1 ms; do it once per process, not per call.
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller


_cache: dict[str, ClusteringModel] = {}
_lock = threading.Lock()


def load_model(path: Path | str) -> ClusteringModel:
    """Load (once per process) the model at `path` (the app's is settings.CLUSTERING_MODEL_PATH:
    the service itself knows nothing of Django)."""
    key = str(Path(path).resolve())
    with _lock:
        model = _cache.get(key)
        if model is None:
            model = joblib.load(key)
            if getattr(model, "version", None) != FORMAT_VERSION:
                raise ValueError(f"{path}: clustering model format is not {FORMAT_VERSION}")
            if (
                model.feature_names != FEATURE_NAMES
                or model.merge_feature_names != MERGE_FEATURE_NAMES
            ):
                raise ValueError(f"{path}: the model was trained on other features; retrain it")
            _cache[key] = model
    return model
