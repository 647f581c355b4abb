"""split_block and rank_candidates: the clustering service's API (see the project's contract).

split_block works in two stages:

1. coauthor components (components.py): signatures sharing a coauthor are joined, never across
   a cannot-link, an ambiguous or a prolific coauthor, or incompatible first names;
2. a merge model over pairs of components (merging.py) scores whether two of them are one
   person, and size-weighted average linkage joins them down to the model's threshold (the
   operating point, chosen on dev for precision: a wrong merge costs a reviewer more than a
   missed one).

Each group comes with the evidence that ties it, strongest first, and each pair of neighbouring
groups with the reasons they were kept apart, ranked by how much each moved the merge model's
probability down.
"""

import heapq
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from assignments.clustering import components, linkage, merging
from assignments.clustering import features as ft
from assignments.clustering import names as nm
from assignments.clustering.model import ClusteringModel, single_threaded

EVIDENCE_ITEMS = 5


@dataclass
class Cluster:
    signature_ids: list[str]
    confidence: float
    evidence: dict

    def to_dict(self) -> dict:
        return {
            "signatures": list(self.signature_ids),
            "confidence": round(float(self.confidence), 4),
            "evidence": self.evidence,
        }


@dataclass
class BlockResult:
    clusters: list[Cluster]
    # [{"clusters": [a, b], "similarity": float, "reason": str, "reasons": [{"kind", "text",
    #   "weight"}]}] for neighbouring clusters; `reason` names the strongest reason first
    separations: list[dict] = field(default_factory=list)
    estimated_people: float = 1.0
    # share of the block's signatures expected not to belong to its main person (0..1)
    mixed_score: float = 0.0
    # the operating point: the merge threshold the clusters were cut at
    threshold: float = 0.0

    def to_dict(self) -> dict:
        return {
            "clusters": [c.to_dict() for c in self.clusters],
            "separations": self.separations,
            "estimated_people": round(float(self.estimated_people), 3),
            "mixed_score": round(float(self.mixed_score), 4),
            "threshold": round(float(self.threshold), 4),
        }


@dataclass
class Candidate:
    person_id: str | None  # None: a new person
    score: float
    reasons: list[str] = field(default_factory=list)


@dataclass
class Constraints:
    must: list[tuple[int, int]]
    cannot: list[tuple[int, int]]
    orcid: set[tuple[int, int]]  # cannot-links from different ORCIDs
    paper: set[tuple[int, int]]  # cannot-links from two entries of one paper


def _constraint_pairs(
    sigs: Sequence[dict],
    index: dict[str, int],
    must_link: Iterable[tuple[str, str]],
    cannot_link: Iterable[tuple[str, str]],
) -> Constraints:
    """Index pairs to keep together and apart, from the caller's pairs and the data itself:
    one ORCID = one person, different ORCIDs = different persons, and two entries of one
    paper are different persons. The caller's must-links win over the derived cannot-links."""
    try:
        must = [(index[str(a)], index[str(b)]) for a, b in must_link]
        cannot = [(index[str(a)], index[str(b)]) for a, b in cannot_link]
    except KeyError as e:
        raise ValueError(f"constraint names an unknown signature id {e.args[0]!r}") from e
    by_orcid: dict[str, list[int]] = {}
    for k, s in enumerate(sigs):
        orcid = (s.get("orcid") or "").strip()
        if orcid:
            by_orcid.setdefault(orcid, []).append(k)
    for group in by_orcid.values():
        must.extend((group[0], other) for other in group[1:])
    uf = linkage.UnionFind(len(sigs))
    for a, b in must:
        uf.union(a, b)
    heads = [g[0] for g in by_orcid.values()]
    orcid_pairs = {
        (heads[x], heads[y]) for x in range(len(heads)) for y in range(x + 1, len(heads))
    }
    by_paper: dict[str, list[int]] = {}
    for k, s in enumerate(sigs):
        if s.get("paper_id"):
            by_paper.setdefault(str(s["paper_id"]), []).append(k)
    paper_pairs = {
        (group[x], group[y])
        for group in by_paper.values()
        for x in range(len(group))
        for y in range(x + 1, len(group))
    }
    derived = sorted(orcid_pairs | paper_pairs)
    cannot.extend((a, b) for a, b in derived if uf.find(a) != uf.find(b))
    return Constraints(must=must, cannot=cannot, orcid=orcid_pairs, paper=paper_pairs)


