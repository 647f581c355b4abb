"""Pairwise features between author signatures of one block.

Everything per block is sparse or per signature; pair features are computed only for the pairs
asked for (all pairs of a small block, candidate pairs of a large one), never as an n x n matrix
per feature.
"""

import re
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import scipy.sparse as sp
from rapidfuzz import fuzz
from scipy.sparse.csgraph import connected_components
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from sklearn.utils import murmurhash3_32

from assignments.clustering import components
from assignments.clustering import corpus as cp
from assignments.clustering import names as nm
from assignments.clustering.vectors import l2_rows

TEXT_FEATURES = 1 << 18

FEATURE_NAMES = [
    "coauthors_shared",
    "coauthors_shared_weighted",
    "coauthors_jaccard",
    "coauthors_initial_shared",
    "text_cosine",
    "title_cosine",
    "topic_cosine",
    "same_venue",
    "venue_share",
    "year_gap",
    "affiliation_similarity",
    "first_name_compatibility",
    "full_name_count_log",
    "first_name_count_log",
    "last_name_count_log",
    "min_coauthor_count",
    "max_coauthor_count",
    "abstracts_present",
    "profile_cosine",
    "coauthors_2hop_shared",
    "same_coauthor_component",
    "same_venue_year",
]


_WORD = re.compile(r"\w+")


def _is_term(word: str) -> bool:
    r"""A lower-cased word run (\w+) that is a term: two letters or more, no digit and no
    underscore in it (so that it is a whole word of letters), not an English stop word."""
    return (
        len(word) > 1
        and word not in ENGLISH_STOP_WORDS
        and (word.isalpha() or ("_" not in word and not any(c.isdecimal() for c in word)))
    )


def tokens(text: str) -> list[str]:
    r"""The terms of a text. They are the terms of scikit-learn's HashingVectorizer with
    token_pattern r"(?u)\b[^\W\d_][^\W\d_]+\b" and stop_words="english", which the model was
    built with (a test compares the two), at a fraction of its cost."""
    return [w for w in _WORD.findall(text.lower()) if _is_term(w)]


# Word -> its hashed column, or -1 for a word that is no term: texts repeat their words, and
# a lookup is cheaper than the test and the hash. Bounded: cleared when full.
_COLUMNS: dict[str, int] = {}
COLUMNS_CACHED = 100_000


def _counts(texts: list[str]) -> sp.csr_matrix:
    """Each text's term counts in TEXT_FEATURES hashed columns (term_index)."""
    if len(_COLUMNS) > COLUMNS_CACHED:
        _COLUMNS.clear()
    known = _COLUMNS.get
    indptr = [0]
    columns: list[int] = []
    for text in texts:
        for word in _WORD.findall(text.lower()):
            column = known(word)
            if column is None:
                column = _COLUMNS[word] = term_index(word) if _is_term(word) else -1
            if column >= 0:
                columns.append(column)
        indptr.append(len(columns))
    m = sp.csr_matrix(
        (
            np.ones(len(columns)),
            np.asarray(columns, dtype=np.int32),
            np.asarray(indptr, dtype=np.int64),
        ),
        shape=(len(texts), TEXT_FEATURES),
    )
    m.sum_duplicates()
    return m


# Hashed rows of recently seen texts. Ranking scores the same candidates' papers again and again
# (a reviewer's selection of up to 12 papers is ranked paper by paper against one candidate list,
# and the next selection on the page meets the same candidates); tokenising is most of its cost.
# Bounded: cleared when full. Large calls (training's whole-corpus passes) bypass it.
_ROWS: dict[str, tuple[np.ndarray, np.ndarray]] = {}
ROWS_CACHED = 20_000
ROWS_CACHE_CALL_MAX = 5_000


