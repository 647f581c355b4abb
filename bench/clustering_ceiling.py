"""How far can splitting a block go on the evidence inside it? An optimistic bound, on dev.

    .venv/bin/python bench/clustering_ceiling.py [--blocks ../shared/data/dev-blocks.jsonl.gz]

This is an analysis, not the service: it reads the blocks' `truth` to build an oracle start that
no clusterer has, and prints how far even that start gets.

1. Shared-coauthor components, no model: papers sharing any coauthor are joined.
2. The oracle start: the same components, but only through papers of one true person.
   Precision is 1 by construction; its recall is the most that coauthor evidence inside a block
   can give. With `--data` (the Anthology folder or archive), also the same through the whole
   Anthology's coauthor graph: two of a person's papers are joined when a coauthor of one has
   written a paper with a coauthor of the other anywhere in the Anthology.
3. The oracle start, then merging its components by everything else the block offers. A
   classifier scores every pair of components from the shipped pair model's highest and mean
   probability between them (which carry all of its features: text, title, venue, year,
   affiliation, names), the cosine of their pooled text and of their venues, their year gap and
   their sizes. It is trained by 5-fold cross-validation grouped by block, and each block is
   scored by the fold that did not see it. Every pair above a threshold is merged, and B-cubed
   is printed for each threshold.

The AUCs tell how well each piece of evidence tells a person's other components from namesakes'
components (0.5 = no better than chance).
"""

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np
from common import DEFAULT_BLOCKS, data_folder


def _oracle_components(prep, truth: list[str]) -> np.ndarray:
    """Shared-coauthor components (`prep.component`), joined only through papers of one true
    person."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    adj = prep.adjacency.tocoo()
    person = np.unique(truth, return_inverse=True)[1]
    keep = person[adj.row] == person[adj.col]
    graph = sp.csr_matrix(
        (np.ones(int(keep.sum())), (adj.row[keep], adj.col[keep])), shape=(prep.n, prep.n)
    )
    return connected_components(graph, directed=False)[1]


def _coauthor_graph(data: str) -> dict[str, set[str]]:
    """Coauthor name key -> the name keys it has written a paper with, over the whole data."""
    from acl_anthology import Anthology

    from assignments.clustering import names as nm

    graph: dict[str, set[str]] = defaultdict(set)
    with data_folder(data) as folder:
        for paper in Anthology(datadir=str(folder), verbose=False).papers():
            keys = {nm.full_key(ns.first, ns.last) for ns in paper.authors}
            for key in keys:
                graph[key].update(keys - {key})
    return graph


def _linked_through(sigs: list[dict], truth: list[str], graph: dict[str, set[str]]) -> np.ndarray:
    """Components of one true person's papers joined by shared or Anthology-linked coauthors."""
    from assignments.clustering import linkage
    from assignments.clustering import names as nm

    coauthors = [{nm.coauthor_keys(c)[0] for c in s.get("coauthors") or ()} for s in sigs]
    reach = [set().union(own, *(graph.get(c, ()) for c in own)) for own in coauthors]
    uf = linkage.UnionFind(len(sigs))
    for a in range(len(sigs)):
        for b in range(a + 1, len(sigs)):
            if truth[a] == truth[b] and reach[a] & coauthors[b]:
                uf.union(a, b)
    return np.array([uf.find(a) for a in range(len(sigs))])


