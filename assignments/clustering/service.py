"""split_block and rank_candidates: the clustering service's API (see the project's contract)."""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from assignments.clustering import features as ft
from assignments.clustering import linkage
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
    # [{"clusters": [a, b], "similarity": float, "reason": str}] for neighbouring clusters
    separations: list[dict] = field(default_factory=list)
    estimated_people: float = 1.0
    # share of the block's signatures expected not to belong to its main person (0..1)
    mixed_score: float = 0.0

    def to_dict(self) -> dict:
        return {
            "clusters": [c.to_dict() for c in self.clusters],
            "separations": self.separations,
            "estimated_people": round(float(self.estimated_people), 3),
            "mixed_score": round(float(self.mixed_score), 4),
        }


@dataclass
class Candidate:
    person_id: str | None  # None: a new person
    score: float
    reasons: list[str] = field(default_factory=list)


def _constraint_pairs(
    sigs: Sequence[dict],
    index: dict[str, int],
    must_link: Iterable[tuple[str, str]],
    cannot_link: Iterable[tuple[str, str]],
) -> tuple[list[tuple[int, int]], list[tuple[int, int]], set[tuple[int, int]]]:
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
    derived: list[tuple[int, int]] = []
    heads = [g[0] for g in by_orcid.values()]
    orcid_pairs = {
        (heads[x], heads[y]) for x in range(len(heads)) for y in range(x + 1, len(heads))
    }
    derived.extend(orcid_pairs)
    by_paper: dict[str, list[int]] = {}
    for k, s in enumerate(sigs):
        if s.get("paper_id"):
            by_paper.setdefault(str(s["paper_id"]), []).append(k)
    for group in by_paper.values():
        derived.extend(
            (group[x], group[y]) for x in range(len(group)) for y in range(x + 1, len(group))
        )
    cannot.extend((a, b) for a, b in derived if uf.find(a) != uf.find(b))
    return must, cannot, orcid_pairs


def pairs_to_score(prep: ft.PreparedBlock, model: ClusteringModel) -> tuple[np.ndarray, ...]:
    """Every pair of a small block; the candidate pairs of a larger one."""
    if prep.n <= model.all_pairs_max:
        return linkage.all_pairs(prep.n)
    return linkage.candidate_pairs(prep, k=model.neighbours)


