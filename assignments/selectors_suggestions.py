"""Reads for `refresh_suggestions`: every person page as a block of clustering signatures.

A handful of queries in total, whatever the number of persons: authorships, papers, volumes and
applied moves are each read once, in bulk, and grouped in memory.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from assignments.models import Move
from papers.models import Authorship, Paper, Volume


@dataclass
class PageBlock:
    person_id: str
    signatures: list[dict]
    must_link: list[tuple[str, str]] = field(default_factory=list)
    cannot_link: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class AppliedMove:
    changeset_id: int
    authorship_id: int
    from_person_id: str
    target_id: str


def decision_constraints(
    page_person_id: str, entry_ids: Iterable[int], moves: Iterable[AppliedMove]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Reviewers' applied decisions as constraints on one page.

    - Entries moved together (one change set, one target) are one person: must-link.
    - Entries a change set moved away from a person were judged not to be the entries it left
      behind: when both sets sit on this page again, they are cannot-link.
    """
    on_page = set(entry_ids)
    together: dict[tuple[int, str], list[int]] = defaultdict(list)
    away: dict[tuple[int, str], set[int]] = defaultdict(set)
    for m in moves:
        together[(m.changeset_id, m.target_id)].append(m.authorship_id)
        away[(m.changeset_id, m.from_person_id)].add(m.authorship_id)
    must: list[tuple[str, str]] = []
    for group in together.values():
        present = sorted(a for a in group if a in on_page)
        must.extend((str(a), str(b)) for a, b in zip(present, present[1:], strict=False))
    cannot: list[tuple[str, str]] = []
    for (_changeset, from_person), moved in away.items():
        if from_person != page_person_id:
            continue
        back = sorted(moved & on_page)
        if not back:
            continue
        remaining = sorted(on_page - moved)
        cannot.extend((str(a), str(b)) for a in back for b in remaining)
    return must, cannot


def page_blocks(*, min_items: int = 2, person_ids: Iterable[str] | None = None) -> list[PageBlock]:
    """One block per person page with `min_items`+ author/editor entries."""
    entries = Authorship.objects.order_by("item_id", "role", "position")
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
    wanted = set(person_ids) if person_ids is not None else None
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
            {
                "id": str(aid),
                "paper_id": item_id,
                "title": title,
                "abstract": abstract,
                "year": year,
                "venue": venue_ids[0] if venue_ids else "",
                "booktitle": booktitle,
                "author_position": position,
                "first": first,
                "last": last,
                "affiliation": aff,
                "coauthors": coauthors,
                "orcid": orcid,
            }
        )
    moves = [
        AppliedMove(
            changeset_id=m["changeset_id"],
            authorship_id=m["authorship_id"],
            from_person_id=m["from_person_id"],
            target_id=m["to_person_id"] or f"new:{m['to_new_person_id']}",
        )
        for m in Move.objects.filter(status=Move.Status.APPLIED, authorship__isnull=False).values(
            "changeset_id", "authorship_id", "from_person_id", "to_person_id", "to_new_person_id"
        )
    ]
    relevant: dict[int, list[AppliedMove]] = defaultdict(list)
    for m in moves:
        relevant[m.authorship_id].append(m)
    blocks = []
    for person_id in sorted(by_person):
        sigs = by_person[person_id]
        ids = [int(s["id"]) for s in sigs]
        page_moves = {m for a in ids for m in relevant.get(a, ())}
        must, cannot = decision_constraints(person_id, ids, page_moves) if page_moves else ([], [])
        blocks.append(PageBlock(person_id, sigs, must, cannot))
    return blocks
