"""Suggested targets: candidates from names and the draft, ranked by the clustering service (the
shipped model) with a score and a one-line why."""

import pytest

from assignments.changesets import services as drafting
from assignments.suggestions import targets
from tests.factories import make_paper, make_person, make_volume

pytestmark = pytest.mark.django_db


def _papers(person, coauthors, titles, year):
    return [
        make_paper(title=title, authors=(person, *coauthors), volume=make_volume(year=year))
        .authorships.filter(person=person)
        .get()
        for title in titles
    ]


@pytest.fixture
def wangs():
    """An unverified Wei Wang page with two papers of the parsing Wei Wang, and two verified Wei
    Wangs: one who parses with the same coauthors, one who works on speech with others."""
    alice = make_person(first="Alice", last="Smith", verified=True)
    bob = make_person(first="Bob", last="Jones", verified=True)
    carol = make_person(first="Carol", last="Brown", verified=True)
    dan = make_person(first="Dan", last="Green", verified=True)
    parsing = [f"Dependency parsing with graph networks {i}" for i in range(4)]
    speech = [f"Speech recognition for low-resource accents {i}" for i in range(4)]
    page = make_person(first="Wei", last="Wang")
    selected = _papers(page, (alice, bob), ["Graph-based dependency parsing revisited"] * 2, 2021)
    parser = make_person(id="wei-wang-parsing", first="Wei", last="Wang", verified=True)
    _papers(parser, (alice, bob), parsing, 2020)
    speaker = make_person(id="wei-wang-speech", first="W.", last="Wang", verified=True)
    _papers(speaker, (carol, dan), speech, 2012)
    stranger = make_person(id="wei-wong", first="Wei", last="Wong", verified=True)
    _papers(stranger, (alice, bob), parsing, 2020)
    return page, selected


def test_the_right_person_ranks_first_with_a_why(wangs, reviewer):
    page, selected = wangs
    ranking = targets.targets_rank(
        person=page, authorship_ids=[e.pk for e in selected], user=reviewer
    )
    keys = [t.key for t in ranking.targets]
    assert keys[0] == "wei-wang-parsing"
    # namesakes and compatible verified names are candidates; another last name is not
    assert set(keys) == {"wei-wang-parsing", "wei-wang-speech", targets.NEW}
    assert ranking.best.why.startswith("shared coauthors: ")
    assert "Alice Smith" in ranking.best.why
    scores = [t.score for t in ranking.targets]
    assert scores == sorted(scores, reverse=True)
    assert ranking.scored == 2


def test_a_new_person_comes_first_when_nobody_fits(reviewer):
    page = make_person(first="Ada", last="Lovelace")
    selected = _papers(page, (make_person(first="Charles", last="Babbage"),), ["Engines"], 1843)
    ranking = targets.targets_rank(person=page, authorship_ids=[selected[0].pk], user=reviewer)
    assert [t.key for t in ranking.targets] == [targets.NEW]
    assert ranking.best.why == "no other person has a compatible name"


def test_the_drafts_new_persons_with_a_compatible_name_are_candidates(wangs, reviewer):
    page, selected = wangs
    other = make_person(first="Wei", last="Wang")
    elsewhere = _papers(other, (), ["Graph-based dependency parsing again"], 2022)
    unrelated = make_person(first="Ada", last="Lovelace")
    far = _papers(unrelated, (), ["Engines"], 1843)
    draft = drafting.changeset_get_or_create_draft(user=reviewer)
    drafting.moves_add_to_new_person(
        changeset=draft, authorships=elsewhere, first_name="Wei", last_name="Wang", degree="X"
    )
    drafting.moves_add_to_new_person(
        changeset=draft, authorships=far, first_name="Ada", last_name="Lovelace"
    )
    ranking = targets.targets_rank(person=page, authorship_ids=[selected[0].pk], user=reviewer)
    drafts = [t for t in ranking.targets if t.kind == "draft"]
    assert [t.person_id for t in drafts] == ["wei-wang"]
    assert drafts[0].score is not None


def test_only_the_pages_own_entries_are_scored(wangs, reviewer):
    page, _ = wangs
    foreign = make_paper(authors=(make_person(first="Wei", last="Wang"),)).authorships.get()
    ranking = targets.targets_rank(person=page, authorship_ids=[foreign.pk], user=reviewer)
    assert ranking.targets == []
    assert ranking.message == "Select papers to see who they may belong to."