def _component_pairs(prep, comp: np.ndarray, model) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Feature rows for every pair of components of one block (see the module docstring)."""
    import scipy.sparse as sp
    from sklearn.preprocessing import normalize

    from assignments.clustering import features as ft
    from assignments.clustering import linkage

    n, k = prep.n, int(comp.max()) + 1
    i, j = linkage.all_pairs(n)
    prob = model.predict(ft.pair_features(prep, i, j))
    members = sp.csr_matrix((np.ones(n), (comp, np.arange(n))), shape=(k, n))
    size = np.asarray(members.sum(axis=1)).ravel()
    text = normalize(members @ prep.text, norm="l2")
    text_cos = (text @ text.T).toarray()
    dated = prep.venue >= 0  # -1: no venue, which is not a venue shared
    venues = sp.csr_matrix(
        (np.ones(int(dated.sum())), (comp[dated], prep.venue[dated])),
        shape=(k, int(prep.venue.max()) + 1 if dated.any() else 1),
    )
    venues = normalize(venues, norm="l2")
    venue_cos = (venues @ venues.T).toarray()
    low, high = np.full(k, np.inf), np.full(k, -np.inf)
    np.fmin.at(low, comp, prep.year)
    np.fmax.at(high, comp, prep.year)
    low[~np.isfinite(low)], high[~np.isfinite(high)] = np.nan, np.nan

    a, b = comp[i], comp[j]
    apart = a != b
    lo, hi, p = np.minimum(a, b)[apart], np.maximum(a, b)[apart], prob[apart]
    best, total = np.zeros((k, k)), np.zeros((k, k))
    count = np.zeros((k, k))
    np.maximum.at(best, (lo, hi), p)
    np.add.at(total, (lo, hi), p)
    np.add.at(count, (lo, hi), 1)

    x, y = linkage.all_pairs(k)
    gap = np.maximum(np.maximum(low[y] - high[x], low[x] - high[y]), 0.0)
    rows = np.column_stack(
        [
            best[x, y],
            total[x, y] / np.maximum(count[x, y], 1),
            text_cos[x, y],
            venue_cos[x, y],
            gap,
            np.minimum(size[x], size[y]),
            np.maximum(size[x], size[y]),
            np.full(len(x), n),
            np.full(len(x), k),
        ]
    )
    return rows, list(zip(x.tolist(), y.tolist(), strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", default=str(DEFAULT_BLOCKS))
    parser.add_argument(
        "--model",
        default=str(
            Path(__file__).resolve().parent.parent / "assignments" / "clustering" / "model.joblib"
        ),
    )
    parser.add_argument("--data", default=None, help="Anthology data, for the whole-graph bound")
    args = parser.parse_args()

    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    from assignments import clustering
    from assignments.clustering import evaluation, linkage
    from assignments.clustering import features as ft
    from assignments.clustering.metrics import bcubed

    model = clustering.load_model(args.model)
    blocks = list(evaluation.read_blocks(args.blocks))

    graph = _coauthor_graph(args.data) if args.data else None
    # signature key (block, id) -> label, for B-cubed
    truth_of, kind_of, plain, oracle, through = {}, {}, {}, {}, {}
    components = []  # (block, keys, oracle components) for merging
    rows, labels, groups, where = [], [], [], []
    for b_index, block in enumerate(blocks):
        truth_ids = block.get("truth") or {}
        sigs = [s for s in block["signatures"] if str(s["id"]) in truth_ids]
        if not sigs:
            continue
        keys = [(b_index, str(s["id"])) for s in sigs]
        truth = [truth_ids[sid] for _, sid in keys]
        prep = ft.prepare(sigs, model)
        comp = _oracle_components(prep, truth)
        for key, person, c, o in zip(keys, truth, prep.component, comp, strict=True):
            truth_of[key], kind_of[key] = person, block.get("kind", "unknown")
            plain[key], oracle[key] = int(c), int(o)
        if graph is not None:
            linked = _linked_through(sigs, truth, graph).tolist()
            through.update(zip(keys, linked, strict=True))
        components.append((b_index, keys, comp))
        if comp.max() == 0:
            continue
        x, pairs = _component_pairs(prep, comp, model)
        person_of = {int(c): person for c, person in zip(comp, truth, strict=True)}
        rows.append(x)
        labels.extend(person_of[a] == person_of[b] for a, b in pairs)
        groups.extend([b_index] * len(pairs))
        where.extend((b_index, a, b) for a, b in pairs)

    if not rows:
        raise SystemExit("no block splits into two or more oracle components: nothing to merge")
    x, y, groups = np.vstack(rows), np.array(labels), np.array(groups)
    scores = np.zeros(len(y))
    for train, test in GroupKFold(n_splits=5).split(x, y, groups):
        classifier = HistGradientBoostingClassifier(
            max_iter=300, learning_rate=0.05, random_state=0
        ).fit(x[train], y[train])
        scores[test] = classifier.predict_proba(x[test])[:, 1]

    def merged(threshold: float) -> dict:
        joins = defaultdict(list)
        for (b_index, a, b), score in zip(where, scores.tolist(), strict=True):
            if score > threshold:
                joins[b_index].append((a, b))
        pred = {}
        for b_index, keys, comp in components:
            uf = linkage.UnionFind(int(comp.max()) + 1)
            for a, b in joins[b_index]:
                uf.union(a, b)
            pred.update((key, uf.find(c)) for key, c in zip(keys, comp.tolist(), strict=True))
        return pred

    def line(label: str, pred: dict, kind: str | None = None) -> None:
        truth = {k: v for k, v in truth_of.items() if kind in (None, kind_of[k])}
        if not truth:
            return  # no blocks of that kind in the file
        p, r, f = bcubed(pred, truth, group=lambda key: key[0])
        print(f"{label:<44} P {p:.4f}  R {r:.4f}  F1 {f:.4f}")

    print(f"{len(truth_of)} labelled signatures in {len(blocks)} blocks")
    line("1. shared-coauthor components (no model)", plain)
    line("   the same, kind real only", plain, "real")
    line("2. oracle start (coauthors within a person)", oracle)
    line("   the same, kind real only", oracle, "real")
    if graph is not None:
        line("   through the whole Anthology's coauthors", through)
        line("   the same, kind real only", through, "real")
    print(f"3. component pairs: {len(y)}, of one person: {int(y.sum())}")
    for column, name in ((0, "highest pair probability"), (2, "pooled-text cosine")):
        print(f"   AUC {name:<28} {roc_auc_score(y, x[:, column]):.4f}")
    print(f"   AUC {'cross-validated classifier':<28} {roc_auc_score(y, scores):.4f}")
    for threshold in (0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3):
        line(f"   oracle start + merges above {threshold:.2f}", merged(threshold))


if __name__ == "__main__":
    main()
