"""A reviewer's own work: "one person" marks, withdrawing, discarding, correcting new persons."""

import pytest
from django.core.exceptions import ValidationError

from assignments import decisions
from assignments.changesets import services as drafting
from assignments.models import ChangeSet, Move, NewPerson, PageDecision
from assignments.review import services as review
from tests.factories import make_paper, make_person, make_user

pytestmark = pytest.mark.django_db

VALID_ORCID = "0000-0002-1825-0097"


def _page(n: int = 3, last: str = "Liu"):
    person = make_person(first="Peiyu", last=last)
    return person, [make_paper(authors=(person,)).authorships.get() for _ in range(n)]


def _submitted_mark(reviewer, person):
    draft = drafting.changeset_get_or_create_draft(user=reviewer)
    mark = drafting.page_decision_add(changeset=draft, person=person)
    drafting.changeset_submit(changeset=draft, user=reviewer)
    return draft, mark


def test_one_person_mark_covers_the_papers_that_stay(reviewer):
    person, entries = _page(4)
    draft = drafting.changeset_get_or_create_draft(user=reviewer)
    drafting.moves_add_to_new_person(
        changeset=draft, authorships=entries[:1], first_name="Peiyu", last_name="Liu"
    )
    mark = drafting.page_decision_add(changeset=draft, person=person)
    assert sorted(mark.authorship_ids) == sorted(e.pk for e in entries[1:])
    # a move added after the mark takes its entry out of it: the two never contradict
    drafting.moves_add_to_new_person(
        changeset=draft, authorships=entries[1:2], first_name="Peiyu", last_name="Liu", degree="X"
    )
    mark.refresh_from_db()
    assert sorted(mark.authorship_ids) == sorted(e.pk for e in entries[2:])


def test_one_person_mark_is_refused_twice_and_on_a_single_paper(reviewer):
    person, _ = _page(2)
    draft = drafting.changeset_get_or_create_draft(user=reviewer)
    drafting.page_decision_add(changeset=draft, person=person)
    with pytest.raises(ValidationError, match="already marked one person in your change set"):
        drafting.page_decision_add(changeset=draft, person=person)
    other = drafting.changeset_get_or_create_draft(user=make_user(username="other"))
    with pytest.raises(ValidationError, match=f"change set {draft.pk} by rita"):
        drafting.page_decision_add(changeset=other, person=person)
    single, _ = _page(1, last="Single")
    with pytest.raises(ValidationError, match="1 paper that stay"):
        drafting.page_decision_add(changeset=draft, person=single)


def test_an_approved_mark_is_a_must_link_decision_until_reverted(reviewer, maintainer):
    person, entries = _page(3)
    ids = sorted(e.pk for e in entries)
    draft, mark = _submitted_mark(reviewer, person)
    # submitted, not yet decided: nothing for the clustering
    assert decisions.constraints_for_signatures(person.pk, ids) == ([], [])

    review.changeset_approve(changeset=draft, user=maintainer)
    mark.refresh_from_db()
    assert mark.status == Move.Status.APPLIED and mark.applied_at is not None
    chain = [(str(ids[0]), str(ids[1])), (str(ids[1]), str(ids[2]))]
    assert decisions.constraints_for_signatures(person.pk, ids) == (chain, [])
    assert decisions.constraints_for_pages({person.pk: ids}) == {person.pk: (chain, [])}

    revert = review.changeset_revert(changeset=draft, user=maintainer)
    assert revert.status == ChangeSet.Status.APPLIED and not revert.moves.exists()
    mark.refresh_from_db()
    draft.refresh_from_db()
    assert mark.status == Move.Status.REVERTED
    assert draft.status == ChangeSet.Status.REVERTED
    assert decisions.constraints_for_signatures(person.pk, ids) == ([], [])


def test_approve_some_and_reject_decide_marks_too(reviewer, maintainer):
    person, entries = _page(3)
    other, _ = _page(2, last="Other")
    draft = drafting.changeset_get_or_create_draft(user=reviewer)
    drafting.moves_add_to_new_person(
        changeset=draft, authorships=entries[:1], first_name="Peiyu", last_name="Liu"
    )
    kept = drafting.page_decision_add(changeset=draft, person=person)
    dropped = drafting.page_decision_add(changeset=draft, person=other)
    drafting.changeset_submit(changeset=draft, user=reviewer)
    review.changeset_approve(changeset=draft, user=maintainer, move_ids=[], decision_ids=[kept.pk])
    statuses = dict(PageDecision.objects.values_list("pk", "status"))
    assert statuses == {kept.pk: Move.Status.APPLIED, dropped.pk: Move.Status.REJECTED}
    assert draft.moves.get().status == Move.Status.REJECTED

    again, mark = _submitted_mark(make_user(username="sam", roles=("reviewer",)), other)
    review.changeset_reject(changeset=again, user=maintainer)
    mark.refresh_from_db()
    assert mark.status == Move.Status.REJECTED


def test_a_change_set_of_marks_alone_can_be_submitted_but_not_an_empty_one(reviewer):
    person, _ = _page(2)
    draft = drafting.changeset_get_or_create_draft(user=reviewer)
    with pytest.raises(ValidationError, match="empty"):
        drafting.changeset_submit(changeset=draft, user=reviewer)
    drafting.page_decision_add(changeset=draft, person=person)
    assert drafting.changeset_submit(changeset=draft, user=reviewer).status == "submitted"