def pairs_to_score(prep: ft.PreparedBlock, model: ClusteringModel) -> tuple[np.ndarray, ...]:
    """Pair model (ranking and its training): every pair of a small block, candidate pairs of a
    larger one."""
    if prep.n <= model.all_pairs_max:
        return linkage.all_pairs(prep.n)
    return linkage.candidate_pairs(prep, k=model.neighbours)


def score_pairs(
    prep: ft.PreparedBlock, model: ClusteringModel
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Pairs scored by the pair model, their probabilities, and the probability assumed for
    unscored pairs."""
    n = prep.n
    i, j = pairs_to_score(prep, model)
    sim = model.predict(ft.pair_features(prep, i, j))
    if n <= model.all_pairs_max:
        return i, j, sim, 0.0
    known = set(zip(i.tolist(), j.tolist(), strict=True))
    oi, oj = linkage.random_other_pairs(n, known, 2000)
    default = float(model.predict(ft.pair_features(prep, oi, oj)).mean()) if len(oi) else 0.0
    return i, j, sim, default


@dataclass
class Stages:
    """What the two stages computed for one block (training reads it too)."""

    prep: ft.PreparedBlock
    constraints: Constraints
    labels: np.ndarray  # stage-1 component per signature
    groups: merging.Groups  # the components' aggregates
    a: np.ndarray  # scored component pairs
    b: np.ndarray
    x: np.ndarray  # their feature rows
    forbidden: list[tuple[int, int]]  # component pairs that must stay apart


def stages(
    sigs: Sequence[dict],
    model: ClusteringModel,
    *,
    must_link: Iterable[tuple[str, str]] = (),
    cannot_link: Iterable[tuple[str, str]] = (),
    corpus=None,
) -> Stages:
    """Stage 1 and the stage-2 feature rows of a block (no classifier needed)."""
    ids = [str(s["id"]) for s in sigs]
    index = {sid: k for k, sid in enumerate(ids)}
    if len(index) != len(ids):
        raise ValueError("signature ids must be unique within a block")
    constraints = _constraint_pairs(sigs, index, must_link, cannot_link)
    prep = ft.prepare(list(sigs), model, corpus, deferred=True)
    labels = components.coauthor_components(
        prep,
        must_link=constraints.must,
        cannot_link=constraints.cannot,
        hub_degree=model.hub_degree,
        common_name=model.common_name,
    )
    if labels.max(initial=0) > 0:  # two groups or more: stage 2 reads topics and the graph
        prep = ft.complete(prep, model, corpus)
    g = merging.groups(prep, labels)
    if g.k <= model.all_pairs_max:
        a, b = linkage.all_pairs(g.k)
    else:
        a, b = merging.candidate_pairs(prep, g, neighbours=model.component_neighbours)
    forbidden = sorted(
        {
            (int(min(labels[p], labels[q])), int(max(labels[p], labels[q])))
            for p, q in constraints.cannot
        }
    )
    return Stages(
        prep=prep,
        constraints=constraints,
        labels=labels,
        groups=g,
        a=a,
        b=b,
        x=merging.features(prep, g, a, b),
        forbidden=forbidden,
    )


def merge(
    st: Stages, model: ClusteringModel, threshold: float
) -> tuple[list, dict, float, np.ndarray]:
    """Stage 2: the merge model's probabilities, then size-weighted average linkage of the
    components. Returns the clusters (lists of components), the links between them, the
    probability assumed for component pairs that were not scored (large blocks), and the scored
    pairs' probabilities."""
    prob = model.predict_merge(st.x) if len(st.a) else np.zeros(0, dtype=np.float32)
    default = 0.0
    k = st.groups.k
    if k > model.all_pairs_max:
        known = set(zip(st.a.tolist(), st.b.tolist(), strict=True))
        oa, ob = linkage.random_other_pairs(k, known, 2000)
        if len(oa):
            default = float(
                model.predict_merge(merging.features(st.prep, st.groups, oa, ob)).mean()
            )
    clusters, between = linkage.cluster(
        k,
        st.a,
        st.b,
        prob,
        threshold=threshold,
        default=default,
        cannot_link=st.forbidden,
        sizes=st.groups.size,
    )
    return clusters, between, default, prob


@single_threaded
def split_block(
    signatures: Sequence[dict],
    *,
    model: ClusteringModel,
    must_link: Iterable[tuple[str, str]] = (),
    cannot_link: Iterable[tuple[str, str]] = (),
    threshold: float | None = None,
    corpus=None,
) -> BlockResult:
    """Split the signatures printed under one name into persons.

    `must_link`/`cannot_link` are pairs of signature ids; signatures sharing an ORCID are kept
    together and signatures with different ORCIDs apart. Constraints are never violated
    (contradictory ones raise linkage.ConstraintError). `threshold` overrides the model's
    operating point; `corpus` its whole-Anthology data (topic space, coauthor graph).
    """
    sigs = list(signatures)
    if not sigs:
        return BlockResult(clusters=[], estimated_people=0.0)
    threshold = model.threshold if threshold is None else float(threshold)
    st = stages(sigs, model, must_link=must_link, cannot_link=cannot_link, corpus=corpus)
    clusters, between, _, prob = merge(st, model, threshold)
    return _describe(st, model, clusters, between, threshold, prob)


def _describe(
    st: Stages, model: ClusteringModel, clusters, between, threshold, prob: np.ndarray
) -> BlockResult:
    prep, g = st.prep, st.groups
    n = prep.n
    ids = [str(s["id"]) for s in prep.sigs]
    cluster_of_component = np.empty(g.k, dtype=np.int64)
    for c, comps in enumerate(clusters):
        cluster_of_component[comps] = c
    label = cluster_of_component[st.labels]
    members = [np.flatnonzero(label == c).tolist() for c in range(len(clusters))]

    # cohesion: the size-weighted mean merge probability among a cluster's components (a
    # single component is tied by coauthors, or is one signature)
    cohesion = np.ones(len(clusters))
    if len(clusters) < g.k and len(prob):
        inside = cluster_of_component[st.a] == cluster_of_component[st.b]
        weight = g.size[st.a] * g.size[st.b]
        total = np.bincount(
            cluster_of_component[st.a][inside],
            weights=(prob * weight)[inside],
            minlength=len(clusters),
        )
        count = np.bincount(
            cluster_of_component[st.a][inside], weights=weight[inside], minlength=len(clusters)
        )
        cohesion = np.where(count > 0, total / np.maximum(count, 1e-9), 1.0)
    nearest = np.zeros(len(clusters))
    for (a, b), (avg, forbidden) in between.items():
        if not forbidden:
            nearest[a] = max(nearest[a], avg)
            nearest[b] = max(nearest[b], avg)

    tokens = [ft.tokens(s.get("title") or "") for s in prep.sigs]
    block_terms = Counter(t for toks in tokens for t in set(toks))
    result_clusters = []
    for c, sig_members in enumerate(members):
        confidence = min(cohesion[c], 1.0 - nearest[c])
        result_clusters.append(
            Cluster(
                signature_ids=[ids[m] for m in sig_members],
                confidence=float(max(0.0, min(1.0, confidence))),
                evidence=_evidence(prep, model, sig_members, tokens, block_terms),
            )
        )

    separations = _separations(st, model, label, result_clusters, between)

    # expected number of people: each cluster beyond the largest counts by how sure we are
    # that it is not the same person as a larger cluster.
    link_to_earlier = np.zeros(len(clusters))
    link_to_main = np.zeros(len(clusters))
    for (a, b), (avg, forbidden) in between.items():
        if not forbidden:
            link_to_earlier[b] = max(link_to_earlier[b], avg)
            if a == 0:
                link_to_main[b] = avg
    link_to_main[0] = 1.0
    estimated = float(1.0 + sum(1.0 - link_to_earlier[c] for c in range(1, len(clusters))))
    sizes = np.array([len(m) for m in members], dtype=np.float64)
    mixed = float(1.0 - (sizes * link_to_main).sum() / n)
    return BlockResult(
        clusters=result_clusters,
        separations=separations,
        estimated_people=estimated,
        mixed_score=max(0.0, min(1.0, mixed)),
        threshold=threshold,
    )


NEIGHBOURS_EXPLAINED = 3  # separations listed per cluster: its nearest others


def _separations(st: Stages, model, label: np.ndarray, clusters, between) -> list[dict]:
    per_cluster: dict[int, list[tuple[float, int, int, bool]]] = {}
    for (a, b), (avg, forbidden) in between.items():
        per_cluster.setdefault(a, []).append((avg, a, b, forbidden))
        per_cluster.setdefault(b, []).append((avg, a, b, forbidden))
    chosen: dict[tuple[int, int], tuple[float, bool]] = {}
    for entries in per_cluster.values():
        entries.sort(key=lambda e: (e[3], -e[0]))
        for avg, a, b, forbidden in entries[:NEIGHBOURS_EXPLAINED]:
            chosen[(a, b)] = (avg, forbidden)
    if not chosen:
        return []

    def cluster_pair(x: int, y: int) -> tuple[int, int]:
        return (int(min(label[x], label[y])), int(max(label[x], label[y])))

    orcid = {cluster_pair(x, y) for x, y in st.constraints.orcid}
    paper = {cluster_pair(x, y) for x, y in st.constraints.paper}
    pairs = sorted(chosen)
    explained = [p for p in pairs if not chosen[p][1]]
    ranked = _ranked_reasons(st, model, label, clusters, explained)
    separations = []
    for a, b in pairs:
        avg, forbidden = chosen[(a, b)]
        if forbidden:
            if (a, b) in orcid:
                text = "different ORCIDs"
            elif (a, b) in paper:
                text = "two authors of one paper"
            else:
                text = "kept apart by a reviewer"
            reasons: list[dict] = [{"kind": "constraint", "text": text, "weight": 1.0}]
        else:
            reasons = ranked[(a, b)] or [
                {"kind": "overall", "text": f"weak overall similarity ({avg:.2f})", "weight": 0.0}
            ]
        separations.append(
            {
                "clusters": [a, b],
                "similarity": round(float(avg), 4),
                "reason": "; ".join(str(r["text"]) for r in reasons),
                "reasons": reasons,
            }
        )
    return separations


# Evidence kinds a reason can name, with the feature groups whose values stand for them.
REASON_KINDS = ("coauthors", "topic", "years", "affiliation", "venue", "name")
MIN_REASON_WEIGHT = 0.01  # a kind that moved the probability by less says nothing


def _ranked_reasons(st: Stages, model, label, clusters, pairs) -> dict[tuple, list[dict]]:
    """For each pair of final clusters, the evidence kinds that kept them apart, strongest
    first: each kind's features are set to their typical value for one person's groups (the
    model's `merge_reference`), and the rise in merge probability is how much that kind
    moved the decision."""
    out: dict[tuple, list[dict]] = {p: [] for p in pairs}
    if not pairs:
        return out
    x = _rows_of_components(st, label, pairs)
    if x is None:
        final = merging.groups(st.prep, label)
        a = np.array([p[0] for p in pairs], dtype=np.int64)
        b = np.array([p[1] for p in pairs], dtype=np.int64)
        x = merging.features(st.prep, final, a, b)
    reference = np.asarray(model.merge_reference, dtype=np.float32)
    variants = [x]
    for kind in REASON_KINDS:
        moved = x.copy()
        cols = [merging.COLUMN[name] for name in merging.REASON_FEATURES[kind]]
        moved[:, cols] = reference[cols]
        variants.append(moved)
    prob = model.predict_merge(np.vstack(variants)).reshape(len(variants), len(pairs))
    rise = prob[1:] - prob[0]
    for k, (p, q) in enumerate(pairs):
        found: list[dict] = []
        for r, kind in enumerate(REASON_KINDS):
            text = _reason_text(kind, x[k], clusters[p].evidence, clusters[q].evidence)
            if text and rise[r, k] >= MIN_REASON_WEIGHT:
                found.append({"kind": kind, "text": text, "weight": round(float(rise[r, k]), 4)})
        found.sort(key=lambda r: -r["weight"])
        out[(p, q)] = found
    return out


def _rows_of_components(st: Stages, label: np.ndarray, pairs: list) -> np.ndarray | None:
    """The merge-feature rows of pairs of final clusters when nothing was merged (each cluster is
    one component, as on most small pages) and stage 2 scored those pairs: the rows it already
    computed (the features are symmetric). None otherwise."""
    if int(label.max()) + 1 != st.groups.k:
        return None
    component = np.empty(st.groups.k, dtype=np.int64)
    component[label] = st.labels
    row_of = {pair: r for r, pair in enumerate(zip(st.a.tolist(), st.b.tolist(), strict=True))}
    rows = []
    for p, q in pairs:
        a, b = int(component[p]), int(component[q])
        row = row_of.get((min(a, b), max(a, b)))
        if row is None:
            return None
        rows.append(row)
    return st.x[rows]


def _reason_text(kind: str, row: np.ndarray, ea: dict, eb: dict) -> str:
    """What a reason says, or "" when the pair holds no such evidence against a merge."""

    def value(name: str) -> float:
        return float(row[merging.COLUMN[name]])

    if kind == "coauthors":
        if value("coauthors_shared") > 0 or value("bridges") > 0:
            return ""
        return "disjoint coauthors (none shared, none who wrote with the other group's)"
    if kind == "topic":
        ta, tb = ea["terms"][:3], eb["terms"][:3]
        if not ta or not tb:
            return "different topics"
        return f"distinct topic terms ({', '.join(ta)} vs {', '.join(tb)})"
    if kind == "years":
        ya, yb = ea["years"], eb["years"]
        if not ya or not yb or value("year_gap") < 1:
            return ""
        return f"distant years ({_span(ya)} vs {_span(yb)})"
    if kind == "affiliation":
        if not ea["affiliations"] or not eb["affiliations"]:
            return ""
        if value("affiliation_similarity") >= 0.8:
            return ""
        return f"different affiliations ({ea['affiliations'][0]} vs {eb['affiliations'][0]})"
    if kind == "venue":
        if not ea["venues"] or not eb["venues"] or set(ea["venues"]) & set(eb["venues"]):
            return ""
        return f"different venues ({ea['venues'][0]} vs {eb['venues'][0]})"
    if kind == "name":
        return "first names differ" if value("first_name_compatibility") == 0 else ""
    return ""


def _span(years: list[int]) -> str:
    return str(years[0]) if years[0] == years[1] else f"{years[0]}–{years[1]}"


def _top(counter: Counter, k: int = EVIDENCE_ITEMS) -> list[str]:
    return [v for v, _ in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:k]]


