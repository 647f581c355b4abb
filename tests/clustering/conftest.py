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


def make_person_sigs(rng: random.Random, person: int, count: int, prefix: str = "p") -> list:
    """Signatures of one synthetic person: a stable coauthor pool, topic and venue habits."""
    pool = [f"Coauthor{person}x{k} Surname{person}y{k}" for k in range(4)]
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
                "coauthors": rng.sample(pool, 2),
            }
        )
    return sigs


def make_block(seed: int, people: int = 3, per_person: int = 6) -> dict:
    rng = random.Random(seed)
    sigs, truth = [], {}
    for p in range(people):
        person = seed * 10 + p
        for s in make_person_sigs(rng, person, per_person):
            sigs.append(s)
            truth[s["id"]] = f"person-{person}"
    return {"name": "Wei Wang", "kind": "synthetic", "signatures": sigs, "truth": truth}


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
    stats = NameStats.build([("Wei", "Wang")] * 50 + [("Ada", "Lovelace")])
    idf = np.ones(ft.TEXT_FEATURES, dtype=np.float16)
    blocks = [make_block(seed) for seed in range(12)]
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