def hashed_counts(texts: list[str]) -> sp.csr_matrix:
    if len(texts) > ROWS_CACHE_CALL_MAX:
        return _counts(texts)
    # This call's rows are kept in a dict of its own: gunicorn's threads share _ROWS, and another
    # thread may clear it between this call's filling and reading it.
    found: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    missing: list[str] = []
    for text in dict.fromkeys(texts):
        row = _ROWS.get(text)
        if row is None:
            missing.append(text)
        else:
            found[text] = row
    if len(_ROWS) + len(missing) > ROWS_CACHED:
        _ROWS.clear()
    if missing:
        m = _counts(missing)
        for k, text in enumerate(missing):
            lo, hi = m.indptr[k], m.indptr[k + 1]
            found[text] = _ROWS[text] = (m.indices[lo:hi].copy(), m.data[lo:hi].copy())
    rows = [found[t] for t in texts]
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(r[0]) for r in rows])
    if not rows or indptr[-1] == 0:
        return sp.csr_matrix((len(rows), TEXT_FEATURES), dtype=np.float64)
    return sp.csr_matrix(
        (np.concatenate([r[1] for r in rows]), np.concatenate([r[0] for r in rows]), indptr),
        shape=(len(rows), TEXT_FEATURES),
    )


@lru_cache(maxsize=100_000)
def term_index(term: str) -> int:
    """The hashed column of a term, as scikit-learn's HashingVectorizer computes it."""
    return abs(murmurhash3_32(term, seed=0)) % TEXT_FEATURES


def sig_text(sig: dict) -> str:
    return f"{sig.get('title') or ''} {sig.get('abstract') or ''}"


