"""Stage 2: which coauthor components are one person. Features of a pair of components.

A component (stage 1) is a group of signatures tied by coauthors; the question here is whether
two of them are the same person. Each pair of components gets one row of features computed from
the groups as wholes (pooled text and topics, venue profiles, year ranges, team sizes, author
positions, affiliations, coauthor bridges through the whole Anthology) and from their closest
members (the most similar pair of papers). A classifier trained on pairs from generated blocks
scores the rows; merging.merge joins components by size-weighted average linkage.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from rapidfuzz import fuzz

from assignments.clustering import names as nm
from assignments.clustering.vectors import l2_rows

# Feature groups name what a reason talks about (service._reasons); the order is the column order.
GROUPS: dict[str, list[str]] = {
    "size": ["size_min", "size_max", "block_size_log", "components"],
    "coauthors": [
        "coauthors_shared",
        "coauthors_shared_weighted",
        "coauthors_initials_shared",
        "bridges",
        "bridges_weighted",
        "bridges_share",
        "coauthors_min",
    ],
    "topic": [
        "text_pooled",
        "text_mean",
        "text_max",
        "topic_pooled",
        "topic_max",
        "title_max",
        "text_relative",
        "topic_relative",
    ],
    "venue": ["venue_cosine", "venue_same_main"],
    "years": ["year_gap", "year_mean_gap", "year_span_min"],
    "team": ["team_mean_min", "team_mean_max", "first_author_gap", "last_author_gap"],
    "affiliation": ["affiliation_both", "affiliation_similarity"],
    "name": [
        "first_name_compatibility",
        "namesakes_log",
        "first_variety_log",
        "last_variety_log",
    ],
}
FEATURE_NAMES: list[str] = [name for names in GROUPS.values() for name in names]
COLUMN = {name: k for k, name in enumerate(FEATURE_NAMES)}


@dataclass
class Groups:
    """Per-component aggregates of one block, for any partition of its signatures (stage-1
    components, or the final clusters when a separation is explained)."""

    labels: np.ndarray  # component per signature
    k: int
    size: np.ndarray
    order: np.ndarray  # signatures sorted by component
    starts: np.ndarray  # where each component starts in `order`
    text: sp.csr_matrix  # l2 of the pooled tf-idf
    text_sum: sp.csr_matrix  # sum of members' l2 tf-idf rows
    topic: np.ndarray  # l2 of the pooled topic vectors
    venue: np.ndarray  # l2 of venue counts (k x venues)
    main_venue: np.ndarray  # most frequent venue code, -1 when none
    year_lo: np.ndarray
    year_hi: np.ndarray
    year_mean: np.ndarray
    coauth: sp.csr_matrix  # k x names, 0/1
    coauth_i: sp.csr_matrix  # k x initial keys, 0/1
    n_coauthors: np.ndarray
    team: np.ndarray  # mean team size
    first_author: np.ndarray  # share of papers as first author
    last_author: np.ndarray  # share as last author of 3+
    affiliations: list[list[str]]
    firsts: list[list[str]]


def groups(prep, labels: np.ndarray) -> Groups:
    labels = np.asarray(labels, dtype=np.int64)
    n = prep.n
    k = int(labels.max()) + 1 if n else 0
    order = np.argsort(labels, kind="stable")
    size = np.bincount(labels, minlength=k).astype(np.float32)
    starts = np.concatenate([[0], np.cumsum(size)[:-1]]).astype(np.int64)
    member = sp.csr_matrix((np.ones(n, dtype=np.float32), (labels, np.arange(n))), shape=(k, n))
    text_sum = (member @ prep.text).tocsr()
    topic = l2_rows(member @ prep.topic) if prep.topic.shape[1] else prep.topic[:0]
    dated = prep.venue >= 0
    nv = int(prep.venue.max()) + 1 if dated.any() else 1
    venue_counts = np.zeros((k, nv), dtype=np.float32)
    np.add.at(venue_counts, (labels[dated], prep.venue[dated]), 1.0)
    main_venue = np.where(venue_counts.sum(axis=1) > 0, venue_counts.argmax(axis=1), -1)
    year = prep.year
    known = np.isfinite(year)
    lo, hi = np.full(k, np.inf), np.full(k, -np.inf)
    np.fmin.at(lo, labels[known], year[known])
    np.fmax.at(hi, labels[known], year[known])
    total = np.zeros(k)
    np.add.at(total, labels[known], year[known])
    count = np.bincount(labels[known], minlength=k)
    lo[~np.isfinite(lo)], hi[~np.isfinite(hi)] = np.nan, np.nan
    coauth = (member @ prep.coauth).tocsr()
    coauth.data[:] = 1.0
    coauth_i = (member @ prep.coauth_i).tocsr()
    coauth_i.data[:] = 1.0
    affiliations: list[list[str]] = [[] for _ in range(k)]
    firsts: list[list[str]] = [[] for _ in range(k)]
    for s in range(n):
        c = int(labels[s])
        if prep.aff[s] and prep.aff[s] not in affiliations[c]:
            affiliations[c].append(prep.aff[s])
        if prep.first[s] not in firsts[c]:
            firsts[c].append(prep.first[s])
    return Groups(
        labels=labels,
        k=k,
        size=size,
        order=order,
        starts=starts,
        text=l2_rows(text_sum),
        text_sum=text_sum,
        topic=np.asarray(topic, dtype=np.float32),
        venue=l2_rows(venue_counts),
        main_venue=main_venue,
        year_lo=lo,
        year_hi=hi,
        year_mean=np.divide(total, count, out=np.full(k, np.nan), where=count > 0),
        coauth=coauth,
        coauth_i=coauth_i,
        n_coauthors=np.asarray(coauth.sum(axis=1)).ravel(),
        team=np.bincount(labels, weights=prep.n_coauth + 1, minlength=k) / np.maximum(size, 1),
        first_author=np.bincount(labels, weights=prep.position == 0, minlength=k)
        / np.maximum(size, 1),
        last_author=np.bincount(
            labels, weights=(prep.position == prep.n_coauth) & (prep.n_coauth >= 2), minlength=k
        )
        / np.maximum(size, 1),
        affiliations=affiliations,
        firsts=firsts,
    )


ROW_CHUNK = 512


def _max_between(m, g: Groups) -> np.ndarray:
    """k x k: the highest row dot product between members of two groups (rows of `m`, l2)."""
    k = g.k
    out = np.zeros((k, k), dtype=np.float32)
    if k == 0:
        return out
    sorted_m = m[g.order]
    start = 0
    while start < k:
        stop = start + 1
        while stop < k and g.starts[stop] + g.size[stop] - g.starts[start] <= ROW_CHUNK:
            stop += 1
        lo = int(g.starts[start])
        hi = int(g.starts[stop - 1] + g.size[stop - 1])
        block = sorted_m[lo:hi] @ sorted_m.T
        block = block.toarray() if sp.issparse(block) else np.asarray(block)
        cols = np.maximum.reduceat(block, g.starts, axis=1)
        out[start:stop] = np.maximum.reduceat(cols, g.starts[start:stop] - lo, axis=0)
        start = stop
    return out


# Up to this many groups, pair values come from the dense k x k Gram matrix: one sparse product
# instead of three sparse operations per feature (most of the time of a small page).
DENSE_GRAM_MAX = 600


def _gram(m) -> np.ndarray:
    gram = m @ m.T
    return np.asarray(gram.toarray() if sp.issparse(gram) else gram, dtype=np.float32)


def _pairdot(m, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if m.shape[0] <= DENSE_GRAM_MAX:
        return _gram(m)[a, b]
    if sp.issparse(m):
        return np.asarray(m[a].multiply(m[b]).sum(axis=1)).ravel().astype(np.float32)
    return np.einsum("ij,ij->i", m[a], m[b]).astype(np.float32)


def _relative(m, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """How close two groups are compared with each one's closest other group in the block:
    sim(a, b) / max over c != a of sim(a, c), the smaller of the two directions. Absolute
    similarity varies by field (a parsing block shares more words than a speech one); being each
    other's nearest group does not."""
    gram = _gram(m)
    np.fill_diagonal(gram, -np.inf)
    best = np.maximum(gram.max(axis=1), 1e-6)
    sim = gram[a, b]
    return np.minimum(sim / best[a], sim / best[b]).astype(np.float32)


