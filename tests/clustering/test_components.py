"""Stage 1: coauthor components under constraints."""

import itertools
import random

import numpy as np
import pytest

from assignments.clustering import components, linkage
from assignments.clustering import features as ft
from tests.clustering.conftest import make_block


def _sig(sid: str, coauthors: list[str], *, paper: str | None = None, first: str = "Wei") -> dict:
    return {
        "id": sid,
        "paper_id": paper or sid,
        "title": "neural parsing",
        "abstract": "",
        "year": 2020,
        "venue": "acl",
        "booktitle": "",
        "author_position": 0,
        "first": first,
        "last": "Wang",
        "affiliation": "",
        "coauthors": coauthors,
    }


def _components(model, sigs, **kwargs) -> list[set[str]]:
    prep = ft.prepare(sigs, model)
    labels = components.coauthor_components(prep, **kwargs)
    groups: dict[int, set[str]] = {}
    for s, label in zip(sigs, labels.tolist(), strict=True):
        groups.setdefault(label, set()).add(s["id"])
    return sorted(groups.values(), key=lambda g: sorted(g))


def test_signatures_sharing_a_coauthor_are_one_component(tiny_model):
    sigs = [
        _sig("a", ["Ada Lovelace"]),
        _sig("b", ["Ada Lovelace", "Alan Turing"]),
        _sig("c", ["Alan Turing"]),  # through b
        _sig("d", ["Grace Hopper"]),
        _sig("e", []),
    ]
    assert _components(tiny_model, sigs) == [{"a", "b", "c"}, {"d"}, {"e"}]


def test_the_block_name_is_not_a_coauthor(tiny_model):
    # two namesakes on one paper print each other: that says nothing of who wrote what else
    sigs = [_sig("a", ["Wei Wang", "Ada Lovelace"]), _sig("b", ["Wei Wang"])]
    assert _components(tiny_model, sigs) == [{"a"}, {"b"}]


def test_a_cannot_link_is_never_crossed(tiny_model):
    sigs = [
        _sig("a", ["Ada Lovelace"]),
        _sig("b", ["Ada Lovelace", "Alan Turing"]),
        _sig("c", ["Alan Turing"]),
    ]
    # a and c may not meet, so b joins only one of them
    groups = _components(tiny_model, sigs, cannot_link=[(0, 2)])
    assert len(groups) == 2
    assert not any({"a", "c"} <= g for g in groups)


def test_coauthors_of_a_paper_with_two_namesakes_join_nothing(tiny_model):
    # p1 holds two of the block's entries: Ada wrote with both namesakes
    sigs = [
        _sig("p1/0", ["Ada Lovelace", "Wei Wang"], paper="p1"),
        _sig("p1/1", ["Ada Lovelace", "Wei Wang"], paper="p1"),
        _sig("x", ["Ada Lovelace"]),
        _sig("y", ["Ada Lovelace"]),
    ]
    prep = ft.prepare(sigs, tiny_model)
    assert prep.ambiguous.tolist() == [True]
    assert _components(tiny_model, sigs) == [{"p1/0"}, {"p1/1"}, {"x"}, {"y"}]


def test_one_prolific_or_common_coauthor_does_not_join_alone_two_do(tiny_model):
    sigs = [
        _sig("a", ["Ada Lovelace", "Alan Turing"]),
        _sig("b", ["Ada Lovelace", "Alan Turing"]),
        _sig("c", ["Ada Lovelace"]),
    ]
    # every coauthor counts as a hub here: c shares only one with the others
    assert _components(tiny_model, sigs, hub_degree=-1) == [{"a", "b"}, {"c"}]
    assert _components(tiny_model, sigs) == [{"a", "b", "c"}]
    # "Wei Wang" is the common name of the tiny model's statistics
    common = [_sig("a", ["Wei Wang"], first="Ada"), _sig("b", ["Wei Wang"], first="Ada")]
    for s in common:
        s["last"] = "Lovelace"
    assert _components(tiny_model, common) == [{"a"}, {"b"}]
    assert _components(tiny_model, common, common_name=1e9, hub_degree=1e9) == [{"a", "b"}]


def test_incompatible_first_names_are_not_joined_by_a_coauthor(tiny_model):
    sigs = [_sig("a", ["Ada Lovelace"], first="Wei"), _sig("b", ["Ada Lovelace"], first="Wen")]
    assert _components(tiny_model, sigs) == [{"a"}, {"b"}]
    sigs[1]["first"] = "W."
    assert _components(tiny_model, sigs) == [{"a", "b"}]


def test_must_links_join_and_contradictions_raise(tiny_model):
    sigs = [_sig("a", []), _sig("b", []), _sig("c", [])]
    assert _components(tiny_model, sigs, must_link=[(0, 2)]) == [{"a", "c"}, {"b"}]
    with pytest.raises(linkage.ConstraintError):
        _components(tiny_model, sigs, must_link=[(0, 1)], cannot_link=[(0, 1)])


def test_random_constraints_are_never_violated_in_stage_one(tiny_model):
    block = make_block(5, people=3, per_person=8, pools=2)
    sigs = block["signatures"]
    prep = ft.prepare(sigs, tiny_model)
    rng = random.Random(7)
    n = len(sigs)
    for _ in range(20):
        order = rng.sample(range(n), n)
        must = list(itertools.pairwise(order[:3]))
        cannot = [(order[4 + k], order[12 + k]) for k in range(6)]
        labels = components.coauthor_components(prep, must_link=must, cannot_link=cannot)
        assert all(labels[a] == labels[b] for a, b in must)
        assert all(labels[a] != labels[b] for a, b in cannot)


def test_components_are_pure_on_synthetic_people(tiny_model):
    block = make_block(3, people=4, per_person=8, pools=2)
    sigs = block["signatures"]
    labels = components.coauthor_components(ft.prepare(sigs, tiny_model))
    persons_per_component: dict[int, set[str]] = {}
    for s, label in zip(sigs, labels.tolist(), strict=True):
        persons_per_component.setdefault(label, set()).add(block["truth"][s["id"]])
    assert all(len(p) == 1 for p in persons_per_component.values())
    # two coauthor pools per person: at least two components each, for stage 2 to merge
    assert len(np.unique(labels)) >= 8