def tfidf(counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    m = counts.astype(np.float32)
    m.data = (1.0 + np.log(m.data)) * idf[m.indices].astype(np.float32)
    return l2_rows(m)


@dataclass
class PreparedBlock:
    """Per-signature arrays of one block, ready for pair features."""

    sigs: list[dict]
    text: sp.csr_matrix  # l2 tf-idf of title + abstract
    title: sp.csr_matrix  # l2 tf-idf of the title alone
    topic: np.ndarray  # l2 topic vectors (the corpus's LSA space) of `text` (n x k), or n x 0
    coauth: sp.csr_matrix  # binary, exact coauthor names
    coauth_weighted: sp.csr_matrix  # `coauth` with rare coauthor names counting more
    coauth_i: sp.csr_matrix  # binary, "initial surname" keys
    n_coauth: np.ndarray
    year: np.ndarray
    venue: np.ndarray  # code per signature, -1 when missing
    venue_share: np.ndarray  # share of the block's signatures at that venue
    aff: list[str]
    first: list[str]
    full_count: np.ndarray
    first_count: np.ndarray
    last_count: np.ndarray
    namesakes: np.ndarray  # NameStats.namesakes of the signature's printed name
    first_variety: np.ndarray  # distinct surnames printed with the first name
    last_variety: np.ndarray  # distinct first names printed with the surname
    has_abstract: np.ndarray
    coauthor_names: list[list[str]]
    adjacency: sp.csr_matrix  # 0/1: shares a coauthor with (or is) the other signature
    profile: sp.csr_matrix  # text of the signature and its coauthor-sharing neighbours
    coauth2: sp.csr_matrix  # coauthors of the signature and of its neighbours
    component: np.ndarray  # connected component of the shared-coauthor graph
    position: np.ndarray  # author position on the paper (0 = first)
    coauthor_weight: np.ndarray  # per coauthor column: rarer names weigh more
    coauthor_degree: np.ndarray  # per coauthor column: distinct coauthors in the Anthology
    coauthor_namesakes: np.ndarray  # per coauthor column: NameStats.namesakes of the name
    coauthor_graph: sp.csr_matrix | None  # coauthor columns x columns: wrote together anywhere
    ambiguous: np.ndarray  # per coauthor column: wrote a paper with two of the block's entries
    text_columns: np.ndarray  # the hashed term of each column of `text` and `title`
    coauthor_nodes: np.ndarray  # per coauthor column: its node in the corpus graph, -1 if none
    deferred: bool = False  # topics and coauthor graph not computed yet (see `complete`)

    @property
    def n(self) -> int:
        return len(self.sigs)


def _vocab_matrix(rows: list[list[str]]) -> tuple[sp.csr_matrix, list[str]]:
    vocab: dict[str, int] = {}
    indptr, indices = [0], []
    for keys in rows:
        cols = {vocab.setdefault(k, len(vocab)) for k in keys if k}
        indices.extend(sorted(cols))
        indptr.append(len(indices))
    data = np.ones(len(indices), dtype=np.float32)
    m = sp.csr_matrix((data, indices, indptr), shape=(len(rows), max(len(vocab), 1)))
    inv = [""] * len(vocab)
    for k, i in vocab.items():
        inv[i] = k
    return m, inv


def complete(prep: PreparedBlock, model, corpus=None) -> PreparedBlock:
    """A block prepared with `deferred=True`, with its topics and coauthor graph added."""
    if not prep.deferred:
        return prep
    corpus = corpus if corpus is not None else getattr(model, "corpus", None)
    graph_known = prep.coauthor_nodes.size and (prep.coauthor_nodes >= 0).any()
    return replace(
        prep,
        topic=corpus.topics.project(prep.text, prep.text_columns),
        coauthor_graph=corpus.graph.among(prep.coauthor_nodes) if graph_known else None,
        deferred=False,
    )


def _used_columns(*ms: sp.csr_matrix) -> tuple[list[sp.csr_matrix], np.ndarray]:
    """The matrices (same columns) restricted to the columns any of them uses, renumbered, and
    the original column of each new one."""
    used = np.unique(np.concatenate([m.indices for m in ms]))
    out = []
    for m in ms:
        out.append(
            sp.csr_matrix(
                (m.data, np.searchsorted(used, m.indices).astype(np.int32), m.indptr),
                shape=(m.shape[0], max(len(used), 1)),
            )
        )
    return out, used


def prepare(
    sigs: list[dict], model, corpus=None, *, graph: bool = True, deferred: bool = False
) -> PreparedBlock:
    """Vectorise a block's signatures. `model` gives the IDF and the name statistics; `corpus`
    (default: the model's) the topic space and the coauthor graph, which only stage 2 reads
    (`graph=False` skips the graph). `deferred` leaves the topics and the graph among the
    block's coauthors out until `complete` adds them: a page whose papers stage 1 ties into
    one group never needs them."""
    stats: nm.NameStats = model.name_stats
    idf: np.ndarray = model.idf
    corpus = corpus if corpus is not None else getattr(model, "corpus", None)
    n = len(sigs)
    # Hashed counts add up: title + abstract counts are the counts of "title abstract".
    title_counts = hashed_counts([s.get("title") or "" for s in sigs])
    abstract_counts = hashed_counts([s.get("abstract") or "" for s in sigs])
    text = tfidf((title_counts + abstract_counts).tocsr(), idf)
    title = tfidf(title_counts, idf)
    # Only dot products between rows are taken from here on: keep just the terms the block
    # uses as columns (a few hundred, not 2^20), which makes every product and transpose cheap.
    (text, title), text_columns = _used_columns(text, title)
    topic = np.zeros((n, 0), dtype=np.float32)
    if corpus is not None and not deferred:
        topic = corpus.topics.project(text, text_columns)

    own_keys = [nm.full_key(s.get("first"), s.get("last")) for s in sigs]
    exact_rows, initial_rows, printed_rows = [], [], []
    for s, own in zip(sigs, own_keys, strict=True):
        exact, initial, printed = [], [], []
        for c in s.get("coauthors") or ():
            e, i = nm.coauthor_keys(c)
            if e and e != own:
                exact.append(e)
                initial.append(i)
                printed.append(c)
        exact_rows.append(exact)
        initial_rows.append(initial)
        printed_rows.append(printed)
    coauth, vocab = _vocab_matrix(exact_rows)
    coauth_i, _ = _vocab_matrix(initial_rows)
    coauth_w = np.array(
        [1.0 / np.log(2.0 + stats.full_count(k)) for k in vocab] or [0.0], dtype=np.float32
    )
    # per coauthor: how common the name is (stage 1 reads it; ranking does not)
    namesakes = np.zeros(max(len(vocab), 1), dtype=np.float32)
    if graph and vocab:
        namesakes[:] = [stats.namesakes(*k.rsplit(" ", 1)) if " " in k else 0.0 for k in vocab]
    node = np.full(max(len(vocab), 1), -1, dtype=np.int64)
    if corpus is not None and vocab and graph:
        node = corpus.graph.lookup(np.array([cp.name_hash(k) for k in vocab], dtype=np.int64))
        degree = corpus.graph.degree(node)
        among = None if deferred else corpus.graph.among(node)
    else:
        degree = np.zeros(max(len(vocab), 1), dtype=np.float32)
        among = None
    n_coauth = np.asarray(coauth.sum(axis=1)).ravel().astype(np.float32)

    year = np.array(
        [float(s["year"]) if s.get("year") not in (None, "") else np.nan for s in sigs],
        dtype=np.float32,
    )
    venue_names = [(s.get("venue") or "").lower() for s in sigs]
    venue_counts = Counter(v for v in venue_names if v)
    codes = {v: i for i, v in enumerate(sorted(venue_counts))}
    venue = np.array([codes.get(v, -1) for v in venue_names], dtype=np.int32)
    venue_share = np.array(
        [venue_counts[v] / n if v else 0.0 for v in venue_names], dtype=np.float32
    )
    # Within the block, signatures sharing a coauthor are neighbours; a signature's profile
    # pools its neighbours' text and coauthors, so one person's papers that share nothing
    # directly still meet through their common collaborators.
    adjacency = (coauth @ coauth.T).tocsr()
    adjacency = (adjacency + sp.identity(n, format="csr", dtype=np.float32)).tocsr()
    adjacency.data[:] = 1.0
    profile = l2_rows(adjacency @ text)
    coauth2 = (adjacency @ coauth).tocsr()
    coauth2.data[:] = 1.0
    _, component = connected_components(adjacency, directed=False)
    firsts = [nm.norm(s.get("first")) for s in sigs]
    lasts = [nm.norm(s.get("last")) for s in sigs]
    return PreparedBlock(
        sigs=sigs,
        text=text,
        title=title,
        topic=topic,
        coauth=coauth,
        coauth_weighted=coauth.multiply(coauth_w[None, :]).tocsr(),
        coauth_i=coauth_i,
        n_coauth=n_coauth,
        year=year,
        venue=venue,
        venue_share=venue_share,
        aff=[nm.norm(s.get("affiliation")) for s in sigs],
        first=firsts,
        full_count=np.array([stats.full_count(k) for k in own_keys], dtype=np.float32),
        first_count=np.array([stats.first_count(f) for f in firsts], dtype=np.float32),
        last_count=np.array([stats.last_count(la) for la in lasts], dtype=np.float32),
        namesakes=np.array(
            [stats.namesakes(f, la) for f, la in zip(firsts, lasts, strict=True)], dtype=np.float32
        ),
        first_variety=np.array(
            [stats.variety(f, la)[0] for f, la in zip(firsts, lasts, strict=True)],
            dtype=np.float32,
        ),
        last_variety=np.array(
            [stats.variety(f, la)[1] for f, la in zip(firsts, lasts, strict=True)],
            dtype=np.float32,
        ),
        has_abstract=np.array([bool(s.get("abstract")) for s in sigs], dtype=np.float32),
        coauthor_names=printed_rows,
        adjacency=adjacency,
        profile=profile,
        coauth2=coauth2,
        component=component,
        position=np.array([int(s.get("author_position") or 0) for s in sigs], dtype=np.float32),
        coauthor_weight=coauth_w,
        coauthor_degree=degree,
        coauthor_namesakes=namesakes,
        coauthor_graph=among,
        text_columns=text_columns,
        coauthor_nodes=node,
        deferred=deferred and corpus is not None,
        ambiguous=components.ambiguous_coauthors(
            [str(s.get("paper_id") or "") for s in sigs], coauth
        ),
    )


DENSE_GRAM_MAX = 600


def _rowdot(m: sp.csr_matrix, i: np.ndarray, j: np.ndarray, chunk: int = 200_000) -> np.ndarray:
    """Row dot products for the pairs; small blocks go through the (small) Gram matrix."""
    if m.shape[0] <= DENSE_GRAM_MAX and len(i) > m.shape[0]:
        gram = (m @ m.T).toarray()
        return gram[i, j].astype(np.float32)
    out = np.empty(len(i), dtype=np.float32)
    for s in range(0, len(i), chunk):
        a, b = m[i[s : s + chunk]], m[j[s : s + chunk]]
        out[s : s + chunk] = np.asarray(a.multiply(b).sum(axis=1)).ravel()
    return out


def _affiliation_similarity(a: str, b: str) -> float:
    # missing is not "different": leave it to the classifier as unknown
    return fuzz.token_set_ratio(a, b) / 100.0 if a and b else np.nan


def _per_distinct(values: list[str], i: np.ndarray, j: np.ndarray, func) -> np.ndarray:
    """func(values[i[k]], values[j[k]]) for every pair, called once per distinct pair of values
    (a block's papers mostly print one first name and few affiliations)."""
    uniq, inv = np.unique(np.array(values, dtype=object), return_inverse=True)
    m = len(uniq)
    codes, back = np.unique(inv[i] * m + inv[j], return_inverse=True)
    out = np.array([func(uniq[c // m], uniq[c % m]) for c in codes.tolist()], dtype=np.float32)
    return out[back] if len(out) else np.zeros(len(i), dtype=np.float32)


def pair_features(p: PreparedBlock, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Feature rows (len(i) x len(FEATURE_NAMES)) for the pairs (i[k], j[k])."""
    m = len(i)
    x = np.empty((m, len(FEATURE_NAMES)), dtype=np.float32)
    if m == 0:
        return x
    shared = _rowdot(p.coauth, i, j)
    weighted = _rowdot(p.coauth_weighted, i, j)
    x[:, 0] = shared
    x[:, 1] = weighted
    union = p.n_coauth[i] + p.n_coauth[j] - shared
    x[:, 2] = np.divide(shared, union, out=np.zeros(m, dtype=np.float32), where=union > 0)
    x[:, 3] = _rowdot(p.coauth_i, i, j)
    x[:, 4] = _rowdot(p.text, i, j)
    x[:, 5] = _rowdot(p.title, i, j)
    if p.topic.shape[1]:
        x[:, 6] = np.einsum("ij,ij->i", p.topic[i], p.topic[j])
    else:
        x[:, 6] = 0.0
    same_venue = (p.venue[i] == p.venue[j]) & (p.venue[i] >= 0)
    x[:, 7] = same_venue
    x[:, 8] = np.where(same_venue, p.venue_share[i], 0.0)
    x[:, 9] = np.abs(p.year[i] - p.year[j])
    x[:, 10] = _per_distinct(p.aff, i, j, _affiliation_similarity)
    x[:, 11] = _per_distinct(p.first, i, j, nm.first_compatibility)
    x[:, 12] = np.log1p(np.maximum(p.full_count[i], p.full_count[j]))
    # The fuller of two compatible first names says how ambiguous the pair is: an initial ("W.")
    # is rarely printed alone, yet stands for every "Wei" and "Wen" (the smaller count made
    # "W. Wang" look like a rare name, and the pair model took any W. Wang for the same person).
    x[:, 13] = np.log1p(np.maximum(p.first_count[i], p.first_count[j]))
    x[:, 14] = np.log1p(np.minimum(p.last_count[i], p.last_count[j]))
    x[:, 15] = np.minimum(p.n_coauth[i], p.n_coauth[j])
    x[:, 16] = np.maximum(p.n_coauth[i], p.n_coauth[j])
    x[:, 17] = p.has_abstract[i] + p.has_abstract[j]
    x[:, 18] = _rowdot(p.profile, i, j)
    x[:, 19] = _rowdot(p.coauth2, i, j)
    x[:, 20] = (p.component[i] == p.component[j]) & (p.n_coauth[i] > 0)
    x[:, 21] = same_venue & (p.year[i] == p.year[j])
    return x