def score_pairs(
    prep: ft.PreparedBlock, model: ClusteringModel
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Pairs scored, their probabilities, and the probability assumed for unscored pairs."""
    n = prep.n
    i, j = pairs_to_score(prep, model)
    sim = model.predict(ft.pair_features(prep, i, j))
    if n <= model.all_pairs_max:
        return i, j, sim, 0.0
    known = set(zip(i.tolist(), j.tolist(), strict=True))
    oi, oj = linkage.random_other_pairs(n, known, 2000)
    default = float(model.predict(ft.pair_features(prep, oi, oj)).mean()) if len(oi) else 0.0
    return i, j, sim, default


@single_threaded
def split_block(
    signatures: Sequence[dict],
    *,
    model: ClusteringModel,
    must_link: Iterable[tuple[str, str]] = (),
    cannot_link: Iterable[tuple[str, str]] = (),
) -> BlockResult:
    """Split the signatures printed under one name into persons.

    `must_link`/`cannot_link` are pairs of signature ids; signatures sharing an ORCID are kept
    together and signatures with different ORCIDs apart. Constraints are never violated
    (contradictory ones raise linkage.ConstraintError).
    """
    sigs = list(signatures)
    if not sigs:
        return BlockResult(clusters=[], estimated_people=0.0)
    ids = [str(s["id"]) for s in sigs]
    index = {sid: k for k, sid in enumerate(ids)}
    if len(index) != len(ids):
        raise ValueError("signature ids must be unique within a block")
    must, cannot, orcid_pairs = _constraint_pairs(sigs, index, must_link, cannot_link)
    prep = ft.prepare(sigs, model)
    i, j, sim, default = score_pairs(prep, model)
    groups, between = linkage.cluster(
        len(sigs),
        i,
        j,
        sim,
        threshold=model.threshold,
        default=default,
        must_link=must,
        cannot_link=cannot,
    )
    return _describe(prep, model, ids, groups, between, i, j, sim, orcid_pairs)


def _describe(prep, model, ids, groups, between, i, j, sim, orcid_pairs) -> BlockResult:
    n = prep.n
    label = np.empty(n, dtype=np.int64)
    for c, members in enumerate(groups):
        label[members] = c
    # strongest scored tie of each signature inside its cluster
    best = np.zeros(n, dtype=np.float32)
    inside = label[i] == label[j]
    np.maximum.at(best, i[inside], sim[inside])
    np.maximum.at(best, j[inside], sim[inside])
    nearest = np.zeros(len(groups), dtype=np.float64)
    for (a, b), (avg, forbidden) in between.items():
        if not forbidden:
            nearest[a] = max(nearest[a], avg)
            nearest[b] = max(nearest[b], avg)

    analyze = ft.analyzer()
    tokens = [analyze(s.get("title") or "") for s in prep.sigs]
    block_terms = Counter(t for toks in tokens for t in set(toks))
    clusters = []
    for c, members in enumerate(groups):
        cohesion = float(best[members].mean()) if len(members) > 1 else 1.0
        confidence = min(cohesion, 1.0 - nearest[c])
        clusters.append(
            Cluster(
                signature_ids=[ids[m] for m in members],
                confidence=max(0.0, min(1.0, confidence)),
                evidence=_evidence(prep, model, members, tokens, block_terms),
            )
        )

    # separations: each cluster's three nearest neighbours, with the main reason
    per_cluster: dict[int, list[tuple[float, int, int, bool]]] = {}
    for (a, b), (avg, forbidden) in between.items():
        per_cluster.setdefault(a, []).append((avg, a, b, forbidden))
        per_cluster.setdefault(b, []).append((avg, a, b, forbidden))
    chosen: dict[tuple[int, int], tuple[float, bool]] = {}
    for entries in per_cluster.values():
        entries.sort(key=lambda e: (e[3], -e[0]))
        for avg, a, b, forbidden in entries[:3]:
            chosen[(a, b)] = (avg, forbidden)
    orcid_clusters = {(min(label[x], label[y]), max(label[x], label[y])) for x, y in orcid_pairs}
    separations = []
    for (a, b), (avg, forbidden) in sorted(chosen.items()):
        if forbidden:
            reason = "different ORCIDs" if (a, b) in orcid_clusters else "kept apart by a reviewer"
        else:
            reason = _reason(clusters[a].evidence, clusters[b].evidence, avg)
        separations.append({"clusters": [a, b], "similarity": round(avg, 4), "reason": reason})

    # expected number of people: each cluster beyond the largest counts by how sure we are
    # that it is not the same person as a larger cluster.
    link_to_earlier = np.zeros(len(groups))
    link_to_main = np.zeros(len(groups))
    for (a, b), (avg, forbidden) in between.items():
        if not forbidden:
            link_to_earlier[b] = max(link_to_earlier[b], avg)
            if a == 0:
                link_to_main[b] = avg
    link_to_main[0] = 1.0
    estimated = float(1.0 + sum(1.0 - link_to_earlier[c] for c in range(1, len(groups))))
    sizes = np.array([len(g) for g in groups], dtype=np.float64)
    mixed = float(1.0 - (sizes * link_to_main).sum() / n)
    return BlockResult(
        clusters=clusters,
        separations=separations,
        estimated_people=estimated,
        mixed_score=max(0.0, min(1.0, mixed)),
    )


def _top(counter: Counter, k: int = EVIDENCE_ITEMS) -> list[str]:
    return [v for v, _ in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:k]]


def _evidence(prep, model, members, tokens, block_terms) -> dict:
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


def _reason(ea: dict, eb: dict, similarity: float) -> str:
    ya, yb = ea["years"], eb["years"]
    shared_coauthors = set(ea["coauthors"]) & set(eb["coauthors"])
    shared_terms = set(ea["terms"]) & set(eb["terms"])
    shared_affiliations = set(ea["affiliations"]) & set(eb["affiliations"])
    if ea["affiliations"] and eb["affiliations"] and not shared_affiliations:
        return f"different affiliations ({ea['affiliations'][0]} vs {eb['affiliations'][0]})"
    if ya and yb and (ya[0] - yb[1] >= 5 or yb[0] - ya[1] >= 5):
        return f"years apart ({ya[0]}-{ya[1]} vs {yb[0]}-{yb[1]})"
    if not shared_coauthors and not shared_terms:
        return "no shared coauthors and different topics"
    if not shared_coauthors:
        return "no shared coauthors"
    if not set(ea["venues"]) & set(eb["venues"]):
        return "different venues"
    return f"weak overall similarity ({similarity:.2f})"


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

    def cheap(s: dict) -> tuple:
        shared = sum(1 for c in s.get("coauthors") or () if nm.coauthor_keys(c)[0] in mine)
        gap = abs(int(s.get("year") or 0) - year)
        return (-shared, s.get("venue") != venue, gap)

    order = sorted(range(len(sigs)), key=lambda x: cheap(sigs[x]))
    return order[:k]


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
    prep = ft.prepare(sigs, model)
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
