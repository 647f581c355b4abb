import dataclasses
import itertools
import json
import random

import pytest

from assignments import clustering
from assignments.clustering.metrics import bcubed
from tests.clustering.conftest import make_block
from tests.factories import make_evidence

EVIDENCE_KEYS = {"coauthors", "terms", "venues", "years", "affiliations"}


def _labels(result):
    return {sid: k for k, c in enumerate(result.clusters) for sid in c.signature_ids}


def test_split_recovers_distinct_people(tiny_model):
    block = make_block(7, people=3, per_person=8)
    result = clustering.split_block(block["signatures"], model=tiny_model)
    p, r, f = bcubed(_labels(result), block["truth"])
    assert p > 0.9
    assert f > 0.8


def test_split_output_shape(tiny_model):
    block = make_block(8)
    result = clustering.split_block(block["signatures"], model=tiny_model)
    ids = [sid for c in result.clusters for sid in c.signature_ids]
    assert sorted(ids) == sorted(s["id"] for s in block["signatures"])  # each exactly once
    for c in result.clusters:
        assert 0.0 <= c.confidence <= 1.0
        assert set(c.evidence) == EVIDENCE_KEYS
        # the shape tests' make_evidence (and so the fakes and stored fixtures) builds
        assert make_evidence(**c.evidence) == c.evidence
        for key in EVIDENCE_KEYS - {"years"}:
            assert all(type(v) is str for v in c.evidence[key]), key
        years = [s["year"] for s in block["signatures"] if s["id"] in c.signature_ids]
        assert c.evidence["years"] == [min(years), max(years)]
    assert result.estimated_people >= 1.0
    assert 0.0 <= result.mixed_score <= 1.0
    for sep in result.separations:
        a, b = sep["clusters"]
        assert 0 <= a < b < len(result.clusters)
        assert sep["reason"]
    data = json.loads(json.dumps(result.to_dict()))
    assert {"clusters", "separations", "estimated_people", "mixed_score"} <= set(data)
    assert set(data["clusters"][0]) == {"signatures", "confidence", "evidence"}


def test_evidence_names_the_shared_coauthors(tiny_model):
    block = make_block(9, people=2, per_person=6)
    result = clustering.split_block(block["signatures"], model=tiny_model)
    biggest = result.clusters[0]
    sigs = {s["id"]: s for s in block["signatures"]}
    in_cluster = [c for sid in biggest.signature_ids for c in sigs[sid]["coauthors"]]
    assert biggest.evidence["coauthors"]
    assert all(c in in_cluster for c in biggest.evidence["coauthors"])
    assert biggest.evidence["terms"]


def test_empty_and_single_blocks(tiny_model):
    assert clustering.split_block([], model=tiny_model).clusters == []
    one = make_block(1)["signatures"][:1]
    result = clustering.split_block(one, model=tiny_model)
    assert [c.signature_ids for c in result.clusters] == [[one[0]["id"]]]
    assert result.estimated_people == 1.0


def test_large_block_uses_candidate_pairs_and_still_splits(tiny_model):
    small_limit = dataclasses.replace(tiny_model, all_pairs_max=10)
    block = make_block(11, people=4, per_person=10)
    result = clustering.split_block(block["signatures"], model=small_limit)
    p, _, f = bcubed(_labels(result), block["truth"])
    assert p > 0.9
    assert f > 0.6


def _assert_respected(result, must, cannot):
    label = _labels(result)
    for a, b in must:
        assert label[a] == label[b], (a, b)
    for a, b in cannot:
        assert label[a] != label[b], (a, b)


def test_must_and_cannot_link_are_never_violated(tiny_model):
    block = make_block(12, people=3, per_person=6)
    ids = [s["id"] for s in block["signatures"]]
    rng = random.Random(0)
    for _ in range(15):
        shuffled = ids[:]
        rng.shuffle(shuffled)
        # must-links inside a random set, cannot-links between two disjoint random sets
        must = list(itertools.pairwise(shuffled[:4]))
        cannot = [(shuffled[5 + k], shuffled[10 + k]) for k in range(4)]
        cannot += [(shuffled[0], shuffled[12])]
        result = clustering.split_block(
            block["signatures"], model=tiny_model, must_link=must, cannot_link=cannot
        )
        _assert_respected(result, must, cannot)


def test_cannot_link_splits_even_the_same_person(tiny_model):
    block = make_block(13, people=1, per_person=6)
    ids = [s["id"] for s in block["signatures"]]
    result = clustering.split_block(
        block["signatures"], model=tiny_model, cannot_link=[(ids[0], ids[1])]
    )
    _assert_respected(result, [], [(ids[0], ids[1])])
    assert any("reviewer" in s["reason"] for s in result.separations)


def test_orcids_join_and_separate(tiny_model):
    block = make_block(14, people=2, per_person=5)
    sigs = [dict(s) for s in block["signatures"]]
    # one person's first paper and the other's last share an ORCID; two others differ
    sigs[0]["orcid"] = "0000-0001-0000-0001"
    sigs[-1]["orcid"] = "0000-0001-0000-0001"
    sigs[1]["orcid"] = "0000-0002-0000-0002"
    sigs[2]["orcid"] = "0000-0003-0000-0003"
    result = clustering.split_block(sigs, model=tiny_model)
    _assert_respected(
        result,
        [(sigs[0]["id"], sigs[-1]["id"])],
        [(sigs[1]["id"], sigs[2]["id"]), (sigs[0]["id"], sigs[1]["id"])],
    )


def test_two_entries_of_one_paper_are_two_people(tiny_model):
    block = make_block(15, people=1, per_person=4)
    sigs = [dict(s) for s in block["signatures"]]
    twin = dict(sigs[0], id=sigs[0]["paper_id"] + "/1", author_position=1)
    result = clustering.split_block([*sigs, twin], model=tiny_model)
    _assert_respected(result, [], [(sigs[0]["id"], twin["id"])])
    # a reviewer's must-link wins over that rule
    result = clustering.split_block(
        [*sigs, twin], model=tiny_model, must_link=[(sigs[0]["id"], twin["id"])]
    )
    _assert_respected(result, [(sigs[0]["id"], twin["id"])], [])


def test_contradictory_constraints_raise(tiny_model):
    sigs = make_block(16)["signatures"]
    a, b = sigs[0]["id"], sigs[1]["id"]
    with pytest.raises(clustering.ConstraintError):
        clustering.split_block(sigs, model=tiny_model, must_link=[(a, b)], cannot_link=[(a, b)])
    with pytest.raises(ValueError, match="unknown signature"):
        clustering.split_block(sigs, model=tiny_model, must_link=[(a, "nope")])