def _evidence(prep, model, members, tokens, block_terms) -> dict:
    """What ties a cluster, each list strongest first: coauthors on most of its papers, its
    most distinctive title terms, main venues and affiliations, and its years."""
    sigs = [prep.sigs[m] for m in members]
    coauthors = Counter(c for m in members for c in prep.coauthor_names[m])
    # Coauthors seen once say little in a large cluster; keep them only when nothing repeats.
    repeated = Counter({c: k for c, k in coauthors.items() if k > 1})
    venues = Counter((s.get("venue") or "") for s in sigs if s.get("venue"))
    affiliations = Counter(s["affiliation"].strip() for s in sigs if (s.get("affiliation") or ""))
    years = [int(s["year"]) for s in sigs if s.get("year") not in (None, "")]
    return {
        "coauthors": _top(repeated or coauthors),
        "terms": _distinctive_terms(model, members, tokens, block_terms, len(prep.sigs)),
        "venues": _top(venues, 3),
        "years": [min(years), max(years)] if years else [],
        "affiliations": _top(affiliations, 3),
    }


def _distinctive_terms(model, members, tokens, block_terms, n, k: int = EVIDENCE_ITEMS):
    inside = Counter(t for m in members for t in set(tokens[m]))
    size, rest = len(members), max(n - len(members), 1)
    scored = []
    for term, count in inside.items():
        if size > 2 and count < 2:
            continue
        idf = float(model.idf[ft.term_index(term)])
        outside = block_terms[term] - count
        scored.append(((count / size - outside / rest) * idf, term))
    scored.sort(key=lambda x: (-x[0], x[1]))
    return [t for s, t in scored[:k] if s > 0]


