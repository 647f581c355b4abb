"""Do the whole-Anthology features learn the renaming of generated blocks (the 2-hop leak)?

    .venv/bin/python bench/clustering_leak.py [--blocks ../shared/data/dev-blocks.jsonl.gz]

In a synthetic block, rare-name persons are renamed to one common name, but the Anthology's
coauthor lists still print their original names: every collaborator of person X lists "X" as a
coauthor. So two coauthor groups of X always share the 2-hop neighbour "X", and a feature that
compares groups' coauthors' coauthors would find the person by their old name.

This reads the blocks' `truth` (the original names of the synthetic persons) for an analysis
only, and prints:

1. how often the trap is open: the share of same-person component pairs whose coauthors'
   coauthors include the person's original name, against different-person pairs;
2. the service's stage-2 features and its split computed twice, with the model's corpus as it
   is and with every original name cut out of the coauthor graph (the nodes dropped, with their
   edges). If the features used the leak, cutting the names would change them and
   lose recall; the service's bridges only count edges between a coauthor of one group and a
   coauthor of the other, which the original name never is (it is never its own coauthor).
"""

import argparse
import copy
from collections import Counter

import numpy as np
from common import DEFAULT_BLOCKS


def _without(corpus, hashes: np.ndarray):
    """The corpus with the names `hashes` cut out of its coauthor graph."""
    import scipy.sparse as sp

    graph = corpus.graph
    n = len(graph.nodes)
    drop = graph.lookup(hashes)
    drop = drop[drop >= 0]
    keep = np.ones(n, dtype=np.float32)
    keep[drop] = 0.0
    m = sp.csr_matrix(
        (np.ones(len(graph.indices), dtype=np.float32), graph.indices, graph.indptr), shape=(n, n)
    )
    m = (sp.diags(keep) @ m @ sp.diags(keep)).tocsr()
    m.eliminate_zeros()
    m.sort_indices()
    cut = copy.copy(corpus)
    cut.graph = type(graph)(
        nodes=graph.nodes, indptr=m.indptr.astype(np.int64), indices=m.indices.astype(np.int32)
    )
    return cut, len(drop)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", default=str(DEFAULT_BLOCKS))
    parser.add_argument("--model", default=None)
    args = parser.parse_args()

    from django.conf import settings

    from assignments import clustering
    from assignments.clustering import corpus as cp
    from assignments.clustering import evaluation, service
    from assignments.clustering import names as nm
    from assignments.clustering.metrics import bcubed

    model = clustering.load_model(args.model or settings.CLUSTERING_MODEL_PATH)
    blocks = [b for b in evaluation.read_blocks(args.blocks) if b.get("kind") == "synthetic"]
    open_same = Counter()
    changed = total = cut_names = 0
    preds = {"as shipped": {}, "original names cut": {}}
    truths = {}
    for b_index, block in enumerate(blocks):
        sigs = evaluation.strip_truth(block)
        truth = {str(s["id"]): block["truth"][str(s["id"])] for s in block["signatures"]}
        originals = {nm.coauthor_keys(p)[0] for p in set(truth.values())}
        hashes = np.array(sorted(cp.name_hash(k) for k in originals), dtype=np.int64)
        cut, dropped = _without(model.corpus, hashes)
        cut_names += dropped

        # 1. is the trap open? 2-hop neighbours of each component, through the full graph
        st = service.stages(sigs, model)
        graph = model.corpus.graph
        person = [truth[str(s["id"])] for s in sigs]
        main = [
            Counter(person[m] for m in np.flatnonzero(st.labels == c)).most_common(1)[0][0]
            for c in range(st.groups.k)
        ]
        two_hop = []
        for c in range(st.groups.k):
            names = {
                nm.coauthor_keys(name)[0]
                for m in np.flatnonzero(st.labels == c)
                for name in st.prep.coauthor_names[m]
            }
            node = graph.lookup(np.array([cp.name_hash(k) for k in names], dtype=np.int64))
            reach = set()
            for k in node[node >= 0].tolist():
                reach.update(graph.nodes[graph.indices[graph.indptr[k] : graph.indptr[k + 1]]])
            two_hop.append(reach)
        for a, b in zip(st.a.tolist(), st.b.tolist(), strict=True):
            same = main[a] == main[b]
            leak = cp.name_hash(nm.coauthor_keys(main[a])[0])
            open_same[(same, leak in two_hop[a] and leak in two_hop[b])] += 1

        # 2. the features and the split without the original names
        st_cut = service.stages(sigs, model, corpus=cut)
        same_rows = np.isclose(st.x, st_cut.x, equal_nan=True).all(axis=1)
        changed += int((~same_rows).sum())
        total += len(same_rows)
        for label, corpus in (("as shipped", None), ("original names cut", cut)):
            result = service.split_block(sigs, model=model, corpus=corpus)
            for c_index, cluster in enumerate(result.clusters):
                for sid in cluster.signature_ids:
                    preds[label][(b_index, sid)] = c_index
        truths.update({(b_index, sid): person for sid, person in truth.items()})

    same_pairs = open_same[(True, True)] + open_same[(True, False)]
    other_pairs = open_same[(False, True)] + open_same[(False, False)]
    print(f"{len(blocks)} synthetic blocks, {cut_names} original names found in the graph")
    print(
        "1. pairs of components sharing the person's original name among their coauthors' "
        f"coauthors: same person {open_same[(True, True)]} of {same_pairs} "
        f"({100 * open_same[(True, True)] / max(same_pairs, 1):.1f}%), different persons "
        f"{open_same[(False, True)]} of {other_pairs} "
        f"({100 * open_same[(False, True)] / max(other_pairs, 1):.1f}%)"
    )
    print(
        f"2. stage-2 feature rows that change when the original names are cut: {changed} of {total}"
    )
    for label, pred in preds.items():
        p, r, f = bcubed(pred, truths, group=lambda key: key[0])
        print(f"   split, {label:<20} P {p:.4f}  R {r:.4f}  F1 {f:.4f}")


if __name__ == "__main__":
    import django

    django.setup()
    main()
