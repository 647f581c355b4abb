"""A tiny model trained in-process on synthetic people, so tests never need the real artifact."""

import random

import numpy as np
import pytest

from assignments.clustering import features as ft
from assignments.clustering import training
from assignments.clustering.corpus import Corpus
from assignments.clustering.model import ClusteringModel
from assignments.clustering.names import NameStats

TOPICS = [
    "arabic dialect sentiment tweets corpus offensive language",
    "machine translation neural alignment decoding beam search",
    "speech prosody phonetics acoustic recognition french",
    "parsing dependency treebank syntax grammar constituency",
    "biomedical clinical notes entity extraction ontology",
    "summarization abstractive news headline evaluation",
]
VENUES = ["acl", "emnlp", "lrec", "coling", "wmt", "bionlp"]


def make_person_sigs(
    rng: random.Random, person: int, count: int, prefix: str = "p", pools: int = 1
) -> list:
    """Signatures of one synthetic person: stable coauthor pools, topic and venue habits. With
    `pools` > 1 the papers alternate between disjoint groups of coauthors (one person, several
    coauthor components: what stage 2 must merge)."""
    pool = [
        [f"Coauthor{person}x{p}{k} Surname{person}y{p}{k}" for k in range(4)] for p in range(pools)
    ]
    topic = TOPICS[person % len(TOPICS)].split()
    start = 1990 + (person * 7) % 30
    sigs = []
    for k in range(count):
        words = rng.sample(topic, 4) + ["model", "approach"]
        sigs.append(
            {
                "id": f"{prefix}{person}-{k}/0",
                "paper_id": f"{prefix}{person}-{k}",
                "title": " ".join(words),
                "abstract": " ".join(rng.sample(topic, 5)),
                "year": start + rng.randint(0, 5),
                "venue": VENUES[person % len(VENUES)] if rng.random() < 0.8 else "acl",
                "booktitle": "Proceedings",
                "author_position": 0,
                "first": "Wei",
                "last": "Wang",
                "affiliation": "",
                "coauthors": rng.sample(pool[k % pools], 2),
            }
        )
    return sigs


def make_block(seed: int, people: int = 3, per_person: int = 6, pools: int = 1) -> dict:
    rng = random.Random(seed)
    sigs, truth = [], {}
    for p in range(people):
        person = seed * 10 + p
        for s in make_person_sigs(rng, person, per_person, pools=pools):
            sigs.append(s)
            truth[s["id"]] = f"person-{person}"
    return {"name": "Wei Wang", "kind": "synthetic", "signatures": sigs, "truth": truth}


def tiny_names() -> list[tuple[str, str]]:
    """Printed names for the tiny model's statistics: "Wei Wang" common (many Weis, many Wangs,
    50 entries), "Ada Lovelace" and everything else rare."""
    names = [("Wei", "Wang")] * 50 + [("Ada", "Lovelace")]
    names += [("Wei", f"Surname{k}") for k in range(40)] + [
        (f"First{k}", "Wang") for k in range(40)
    ]
    return names + [(f"Given{k}", f"Family{k}") for k in range(200)]


def tiny_corpus(blocks: list[dict], idf: np.ndarray) -> Corpus:
    """Topics and a coauthor graph fitted on the blocks' own papers, as training does on the
    whole Anthology."""
    sigs = [s for b in blocks for s in b["signatures"]]
    texts = training.paper_texts(sigs)
    return Corpus(
        topics=training.build_topics(texts, idf, dims=8, min_df=1),
        graph=training.build_graph(sigs),
    )


@pytest.fixture(scope="session")
def tiny_model() -> ClusteringModel:
    stats = NameStats.build(tiny_names())
    idf = np.ones(ft.TEXT_FEATURES, dtype=np.float16)
    # half the blocks' people write with two disjoint coauthor groups, for the merge model
    blocks = [make_block(seed, pools=1 + seed % 2) for seed in range(16)]
    model = ClusteringModel(
        classifier=None,
        idf=idf,
        name_stats=stats,
        corpus=tiny_corpus(blocks, idf),
        threshold=0.5,
    )
    training.fit(blocks, model, seed=0, max_iter=40)
    training.fit_merge(blocks, model, seed=0, max_iter=60)
    return model


@pytest.fixture(scope="session")
def model_path(tiny_model, tmp_path_factory):
    """tiny_model saved once, for the commands that take a model file (read-only)."""
    path = tmp_path_factory.mktemp("model") / "model.joblib"
    tiny_model.save(path)
    return path