def test_withdraw_returns_a_submitted_set_to_the_draft(reviewer):
    person, entries = _page(3)
    submitted = drafting.changeset_get_or_create_draft(user=reviewer)
    drafting.moves_add_to_new_person(
        changeset=submitted, authorships=entries[:1], first_name="Peiyu", last_name="Liu"
    )
    drafting.changeset_update_note(changeset=submitted, note="the RUC one")
    drafting.changeset_submit(changeset=submitted, user=reviewer)

    # no draft: the set itself becomes the draft again
    draft = drafting.changeset_withdraw(changeset=submitted, user=reviewer)
    assert draft.pk == submitted.pk and draft.status == ChangeSet.Status.DRAFT
    drafting.changeset_submit(changeset=draft, user=reviewer)

    # with a draft going: the set's moves, new persons and marks join it
    current = drafting.changeset_get_or_create_draft(user=reviewer)
    drafting.page_decision_add(changeset=current, person=person)
    merged = drafting.changeset_withdraw(changeset=submitted, user=reviewer)
    assert merged.pk == current.pk
    assert not ChangeSet.objects.filter(pk=submitted.pk).exists()
    assert merged.moves.count() == 1 and merged.new_persons.get().person_id == "peiyu-liu"
    assert merged.page_decisions.count() == 1
    assert merged.note == "the RUC one"


def test_withdraw_is_for_the_author_of_a_submitted_set(reviewer, maintainer):
    person, entries = _page(2)
    draft, _ = _submitted_mark(reviewer, person)
    with pytest.raises(ValidationError, match="Only the reviewer who wrote"):
        drafting.changeset_withdraw(changeset=draft, user=make_user())
    review.changeset_approve(changeset=draft, user=maintainer)
    with pytest.raises(ValidationError, match="only submitted change sets"):
        drafting.changeset_withdraw(changeset=draft, user=reviewer)


def test_discard_throws_the_draft_away(reviewer):
    person, entries = _page(2)
    draft = drafting.changeset_get_or_create_draft(user=reviewer)
    drafting.moves_add_to_new_person(
        changeset=draft, authorships=entries[:1], first_name="Peiyu", last_name="Liu"
    )
    with pytest.raises(ValidationError, match="Only the reviewer"):
        drafting.changeset_discard(changeset=draft, user=make_user())
    drafting.changeset_discard(changeset=draft, user=reviewer)
    assert not ChangeSet.objects.exists() and not Move.objects.exists()
    assert not NewPerson.objects.exists()


def test_a_new_person_can_be_corrected_before_submission(reviewer):
    _, entries = _page(2)
    draft = drafting.changeset_get_or_create_draft(user=reviewer)
    drafting.moves_add_to_new_person(
        changeset=draft, authorships=entries, first_name="Peiyu", last_name="Liu"
    )
    new_person = NewPerson.objects.get()
    updated = drafting.newperson_update(
        changeset=draft,
        new_person=new_person,
        first_name=" Pei-Yu ",
        last_name="Liu",
        orcid=f"https://orcid.org/{VALID_ORCID}",
        degree="Renmin University of China",
        comment="LLM compression",
    )
    assert (updated.first_name, updated.orcid, updated.degree, updated.comment) == (
        "Pei-Yu",
        VALID_ORCID,
        "Renmin University of China",
        "LLM compression",
    )
    assert updated.person_id == "peiyu-liu"  # the id stays
    with pytest.raises(ValidationError) as exc:
        drafting.newperson_update(
            changeset=draft, new_person=new_person, first_name="P", last_name="", orcid="123"
        )
    assert set(exc.value.message_dict) == {"last_name", "orcid"}
    make_person(id="someone", first="Some", last="One", verified=True, orcid="0000-0002-1694-233X")
    with pytest.raises(ValidationError, match="already belongs to someone"):
        drafting.newperson_update(
            changeset=draft,
            new_person=new_person,
            first_name="P",
            last_name="Liu",
            orcid="0000-0002-1694-233X",
        )
    drafting.changeset_submit(changeset=draft, user=reviewer)
    with pytest.raises(ValidationError, match="not a draft"):
        drafting.newperson_update(
            changeset=draft, new_person=new_person, first_name="P", last_name="Liu"
        )


def test_one_taken_id_is_named_as_one():
    make_person(id="peiyu-liu", first="Peiyu", last="Liu", verified=True)
    with pytest.raises(ValidationError) as exc:
        drafting.person_id_propose(first_name="Peiyu", last_name="Liu")
    assert exc.value.message_dict["person_id"] == [
        "The id peiyu-liu is taken. Add the degree institution or an ORCID iD, or type an id "
        "yourself."
    ]
    make_person(id="peiyu-liu-ruc", first="Peiyu", last="Liu", verified=True)
    with pytest.raises(ValidationError) as exc:
        drafting.person_id_propose(first_name="Peiyu", last_name="Liu", degree="RUC")
    assert exc.value.message_dict["person_id"][0].startswith(
        "The ids peiyu-liu and peiyu-liu-ruc are all taken."
    )
