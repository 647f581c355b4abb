from io import StringIO

import pytest
from django.core.management import call_command

from assignments import clustering
from assignments.models import ChangeSet, Move, Suggestion
from assignments.suggestions import blocks, split
from papers.selectors import person_entries
from tests.clustering.conftest import TOPICS
from tests.factories import (
    make_changeset,
    make_move,
    make_paper,
    make_person,
    make_volume,
)


def _page_with_two_people(person, n=3):
    others = [make_person(first=f"Co{k}", last=f"Author{k}") for k in range(4)]
    for k in range(n):
        make_paper(title=TOPICS[0], authors=(person, others[0]), volume=make_volume(year=2001))
        make_paper(title=TOPICS[2] + f" {k}", authors=(others[2], person))
    return others


@pytest.mark.django_db
def test_page_blocks_query_count_does_not_grow(django_assert_max_num_queries):
    small = make_person(first="Wei", last="Wang")
    _page_with_two_people(small, n=1)
    with django_assert_max_num_queries(5):
        few = blocks.page_blocks()
    big = make_person(first="Wei", last="Zhang")
    _page_with_two_people(big, n=6)
    with django_assert_max_num_queries(5):
        more = blocks.page_blocks()
    assert len(more) > len(few)
    block = next(b for b in more if b.person_id == big.id)
    assert len(block.signatures) == 12
    sig = block.signatures[0]
    assert sig["coauthors"] and sig["first"] == "Wei" and sig["title"]


def _move_two_here(person):
    """Apply a reviewer's move of two of PERSON's entries onto PERSON, from another page."""
    entries = list(person.authorships.order_by("id")[:2])
    source = make_person(first="Other", last="Source")
    changeset = make_changeset(status=ChangeSet.Status.APPLIED)
    for entry in entries:
        make_move(
            changeset=changeset,
            authorship=entry,
            from_person_id=source.id,
            to_person=person,
            status=Move.Status.APPLIED,
        )
    return entries


@pytest.mark.django_db
def test_page_blocks_reads_decisions_once_whatever_the_pages_with_moves(
    django_assert_max_num_queries,
):
    first = make_person(first="Wei", last="Wang")
    _page_with_two_people(first, n=2)
    moved = _move_two_here(first)
    # entries, papers, volumes, moves in force, page decisions in force
    with django_assert_max_num_queries(5) as one_page:
        page = blocks.page_blocks(person_ids=[first.id])
    assert page[0].must_link == [(str(moved[0].id), str(moved[1].id))]
    for k in range(3):
        person = make_person(first="Li", last=f"Zhang{k}")
        _page_with_two_people(person, n=2)
        _move_two_here(person)
    with django_assert_max_num_queries(5) as four_pages:
        pages = blocks.page_blocks()
    assert sum(1 for b in pages if b.must_link) == 4
    assert len(four_pages.captured_queries) == len(one_page.captured_queries)


@pytest.mark.django_db
def test_refresh_suggestions_stores_splits_for_pages_with_two_items(model_path):
    person = make_person(first="Wei", last="Wang")
    others = _page_with_two_people(person)
    lonely = make_person(first="Only", last="Once")
    make_paper(authors=(lonely,))
    out = StringIO()
    call_command("refresh_suggestions", model=str(model_path), jobs=1, stdout=out)
    assert "pages clustered" in out.getvalue()
    suggestion = Suggestion.objects.get(person=person)
    ids = sorted(str(a) for a in person.authorships.values_list("id", flat=True))
    assert sorted(s for c in suggestion.clusters for s in c["signatures"]) == ids
    assert all(c["authorships"] == [int(s) for s in c["signatures"]] for c in suggestion.clusters)
    assert suggestion.item_count == 6
    assert suggestion.estimated_people >= 1
    assert not Suggestion.objects.filter(person=lonely).exists()
    assert Suggestion.objects.filter(person=others[0]).exists()  # a coauthor with 3 papers

    # --dry-run stores nothing new
    Suggestion.objects.all().delete()
    call_command(
        "refresh_suggestions", model=str(model_path), jobs=1, dry_run=True, stdout=StringIO()
    )
    assert not Suggestion.objects.exists()


@pytest.mark.django_db
def test_refresh_suggestions_honours_applied_moves(model_path):
    person = make_person(first="Wei", last="Wang")
    _page_with_two_people(person)
    # a reviewer moved one paper of each group here together: they must stay together
    entries = _move_two_here(person)
    call_command(
        "refresh_suggestions", model=str(model_path), jobs=1, person=[person.id], stdout=StringIO()
    )
    clusters = Suggestion.objects.get(person=person).clusters
    home = [c for c in clusters if str(entries[0].id) in c["signatures"]]
    assert str(entries[1].id) in home[0]["signatures"]


@pytest.mark.django_db
def test_refresh_suggestions_keeps_the_last_suggestion_of_a_skipped_page(model_path, monkeypatch):
    person = make_person(first="Wei", last="Wang")
    _page_with_two_people(person)
    call_command(
        "refresh_suggestions", model=str(model_path), jobs=1, person=[person.id], stdout=StringIO()
    )
    before = Suggestion.objects.get(person=person)

    def contradiction(*args, **kwargs):
        raise clustering.ConstraintError("signatures 1 and 2 are both must-link and cannot-link")

    monkeypatch.setattr(clustering, "split_block", contradiction)
    err = StringIO()
    for only in ([person.id], None):
        call_command(
            "refresh_suggestions",
            model=str(model_path),
            jobs=1,
            person=only,
            stdout=StringIO(),
            stderr=err,
        )
        after = Suggestion.objects.get(person=person)
        assert (after.clusters, after.computed_at) == (before.clusters, before.computed_at)
    assert f"{person.id}: skipped" in err.getvalue()


@pytest.mark.django_db
def test_stored_suggestion_says_why_groups_were_kept_apart(model_path):
    person = make_person(first="Wei", last="Wang")
    _page_with_two_people(person)
    call_command(
        "refresh_suggestions", model=str(model_path), jobs=1, person=[person.id], stdout=StringIO()
    )
    stored = split.stored_split(person, person_entries(person))
    assert stored.mixed
    assert stored.separations and all(s.startswith("Groups ") for s in stored.separations)
