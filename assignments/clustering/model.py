"""The trained artifact: a pairwise classifier plus the corpus statistics its features need.

It holds word IDF (hashed), hashed name counts and a gradient-boosted classifier over pair
features; nothing in it maps a paper's content to an author.
"""

import functools
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from scipy.special import expit
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

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Pair model: probability that two signatures are one person."""
        return _probability(self.classifier, x)

    def predict_merge(self, x: np.ndarray) -> np.ndarray:
        """Merge model: probability that two components are one person."""
        return _probability(self.merger, x)

    def save(self, path: Path | str) -> None:
        joblib.dump(self, path, compress=("xz", 6))


class Forest:
    """A fitted HistGradientBoostingClassifier's trees as flat arrays, walked for all rows and
    trees at once. sklearn walks one tree at a time with a fixed cost per tree (~10 µs), which is
    most of the time of a call on the few rows of a small page (300 trees: ~3 ms a call). The
    result is sklearn's to the bit: the same comparisons, the same order of additions."""

    def __init__(self, classifier: Any) -> None:
        predictors = [tree for (tree,) in classifier._predictors]
        if getattr(classifier, "n_trees_per_iteration_", 1) != 1 or any(
            tree.nodes["is_categorical"].any() for tree in predictors
        ):
            raise ValueError("only binary classifiers on numeric features")
        offsets = np.cumsum([0] + [len(tree.nodes) for tree in predictors])
        nodes = np.concatenate([tree.nodes for tree in predictors])
        shift = np.repeat(offsets[:-1], [len(tree.nodes) for tree in predictors])
        self.roots = offsets[:-1].astype(np.int64)
        self.feature = nodes["feature_idx"].astype(np.int64)
        self.threshold = nodes["num_threshold"].astype(np.float64)
        self.missing_left = nodes["missing_go_to_left"].astype(bool)
        self.leaf = nodes["is_leaf"].astype(bool)
        self.left = nodes["left"].astype(np.int64) + shift
        self.right = nodes["right"].astype(np.int64) + shift
        self.value = nodes["value"].astype(np.float64)
        self.baseline = float(np.ravel(classifier._baseline_prediction)[0])

    def probability(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        m, trees = len(x), len(self.roots)
        node = np.tile(self.roots, m)  # row-major: row r's trees are node[r * trees:]
        row = np.repeat(np.arange(m), trees)
        active = np.flatnonzero(~self.leaf[node])
        while active.size:
            at = node[active]
            v = x[row[active], self.feature[at]]
            left = np.where(np.isnan(v), self.missing_left[at], v <= self.threshold[at])
            at = np.where(left, self.left[at], self.right[at])
            node[active] = at
            active = active[~self.leaf[at]]
        # sklearn adds the trees one by one to the baseline: cumsum adds in that order
        terms = np.hstack([np.full((m, 1), self.baseline), self.value[node].reshape(m, trees)])
        return expit(np.cumsum(terms, axis=1)[:, -1])


# Up to this many rows the flat walk is faster than sklearn's; beyond, sklearn's per-tree cost
# is spread over enough rows (measured: 3 rows 0.5 vs 2.3 ms, 30 rows 1.2 vs 2.6 ms, 300 rows
# 10 vs 6 ms).
FOREST_MAX_ROWS = 100

_forests: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _probability(classifier: Any, x: np.ndarray) -> np.ndarray:
    if len(x) == 0:
        return np.zeros(0, dtype=np.float32)
    if len(x) > FOREST_MAX_ROWS or not hasattr(classifier, "_predictors"):
        # many rows, or another kind of classifier (tests stub one with predict_proba)
        with single_thread():
            proba = classifier.predict_proba(np.asarray(x, dtype=np.float64))
        return proba[:, 1].astype(np.float32)
    forest = _forests.get(classifier)
    if forest is None:
        forest = _forests[classifier] = Forest(classifier)
    return forest.probability(x).astype(np.float32)


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
