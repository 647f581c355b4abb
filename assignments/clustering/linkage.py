"""Candidate pairs and constrained average-linkage clustering over a sparse similarity graph.

Pairs that were not scored count as `default` similarity (the model's probability for a typical
unrelated pair of the block), so the average linkage of two clusters is
(sum of scored similarities + unscored pairs x default) / (|A| |B|), exactly as if the full
matrix had been filled with `default` for the pairs we skipped.
"""

import heapq
from collections.abc import Iterable

import numpy as np
import scipy.sparse as sp


def all_pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    i, j = np.triu_indices(n, k=1)
    return i.astype(np.int64), j.astype(np.int64)


def _upper_pairs(m: sp.spmatrix) -> set[tuple[int, int]]:
    m = sp.triu(m, k=1).tocoo()
    return set(zip(m.row.tolist(), m.col.tolist(), strict=True))


def candidate_pairs(
    prep, *, k: int = 25, chunk: int = 512, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs worth scoring in a large block: shared coauthors, and each signature's k textually
    nearest neighbours (tf-idf and block topics). Nothing n x n is materialised."""
    n = prep.n
    pairs = _upper_pairs(prep.adjacency)
    pairs |= _upper_pairs(prep.coauth_i @ prep.coauth_i.T)
    kk = min(k, n - 1)
    mats = [prep.text]
    if prep.topic.shape[1]:
        mats.append(prep.topic)
    for m in mats:
        for start in range(0, n, chunk):
            rows = slice(start, min(start + chunk, n))
            block = m[rows] @ m.T
            block = block.toarray() if sp.issparse(block) else np.asarray(block)
            r = np.arange(rows.start, rows.stop)
            block[r - rows.start, r] = -np.inf
            top = np.argpartition(-block, kk - 1, axis=1)[:, :kk]
            for a, row in zip(r.tolist(), top.tolist(), strict=True):
                for b in row:
                    pairs.add((a, b) if a < b else (b, a))
    # A random spread of pairs so that dense regions the features miss still get scored.
    rng = np.random.default_rng(seed)
    extra = min(5 * n, n * (n - 1) // 2)
    a = rng.integers(0, n, extra)
    b = rng.integers(0, n, extra)
    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        if x != y:
            pairs.add((x, y) if x < y else (y, x))
    arr = np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)
    return arr[:, 0], arr[:, 1]


def random_other_pairs(
    n: int, known: set[tuple[int, int]], count: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Up to `count` pairs not in `known`, to estimate the similarity of unscored pairs."""
    rng = np.random.default_rng(seed + 1)
    out: set[tuple[int, int]] = set()
    tries = 0
    while len(out) < count and tries < count * 5:
        tries += 1
        x, y = (int(v) for v in rng.integers(0, n, 2))
        if x == y:
            continue
        p = (x, y) if x < y else (y, x)
        if p not in known:
            out.add(p)
    arr = np.array(sorted(out), dtype=np.int64).reshape(-1, 2)
    return arr[:, 0], arr[:, 1]


class UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


class ConstraintError(ValueError):
    """Must-link and cannot-link constraints that contradict each other."""


def cluster(
    n: int,
    i: np.ndarray,
    j: np.ndarray,
    sim: np.ndarray,
    *,
    threshold: float,
    default: float = 0.0,
    must_link: Iterable[tuple[int, int]] = (),
    cannot_link: Iterable[tuple[int, int]] = (),
    sizes: np.ndarray | None = None,
) -> tuple[list[list[int]], dict[tuple[int, int], tuple[float, bool]]]:
    """Average-linkage clustering, merging while the best average similarity >= threshold.

    Must-link pairs start in one cluster; cannot-link pairs never end up in one. With `sizes`
    (stage 2: the units are components of that many signatures) the average is size-weighted:
    a unit counts as that many signatures, and the linkage of two clusters is the mean
    similarity over the pairs of signatures they hold. Returns the clusters (lists of indices)
    and, per pair of final clusters that had any scored link, the (average similarity,
    forbidden) of that link, keyed by the clusters' positions in the list.
    """
    unit = np.ones(n, dtype=np.float64) if sizes is None else np.asarray(sizes, dtype=np.float64)
    uf = UnionFind(n)
    for a, b in must_link:
        uf.union(a, b)
    cannot_link = list(cannot_link)
    roots = sorted({uf.find(x) for x in range(n)})
    cid = {r: k for k, r in enumerate(roots)}
    label = [cid[uf.find(x)] for x in range(n)]
    members: dict[int, list[int]] = {k: [] for k in range(len(roots))}
    for x in range(n):
        members[label[x]].append(x)

    # links[a][b] = [sum of scored similarity, number of scored pairs, forbidden], both counted
    # in signature pairs
    links: dict[int, dict[int, list]] = {k: {} for k in members}
    for a, b, s in zip(i.tolist(), j.tolist(), sim.tolist(), strict=True):
        ca, cb = label[a], label[b]
        if ca == cb:
            continue
        e = links[ca].get(cb)
        if e is None:
            e = [0.0, 0.0, False]
            links[ca][cb] = e
            links[cb][ca] = e
        w = unit[a] * unit[b]
        e[0] += s * w
        e[1] += w
    for a, b in cannot_link:
        ca, cb = label[a], label[b]
        if ca == cb:
            raise ConstraintError(f"signatures {a} and {b} are both must-link and cannot-link")
        e = links[ca].get(cb)
        if e is None:
            e = [0.0, 0.0, False]
            links[ca][cb] = e
            links[cb][ca] = e
        e[2] = True

    size = {k: float(unit[v].sum()) for k, v in members.items()}

    def average(a: int, b: int, e: list) -> float:
        pairs = size[a] * size[b]
        return (e[0] + (pairs - e[1]) * default) / pairs

    heap: list[tuple[float, int, int]] = []
    for a, nbrs in links.items():
        for b, e in nbrs.items():
            if a < b and not e[2]:
                avg = average(a, b, e)
                if avg >= threshold:
                    heap.append((-avg, a, b))
    heapq.heapify(heap)
    next_id = len(members)
    while heap:
        neg, a, b = heapq.heappop(heap)
        if a not in members or b not in members:
            continue
        e = links[a].get(b)
        if e is None or e[2] or abs(average(a, b, e) + neg) > 1e-12:
            continue
        # merge a and b into a new cluster c
        c = next_id
        next_id += 1
        members[c] = members.pop(a) + members.pop(b)
        size[c] = size.pop(a) + size.pop(b)
        la, lb = links.pop(a), links.pop(b)
        la.pop(b, None)
        lb.pop(a, None)
        merged: dict[int, list] = {}
        for src in (la, lb):
            for other, oe in src.items():
                links[other].pop(a, None)
                links[other].pop(b, None)
                m = merged.get(other)
                if m is None:
                    merged[other] = [oe[0], oe[1], oe[2]]
                else:
                    m[0] += oe[0]
                    m[1] += oe[1]
                    m[2] = m[2] or oe[2]
        links[c] = merged
        for other, m in merged.items():
            links[other][c] = m
            if not m[2]:
                avg = average(c, other, m)
                if avg >= threshold:
                    heapq.heappush(heap, (-avg, min(c, other), max(c, other)))

    order = sorted(members, key=lambda k: (-size[k], min(members[k])))
    pos = {k: p for p, k in enumerate(order)}
    clusters = [sorted(members[k]) for k in order]
    between: dict[tuple[int, int], tuple[float, bool]] = {}
    for a in order:
        for b, e in links[a].items():
            pa, pb = pos[a], pos[b]
            if pa < pb:
                between[(pa, pb)] = (average(a, b, e), e[2])
    return clusters, between
