"""Stage 2: component-pair features, the leak-free coauthor bridges, size-weighted linkage."""

import dataclasses

import numpy as np

from assignments import clustering
from assignments.clustering import corpus as cp
from assignments.clustering import linkage, merging, service
from assignments.clustering.metrics import bcubed
from tests.clustering.conftest import make_block


def _sig(sid: str, coauthors: list[str], **extra) -> dict:
    return {
        "id": sid,
        "paper_id": sid,
        "title": "neural parsing of treebanks",
        "abstract": "",
        "year": 2020,
        "venue": "acl",
        "booktitle": "",
        "author_position": 0,
        "first": "Wei",
        "last": "Wang",
        "affiliation": "",
        "coauthors": coauthors,
    } | extra


def _pair_features(model, sigs, a=0, b=1) -> dict:
    st = service.stages(sigs, model)
    ca, cb = int(st.labels[a]), int(st.labels[b])
    x = merging.features(st.prep, st.groups, np.array([ca]), np.array([cb]))[0]
    return dict(zip(merging.FEATURE_NAMES, x.tolist(), strict=True))


def _with_graph(model, papers: list[list[str]]):
    corpus = cp.Corpus(topics=model.corpus.topics, graph=cp.CoauthorGraph.build(papers))
    return dataclasses.replace(model, corpus=corpus)


def test_feature_rows_have_one_column_per_feature_name(tiny_model):
    block = make_block(4, pools=2)
    st = service.stages(block["signatures"], tiny_model)
    assert st.x.shape == (len(st.a), len(merging.FEATURE_NAMES))
    assert len(st.a) == st.groups.k * (st.groups.k - 1) // 2  # a small block: every pair
    assert set(merging.MONOTONE) <= set(merging.FEATURE_NAMES)
    assert {f for fs in merging.REASON_FEATURES.values() for f in fs} <= set(merging.FEATURE_NAMES)


def test_a_bridge_is_a_paper_written_by_a_coauthor_of_each_group(tiny_model):
    model = _with_graph(tiny_model, [["Ada Lovelace", "Bob Bridge"]])
    f = _pair_features(model, [_sig("a", ["Ada Lovelace"]), _sig("b", ["Bob Bridge"])])
    assert f["coauthors_shared"] == 0
    assert f["bridges"] == 1


def test_a_shared_coauthor_of_coauthors_is_no_bridge(tiny_model):
    # The 2-hop trap: in a generated block the renamed person's original name ("Zed Original")
    # is still every collaborator's coauthor. Two groups whose coauthors only meet through it
    # share nothing a bridge can see.
    papers = [["Carl Hub", "Zed Original"], ["Dana Hub", "Zed Original"]]
    model = _with_graph(tiny_model, papers)
    sigs = [_sig("a", ["Carl Hub"]), _sig("b", ["Dana Hub"])]
    f = _pair_features(model, sigs)
    assert f["bridges"] == 0 and f["bridges_weighted"] == 0
    # ... and the features are the same whether or not the graph knows that name
    without = _with_graph(tiny_model, [["Carl Hub", "Someone"], ["Dana Hub", "Else"]])
    other = _pair_features(without, sigs)
    assert list(other) == list(f)
    assert np.allclose(list(other.values()), list(f.values()), equal_nan=True)


def test_bridges_ignore_coauthors_who_wrote_with_two_namesakes(tiny_model):
    # p1 holds two of the block's entries, so Ada wrote with both: her edges prove nothing
    model = _with_graph(tiny_model, [["Ada Lovelace", "Bob Bridge"]])
    sigs = [
        _sig("p1/0", ["Ada Lovelace"], paper_id="p1"),
        _sig("p1/1", ["Ada Lovelace"], paper_id="p1"),
        _sig("b", ["Bob Bridge"]),
    ]
    assert _pair_features(model, sigs, 0, 2)["bridges"] == 0


def test_size_weighted_average_linkage():
    # A holds 10 signatures, B and C one each. A-B 0.9, B-C 0.9, A-C 0.0.
    i, j = np.array([0, 0, 1]), np.array([1, 2, 2])
    sim = np.array([0.9, 0.0, 0.9])
    plain, _ = linkage.cluster(3, i, j, sim, threshold=0.4)
    weighted, between = linkage.cluster(3, i, j, sim, threshold=0.4, sizes=np.array([10, 1, 1]))
    # unit weights: (A+B)-C averages (0.0 + 0.9) / 2 = 0.45 and merges; by size it is
    # (10 x 0.0 + 1 x 0.9) / 11
    assert plain == [[0, 1, 2]]
    assert weighted == [[0, 1], [2]]
    assert between[(0, 1)][0] == np.float64(0.9 / 11)


def test_the_merge_stage_joins_one_persons_coauthor_components(tiny_model):
    block = make_block(40, people=3, per_person=10, pools=2)
    sigs = block["signatures"]
    st = service.stages(sigs, tiny_model)
    result = clustering.split_block(sigs, model=tiny_model)
    assert len(result.clusters) < st.groups.k  # stage 2 merged something
    stage_one = {s["id"]: int(c) for s, c in zip(sigs, st.labels, strict=True)}
    final = {sid: k for k, c in enumerate(result.clusters) for sid in c.signature_ids}
    p1, r1, _ = bcubed(stage_one, block["truth"])
    p2, r2, _ = bcubed(final, block["truth"])
    assert p1 == 1.0 and p2 > 0.9
    assert r2 > r1


def test_merging_never_crosses_constraints(tiny_model):
    block = make_block(41, people=2, per_person=8, pools=2)
    sigs = block["signatures"]
    ids = [s["id"] for s in sigs]
    free = clustering.split_block(sigs, model=tiny_model)
    together = next(c.signature_ids for c in free.clusters if len(c.signature_ids) > 1)
    # a reviewer keeps two of one merged group apart: every group respects it
    kept = clustering.split_block(sigs, model=tiny_model, cannot_link=[tuple(together[:2])])
    label = {sid: k for k, c in enumerate(kept.clusters) for sid in c.signature_ids}
    assert label[together[0]] != label[together[1]]
    # and joins two groups the model kept apart
    a, b = free.clusters[0].signature_ids[0], free.clusters[-1].signature_ids[0]
    joined = clustering.split_block(sigs, model=tiny_model, must_link=[(a, b)])
    label = {sid: k for k, c in enumerate(joined.clusters) for sid in c.signature_ids}
    assert label[a] == label[b]
    assert sorted(label) == sorted(ids)


def test_large_blocks_score_candidate_component_pairs(tiny_model):
    few = dataclasses.replace(tiny_model, all_pairs_max=3, component_neighbours=1)
    block = make_block(42, people=4, per_person=8, pools=2)
    st = service.stages(block["signatures"], few)
    assert st.groups.k > 3
    assert len(st.a) < st.groups.k * (st.groups.k - 1) // 2
    result = clustering.split_block(block["signatures"], model=few)
    label = {sid: k for k, c in enumerate(result.clusters) for sid in c.signature_ids}
    p, _, _ = bcubed(label, block["truth"])
    assert p > 0.9
