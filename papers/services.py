"""Writes of the catalog (persons, their names, author/editor entries), for the apps above it.

The catalog tables are written here and by the import (`papers.importing`) only. What must
follow a write follows from it here: moving entries adds their printed names to the new person
and refreshes both persons' statistics, and every write moves the catalog's version on (pages
cached by browsers are then revalidated); the caller never has to remember.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction

from papers.models import Authorship, Person, PersonName
from papers.names import normalize_name

# -- version --------------------------------------------------------------------------------------


def catalog_changed() -> None:
    """Count a change of the catalog, once the current transaction commits.

    Pages anyone may read are cached by browsers under a tag that includes this count
    (`selectors.catalog_version`, `papers.caching`). Why a sequence, moved on after the commit:
    a sequence takes no lock, so writers never wait on one another for it (a counter row would
    serialise every apply and import on one row, and deadlock with their own row locks); and
    since the number moves only after the data has committed, a page tagged with the new number
    was read from the new data. A page read just before the number moved is tagged with the old
    one, and is sent again on the next visit: too fresh, never stale. (A process killed in the
    instant between its commit and this call would leave the old number until the next change.)
    """
    transaction.on_commit(_catalog_version_next, robust=True)


def _catalog_version_next() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('papers_catalog_version')")


# -- one lock order for every writer -------------------------------------------------------------

# pg_advisory_xact_lock key of the catalog ("catalog" in ASCII): every writer takes it before any
# row lock, so no two writers ever wait for each other in opposite orders (an import and an
# approval used to deadlock). Imports, applies and reverts hold it exclusively; proposals that
# only lock entries share it.
CATALOG_LOCK_KEY = 0x636174616C6F67


class CatalogBusy(ValidationError):
    """Another writer (an import, usually) holds the catalog longer than a request may wait.
    A ValidationError, so that every form and page that shows refusals shows this one too."""

    def __init__(self) -> None:
        super().__init__(
            "An import is running: the data is being rewritten. Nothing was changed; try again "
            "when it has finished (see /imports/).",
            code="catalog_busy",
        )


def catalog_lock(*, exclusive: bool, wait_seconds: float | None = None) -> None:
    """Take the catalog lock until the transaction ends (call inside one). With `wait_seconds`,
    give up after that long with CatalogBusy (requests); without, wait (imports)."""
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    with connection.cursor() as cursor:
        if wait_seconds is None:
            cursor.execute(f"SELECT {function}(%s)", [CATALOG_LOCK_KEY])
            return
        cursor.execute(f"SELECT pg_try_{function.removeprefix('pg_')}(%s)", [CATALOG_LOCK_KEY])
        if cursor.fetchone()[0]:
            return
        # Someone holds it: wait, but not for an import's whole run.
        cursor.execute("SET LOCAL lock_timeout = %s", [f"{int(wait_seconds * 1000)}ms"])
        try:
            cursor.execute(f"SELECT {function}(%s)", [CATALOG_LOCK_KEY])
        except OperationalError as exc:
            raise CatalogBusy() from exc
        cursor.execute("SET LOCAL lock_timeout = DEFAULT")


def _request_wait() -> float:
    return float(getattr(settings, "CATALOG_LOCK_WAIT_SECONDS", 5))


# -- compare-and-swap ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryClaim:
    """ "This entry belongs to `expected_person_id`": what a proposal saw when it was made."""

    authorship_id: int | None  # None: the entry is gone from the catalog (re-imported away)
    item_id: str
    role: str
    position: int
    expected_person_id: str


@dataclass(frozen=True)
class EntryConflict:
    """A claim that no longer holds: the entry belongs to someone else now, or is gone."""

    claim: EntryClaim
    actual_person_id: str | None  # None: the entry no longer exists

    @property
    def entry(self) -> str:
        c = self.claim
        return f"{c.item_id} {c.role} #{c.position + 1}"

    def __str__(self) -> str:
        if self.actual_person_id is None:
            return f"{self.entry} no longer exists"
        return (
            f"{self.entry} now belongs to {self.actual_person_id}, "
            f"not {self.claim.expected_person_id} as proposed"
        )


def claim_conflict(claim: EntryClaim, actual_person_id: str | None) -> EntryConflict | None:
    """The compare-and-swap rule, once: a claim holds while its entry exists and still belongs
    to the person the proposal saw. (The export asks it about the data folder's resolution.)"""
    if actual_person_id is None or actual_person_id != claim.expected_person_id:
        return EntryConflict(claim, actual_person_id)
    return None


def entries_lock(ids: Iterable[int], *, write: bool) -> dict[int, Authorship]:
    """Lock these entries until the transaction ends and return them as they are now.

    The catalog lock first (exclusive when the caller will write the catalog, shared when it
    only proposes), then the rows, always in id order: two writers locking overlapping entries
    wait for each other instead of deadlocking. Entries that no longer exist are missing from
    the result. CatalogBusy when an import holds the catalog for longer than a request waits.
    """
    catalog_lock(exclusive=write, wait_seconds=_request_wait())
    return {
        a.pk: a
        for a in Authorship.objects.select_for_update()
        .filter(pk__in=sorted(set(ids)))
        .order_by("pk")
        .only("id", "item_id", "role", "position", "first", "last", "person_id")
    }


def entries_compare_and_lock(
    claims: Sequence[EntryClaim], *, write: bool = True
) -> list[EntryConflict]:
    """Lock the claimed entries and return every claim that no longer holds (in claim order).
    Call inside a transaction; write only when the list is empty."""
    current = entries_lock(
        (c.authorship_id for c in claims if c.authorship_id is not None), write=write
    )
    conflicts = []
    for claim in claims:
        entry = current.get(claim.authorship_id) if claim.authorship_id is not None else None
        conflict = claim_conflict(claim, entry.person_id if entry is not None else None)
        if conflict is not None:
            conflicts.append(conflict)
    return conflicts


# -- persons and entries -------------------------------------------------------------------------


@dataclass(frozen=True)
class NewPersonSpec:
    """A verified person to create (as people.json would list it)."""

    id: str
    first_name: str
    last_name: str
    orcid: str = ""
    degree: str = ""
    comment: str = ""


class PersonIdTaken(Exception):
    def __init__(self, ids: Sequence[str], *, meanwhile: bool = False) -> None:
        self.ids = list(ids)
        self.meanwhile = meanwhile
        super().__init__(", ".join(self.ids))


def persons_create(*, persons: Sequence[NewPersonSpec]) -> None:
    """Create verified persons with their canonical names; PersonIdTaken if an id exists."""
    catalog_lock(exclusive=True, wait_seconds=_request_wait())
    taken = sorted(
        Person.objects.filter(id__in=[p.id for p in persons]).values_list("id", flat=True)
    )
    if taken:
        raise PersonIdTaken(taken)
    try:
        with transaction.atomic():
            Person.objects.bulk_create(
                [
                    Person(
                        id=p.id,
                        first_name=p.first_name,
                        last_name=p.last_name,
                        orcid=p.orcid,
                        degree=p.degree,
                        comment=p.comment,
                        is_verified=True,
                    )
                    for p in persons
                ]
            )
    except IntegrityError as exc:
        # Created by someone else since the check above, and committed first.
        raise PersonIdTaken([p.id for p in persons], meanwhile=True) from exc
    _names_add(
        {p.id: [(p.first_name, p.last_name)] for p in persons},
        canonical={p.id: (p.first_name, p.last_name) for p in persons},
    )
    catalog_changed()


def entries_reassign(*, targets: Mapping[int, str]) -> None:
    """Give each entry (authorship id -> person id) to its new person.

    The printed name of each moved entry becomes one of its new person's names (explicit for a
    verified person, as the export writes it to people.json), and both sides' statistics are
    refreshed. The caller has locked and checked the entries (`entries_compare_and_lock`).
    """
    if not targets:
        return
    catalog_lock(exclusive=True, wait_seconds=_request_wait())  # held already by the caller
    entries = Authorship.objects.filter(pk__in=list(targets)).only(
        "id", "first", "last", "person_id"
    )
    by_target: dict[str, list[int]] = defaultdict(list)
    names: dict[str, list[tuple[str, str]]] = defaultdict(list)
    affected: set[str] = set()
    for entry in entries:
        target = targets[entry.pk]
        by_target[target].append(entry.pk)
        names[target].append((entry.first, entry.last))
        affected |= {entry.person_id, target}
    for target, ids in by_target.items():
        Authorship.objects.filter(pk__in=ids).update(person_id=target)
    _names_add(names)
    persons_refresh_stats(person_ids=affected)
    catalog_changed()


def _names_add(
    names: Mapping[str, Iterable[tuple[str, str]]],
    *,
    canonical: Mapping[str, tuple[str, str]] | None = None,
) -> None:
    """Add names to persons; a name a person already has is kept as it is. The unique
    constraint makes two concurrent writers of one name agree instead of adding it twice."""
    canonical = canonical or {}
    verified = set(
        Person.objects.filter(id__in=list(names), is_verified=True).values_list("id", flat=True)
    )
    rows = [
        PersonName(
            person_id=pid,
            first=first,
            last=last,
            is_explicit=pid in verified,
            is_canonical=canonical.get(pid) == (first, last),
            normalized=normalize_name(first, last),
        )
        for pid, pairs in names.items()
        for first, last in sorted(set(pairs))
    ]
    PersonName.objects.bulk_create(rows, ignore_conflicts=True)


def persons_remove_unused(*, ids: Iterable[str], keep: Iterable[str] = ()) -> None:
    """Remove these persons where no entry belongs to them any more (and not in `keep`): what a
    revert does to the persons its change set created."""
    (
        Person.objects.filter(id__in=list(ids))
        .exclude(id__in=list(keep))
        .exclude(authorships__isnull=False)
        .delete()
    )
    catalog_changed()


def entries_set_explicit_id(*, explicit_ids: Mapping[int, str]) -> None:
    """Mirror the XML's `id` attribute of these entries after an export wrote it."""
    catalog_lock(exclusive=True, wait_seconds=_request_wait())
    Authorship.objects.bulk_update(
        [Authorship(pk=pk, explicit_id=value) for pk, value in explicit_ids.items()],
        ["explicit_id"],
    )
    catalog_changed()


def persons_refresh_stats(*, person_ids: Iterable[str] | None = None) -> None:
    """Recompute item_count and first/last year from authorships (all persons when None)."""
    ids = None if person_ids is None else list(set(person_ids))
    if ids is not None and not ids:
        return
    person_filter = "" if ids is None else "AND p.id = ANY(%(ids)s)"
    entry_filter = "" if ids is None else "WHERE a.person_id = ANY(%(ids)s)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE papers_person p
            SET item_count = COALESCE(s.items, 0), first_year = s.first, last_year = s.last
            FROM papers_person p2
            LEFT JOIN (
                SELECT a.person_id, count(DISTINCT a.item_id) AS items,
                       min(v.year) AS first, max(v.year) AS last
                FROM papers_authorship a JOIN papers_volume v ON v.id = a.volume_id
                {entry_filter}
                GROUP BY a.person_id
            ) s ON s.person_id = p2.id
            WHERE p.id = p2.id {person_filter}
              AND (p.item_count, p.first_year, p.last_year)
                  IS DISTINCT FROM (COALESCE(s.items, 0), s.first, s.last)
            """,
            {"ids": ids},
        )
