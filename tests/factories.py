"""Plain factories for test data: `make_*` functions with sensible defaults."""

import itertools

from django.contrib.auth.models import Group, User

from papers.models import Authorship, Collection, Paper, Person, PersonName, Volume
from papers.names import normalize_name

_seq = itertools.count(1)


def make_user(*, username: str | None = None, roles: tuple[str, ...] = ()) -> User:
    user = User.objects.create_user(
        username=username or f"user{next(_seq)}", password="correct horse battery"
    )
    for role in roles:
        user.groups.add(Group.objects.get(name=role))
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
