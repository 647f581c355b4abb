"""The evidence of a group and the reasons two groups were kept apart, strongest first."""

import dataclasses
from collections import Counter

import numpy as np
import pytest

from assignments import clustering
from assignments.clustering import merging

COLUMN = merging.COLUMN


class YearsAndTextMerger:
    """A merge model whose answer is known: the probability falls by 0.04 per year between the
    groups and by 1.0 per unit of pooled-text cosine below 0.6; nothing else counts."""

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        gap = np.nan_to_num(x[:, COLUMN["year_gap"]])
        text = x[:, COLUMN["text_pooled"]]
        p = np.clip(0.9 - 0.04 * gap - np.maximum(0.6 - text, 0.0), 0.0, 1.0)
        return np.column_stack([1 - p, p])


def _stub_model(tiny_model):
    reference = np.zeros(len(merging.FEATURE_NAMES), dtype=np.float32)
    reference[COLUMN["text_pooled"]] = 0.6
    # nothing merges: every separation is explained
    return dataclasses.replace(
        tiny_model, merger=YearsAndTextMerger(), merge_reference=reference, threshold=0.95
    )


def _group(prefix: str, title: str, years: range, coauthors: list[str]) -> list[dict]:
    return [
        {
            "id": f"{prefix}{k}",
            "paper_id": f"{prefix}{k}",
            "title": f"{title} {k}",
            "abstract": "",
            "year": year,
            "venue": "acl",
            "booktitle": "",
            "author_position": 0,
            "first": "Wei",
            "last": "Wang",
            "affiliation": "",
            "coauthors": coauthors,
        }
        for k, year in enumerate(years)
    ]


def _only_separation(result) -> dict:
    assert len(result.clusters) == 2
    (separation,) = result.separations
    return separation


def test_the_reason_that_moved_the_decision_most_comes_first(tiny_model):
    model = _stub_model(tiny_model)
    # far apart in time, close in topic: the years weigh most
    sigs = _group("a", "speech prosody recognition", range(1990, 1993), ["Ada One"])
    sigs += _group("b", "speech prosody recognition acoustic", range(2005, 2008), ["Bob Two"])
    separation = _only_separation(clustering.split_block(sigs, model=model))
    kinds = [r["kind"] for r in separation["reasons"]]
    assert kinds[0] == "years"
    assert separation["reason"].startswith("distant years (1990–1992 vs 2005–2007)")
    weights = [r["weight"] for r in separation["reasons"]]
    assert weights == sorted(weights, reverse=True)
    # its weight is the rise in merge probability with the years set to one person's: 13 years
    assert weights[0] == pytest.approx(0.04 * 13, abs=1e-4)


def test_a_topic_reason_first_when_the_years_agree(tiny_model):
    model = _stub_model(tiny_model)
    sigs = _group("a", "speech prosody recognition", range(2001, 2004), ["Ada One"])
    sigs += _group("b", "dependency treebank parsing", range(2002, 2005), ["Bob Two"])
    separation = _only_separation(clustering.split_block(sigs, model=model))
    assert [r["kind"] for r in separation["reasons"]] == ["topic"]
    assert separation["reason"].startswith("distinct topic terms (")
    assert "speech" in separation["reason"] and "treebank" in separation["reason"]


def test_evidence_that_moved_nothing_is_not_a_reason(tiny_model):
    model = _stub_model(tiny_model)
    sigs = _group("a", "speech prosody recognition", range(2001, 2004), ["Ada One"])
    sigs += _group("b", "speech prosody recognition", range(2001, 2004), ["Bob Two"])
    separation = _only_separation(clustering.split_block(sigs, model=model))
    # disjoint coauthors and other venues do not move this model: no such reason
    assert separation["reasons"][0]["kind"] == "overall"
    assert separation["reason"].startswith("weak overall similarity")


def test_constraints_are_named_as_the_reason(tiny_model):
    model = _stub_model(tiny_model)
    sigs = _group("a", "speech prosody", range(2001, 2003), ["Ada One"])
    sigs += _group("b", "speech prosody", range(2001, 2003), ["Bob Two"])
    by_reviewer = clustering.split_block(sigs, model=model, cannot_link=[("a0", "b0")])
    assert _only_separation(by_reviewer)["reason"] == "kept apart by a reviewer"
    orcids = [dict(s, orcid="0000-0001" if s["id"][0] == "a" else "0000-0002") for s in sigs]
    assert _only_separation(clustering.split_block(orcids, model=model))["reason"] == (
        "different ORCIDs"
    )
    one_paper = [dict(s, paper_id="p" + s["id"][1:]) for s in sigs]
    result = clustering.split_block(one_paper, model=model)
    assert {s["reason"] for s in result.separations} >= {"two authors of one paper"}


def test_evidence_lists_put_the_strongest_first(tiny_model):
    sigs = _group("a", "speech prosody recognition", range(2001, 2007), ["Ada One"])
    for k, s in enumerate(sigs):
        s["coauthors"] = (
            ["Ada One"] + (["Bob Two"] if k < 4 else []) + (["Cy Three"] if k < 2 else [])
        )
        s["venue"] = "lrec" if k < 4 else "acl"
        s["affiliation"] = "Tsinghua University" if k < 3 else ("MIT" if k < 4 else "")
    result = clustering.split_block(sigs, model=tiny_model)
    (cluster,) = result.clusters
    evidence = cluster.evidence
    assert evidence["coauthors"] == ["Ada One", "Bob Two", "Cy Three"]  # 6, 4, 2 papers
    assert evidence["venues"] == ["lrec", "acl"]
    assert evidence["affiliations"] == ["Tsinghua University", "MIT"]
    assert evidence["years"] == [2001, 2006]
    counts = Counter(c for s in sigs for c in s["coauthors"])
    assert [counts[c] for c in evidence["coauthors"]] == sorted(counts.values(), reverse=True)
