import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from assignments.models import ChangeSet, Move
from assignments.review import services as review
from papers.models import Authorship, Person
from tests.factories import (
    make_changeset,
    make_move,
    make_paper,
    make_person,
    make_proposal,
    make_user,
)

pytestmark = pytest.mark.django_db


def _mixed_page(n: int = 4):
    """An unverified page with n papers, one entry each."""
    page = make_person(id="peiyu-liu/unverified", first="Peiyu", last="Liu")
    papers = [make_paper(authors=(page,), year=2020 + i) for i in range(n)]
    return page, [p.authorships.get() for p in papers]


def test_approve_all_applies_moves_to_a_new_verified_person(maintainer):
    page, entries = _mixed_page()
    cs = make_proposal(authorships=entries[:2], person_id="peiyu-liu-ruc", note="RUC papers")

    review.changeset_approve(changeset=cs, user=maintainer, comment="looks right")

    cs.refresh_from_db()
    assert cs.status == ChangeSet.Status.APPLIED
    assert cs.reviewed_by == maintainer and cs.review_comment == "looks right"
    assert set(cs.moves.values_list("status", flat=True)) == {Move.Status.APPLIED}
    new = Person.objects.get(id="peiyu-liu-ruc")
    assert new.is_verified and new.item_count == 2
    assert (new.first_year, new.last_year) == (2020, 2021)
    assert list(new.name_variants.values_list("first", "last", "is_explicit", "is_canonical")) == [
        ("Peiyu", "Liu", True, True)
    ]
    page.refresh_from_db()
    assert page.item_count == 2 and page.first_year == 2022
    assert {a.person_id for a in Authorship.objects.filter(pk__in=[e.pk for e in entries[2:]])} == {
        page.id
    }


def test_approve_some_rejects_the_others(maintainer):
    page, entries = _mixed_page(3)
    target = make_person(verified=True, first="Peiyu", last="Liu")
    cs = make_changeset()
    moves = [make_move(changeset=cs, authorship=a, to_person=target) for a in entries]

    review.changeset_approve(changeset=cs, user=maintainer, move_ids=[moves[0].pk])

    statuses = dict(cs.moves.values_list("pk", "status"))
    assert statuses == {
        moves[0].pk: Move.Status.APPLIED,
        moves[1].pk: Move.Status.REJECTED,
        moves[2].pk: Move.Status.REJECTED,
    }
    assert Authorship.objects.get(pk=entries[0].pk).person_id == target.id
    assert Authorship.objects.get(pk=entries[1].pk).person_id == page.id


def test_approve_rejects_unknown_move_ids(maintainer):
    page, entries = _mixed_page(1)
    target = make_person(verified=True)
    cs = make_changeset()
    make_move(changeset=cs, authorship=entries[0], to_person=target)
    with pytest.raises(ValidationError, match="not pending moves"):
        review.changeset_approve(changeset=cs, user=maintainer, move_ids=[999999])
    assert Authorship.objects.get(pk=entries[0].pk).person_id == page.id
    assert cs.moves.get().status == Move.Status.PENDING


def test_only_maintainers_approve_reject_or_revert():
    _, entries = _mixed_page(1)
    cs = make_changeset()
    make_move(changeset=cs, authorship=entries[0], to_person=make_person(verified=True))
    reviewer = make_user(roles=("reviewer",))
    for call in (review.changeset_approve, review.changeset_reject):
        with pytest.raises(PermissionDenied):
            call(changeset=cs, user=reviewer)
    with pytest.raises(PermissionDenied):
        review.changeset_revert(changeset=cs, user=reviewer)
    assert ChangeSet.objects.get(pk=cs.pk).status == ChangeSet.Status.SUBMITTED


def test_reject_marks_moves_and_changes_no_data(maintainer):
    page, entries = _mixed_page(2)
    cs = make_changeset()
    for a in entries:
        make_move(changeset=cs, authorship=a, to_person=make_person(verified=True))
    review.changeset_reject(changeset=cs, user=make_user(roles=("admin",)), comment="no")
    cs.refresh_from_db()
    assert cs.status == ChangeSet.Status.REJECTED and cs.review_comment == "no"
    assert set(cs.moves.values_list("status", flat=True)) == {Move.Status.REJECTED}
    assert set(Authorship.objects.values_list("person_id", flat=True)) == {page.id}
    with pytest.raises(ValidationError, match="only submitted"):
        review.changeset_approve(changeset=cs, user=maintainer)


def test_conflict_applies_nothing_and_names_what_changed(maintainer):
    page, entries = _mixed_page(2)
    other = make_person(verified=True, first="Peiyu", last="Liu")
    cs = make_proposal(authorships=entries, person_id="peiyu-liu-new")
    # Someone moved the second entry elsewhere after the proposal was made.
    Authorship.objects.filter(pk=entries[1].pk).update(person=other)

    with pytest.raises(review.ChangeSetConflict) as exc:
        review.changeset_approve(changeset=cs, user=maintainer)

    assert [c.actual_person_id for c in exc.value.conflicts] == [other.id]
    assert other.id in exc.value.messages[0] and entries[1].item_id in exc.value.messages[0]
    assert Authorship.objects.get(pk=entries[0].pk).person_id == page.id
    assert not Person.objects.filter(id="peiyu-liu-new").exists()
    cs.refresh_from_db()
    assert cs.status == ChangeSet.Status.SUBMITTED
    assert set(cs.moves.values_list("status", flat=True)) == {Move.Status.PENDING}


