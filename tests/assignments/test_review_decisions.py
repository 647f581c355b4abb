import pytest

from assignments import decisions
from assignments.models import ChangeSet, Move
from assignments.review import services as review
from assignments.suggestions import split
from papers.models import Authorship
from papers.selectors import person_entries
from tests.factories import (
    make_changeset,
    make_move,
    make_new_person,
    make_paper,
    make_person,
)

pytestmark = pytest.mark.django_db


def _split(maintainer):
    page = make_person(id="peiyu-liu/unverified", first="Peiyu", last="Liu")
    entries = [make_paper(authors=(page,)).authorships.get() for _ in range(4)]
    cs = make_changeset()
    a = make_new_person(changeset=cs, person_id="peiyu-liu-a", first="Peiyu", last="Liu")
    b = make_new_person(changeset=cs, person_id="peiyu-liu-b", first="Peiyu", last="Liu")
    make_move(changeset=cs, authorship=entries[0], to_new_person=a)
    make_move(changeset=cs, authorship=entries[1], to_new_person=a)
    make_move(changeset=cs, authorship=entries[2], to_new_person=b)
    review.changeset_approve(changeset=cs, user=maintainer)
    return page, entries, cs


def test_applied_moves_become_must_and_cannot_links(maintainer):
    page, e, _ = _split(maintainer)
    must, cannot = decisions.decisions_for_person_ids([page.id])
    assert must == [(e[0].pk, e[1].pk)]
    assert cannot == sorted([(e[0].pk, e[2].pk), (e[1].pk, e[2].pk)])
    # the same decisions seen from a target person
    must_a, _ = decisions.decisions_for_person_ids(["peiyu-liu-a"])
    assert must_a == [(e[0].pk, e[1].pk)]


def test_reverted_decisions_no_longer_count(maintainer):
    page, _, cs = _split(maintainer)
    review.changeset_revert(changeset=cs, user=maintainer)
    assert decisions.decisions_for_person_ids([page.id]) == ([], [])


def test_person_page_clustering_receives_the_decisions(client, fake_clustering, maintainer):
    """The on-demand split of a page gets the applied decisions as constraints."""
    _, e, cs = _split(maintainer)
    seen = fake_clustering

    must, cannot = decisions.constraints_for_signatures("peiyu-liu-a", [e[0].pk, e[1].pk])
    assert (must, cannot) == ([(str(e[0].pk), str(e[1].pk))], [])
    client.get("/people/peiyu-liu-a/")
    assert seen["ids"] == {str(e[0].pk), str(e[1].pk)}
    assert list(seen["must"]) == [(str(e[0].pk), str(e[1].pk))]


def test_on_demand_split_is_recomputed_after_a_new_decision(fake_clustering):
    """The cached split of a page is keyed by its decisions too, not only by its entries."""
    page = make_person(id="wei-wang/unverified", first="Wei", last="Wang")
    for _ in range(3):
        make_paper(authors=(page,))
    entries = person_entries(page)
    seen = fake_clustering
    split.computed_split(page, entries)
    assert list(seen["must"]) == []
    seen.clear()
    split.computed_split(page, entries)
    assert seen == {}  # unchanged page and decisions: from the cache

    # a maintainer moves two of the entries here from another page: same entries, new decision
    source = make_person(first="Wei", last="Wang")
    cs = make_changeset(status=ChangeSet.Status.APPLIED)
    moved = sorted([entries[0].pk, entries[1].pk])
    for pk in moved:
        make_move(
            changeset=cs,
            authorship=Authorship.objects.get(pk=pk),
            from_person_id=source.id,
            to_person=page,
            status=Move.Status.APPLIED,
        )
    split.computed_split(page, entries)
    assert list(seen["must"]) == [(str(moved[0]), str(moved[1]))]
