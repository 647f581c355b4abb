"""Whole-Anthology data given to the service: the coauthor graph and the topic space."""

import pickle

import numpy as np

from assignments.clustering import corpus as cp
from assignments.clustering import features as ft
from assignments.clustering import names as nm
from assignments.clustering import training


def _node(graph: cp.CoauthorGraph, printed: str) -> int:
    key = nm.coauthor_keys(printed)[0]
    return int(graph.lookup(np.array([cp.name_hash(key)], dtype=np.int64))[0])


def test_the_graph_joins_the_authors_of_each_paper():
    graph = cp.CoauthorGraph.build(
        [["Ada Lovelace", "Alan Turing", "Grace Hopper"], ["Ada  Lovelace", "Charles Babbage"]]
    )
    ada, babbage = _node(graph, "Ada Lovelace"), _node(graph, "Charles Babbage")
    assert _node(graph, "Nobody Here") == -1
    assert graph.degree(np.array([ada, babbage, -1])).tolist() == [3, 1, 0]
    nodes = np.array([ada, babbage, _node(graph, "Alan Turing"), -1])
    among = graph.among(nodes).toarray()
    assert among.tolist() == [[0, 1, 1, 0], [1, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]]


def test_name_hashes_are_stable_across_processes():
    # blake2b, not Python's salted hash(): the artifact stores them
    assert cp.name_hash("ada lovelace") == 0x49EA9D9F106541B8


def test_papers_of_big_consortia_are_left_out_of_the_graph():
    sigs = [
        {
            "paper_id": "big",
            "first": "Ada",
            "last": "Lovelace",
            "coauthors": [f"Member{k} Team" for k in range(training.GRAPH_MAX_AUTHORS)],
        },
        {"paper_id": "small", "first": "Ada", "last": "Lovelace", "coauthors": ["Alan Turing"]},
    ]
    graph = training.build_graph(sigs)
    assert graph.degree(np.array([_node(graph, "Ada Lovelace")])).tolist() == [1]


def test_topics_bring_papers_on_one_subject_together():
    texts = [
        "speech recognition acoustic model",
        "acoustic speech prosody",
        "prosody recognition of speech",
        "dependency parsing treebank",
        "treebank syntax parsing",
        "syntax dependency grammar",
    ] * 3
    idf = training.build_idf(texts)
    topics = training.build_topics(texts, idf, dims=2, min_df=1)
    z = topics.project(
        ft.tfidf(ft.hashed_counts(["acoustic model", "speech prosody", "treebank"]), idf)
    )
    # no word in common, one subject
    assert float(z[0] @ z[1]) > 0.9
    assert float(z[0] @ z[2]) < 0.5
    # the lookup table is rebuilt after unpickling, not stored
    assert pickle.loads(pickle.dumps(topics))._row_of is None
