"""Whole-Anthology statistics the service is given as data: a topic space and a coauthor graph.

Both are fitted once, by training, on every paper of the data, and travel inside the model
artifact, so that the service stays pure (no database):

- `topics`: an LSA space (truncated SVD of the TF-IDF of all titles and abstracts), restricted
  to terms seen in enough papers. Two papers on one subject meet in it even when they share no
  word; a block-local SVD of a few dozen papers cannot learn that.
- `graph`: who has written with whom, over name keys hashed to 64 bits (no names are stored).
  The service asks it one question only: "has a coauthor of this group written a paper with a
  coauthor of that group?" (a bridge). It never compares the groups' coauthors' coauthors with
  each other: in a generated block (rare-name persons renamed to a common name) the person's
  original name is still in the Anthology's coauthor lists, so two groups of one person always
  share that 2-hop neighbour, and a feature built on shared 2-hop neighbours would learn the
  renaming, not the person. A bridge cannot see that name: it is never a coauthor of its own
  papers (see tests/clustering/test_corpus.py and bench/clustering_leak.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

from assignments.clustering import names as nm
from assignments.clustering.vectors import l2_rows


@lru_cache(maxsize=500_000)
def name_hash(key: str) -> int:
    """A stable 63-bit hash of a normalised name key (the same in every process)."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


@dataclass
class CoauthorGraph:
    """Undirected graph over hashed name keys: node k is `nodes[k]`, its neighbours are
    `indices[indptr[k]:indptr[k + 1]]` (node numbers, sorted)."""

    nodes: np.ndarray  # int64, sorted
    indptr: np.ndarray  # int64
    indices: np.ndarray  # int32

    @classmethod
    def build(cls, papers: Iterable[Sequence[str]]) -> CoauthorGraph:
        """From the printed author lists of every paper."""
        rows: list[np.ndarray] = []
        for authors in papers:
            keys = sorted({name_hash(k) for k in (nm.coauthor_keys(a)[0] for a in authors) if k})
            if len(keys) > 1:
                rows.append(np.array(keys, dtype=np.int64))
        nodes = np.unique(np.concatenate(rows)) if rows else np.zeros(0, dtype=np.int64)
        src: list[np.ndarray] = []
        dst: list[np.ndarray] = []
        for row in rows:
            ids = np.searchsorted(nodes, row)
            a, b = np.meshgrid(ids, ids, indexing="ij")
            off = a != b
            src.append(a[off])
            dst.append(b[off])
        n = len(nodes)
        if src:
            m = sp.csr_matrix(
                (
                    np.ones(sum(len(s) for s in src), dtype=np.int8),
                    (np.concatenate(src), np.concatenate(dst)),
                ),
                shape=(n, n),
            )
            m.sum_duplicates()
            m.sort_indices()
            indptr, indices = m.indptr.astype(np.int64), m.indices.astype(np.int32)
        else:
            indptr, indices = np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int32)
        return cls(nodes=nodes, indptr=indptr, indices=indices)

    def lookup(self, hashes: np.ndarray) -> np.ndarray:
        """Node number of each hash, -1 when the name never wrote with anyone."""
        if len(self.nodes) == 0:
            return np.full(len(hashes), -1, dtype=np.int64)
        pos = np.searchsorted(self.nodes, hashes)
        pos = np.minimum(pos, len(self.nodes) - 1)
        return np.where(self.nodes[pos] == hashes, pos, -1)

    def degree(self, node: np.ndarray) -> np.ndarray:
        """Number of distinct coauthors of each node (0 for -1)."""
        known = node >= 0
        out = np.zeros(len(node), dtype=np.float32)
        k = node[known]
        out[known] = self.indptr[k + 1] - self.indptr[k]
        return out

    def among(self, node: np.ndarray) -> sp.csr_matrix:
        """The graph restricted to `node` (len m, -1 allowed): an m x m 0/1 matrix."""
        m = len(node)
        known = np.flatnonzero(node >= 0)
        if len(known) == 0:
            return sp.csr_matrix((m, m), dtype=np.float32)
        # where each of our nodes sits in the graph, to map neighbours back to our positions
        order = np.argsort(node[known], kind="stable")
        sorted_nodes = node[known][order]
        rows, cols = [], []
        for pos in known.tolist():
            k = int(node[pos])
            nbrs = self.indices[self.indptr[k] : self.indptr[k + 1]]
            hit = np.searchsorted(sorted_nodes, nbrs)
            hit = np.minimum(hit, len(sorted_nodes) - 1)
            ok = sorted_nodes[hit] == nbrs
            if ok.any():
                cols.append(known[order[hit[ok]]])
                rows.append(np.full(int(ok.sum()), pos))
        if not rows:
            return sp.csr_matrix((m, m), dtype=np.float32)
        r, c = np.concatenate(rows), np.concatenate(cols)
        return sp.csr_matrix((np.ones(len(r), dtype=np.float32), (r, c)), shape=(m, m))


@dataclass
class TopicSpace:
    """LSA of the hashed TF-IDF space: term column `columns[k]` has the vector `vectors[k]`."""

    columns: np.ndarray  # int32, sorted hashed term columns kept
    vectors: np.ndarray  # float16, len(columns) x dims
    _row_of: np.ndarray | None = field(default=None, repr=False, compare=False)
    _vectors32: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def dims(self) -> int:
        return int(self.vectors.shape[1])

    def project(self, tfidf: sp.csr_matrix, columns: np.ndarray | None = None) -> np.ndarray:
        """l2-normalised topic vectors of the rows of a (hashed) TF-IDF matrix; with `columns`,
        its column k is hashed term `columns[k]`."""
        if self.dims == 0 or tfidf.shape[0] == 0:
            return np.zeros((tfidf.shape[0], self.dims), dtype=np.float32)
        if self._row_of is None:
            # indexed by hashed term; one past the largest kept term, the rest are never kept
            row_of = np.full(int(self.columns.max()) + 2 if len(self.columns) else 1, -1, np.int32)
            row_of[self.columns] = np.arange(len(self.columns), dtype=np.int32)
            self._row_of = row_of
            # C order: scipy's sparse @ dense ravels the dense side, which copies (5 MB, every
            # call) when the SVD left it in Fortran order
            self._vectors32 = np.ascontiguousarray(self.vectors, dtype=np.float32)
        m = tfidf.tocoo()
        terms = m.col if columns is None else columns[m.col]
        rows = self._row_of[np.minimum(terms, len(self._row_of) - 1)]
        keep = rows >= 0
        reduced = sp.csr_matrix(
            (m.data[keep], (m.row[keep], rows[keep])), shape=(tfidf.shape[0], len(self.columns))
        )
        z = np.asarray(reduced @ self._vectors32, dtype=np.float32)
        return l2_rows(z)

    def __getstate__(self) -> dict:
        # the lookup tables are rebuilt on first use: keep the artifact small and its bytes stable
        return {
            "columns": self.columns,
            "vectors": self.vectors,
            "_row_of": None,
            "_vectors32": None,
        }


@dataclass
class Corpus:
    topics: TopicSpace
    graph: CoauthorGraph
