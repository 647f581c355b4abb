import io

import pytest
from django.core.management import CommandError, call_command

from assignments.changesets import services as drafting
from assignments.models import ChangeSet, Move
from papers.models import Authorship, Person
from tests.factories import make_paper, make_person, make_user

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("move_papers", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def _move(person, papers: str, to: str, *options: str, new_person=None, user="rev") -> str:
    """move_papers from PERSON's page; PAPERS is a comma-separated list of paper ids."""
    args = ["--from", person.id, "--papers", papers, "--to", to, "--user", user]
    if new_person is not None:
        args += ["--new-person", new_person]
    return _run(*args, *options)


@pytest.fixture
def mixed_page():
    person = make_person(id="peiyu-liu/unverified", first="Peiyu", last="Liu")
    papers = [make_paper(authors=(person,)) for _ in range(3)]
    return person, papers


def test_submits_a_change_set_for_review(mixed_page):
    person, papers = mixed_page
    make_user(username="rev", roles=("reviewer",))
    pk = _move(
        person,
        f"{papers[0].id},{papers[1].id}",
        "peiyu-liu-ruc",
        "--degree",
        "RUC",
        "--note",
        "RUC papers",
        new_person="Peiyu Liu",
    )
    cs = ChangeSet.objects.get(pk=int(pk))
    assert cs.status == ChangeSet.Status.SUBMITTED and cs.note == "RUC papers"
    assert sorted(cs.moves.values_list("item_id", flat=True)) == [papers[0].id, papers[1].id]
    np = cs.new_persons.get()
    assert (np.person_id, np.first_name, np.last_name, np.degree) == (
        "peiyu-liu-ruc",
        "Peiyu",
        "Liu",
        "RUC",
    )
    assert set(Authorship.objects.values_list("person_id", flat=True)) == {person.id}


def test_approve_applies_at_once(mixed_page, maintainer):
    person, papers = mixed_page
    target = make_person(verified=True, first="Peiyu", last="Liu")
    pk = _move(person, papers[2].id, target.id, "--approve", user=maintainer.username)
    cs = ChangeSet.objects.get(pk=int(pk))
    assert cs.status == ChangeSet.Status.APPLIED
    assert cs.moves.get().status == Move.Status.APPLIED
    assert Authorship.objects.get(paper=papers[2]).person_id == target.id
    target.refresh_from_db()
    assert target.item_count == 1


def test_approve_needs_a_maintainer(mixed_page):
    person, papers = mixed_page
    make_user(username="rev", roles=("reviewer",))
    with pytest.raises(CommandError, match="not a maintainer"):
        _move(person, papers[0].id, "x-y", "--approve", new_person="X Y")
    assert not ChangeSet.objects.exists()


def test_bad_input_is_named_and_nothing_is_created(mixed_page):
    person, papers = mixed_page
    make_user(username="rev", roles=("reviewer",))
    with pytest.raises(CommandError, match="no entry on 2099.nope-1.1"):
        _move(person, f"{papers[0].id},2099.nope-1.1", "a-b", new_person="A B")
    with pytest.raises(CommandError, match="no person 'nobody'"):
        _move(person, papers[0].id, "nobody")
    with pytest.raises(CommandError, match="No user"):
        _move(person, papers[0].id, "a-b", new_person="A B", user="ghost")
    assert not ChangeSet.objects.exists()
    assert not Person.objects.filter(id="a-b").exists()


def test_same_validation_as_the_web_path(mixed_page):
    person, papers = mixed_page
    make_user(username="rev", roles=("reviewer",))
    _move(person, papers[0].id, "a-b", new_person="A B")
    # the entry is already proposed in an open change set
    with pytest.raises(CommandError, match="already moved to a-b"):
        _move(person, papers[0].id, "c-d", new_person="C D")
    assert ChangeSet.objects.count() == 1


def test_refuses_to_submit_a_web_draft_in_progress(mixed_page):

    person, papers = mixed_page
    rev = make_user(username="rev", roles=("reviewer",))
    draft = drafting.changeset_get_or_create_draft(user=rev)
    drafting.moves_add(
        changeset=draft,
        authorships=[papers[1].authorships.get()],
        to_person=make_person(verified=True),
    )
    with pytest.raises(CommandError, match="draft change set .* with moves in progress"):
        _move(person, papers[0].id, "a-b", new_person="A B")
    draft.refresh_from_db()
    assert draft.status == ChangeSet.Status.DRAFT and draft.moves.count() == 1
