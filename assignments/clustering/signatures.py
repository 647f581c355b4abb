"""The clustering contract's signature: one author entry as the service sees it, built here once.

Training (from the library's data) and serving (from the database, for a page's split and for
`refresh_suggestions`) both build signatures with these two functions, so that the model is
served exactly the features it was trained on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def printed_name(first: str | None, last: str) -> str:
    return f"{first or ''} {last}".strip()


def coauthors_of(entries: Iterable[tuple[int, str]], position: int) -> list[str]:
    """The coauthors of the entry at `position`: the printed names of the other entries of the
    same item in the same role (authors of a paper, editors of a volume), in order."""
    return [name for pos, name in sorted(entries) if pos != position]


def make_signature(
    *,
    id: str,
    paper_id: str,
    title: str,
    abstract: str,
    year: int | None,
    venue_ids: Sequence[str],
    booktitle: str,
    position: int,
    first: str,
    last: str,
    affiliation: str,
    coauthors: list[str],
    orcid: str,
) -> dict:
    return {
        "id": id,
        "paper_id": paper_id,
        "title": title,
        "abstract": abstract,
        "year": year,
        "venue": venue_ids[0] if venue_ids else "",
        "booktitle": booktitle,
        "author_position": position,
        "first": first,
        "last": last,
        "affiliation": affiliation,
        "coauthors": coauthors,
        "orcid": orcid,
    }
