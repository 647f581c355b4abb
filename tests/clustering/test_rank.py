import random

from assignments import clustering
from tests.clustering.conftest import make_person_sigs


def _candidates(rng):
    people = {p: make_person_sigs(rng, p, 6) for p in range(5)}
    return people, [{"person_id": f"person-{p}", "signatures": s[1:]} for p, s in people.items()]


def test_rank_puts_the_right_person_first(tiny_model):
    rng = random.Random(1)
    people, candidates = _candidates(rng)
    for p, sigs in people.items():
        ranked = clustering.rank_candidates(sigs[0], candidates, model=tiny_model)
        assert ranked[0].person_id == f"person-{p}"
        assert ranked[0].score > ranked[1].score
        assert any(r.startswith("shared coauthors") for r in ranked[0].reasons)


def test_rank_lists_every_candidate_and_new_person_sorted(tiny_model):
    rng = random.Random(2)
    people, candidates = _candidates(rng)
    ranked = clustering.rank_candidates(people[0][0], candidates, model=tiny_model)
    assert {c.person_id for c in ranked} == {None} | {c["person_id"] for c in candidates}
    scores = [c.score for c in ranked]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_rank_proposes_new_person_when_nobody_fits(tiny_model):
    rng = random.Random(3)
    _, candidates = _candidates(rng)
    stranger = make_person_sigs(rng, 40, 1, prefix="s")[0]
    stranger["coauthors"] = ["Nobody Known"]
    ranked = clustering.rank_candidates(stranger, candidates[:2], model=tiny_model)
    assert ranked[0].person_id is None


def test_rank_without_candidates_is_new_person(tiny_model):
    sig = make_person_sigs(random.Random(4), 1, 1)[0]
    ranked = clustering.rank_candidates(sig, [], model=tiny_model)
    assert [c.person_id for c in ranked] == [None]


def test_service_calls_run_blas_and_openmp_on_one_thread():
    from threadpoolctl import threadpool_info

    from assignments.clustering.model import single_threaded

    threads = single_threaded(lambda: [pool["num_threads"] for pool in threadpool_info()])()
    assert threads and set(threads) == {1}


def test_rank_takes_years_printed_as_text(tiny_model):
    people, candidates = _candidates(random.Random(5))
    as_text = [
        dict(c, signatures=[dict(s, year=str(s["year"])) for s in c["signatures"]])
        for c in candidates
    ]
    query = people[2][0]
    ranked = clustering.rank_candidates(query, candidates, model=tiny_model)
    ranked_text = clustering.rank_candidates(
        dict(query, year=str(query["year"])), as_text, model=tiny_model
    )
    assert [(c.person_id, c.score) for c in ranked_text] == [(c.person_id, c.score) for c in ranked]
