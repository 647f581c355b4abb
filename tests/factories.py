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


def make_move(*, changeset, authorship: Authorship, to_person=None, to_new_person=None):
    from assignments.models import Move

    return Move.objects.create(
        changeset=changeset,
        authorship=authorship,
        item_id=authorship.item_id,
        role=authorship.role,
        position=authorship.position,
        from_person_id=authorship.person_id,
        to_person=to_person,
        to_new_person=to_new_person,
    )


# --- a small real Anthology data folder, loaded into the database (review/export tests) ---

SHARED_DATA = "/tmp/data/acl-anthology-2025-05/data"


def make_anthology_folder(tmp_path, *, collections: tuple[str, ...], source: str = SHARED_DATA):
    """Copy a few collections and people.json of a data folder into `tmp_path/data`."""
    import shutil
    from pathlib import Path

    data = Path(tmp_path) / "data"
    (data / "xml").mkdir(parents=True)
    (data / "json").mkdir()
    for cid in collections:
        shutil.copy(Path(source) / "xml" / f"{cid}.xml", data / "xml")
    shutil.copy(Path(source) / "xml" / "schema.rnc", data / "xml")
    for name in ("people.json", "venues.json", "sigs.json"):
        shutil.copy(Path(source) / "json" / name, data / "json")
    return data


def load_anthology_into_db(data_dir) -> None:
    """Load a (small) data folder the way the import does: ids as the official library has them."""
    import warnings

    from acl_anthology import Anthology

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        anthology = Anthology(datadir=str(data_dir))
        anthology.people.load()
    persons: dict[str, Person] = {}
    names: list[PersonName] = []
    for pid, p in anthology.people.items():
        if not p.item_ids:
            continue
        canonical = p.canonical_name
        persons[pid] = Person(
            id=pid,
            first_name=canonical.first or "",
            last_name=canonical.last,
            orcid=p.orcid or "",
            is_verified=p.is_explicit,
            disable_name_matching=p.disable_name_matching,
        )
        for i, n in enumerate(p.names):
            names.append(
                PersonName(
                    person_id=pid,
                    first=n.first or "",
                    last=n.last,
                    is_canonical=i == 0,
                    is_explicit=p.is_explicit,
                    normalized=normalize_name(n.first, n.last),
                )
            )
    Person.objects.bulk_create(persons.values())
    PersonName.objects.bulk_create(names)
    authorships = []
    papers = []
    for collection in anthology.collections.values():
        Collection.objects.create(id=collection.id)
        for volume in collection.volumes():
            year = int(volume.year) if volume.year else None
            Volume.objects.create(
                id=volume.full_id, collection_id=collection.id, title=str(volume.title), year=year
            )
            entries = [(volume.full_id, None, "editor", volume.editors)]
            for paper in volume.papers():
                papers.append(
                    Paper(
                        id=paper.full_id,
                        volume_id=volume.full_id,
                        title=str(paper.title),
                        year=year,
                        is_frontmatter=paper.is_frontmatter,
                    )
                )
                entries.append((paper.full_id, paper.full_id, "author", paper.authors))
                entries.append((paper.full_id, paper.full_id, "editor", paper._editors))
            for item_id, paper_id, role, specs in entries:
                for position, ns in enumerate(specs):
                    authorships.append(
                        Authorship(
                            item_id=item_id,
                            volume_id=volume.full_id,
                            paper_id=paper_id,
                            role=role,
                            position=position,
                            first=ns.first or "",
                            last=ns.last,
                            explicit_id=ns.id or "",
                            explicit_orcid=ns.orcid or "",
                            person_id=ns.resolve().id,
                        )
                    )
    Paper.objects.bulk_create(papers, batch_size=2000)
    Authorship.objects.bulk_create(authorships, batch_size=2000)
    from assignments.services.review import persons_recompute_stats

    persons_recompute_stats(person_ids=persons)
