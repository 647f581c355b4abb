import math

import numpy as np
import pytest

from assignments.clustering import features as ft
from assignments.clustering import names as nm
from tests.clustering.conftest import make_block


def test_norm_strips_accents_case_and_punctuation():
    assert nm.norm("Dağ-Öz") == "dag oz"
    assert nm.norm(None) == ""


def test_first_name_compatibility():
    assert nm.first_compatibility("yang", "yang") == 2
    assert nm.first_compatibility("y", "yang") == 1
    assert nm.first_compatibility("j m", "john michael") == 1
    assert nm.first_compatibility("yang", "yan") == 1  # a prefix: maybe a truncated print
    assert nm.first_compatibility("wei", "yang") == 0


def test_name_stats_count_how_common_names_are():
    stats = nm.NameStats.build([("Wei", "Wang")] * 5 + [("Wei", "Xu"), ("Ada", "Lovelace")])
    assert stats.full_count("wei wang") == 5
    assert stats.first_count("wei") == 6
    assert stats.last_count("lovelace") == 1
    assert stats.full_count("nobody here") == 0


def _sig(sid, **kw):
    base = {
        "id": sid,
        "paper_id": sid,
        "title": "",
        "abstract": "",
        "year": 2020,
        "venue": "acl",
        "booktitle": "",
        "author_position": 0,
        "first": "Wei",
        "last": "Wang",
        "affiliation": "",
        "coauthors": [],
    }
    return base | kw


def _features(model, sigs, a=0, b=1):
    prep = ft.prepare(sigs, model)
    x = ft.pair_features(prep, np.array([a]), np.array([b]))[0]
    return dict(zip(ft.FEATURE_NAMES, x.tolist(), strict=True))


def test_pair_features_count_shared_coauthors_and_ignore_the_block_name(tiny_model):
    sigs = [
        _sig("a", coauthors=["Ada Lovelace", "Alan Turing", "Wei Wang"]),
        _sig("b", coauthors=["Ada  Lovelace", "Grace Hopper", "Wei Wang"]),
    ]
    f = _features(tiny_model, sigs)
    assert f["coauthors_shared"] == 1  # "Wei Wang" is the block's own name, not a coauthor
    assert f["coauthors_jaccard"] == pytest.approx(1 / 3)
    assert f["same_coauthor_component"] == 1


def test_pair_features_text_venue_year_affiliation(tiny_model):
    sigs = [
        _sig(
            "a",
            title="neural machine translation",
            venue="wmt",
            year=2010,
            affiliation="Tsinghua University",
        ),
        _sig(
            "b",
            title="neural machine translation",
            venue="wmt",
            year=2016,
            affiliation="Tsinghua Univ.",
        ),
        _sig("c", title="speech prosody", venue="lrec", year=2016),
    ]
    same = _features(tiny_model, sigs, 0, 1)
    other = _features(tiny_model, sigs, 0, 2)
    assert same["text_cosine"] > 0.99
    assert other["text_cosine"] == 0
    assert same["same_venue"] == 1 and other["same_venue"] == 0
    assert same["year_gap"] == 6
    assert same["affiliation_similarity"] > 0.6
    assert math.isnan(other["affiliation_similarity"])  # missing, not "different"


def test_pair_features_name_compatibility_and_frequency(tiny_model):
    sigs = [_sig("a"), _sig("b", first="W."), _sig("c", first="Ada", last="Lovelace")]
    assert _features(tiny_model, sigs, 0, 1)["first_name_compatibility"] == 1
    assert _features(tiny_model, sigs, 0, 2)["first_name_compatibility"] == 0
    assert _features(tiny_model, sigs, 0, 1)["full_name_count_log"] == pytest.approx(np.log1p(50))


def test_pair_features_shape_and_empty(tiny_model):
    block = make_block(3)
    prep = ft.prepare(block["signatures"], tiny_model)
    i, j = np.array([0, 1, 2]), np.array([1, 2, 3])
    assert ft.pair_features(prep, i, j).shape == (3, len(ft.FEATURE_NAMES))
    assert ft.pair_features(prep, i[:0], j[:0]).shape[0] == 0


def test_model_separates_same_person_pairs_from_others(tiny_model):
    block = make_block(99)
    sigs = block["signatures"]
    prep = ft.prepare(sigs, tiny_model)
    from assignments.clustering.linkage import all_pairs

    i, j = all_pairs(len(sigs))
    p = tiny_model.predict(ft.pair_features(prep, i, j))
    same = np.array(
        [
            block["truth"][sigs[a]["id"]] == block["truth"][sigs[b]["id"]]
            for a, b in zip(i, j, strict=True)
        ]
    )
    assert p[same].mean() > p[~same].mean() + 0.3
