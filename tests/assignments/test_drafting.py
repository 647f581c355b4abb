import pytest
from django.core.exceptions import ValidationError

from assignments.changesets import services as drafting
from assignments.models import ChangeSet, Move, NewPerson
from papers.orcid import orcid_clean
from tests.factories import make_person, make_user

pytestmark = pytest.mark.django_db

VALID_ORCID = "0000-0002-1825-0097"


def test_orcid_clean_accepts_urls_and_lowercase_x():
    assert orcid_clean("https://orcid.org/0000-0002-1825-0097") == VALID_ORCID
    assert orcid_clean("0000 0002 1694 233x") == "0000-0002-1694-233X"
    assert orcid_clean("  ") == ""


@pytest.mark.parametrize("bad", ["0000-0002-1825-0098", "1234", "0000-0002-1825-009Y"])
def test_orcid_clean_rejects_malformed(bad):
    with pytest.raises(ValidationError):
        orcid_clean(bad)


def test_draft_is_reused_per_user(reviewer):
    first = drafting.changeset_get_or_create_draft(user=reviewer)
    again = drafting.changeset_get_or_create_draft(user=reviewer)
    other = drafting.changeset_get_or_create_draft(user=make_user())
    assert first.pk == again.pk
    assert other.pk != first.pk
    assert first.status == ChangeSet.Status.DRAFT


def test_person_id_proposal_follows_anthology_rules():
    assert drafting.person_id_propose(first_name="Peiyu", last_name="Liu") == "peiyu-liu"
    make_person(id="peiyu-liu", first="Peiyu", last="Liu", verified=True)
    assert (
        drafting.person_id_propose(first_name="Peiyu", last_name="Liu", degree="Renmin University")
        == "peiyu-liu-renmin-university"
    )
    make_person(id="peiyu-liu-ruc", first="Peiyu", last="Liu", verified=True)
    assert (
        drafting.person_id_propose(
            first_name="Peiyu", last_name="Liu", degree="RUC", orcid=VALID_ORCID
        )
        == "peiyu-liu-0097"
    )
    with pytest.raises(ValidationError) as exc:
        drafting.person_id_propose(first_name="Peiyu", last_name="Liu", degree="RUC")
    assert "person_id" in exc.value.message_dict


def test_newperson_create_proposes_id_and_counts_pending_ids_as_taken(reviewer):
    draft = drafting.changeset_get_or_create_draft(user=reviewer)
    first = drafting.newperson_create(
        changeset=draft, first_name="Peiyu", last_name="Liu", degree="SDU"
    )
    assert first.person_id == "peiyu-liu"
    second = drafting.newperson_create(
        changeset=draft, first_name="Peiyu", last_name="Liu", degree="SDU"
    )
    assert second.person_id == "peiyu-liu-sdu"


def test_newperson_create_refuses_existing_id_and_bad_orcid(reviewer):
    make_person(id="jane-doe", first="Jane", last="Doe", verified=True)
    draft = drafting.changeset_get_or_create_draft(user=reviewer)
    with pytest.raises(ValidationError) as exc:
        drafting.newperson_create(
            changeset=draft, first_name="Jane", last_name="Doe", person_id="jane-doe"
        )
    assert "taken" in exc.value.message_dict["person_id"][0]
    with pytest.raises(ValidationError) as exc:
        drafting.newperson_create(
            changeset=draft, first_name="Jane", last_name="Doe", orcid="0000-0002-1825-0098"
        )
    assert "checksum" in exc.value.message_dict["orcid"][0]
    with pytest.raises(ValidationError) as exc:
        drafting.newperson_create(
            changeset=draft, first_name="Jane", last_name="Doe", person_id="Jane Doe!"
        )
    assert "person_id" in exc.value.message_dict
    assert not NewPerson.objects.exists()


def test_newperson_create_refuses_orcid_of_existing_person(reviewer):
    make_person(id="jane-doe", first="Jane", last="Doe", verified=True, orcid=VALID_ORCID)
    draft = drafting.changeset_get_or_create_draft(user=reviewer)
    with pytest.raises(ValidationError) as exc:
        drafting.newperson_create(
            changeset=draft, first_name="Jane", last_name="Doe", orcid=VALID_ORCID
        )
    assert "jane-doe" in exc.value.message_dict["orcid"][0]


def test_moves_add_records_from_person(reviewer, person_page):
    person, entries = person_page
    target = make_person(first="Peiyu", last="Liu", verified=True)
    draft = drafting.changeset_get_or_create_draft(user=reviewer)
    moves = drafting.moves_add(changeset=draft, authorships=entries[:2], to_person=target)
    assert len(moves) == 2
    stored = Move.objects.filter(changeset=draft).order_by("item_id")
    assert [m.from_person_id for m in stored] == [person.pk, person.pk]
    assert {m.to_person_id for m in stored} == {target.pk}
    assert [m.item_id for m in stored] == sorted(e.item_id for e in entries[:2])


