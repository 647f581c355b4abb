import pytest

from assignments.clustering.metrics import bcubed


def test_perfect_clustering_scores_one():
    truth = {"a": 1, "b": 1, "c": 2}
    assert bcubed({"a": "x", "b": "x", "c": "y"}, truth) == (1.0, 1.0, 1.0)


def test_one_cluster_has_full_recall_and_diluted_precision():
    truth = {"a": 1, "b": 1, "c": 2, "d": 2}
    p, r, f = bcubed(dict.fromkeys(truth, 0), truth)
    assert r == 1.0
    assert p == pytest.approx(0.5)
    assert f == pytest.approx(2 * 0.5 / 1.5)


def test_singletons_have_full_precision():
    truth = {"a": 1, "b": 1, "c": 1}
    p, r, _ = bcubed({"a": 1, "b": 2, "c": 3}, truth)
    assert p == 1.0
    assert r == pytest.approx(1 / 3)


def test_worked_example():
    # predicted {a,b,c} {d}; truth {a,b} {c,d}
    truth = {"a": 1, "b": 1, "c": 2, "d": 2}
    p, r, _ = bcubed({"a": 0, "b": 0, "c": 0, "d": 1}, truth)
    assert p == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1) / 4)
    assert r == pytest.approx((1 + 1 + 0.5 + 0.5) / 4)


def test_groups_keep_equal_labels_of_different_blocks_apart():
    truth = {("b1", "a"): "x", ("b2", "a"): "y"}
    predicted = {("b1", "a"): 0, ("b2", "a"): 0}
    p, _, _ = bcubed(predicted, truth, group=lambda k: k[0])
    assert p == 1.0
    p_mixed, _, _ = bcubed(predicted, truth)
    assert p_mixed == pytest.approx(0.5)


def test_missing_prediction_counts_as_singleton():
    truth = {"a": 1, "b": 1}
    p, r, _ = bcubed({"a": 0}, truth)
    assert p == 1.0
    assert r == pytest.approx(0.5)