def test_new_person_id_taken_is_a_conflict(maintainer):
    _, entries = _mixed_page(1)
    make_person(id="peiyu-liu-x", verified=True, first="Peiyu", last="Liu")
    cs = make_proposal(authorships=[entries[0]], person_id="peiyu-liu-x")
    with pytest.raises(review.ChangeSetConflict, match="already exists"):
        review.changeset_approve(changeset=cs, user=maintainer)


def test_revert_restores_entries_and_removes_created_person(maintainer):
    page, entries = _mixed_page(3)
    cs = make_proposal(authorships=entries[:2], person_id="peiyu-liu-ruc")
    review.changeset_approve(changeset=cs, user=maintainer)

    revert = review.changeset_revert(changeset=cs, user=maintainer)

    assert revert.status == ChangeSet.Status.APPLIED and revert.reverts_id == cs.pk
    cs.refresh_from_db()
    assert cs.status == ChangeSet.Status.REVERTED
    assert set(cs.moves.values_list("status", flat=True)) == {Move.Status.REVERTED}
    assert set(Authorship.objects.values_list("person_id", flat=True)) == {page.id}
    assert not Person.objects.filter(id="peiyu-liu-ruc").exists()
    page.refresh_from_db()
    assert page.item_count == 3
    with pytest.raises(ValidationError, match="only applied"):
        review.changeset_revert(changeset=cs, user=maintainer)


def test_revert_after_later_change_becomes_a_proposal(maintainer):
    page, entries = _mixed_page(2)
    a_target = make_person(verified=True, first="Peiyu", last="Liu")
    b_target = make_person(verified=True, first="Peiyu", last="Liu")
    first = make_changeset()
    for a in entries:
        make_move(changeset=first, authorship=a, to_person=a_target)
    review.changeset_approve(changeset=first, user=maintainer)
    later = make_changeset()
    make_move(
        changeset=later, authorship=Authorship.objects.get(pk=entries[1].pk), to_person=b_target
    )
    review.changeset_approve(changeset=later, user=maintainer)

    revert = review.changeset_revert(changeset=first, user=maintainer)

    assert revert.status == ChangeSet.Status.SUBMITTED
    assert "changed since" in revert.note
    # Nothing was overwritten
    assert Authorship.objects.get(pk=entries[1].pk).person_id == b_target.id
    assert Authorship.objects.get(pk=entries[0].pk).person_id == a_target.id
    first.refresh_from_db()
    assert first.status == ChangeSet.Status.APPLIED
    # The proposal moves each entry back from where it is now; approving it completes the undo.
    assert dict(revert.moves.values_list("authorship_id", "from_person_id")) == {
        entries[0].pk: a_target.id,
        entries[1].pk: b_target.id,
    }
    review.changeset_approve(changeset=revert, user=maintainer)
    assert set(Authorship.objects.values_list("person_id", flat=True)) == {page.id}
    first.refresh_from_db()
    assert first.status == ChangeSet.Status.REVERTED


def test_stats_recomputed_for_source_and_target(maintainer):
    page, entries = _mixed_page(3)
    target = make_person(verified=True, first="Peiyu", last="Liu")
    cs = make_changeset()
    make_move(changeset=cs, authorship=entries[2], to_person=target)
    review.changeset_approve(changeset=cs, user=maintainer)
    page.refresh_from_db()
    target.refresh_from_db()
    assert (page.item_count, page.first_year, page.last_year) == (2, 2020, 2021)
    assert (target.item_count, target.first_year, target.last_year) == (1, 2022, 2022)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_maintainers_applying_conflicting_sets_exactly_one_succeeds(maintainer):
    _, entries = _mixed_page(3)
    x = make_person(verified=True, first="Peiyu", last="Liu")
    y = make_person(verified=True, first="Peiyu", last="Liu")
    sets = []
    for target in (x, y):
        cs = make_changeset()
        for a in entries:
            make_move(changeset=cs, authorship=a, to_person=target)
        sets.append(cs)
    users = [maintainer, make_user(roles=("maintainer",))]
    barrier = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def run(i: int) -> None:
        try:
            barrier.wait()
            review.changeset_approve(changeset=sets[i], user=users[i])
            outcomes[i] = "applied"
        except review.ChangeSetConflict:
            outcomes[i] = "conflict"
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes.values()) == ["applied", "conflict"]
    winner = sets[next(i for i, o in outcomes.items() if o == "applied")]
    winner_target = winner.moves.first().to_person_id
    assert set(Authorship.objects.values_list("person_id", flat=True)) == {winner_target}
    statuses = {cs.pk: ChangeSet.objects.get(pk=cs.pk).status for cs in sets}
    assert sorted(statuses.values()) == [ChangeSet.Status.APPLIED, ChangeSet.Status.SUBMITTED]
    assert Move.objects.filter(status=Move.Status.APPLIED).count() == 3
