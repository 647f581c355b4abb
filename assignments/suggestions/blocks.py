"""Person pages as blocks of clustering signatures, read from the catalog in bulk.

The one place signatures are built from the database: `refresh_suggestions` (every page, in
batches: `page_block_batches`) and a page's on-demand split (one page: `page_blocks`). A handful
of queries whatever the number of persons: entries, papers, volumes and reviewers' decisions are
each read once per call (once per batch), in bulk, and grouped in memory.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from django.db.models import Count, QuerySet

from assignments import decisions
from assignments.clustering.signatures import coauthors_of, make_signature, printed_name
from assignments.suggestions.work import PageBlock
from papers.models import Authorship, Paper, Volume

__all__ = ["PageBlock", "page_block_batches", "page_blocks", "pages_count", "qualifying"]


class _Entry(NamedTuple):
    id: int
    person_id: str
    item_id: str
    paper_id: str | None
    volume_id: str
    role: str
    position: int
    first: str
    last: str
    affiliation: str
    explicit_orcid: str


class _Text(NamedTuple):
    title: str
    abstract: str
    year: int | None
    venue_ids: list[str]
    booktitle: str


def page_blocks(*, min_items: int = 2, person_ids: Iterable[str] | None = None) -> list[PageBlock]:
    """One block per person page with `min_items`+ items (all pages, or only `person_ids`), in
    one list: every entry is read in one query."""
    entries = Authorship.objects.order_by("item_id", "role", "position")
    wanted = set(person_ids) if person_ids is not None else None
    if wanted is not None:
        entries = _entries_of_items_of(wanted)
    return _blocks(entries, wanted=wanted, min_items=min_items)


def page_block_batches(
    *, min_items: int = 2, person_ids: Iterable[str] | None = None, batch_size: int = 2000
) -> Iterator[list[PageBlock]]:
    """`page_blocks` for `batch_size` pages at a time, in person id order: memory is bounded by
    one batch whatever the size of the catalog, and each batch costs the same five queries
    (the next page ids, their entries, papers, volumes, decisions)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    after = ""
    while True:
        ids = list(
            qualifying(min_items=min_items, person_ids=person_ids)
            .filter(person_id__gt=after)
            .order_by("person_id")
            .values_list("person_id", flat=True)[:batch_size]
        )
        if not ids:
            return
        wanted = set(ids)
        yield _blocks(_entries_of_items_of(wanted), wanted=wanted, min_items=min_items)
        if len(ids) < batch_size:
            return
        after = ids[-1]


def pages_count(*, min_items: int = 2, person_ids: Iterable[str] | None = None) -> int:
    """How many pages `page_block_batches` yields (one query)."""
    return qualifying(min_items=min_items, person_ids=person_ids).count()


def qualifying(*, min_items: int = 2, person_ids: Iterable[str] | None = None) -> QuerySet:
    """The rule for a page that has a block: its person has `min_items`+ distinct items. One
    row per such person (`person_id`); read from the (person, item_id) index alone."""
    entries = Authorship.objects.all()
    if person_ids is not None:
        entries = entries.filter(person_id__in=set(person_ids))
    return (
        entries.values("person_id")
        .annotate(items=Count("item_id", distinct=True))
        .filter(items__gte=min_items)
    )


def _entries_of_items_of(wanted: set[str]) -> QuerySet:
    """The items of the wanted pages, with every entry on them (the coauthors)."""
    return Authorship.objects.order_by("item_id", "role", "position").filter(
        item_id__in=Authorship.objects.filter(person_id__in=wanted).values("item_id")
    )


def _blocks(entries: QuerySet, *, wanted: set[str] | None, min_items: int) -> list[PageBlock]:
    rows = [
        _Entry(*values)
        for values in entries.values_list(*_Entry._fields).iterator(chunk_size=20_000)
    ]
    items: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        items[r.person_id].add(r.item_id)
    keep = {
        p for p, ids in items.items() if len(ids) >= min_items and (wanted is None or p in wanted)
    }
    on_item: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    paper_ids, volume_ids = set(), set()
    for r in rows:
        on_item[(r.item_id, r.role)].append((r.position, printed_name(r.first, r.last)))
        if r.person_id in keep:
            if r.paper_id:
                paper_ids.add(r.paper_id)
            volume_ids.add(r.volume_id)
    papers = {
        pid: _Text(title, abstract, year, venue_ids, booktitle)
        for pid, title, abstract, year, venue_ids, booktitle in Paper.objects.filter(
            id__in=paper_ids
        )
        .values_list("id", "title", "abstract", "year", "venue_ids", "booktitle")
        .iterator(chunk_size=20_000)
    }
    # a volume editor's entry: the volume stands in for the paper
    volumes = {
        vid: _Text(title, "", year, venue_ids, title)
        for vid, title, year, venue_ids in Volume.objects.filter(id__in=volume_ids)
        .values_list("id", "title", "year", "venue_ids")
        .iterator(chunk_size=20_000)
    }
    by_person: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        if r.person_id not in keep:
            continue
        text = papers[r.paper_id] if r.paper_id else volumes[r.volume_id]
        by_person[r.person_id].append(
            make_signature(
                id=str(r.id),
                paper_id=r.item_id,
                title=text.title,
                abstract=text.abstract,
                year=text.year,
                venue_ids=text.venue_ids,
                booktitle=text.booktitle,
                position=r.position,
                first=r.first,
                last=r.last,
                affiliation=r.affiliation,
                coauthors=coauthors_of(on_item[(r.item_id, r.role)], r.position),
                orcid=r.explicit_orcid,
            )
        )
    # Reviewers' applied decisions, as constraints on the pages that hold moved entries: the
    # moves in force are read once, whatever the number of such pages.
    constraints = decisions.constraints_for_pages(
        {person_id: [int(s["id"]) for s in sigs] for person_id, sigs in by_person.items()}
    )
    blocks = []
    for person_id in sorted(by_person):
        must, cannot = constraints.get(person_id, ([], []))
        blocks.append(PageBlock(person_id, by_person[person_id], must, cannot))
    return blocks