RANK_SHORTLIST = 2  # signatures scored per candidate person
RANK_REASONS = 10  # candidates, best first, that get reasons


def _shortlist(signature: dict, sigs: Sequence[dict], k: int) -> list[int]:
    """The k signatures of one candidate most worth scoring: shared coauthors, venue, years.
    A cheap look that keeps ranking fast for persons with hundreds of papers."""
    if len(sigs) <= k:
        return list(range(len(sigs)))
    mine = {nm.coauthor_keys(c)[0] for c in signature.get("coauthors") or ()}
    venue = signature.get("venue")
    year = int(signature.get("year") or 0)  # a year may come as text ("2011")

    def cheap(x: int) -> tuple:
        s = sigs[x]
        # without coauthors of its own, the query shares none: skip the name lookups
        shared = (
            len(mine.intersection(map(nm.coauthor_key, s.get("coauthors") or ()))) if mine else 0
        )
        return (-shared, s.get("venue") != venue, abs(int(s.get("year") or 0) - year), x)

    return heapq.nsmallest(k, range(len(sigs)), key=cheap)


@single_threaded
def rank_candidates(
    signature: dict, candidates: Sequence[dict], *, model: ClusteringModel
) -> list[Candidate]:
    """Score each candidate person for `signature`, best first, with a "new person" entry
    (person_id None) scored at the merge threshold: candidates below it are unlikely matches."""
    sigs = [dict(signature, id="__query__")]
    owner: list[int] = []
    for c_index, cand in enumerate(candidates):
        theirs = list(cand.get("signatures") or ())
        for k in _shortlist(signature, theirs, RANK_SHORTLIST):
            sigs.append(dict(theirs[k], id=f"{c_index}/{k}"))
            owner.append(c_index)
    results = [Candidate(person_id=None, score=float(model.threshold), reasons=["new person"])]
    if len(sigs) == 1:
        return results
    prep = ft.prepare(sigs, model, graph=False)
    j = np.arange(1, len(sigs), dtype=np.int64)
    i = np.zeros_like(j)
    x = ft.pair_features(prep, i, j)
    prob = model.predict(x)
    # owner is sorted: each candidate's rows are one run
    bounds = np.searchsorted(np.array(owner), np.arange(len(candidates) + 1))
    scored = []
    for c_index in range(len(candidates)):
        rows = np.arange(bounds[c_index], bounds[c_index + 1])
        if len(rows) == 0:
            continue
        p = np.sort(prob[rows])[::-1]
        scored.append((float(0.5 * p[0] + 0.5 * p[:3].mean()), c_index, rows))
    scored.sort(key=lambda e: (-e[0], str(candidates[e[1]]["person_id"])))
    for rank, (score, c_index, rows) in enumerate(scored):
        # Reasons are for the few a reviewer reads; the long tail only needs its score.
        reasons = _rank_reasons(prep, x[rows], rows + 1) if rank < RANK_REASONS else []
        results.append(
            Candidate(person_id=candidates[c_index]["person_id"], score=score, reasons=reasons)
        )
    results.sort(key=lambda c: (-c.score, c.person_id is not None))
    return results


