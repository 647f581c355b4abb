"""A queue that stays true: suggestions recomputed after apply, revert and import; a stored
suggestion older than its page says so; the reasons groups were kept apart, strongest first."""

from types import SimpleNamespace

import pytest
from django.db import connection
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from assignments.changesets import services as drafting
from assignments.models import Suggestion
from assignments.review import services as review
from assignments.suggestions import split, tasks
from assignments.suggestions.split import entries_fingerprint, suggestion_cluster
from papers.importing import decisions as import_decisions
from papers.selectors import person_entries
from tests.factories import make_evidence, make_paper, make_person

pytestmark = pytest.mark.django_db


def _page(n: int):
    person = make_person(first="Peiyu", last="Liu")
    coauthor = make_person(first="Wayne Xin", last="Zhao", verified=True)
    entries = [
        make_paper(title=f"Matrix product operators {i}", authors=(person, coauthor))
        .authorships.filter(person=person)
        .get()
        for i in range(n)
    ]
    return person, entries


def _store(person, entries, *, mixed=0.6, people=2.6):
    ids = [str(e.pk) for e in entries]
    return Suggestion.objects.create(
        person=person,
        mixed_score=mixed,
        estimated_people=people,
        item_count=len(ids),
        fingerprint=entries_fingerprint(ids),
        clusters=[
            suggestion_cluster(signature_ids=ids[:-1], confidence=0.9, evidence={}),
            suggestion_cluster(signature_ids=ids[-1:], confidence=0.8, evidence={}),
        ],
    )


def test_fingerprint_matches_the_sql_one():
    person, entries = _page(3)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT md5(string_agg(id::text, ',' ORDER BY id)) FROM papers_authorship "
            "WHERE person_id = %s",
            [person.pk],
        )
        assert cursor.fetchone()[0] == entries_fingerprint(e.pk for e in reversed(entries))


def test_a_stored_split_older_than_the_page_says_so(client, fake_clustering):
    person, entries = _page(4)
    _store(person, entries)
    assert not split.suggested_split(person, person_entries(person)).stale
    make_paper(title="Arrived since", authors=(person,))

    shown = split.suggested_split(person, person_entries(person))
    assert shown.stale and shown.source == "computed"
    assert len(fake_clustering["ids"]) == 5  # the groups shown are the page's own
    response = client.get(f"/people/{person.pk}/")
    assertContains(response, "This page's papers changed since its suggestion was stored")
    assertNotContains(response, "2.6</strong> people")


def _apply_split(person, entries, user, maintainer):
    draft = drafting.changeset_get_or_create_draft(user=user)
    drafting.moves_add_to_new_person(
        changeset=draft, authorships=entries[:2], first_name="Peiyu", last_name="Liu"
    )
    drafting.changeset_submit(changeset=draft, user=user)
    review.changeset_approve(changeset=draft, user=maintainer)
    return draft


def test_apply_and_revert_recompute_the_touched_pages(
    reviewer, maintainer, django_capture_on_commit_callbacks
):
    person, entries = _page(5)
    _store(person, entries)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        draft = _apply_split(person, entries, reviewer, maintainer)
    refreshes = [c for c in callbacks if c.__qualname__.startswith("suggestions_refresh")]
    assert len(refreshes) == 1  # one refresh queued for both pages
    stays = Suggestion.objects.get(person=person)
    assert stays.item_count == 3
    assert stays.fingerprint == entries_fingerprint(e.pk for e in entries[2:])
    created = Suggestion.objects.get(person_id="peiyu-liu")
    assert created.fingerprint == entries_fingerprint(e.pk for e in entries[:2])

    with django_capture_on_commit_callbacks(execute=True):
        review.changeset_revert(changeset=draft, user=maintainer)
    assert Suggestion.objects.get(person=person).item_count == 5
    assert not Suggestion.objects.filter(person_id="peiyu-liu").exists()  # the person is gone


def test_a_page_left_with_one_paper_loses_its_suggestion(
    reviewer, maintainer, django_capture_on_commit_callbacks
):
    person, entries = _page(3)
    _store(person, entries)
    with django_capture_on_commit_callbacks(execute=True):
        _apply_split(person, entries, reviewer, maintainer)
    assert not Suggestion.objects.filter(person=person).exists()


def test_the_import_listener_queues_the_changed_pages(
    monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    recorder = SimpleNamespace(enqueue=lambda **kwargs: queued.append(kwargs))
    monkeypatch.setattr(tasks, "suggestions_refresh", recorder)
    monkeypatch.setattr(tasks, "CHUNK", 2)
    with django_capture_on_commit_callbacks(execute=True):
        import_decisions.catalog_changed(frozenset({"c", "a", "b"}))
        import_decisions.catalog_changed(frozenset())
    assert queued == [{"person_ids": ["a", "b"]}, {"person_ids": ["c"]}]
    assert tasks.catalog_changed in import_decisions._listeners


def test_refresh_task_without_a_model_logs_and_keeps_going(settings, tmp_path, caplog):
    person, entries = _page(2)
    settings.CLUSTERING_MODEL_PATH = tmp_path / "missing.joblib"
    tasks.suggestions_refresh.call(person_ids=[person.pk])
    assert "no clustering model" in caplog.text
    assert not Suggestion.objects.exists()


@pytest.mark.parametrize(
    ("first", "second", "reason"),
    [
        # the case: years far apart, coauthors disjoint: coauthors first
        (
            make_evidence(coauthors=["Wayne Xin Zhao"], years=(2021, 2024)),
            make_evidence(coauthors=["Bo Pei"], years=(2010, 2012)),
            "no shared coauthors (Wayne Xin Zhao … vs Bo Pei …); years apart (2021–2024 vs "
            "2010–2012)",
        ),
        (
            make_evidence(terms=["matrix", "product"], years=(2024, 2024)),
            make_evidence(terms=["speech"], years=(2010, 2010)),
            "different topics (matrix, product vs speech); years apart (2024 vs 2010)",
        ),
        (make_evidence(), make_evidence(), "weak overall similarity (0.31)"),
    ],
)
def test_separation_reason_names_the_strongest_evidence_first(first, second, reason):
    assert split.separation_reason(first, second, "weak overall similarity (0.31)") == reason


def test_separation_reason_keeps_the_constraints():
    evidence = make_evidence(coauthors=["A"])
    other = make_evidence(coauthors=["B"])
    assert split.separation_reason(evidence, other, "kept apart by a reviewer") == (
        "kept apart by a reviewer"
    )


def test_queue_and_page_agree_after_a_refresh(client, django_capture_on_commit_callbacks):
    person, entries = _page(5)
    _store(person, entries)
    entries.append(make_paper(title="Arrived since", authors=(person,)).authorships.get())
    assertContains(client.get(reverse("pages:mixed")), "being recomputed")
    with django_capture_on_commit_callbacks(execute=True):
        tasks.suggestions_refresh_enqueue(person_ids=[person.pk])
    assert Suggestion.objects.get(person=person).fingerprint == entries_fingerprint(
        e.pk for e in entries
    )
    assertNotContains(client.get(reverse("pages:mixed")), "being recomputed")