def _affiliation(xs: list[str], ys: list[str]) -> float:
    if not xs or not ys:
        return np.nan
    return max(fuzz.token_set_ratio(x, y) for x in xs for y in ys) / 100.0


def _first_names(xs: list[str], ys: list[str]) -> float:
    return float(min(nm.first_compatibility(x, y) for x in xs for y in ys))


def features(prep, g: Groups, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Feature rows (len(a) x len(FEATURE_NAMES)) for the group pairs (a[k], b[k])."""
    m = len(a)
    x = np.full((m, len(FEATURE_NAMES)), np.nan, dtype=np.float32)
    if m == 0:
        return x

    def put(name: str, values) -> None:
        x[:, COLUMN[name]] = values

    sa, sb = g.size[a], g.size[b]
    put("size_min", np.minimum(sa, sb))
    put("size_max", np.maximum(sa, sb))
    put("block_size_log", np.log1p(prep.n))
    put("components", g.k)

    shared = _pairdot(g.coauth, a, b)
    put("coauthors_shared", shared)
    weighted = g.coauth.multiply(prep.coauthor_weight[None, :]).tocsr()
    put("coauthors_shared_weighted", _pairdot(weighted, a, b))
    put("coauthors_initials_shared", _pairdot(g.coauth_i, a, b))
    bridge, bridge_w = _bridges(prep, g, a, b)
    put("bridges", bridge)
    put("bridges_weighted", bridge_w)
    na, nb = g.n_coauthors[a], g.n_coauthors[b]
    put("bridges_share", bridge / np.maximum(np.sqrt(na * nb), 1.0))
    put("coauthors_min", np.minimum(na, nb))

    put("text_pooled", _pairdot(g.text, a, b))
    put("text_mean", _pairdot(g.text_sum, a, b) / (sa * sb))
    text_max = _max_between(prep.text, g)
    put("text_max", text_max[a, b])
    if g.topic.shape[1]:
        put("topic_pooled", _pairdot(g.topic, a, b))
        put("topic_max", _max_between(prep.topic, g)[a, b])
    put("title_max", _max_between(prep.title, g)[a, b])
    put("text_relative", _relative(g.text, a, b))
    if g.topic.shape[1]:
        put("topic_relative", _relative(g.topic, a, b))

    put("venue_cosine", _pairdot(g.venue, a, b))
    put("venue_same_main", (g.main_venue[a] == g.main_venue[b]) & (g.main_venue[a] >= 0))

    gap = np.maximum(np.maximum(g.year_lo[b] - g.year_hi[a], g.year_lo[a] - g.year_hi[b]), 0)
    put("year_gap", gap)
    put("year_mean_gap", np.abs(g.year_mean[a] - g.year_mean[b]))
    put("year_span_min", np.minimum(g.year_hi[a] - g.year_lo[a], g.year_hi[b] - g.year_lo[b]))

    put("team_mean_min", np.minimum(g.team[a], g.team[b]))
    put("team_mean_max", np.maximum(g.team[a], g.team[b]))
    put("first_author_gap", np.abs(g.first_author[a] - g.first_author[b]))
    put("last_author_gap", np.abs(g.last_author[a] - g.last_author[b]))

    aff = np.array(
        [_affiliation(g.affiliations[p], g.affiliations[q]) for p, q in zip(a, b, strict=True)],
        dtype=np.float32,
    )
    put("affiliation_both", np.isfinite(aff))
    put("affiliation_similarity", aff)

    put(
        "first_name_compatibility",
        [_first_names(g.firsts[p], g.firsts[q]) for p, q in zip(a, b, strict=True)],
    )
    # the block's most ambiguous printed name speaks for the whole block
    put("namesakes_log", np.log1p(float(prep.namesakes.max())))
    put("first_variety_log", np.log1p(float(prep.first_variety.max())))
    put("last_variety_log", np.log1p(float(prep.last_variety.max())))
    return x


def _bridges(prep, g: Groups, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How many (coauthor of one group, coauthor of the other) pairs have written a paper
    together anywhere in the Anthology (the whole-Anthology coauthor graph), plain and with
    prolific coauthors counting less. Only such direct edges count (see corpus.py), and never
    through an ambiguous coauthor (one who wrote with two of the block's namesakes at once: a
    namesake printed in the coauthor list is one, and it is linked to all of that namesake's
    collaborators)."""
    m = len(a)
    among = prep.coauthor_graph
    if among is None or among.nnz == 0:
        return np.zeros(m, dtype=np.float32), np.zeros(m, dtype=np.float32)
    usable = (~prep.ambiguous).astype(np.float32)
    w = prep.coauthor_weight.astype(np.float32)
    names = among.shape[0]
    if names * max(names, g.k) <= BRIDGES_DENSE_MAX:
        # a small page: dense products cost microseconds, sparse ones a fixed ~50 µs each
        dense = among.toarray() * usable[:, None] * usable[None, :]
        co = g.coauth.toarray()
        plain = np.einsum("ij,ij->i", (co @ dense)[a], co[b])
        cw = co * w[None, :]
        heavy = np.einsum("ij,ij->i", (cw @ dense)[a], cw[b])
        return plain.astype(np.float32), heavy.astype(np.float32)
    keep = sp.diags(usable)
    among = (keep @ among @ keep).tocsr()
    reach = (g.coauth @ among).tocsr()  # k x names: graph edges from each group's coauthors
    plain = np.asarray(reach[a].multiply(g.coauth[b]).sum(axis=1)).ravel()
    weighted = (g.coauth @ sp.diags(w)).tocsr()
    heavy = np.asarray((weighted @ among)[a].multiply(weighted[b]).sum(axis=1)).ravel()
    return plain.astype(np.float32), heavy.astype(np.float32)


BRIDGES_DENSE_MAX = 1_000_000


# Directions the merge probability may move in as a feature grows (+1 up, -1 down, 0 free):
# more shared evidence never makes two groups less likely one person, a more ambiguous name or a
# wider year gap never more likely. Besides encoding what is known, the constraints keep the
# classifier from memorising the few dozen common names of the training blocks by their counts.
MONOTONE: dict[str, int] = {
    "coauthors_shared": 1,
    "coauthors_shared_weighted": 1,
    "coauthors_initials_shared": 1,
    "bridges": 1,
    "bridges_weighted": 1,
    "bridges_share": 1,
    "text_pooled": 1,
    "text_mean": 1,
    "text_max": 1,
    "topic_pooled": 1,
    "topic_max": 1,
    "title_max": 1,
    "venue_cosine": 1,
    "venue_same_main": 1,
    "year_gap": -1,
    "year_mean_gap": -1,
    "affiliation_similarity": 1,
    "first_name_compatibility": 1,
    "namesakes_log": -1,
    "first_variety_log": -1,
    "last_variety_log": -1,
}

# The features that stand for each kind of reason a separation names (service._reasons).
REASON_FEATURES: dict[str, list[str]] = {
    # (the smaller group's coauthor count is a size, not a link between the groups)
    "coauthors": [f for f in GROUPS["coauthors"] if f != "coauthors_min"],
    "topic": GROUPS["topic"],
    "years": ["year_gap", "year_mean_gap"],
    "affiliation": ["affiliation_both", "affiliation_similarity"],
    "venue": ["venue_cosine", "venue_same_main"],
    "name": ["first_name_compatibility"],
}


def reference_values(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Typical feature values of one person's groups: the median over same-person pairs, and
    for affiliations over the pairs where both groups print one."""
    same = x[y]
    ref = np.nanmedian(same, axis=0) if len(same) else np.zeros(x.shape[1])
    both = same[same[:, COLUMN["affiliation_both"]] == 1]
    for name in REASON_FEATURES["affiliation"]:
        ref[COLUMN[name]] = np.nanmedian(both[:, COLUMN[name]]) if len(both) else 1.0
    return np.nan_to_num(ref).astype(np.float32)


def candidate_pairs(prep, g: Groups, *, neighbours: int) -> tuple[np.ndarray, np.ndarray]:
    """Group pairs worth scoring in a block of many groups: those tied by any coauthor evidence
    (shared names or initials, bridges), and each group's nearest by pooled text and topic.
    The other pairs take the mean probability of a random sample of them."""
    ties = g.coauth @ g.coauth.T + g.coauth_i @ g.coauth_i.T
    if prep.coauthor_graph is not None and prep.coauthor_graph.nnz:
        ties = ties + g.coauth @ prep.coauthor_graph @ g.coauth.T
    ties = sp.triu(ties, k=1).tocoo()
    pairs = set(zip(ties.row.tolist(), ties.col.tolist(), strict=True))
    k = g.k
    near = min(neighbours, k - 1)
    for m in (g.text, g.topic):
        if m.shape[1] == 0 or near < 1:
            continue
        for start in range(0, k, ROW_CHUNK):
            stop = min(start + ROW_CHUNK, k)
            block = m[start:stop] @ m.T
            block = block.toarray() if sp.issparse(block) else np.asarray(block)
            rows = np.arange(start, stop)
            block[rows - start, rows] = -np.inf
            top = np.argpartition(-block, near - 1, axis=1)[:, :near]
            for p, row in zip(rows.tolist(), top.tolist(), strict=True):
                pairs.update((min(p, q), max(p, q)) for q in row)
    arr = np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)
    return arr[:, 0], arr[:, 1]