def _rank_reasons(prep, x: np.ndarray, rows: np.ndarray) -> list[str]:
    col = {n: k for k, n in enumerate(ft.FEATURE_NAMES)}
    reasons = []
    query_coauthors = set(prep.coauthor_names[0])
    shared = sorted(
        {c for r in rows.tolist() for c in prep.coauthor_names[r] if c in query_coauthors}
    )
    if shared:
        reasons.append("shared coauthors: " + ", ".join(shared[:EVIDENCE_ITEMS]))
    best_text = float(np.nanmax(x[:, col["text_cosine"]]))
    if best_text >= 0.2:
        reasons.append(f"similar topic (text similarity {best_text:.2f})")
    if float(x[:, col["same_venue"]].max()) > 0:
        reasons.append(f"publishes at {prep.sigs[0].get('venue')}")
    aff = x[:, col["affiliation_similarity"]]
    if np.isfinite(aff).any() and float(np.nanmax(aff)) >= 0.8:
        reasons.append("same affiliation")
    gap = x[:, col["year_gap"]]
    if np.isfinite(gap).any():
        reasons.append(f"closest paper {int(np.nanmin(gap))} years apart")
    if float(x[:, col["first_name_compatibility"]].max()) == 0:
        reasons.append("first names differ")
    return reasons
