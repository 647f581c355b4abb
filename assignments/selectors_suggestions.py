"""Reads for `refresh_suggestions`: every person page as a block of clustering signatures.

A handful of queries in total, whatever the number of persons: authorships, papers, volumes and
reviewers' decisions (assignments.selectors_decisions) are each read once, in bulk, and grouped
in memory.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from assignments import selectors_decisions
from assignments.selectors import signature
from papers.models import Authorship, Paper, Volume


@dataclass
class PageBlock:
    person_id: str
    signatures: list[dict]
    must_link: list[tuple[str, str]] = field(default_factory=list)
    cannot_link: list[tuple[str, str]] = field(default_factory=list)


def page_blocks(*, min_items: int = 2, person_ids: Iterable[str] | None = None) -> list[PageBlock]:
    """One block per person page with `min_items`+ author/editor entries."""
    entries = Authorship.objects.order_by("item_id", "role", "position")
    wanted = set(person_ids) if person_ids is not None else None
    if wanted is not None:
        # the items of the wanted pages, with every entry on them (the coauthors)
        entries = entries.filter(
            item_id__in=Authorship.objects.filter(person_id__in=wanted).values("item_id")
        )
    rows = list(
        entries.values_list(
            "id",
            "person_id",
            "item_id",
            "paper_id",
            "volume_id",
            "role",
            "position",
            "first",
            "last",
            "affiliation",
            "explicit_orcid",
        ).iterator(chunk_size=20_000)
    )
    counts: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        counts[r[1]].add(r[2])
    keep = {
        p
        for p, items in counts.items()
        if len(items) >= min_items and (wanted is None or p in wanted)
    }
    names_on_item: dict[tuple[str, str], list[str]] = defaultdict(list)
    paper_ids, volume_ids = set(), set()
    for r in rows:
        names_on_item[(r[2], r[5])].append(f"{r[7]} {r[8]}".strip())
        if r[1] in keep:
            if r[3]:
                paper_ids.add(r[3])
            volume_ids.add(r[4])
    papers = {
        p[0]: p
        for p in Paper.objects.filter(id__in=paper_ids)
        .values_list("id", "title", "abstract", "year", "venue_ids", "booktitle")
        .iterator(chunk_size=20_000)
    }
    volumes = {
        v[0]: v
        for v in Volume.objects.filter(id__in=volume_ids)
        .values_list("id", "title", "year", "venue_ids")
        .iterator(chunk_size=20_000)
    }
    by_person: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        aid, person_id, item_id, paper_id, volume_id, role, position, first, last, aff, orcid = r
        if person_id not in keep:
            continue
        if paper_id:
            _, title, abstract, year, venue_ids, booktitle = papers[paper_id]
        else:  # a volume editor: the volume stands in for the paper
            _, title, year, venue_ids = volumes[volume_id]
            abstract, booktitle = "", title
        names = names_on_item[(item_id, role)]
        printed = f"{first} {last}".strip()
        coauthors = list(names)
        if printed in coauthors:
            coauthors.remove(printed)
        by_person[person_id].append(
            signature(
                authorship_id=aid,
                item_id=item_id,
                title=title,
                abstract=abstract,
                year=year,
                venue_ids=venue_ids,
                booktitle=booktitle,
                position=position,
                first=first,
                last=last,
                affiliation=aff,
                coauthors=coauthors,
                orcid=orcid,
            )
        )
    # Reviewers' applied decisions, as constraints on the pages that hold moved entries: the
    # moves in force are read once, whatever the number of such pages.
    constraints = selectors_decisions.constraints_for_pages(
        {person_id: [int(s["id"]) for s in sigs] for person_id, sigs in by_person.items()}
    )
    blocks = []
    for person_id in sorted(by_person):
        must, cannot = constraints.get(person_id, ([], []))
        blocks.append(PageBlock(person_id, by_person[person_id], must, cannot))
    return blocks
