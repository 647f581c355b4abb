"""The fast paths give what the plain ones give: the flat tree walk, row normalisation, the
terms and hashed counts (scikit-learn's), the hashed-text cache and the block's text on its used
columns."""

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize

from assignments.clustering import features as ft
from assignments.clustering import model as md
from assignments.clustering.vectors import l2_rows
from tests.clustering.conftest import make_block


def _pair_rows(tiny_model) -> np.ndarray:
    sigs = make_block(5, people=3, per_person=8)["signatures"]
    prep = ft.prepare(sigs, tiny_model, graph=False)
    i, j = np.triu_indices(prep.n, 1)
    x = ft.pair_features(prep, i, j)
    x[::7, 10] = np.nan  # missing values take the trees' missing-value branch
    return x


def test_the_flat_tree_walk_gives_sklearns_probabilities_to_the_bit(tiny_model):
    x = _pair_rows(tiny_model)
    assert len(x) > md.FOREST_MAX_ROWS  # both paths are exercised below
    expected = tiny_model.classifier.predict_proba(x.astype(np.float64))[:, 1].astype(np.float32)
    chunks = [tiny_model.predict(x[k : k + 50]) for k in range(0, len(x), 50)]
    assert np.array_equal(np.concatenate(chunks), expected)
    assert np.array_equal(tiny_model.predict(x), expected)
    assert tiny_model.predict(x[:0]).shape == (0,)


def test_row_normalisation_matches_sklearn_and_keeps_zero_rows():
    rng = np.random.default_rng(0)
    m = sp.random(30, 500, density=0.02, format="csr", dtype=np.float32, random_state=1)
    m = sp.vstack([m, sp.csr_matrix((1, 500), dtype=np.float32)]).tocsr()
    got = l2_rows(m)
    assert got.dtype == np.float32 and got is not m
    assert np.allclose(got.toarray(), normalize(m).toarray(), atol=1e-7)
    assert got[-1].nnz == 0
    dense = rng.random((5, 8)).astype(np.float32)
    dense[2] = 0
    assert np.allclose(l2_rows(dense), normalize(dense), atol=1e-7)
    assert not l2_rows(dense)[2].any()


def _sklearn_hasher() -> HashingVectorizer:
    """The vectorizer the model's text columns were defined with."""
    return HashingVectorizer(
        n_features=ft.TEXT_FEATURES,
        alternate_sign=False,
        norm=None,
        stop_words="english",
        token_pattern=r"(?u)\b[^\W\d_][^\W\d_]+\b",
    )


def test_terms_and_counts_are_scikit_learns():
    tricky = [
        "x² y² ½half half½ foo_bar baz ab12 cd a b cc",
        "İstanbul ÇAĞ naïve—test ٣٤ab ab٣ ＡＢＣ ﬁne Straße",
        "The BERT-based model, and its 2nd-order (re)ranking: 95.3% F1!",
        "",
    ]
    rng = np.random.default_rng(0)
    alphabet = list("abcXYZ _-.,0189²½٣éİßﬁ\u0301\t\n") + ["the", "and", "of"]
    random_texts = ["".join(rng.choice(alphabet, size=40)) for _ in range(2000)]
    texts = tricky + random_texts
    analyze = _sklearn_hasher().build_analyzer()
    assert [ft.tokens(t) for t in texts] == [analyze(t) for t in texts]
    assert ft.tokens(tricky[0]) == ["x²", "y²", "½half", "half½", "baz", "cd", "cc"]
    got = ft.hashed_counts(texts)  # beyond the cache's call size too:
    big = ft.hashed_counts(texts * 3)
    expected = _sklearn_hasher().transform(texts)
    assert (got != expected).nnz == 0
    assert (big[: len(texts)] != expected).nnz == 0


def test_hashed_counts_survive_the_cache_filling_up_mid_call(monkeypatch):
    monkeypatch.setattr(ft, "_ROWS", {})
    monkeypatch.setattr(ft, "ROWS_CACHED", 3)
    texts = ["graph parsing", "speech prosody", "graph parsing", "neural translation"]
    ft.hashed_counts(texts[:2])
    got = ft.hashed_counts(texts + ["treebank syntax"])  # 3 new: the cache is cleared
    expected = _sklearn_hasher().transform(texts + ["treebank syntax"]).tocsr()
    assert (got != expected).nnz == 0
    assert ft.hashed_counts([]).shape == (0, ft.TEXT_FEATURES)


def test_block_text_on_its_used_columns_keeps_every_dot_product(tiny_model):
    sigs = make_block(3)["signatures"]
    prep = ft.prepare(sigs, tiny_model)
    full = ft.tfidf(
        (
            ft.hashed_counts([s["title"] for s in sigs])
            + ft.hashed_counts([s["abstract"] for s in sigs])
        ).tocsr(),
        tiny_model.idf,
    )
    assert prep.text.shape[1] < 1000 < full.shape[1]
    assert np.allclose((prep.text @ prep.text.T).toarray(), (full @ full.T).toarray(), atol=1e-6)