def test_moves_add_validates_selection_and_target(reviewer, person_page):
    person, entries = person_page
    draft = drafting.changeset_get_or_create_draft(user=reviewer)
    with pytest.raises(ValidationError) as exc:
        drafting.moves_add(changeset=draft, authorships=[], to_person=person)
    assert "Select at least one" in exc.value.message_dict["authorships"][0]
    with pytest.raises(ValidationError) as exc:
        drafting.moves_add(changeset=draft, authorships=entries, to_person=person)
    assert "already belongs to" in exc.value.message_dict["authorships"][0]
    ghost = make_person(first="Ghost", last="Writer")
    ghost_pk = ghost.pk
    ghost.delete()
    ghost.pk = ghost_pk
    with pytest.raises(ValidationError) as exc:
        drafting.moves_add(changeset=draft, authorships=entries, to_person=ghost)
    assert "no person" in exc.value.message_dict["to_person"][0]
    assert not Move.objects.exists()


def test_moves_add_refuses_entry_pending_elsewhere_and_saves_nothing(reviewer, person_page):
    _, entries = person_page
    target = make_person(first="Peiyu", last="Liu", verified=True)
    other_draft = drafting.changeset_get_or_create_draft(user=make_user(username="alice"))
    drafting.moves_add(changeset=other_draft, authorships=entries[:1], to_person=target)
    draft = drafting.changeset_get_or_create_draft(user=reviewer)
    with pytest.raises(ValidationError) as exc:
        drafting.moves_add(changeset=draft, authorships=entries, to_person=target)
    assert "by alice" in exc.value.message_dict["authorships"][0]
    assert not Move.objects.filter(changeset=draft).exists()


def test_moves_add_to_new_person_is_atomic(reviewer, person_page):
    _, entries = person_page
    draft = drafting.changeset_get_or_create_draft(user=reviewer)
    drafting.moves_add(
        changeset=draft, authorships=entries[:1], to_person=make_person(verified=True)
    )
    with pytest.raises(ValidationError):
        # entries[0] is already moved: neither the person nor any move may remain
        drafting.moves_add_to_new_person(
            changeset=draft, authorships=entries, first_name="Peiyu", last_name="Liu"
        )
    assert not NewPerson.objects.exists()
    assert Move.objects.filter(changeset=draft).count() == 1
    moves = drafting.moves_add_to_new_person(
        changeset=draft, authorships=entries[1:], first_name="Peiyu", last_name="Liu"
    )
    assert {m.to_new_person.person_id for m in moves} == {"peiyu-liu"}


def test_move_remove_drops_orphaned_new_person(reviewer, person_page):
    _, entries = person_page
    draft = drafting.changeset_get_or_create_draft(user=reviewer)
    moves = drafting.moves_add_to_new_person(
        changeset=draft, authorships=entries[:2], first_name="Peiyu", last_name="Liu"
    )
    drafting.move_remove(changeset=draft, move=moves[0])
    assert NewPerson.objects.count() == 1
    drafting.move_remove(changeset=draft, move=moves[1])
    assert not NewPerson.objects.exists()
    with pytest.raises(ValidationError):
        drafting.move_remove(changeset=draft, move=moves[1])


def test_submit_requires_moves_and_owner_then_locks_draft(reviewer, person_page):
    _, entries = person_page
    draft = drafting.changeset_get_or_create_draft(user=reviewer)
    with pytest.raises(ValidationError, match="empty"):
        drafting.changeset_submit(changeset=draft, user=reviewer)
    drafting.moves_add(changeset=draft, authorships=entries, to_person=make_person(verified=True))
    drafting.changeset_update_note(changeset=draft, note="  Two people: NLP and vision. ")
    with pytest.raises(ValidationError, match="Only the reviewer"):
        drafting.changeset_submit(changeset=draft, user=make_user())
    submitted = drafting.changeset_submit(changeset=draft, user=reviewer)
    assert submitted.status == ChangeSet.Status.SUBMITTED
    assert submitted.submitted_at is not None
    assert submitted.note == "Two people: NLP and vision."
    with pytest.raises(ValidationError, match="not a draft"):
        drafting.changeset_update_note(changeset=draft, note="late")
    assert drafting.changeset_get_or_create_draft(user=reviewer).pk != draft.pk


def test_submit_refuses_stale_moves(reviewer, person_page):
    _, entries = person_page
    draft = drafting.changeset_get_or_create_draft(user=reviewer)
    drafting.moves_add(
        changeset=draft, authorships=entries[:1], to_person=make_person(verified=True)
    )
    elsewhere = make_person(first="Someone", last="Else")
    type(entries[0]).objects.filter(pk=entries[0].pk).update(person=elsewhere)
    with pytest.raises(ValidationError, match="out of date"):
        drafting.changeset_submit(changeset=draft, user=reviewer)
    draft.refresh_from_db()
    assert draft.status == ChangeSet.Status.DRAFT


def test_moves_to_an_unverified_page_need_its_printed_name(reviewer, person_page):
    person, entries = person_page
    draft = drafting.changeset_get_or_create_draft(user=reviewer)
    other_name = make_person(id="yang-liu/unverified", first="Yang", last="Liu")
    with pytest.raises(ValidationError) as exc:
        drafting.moves_add(changeset=draft, authorships=entries[:1], to_person=other_name)
    assert "printed as “Peiyu Liu”" in exc.value.message_dict["authorships"][0]
    same_name = make_person(id="peiyu-liu/unverified", first="Peiyu", last="Liu")
    moves = drafting.moves_add(changeset=draft, authorships=entries[:1], to_person=same_name)
    assert moves[0].to_person_id == "peiyu-liu/unverified"
