"""Plain factories for test data: `make_*` functions with sensible defaults."""

import itertools
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.contrib.auth.models import Group, User

from papers.models import Authorship, Collection, Paper, Person, PersonName, Volume
from papers.names import normalize_name

if TYPE_CHECKING:
    from assignments.models import ChangeSet

_seq = itertools.count(1)

PASSWORD = "correct horse battery"  # every make_user user's

HTMX = {"HX-Request": "true"}  # the test client's headers= for an htmx request


def make_user(*, username: str | None = None, roles: tuple[str, ...] = ()) -> User:
    user = User.objects.create_user(username=username or f"user{next(_seq)}", password=PASSWORD)
    for role in roles:
        # get_or_create: transactional tests flush the groups the data migration made
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def make_person(
    *,
    id: str | None = None,
    first: str = "Ada",
    last: str = "Lovelace",
    verified: bool = False,
    orcid: str = "",
    extra_names: tuple[tuple[str, str], ...] = (),
) -> Person:
    slug = f"{first}-{last}".lower().replace(" ", "-")
    pid = id or (f"{slug}-{next(_seq)}" if verified else f"{slug}-{next(_seq)}/unverified")
    person = Person.objects.create(
        id=pid, first_name=first, last_name=last, is_verified=verified, orcid=orcid
    )
    PersonName.objects.create(
        person=person,
        first=first,
        last=last,
        is_canonical=True,
        is_explicit=verified,
        normalized=normalize_name(first, last),
    )
    for f, la in extra_names:
        PersonName.objects.create(
            person=person, first=f, last=la, is_explicit=verified, normalized=normalize_name(f, la)
        )
    return person


def make_volume(*, id: str | None = None, year: int = 2024) -> Volume:
    vid = id or f"{year}.test{next(_seq)}-long"
    collection, _ = Collection.objects.get_or_create(id=vid.split("-")[0].rsplit(".", 1)[0])
    return Volume.objects.create(
        id=vid, collection=collection, title=f"Proceedings {vid}", year=year, venue_ids=["acl"]
    )


def make_paper(
    *,
    volume: Volume | None = None,
    title: str = "A paper",
    authors: tuple[Person, ...] = (),
    year: int | None = None,
    abstract: str = "",
) -> Paper:
    volume = volume or make_volume(year=year or 2024)
    number = volume.papers.count() + 1
    paper = Paper.objects.create(
        id=f"{volume.id}.{number}",
        volume=volume,
        title=title,
        abstract=abstract,
        year=year or volume.year,
        venue_ids=volume.venue_ids,
        booktitle=volume.title,
    )
    for position, person in enumerate(authors):
        make_authorship(paper=paper, person=person, position=position)
    return paper


def make_authorship(
    *, paper: Paper, person: Person, position: int = 0, affiliation: str = ""
) -> Authorship:
    return Authorship.objects.create(
        item_id=paper.id,
        volume=paper.volume,
        paper=paper,
        role=Authorship.Role.AUTHOR,
        position=position,
        first=person.first_name,
        last=person.last_name,
        affiliation=affiliation,
        explicit_id=person.id if person.is_verified else "",
        person=person,
    )


# --- change sets (review/export tests; the drafting services build these in the app) ---


def make_changeset(*, user: User | None = None, status: str = "submitted", note: str = ""):
    from django.utils import timezone

    from assignments.models import ChangeSet

    return ChangeSet.objects.create(
        created_by=user or make_user(roles=("reviewer",)),
        status=status,
        note=note,
        submitted_at=timezone.now() if status != "draft" else None,
    )


def make_new_person(*, changeset, person_id: str, first: str = "Ada", last: str = "Lovelace", **kw):
    from assignments.models import NewPerson

    return NewPerson.objects.create(
        changeset=changeset, person_id=person_id, first_name=first, last_name=last, **kw
    )


def make_move(
    *,
    changeset,
    authorship: Authorship,
    to_person=None,
    to_new_person=None,
    from_person_id: str | None = None,
    status: str = "pending",
):
    from assignments.models import Move

    return Move.objects.create(
        changeset=changeset,
        authorship=authorship,
        item_id=authorship.item_id,
        role=authorship.role,
        position=authorship.position,
        from_person_id=from_person_id or authorship.person_id,
        to_person=to_person,
        to_new_person=to_new_person,
        status=status,
    )


def make_proposal(
    *,
    authorships: Iterable[Authorship],
    person_id: str,
    first: str = "Peiyu",
    last: str = "Liu",
    orcid: str = "",
    note: str = "",
    user: User | None = None,
) -> "ChangeSet":
    """A submitted change set moving every one of `authorships` to one new person."""
    changeset = make_changeset(user=user, note=note)
    new_person = make_new_person(
        changeset=changeset, person_id=person_id, first=first, last=last, orcid=orcid
    )
    for authorship in authorships:
        make_move(changeset=changeset, authorship=authorship, to_new_person=new_person)
    return changeset


def make_evidence(
    *,
    coauthors: Iterable[str] = (),
    terms: Iterable[str] = (),
    venues: Iterable[str] = (),
    years: tuple[int, int] | None = None,
    affiliations: Iterable[str] = (),
) -> dict:
    """A cluster's evidence as assignments.clustering.service emits it: every key present,
    lists of plain strings (terms are single lower-case title words), years as [first, last]
    or []."""
    return {
        "coauthors": list(coauthors),
        "terms": list(terms),
        "venues": list(venues),
        "years": list(years) if years else [],
        "affiliations": list(affiliations),
    }
