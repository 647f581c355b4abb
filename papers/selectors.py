"""Reads behind the person pages and search; each a fixed number of queries whatever the size."""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.lookups import DataContains
from django.contrib.postgres.search import TrigramWordSimilarity
from django.db import connection
from django.db.models import (
    Case,
    F,
    FloatField,
    Func,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from papers.models import Authorship, Paper, Person, PersonName, Volume
from papers.names import normalize_name
from papers.orcid import orcid_normalize


def catalog_version() -> int:
    """How many times the catalog has changed (`services.catalog_changed`): one cheap read."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_value, is_called FROM papers_catalog_version")
        last_value, is_called = cursor.fetchone()
    return last_value if is_called else 0


def people_prefix(preview_name: str | None = None) -> str:
    """Where person pages live: /people/, or /previews/<name>/people/ inside a preview."""
    return f"/previews/{preview_name}/people/" if preview_name else "/people/"


def items_prefix(preview_name: str | None = None) -> str:
    """Where paper and volume pages live: /papers/, or /previews/<name>/papers/ in a preview."""
    return f"/previews/{preview_name}/papers/" if preview_name else "/papers/"


@dataclass(slots=True)
class Entry:
    """One author/editor entry of the page's person, with what its row on the page shows.

    Built from `values()` rows, not model instances: a page can hold a thousand of them. What
    a row does not show (abstract, coauthors, affiliations) is the item's page
    (`item_detail`), loaded on demand: it would be most of a large page's weight.
    """

    pk: int
    item_id: str
    role: str
    first: str
    last: str
    title: str  # the paper's, or the volume's for a volume editor
    year: int | None
    venue_ids: list[str]
    pending_move: Any = None  # a move in flight, set by the page that shows it
    group: int | None = None  # index of the suggested group it falls in, 1-based

    @property
    def printed_name(self) -> str:
        return f"{self.first} {self.last}".strip()

    @property
    def venue(self) -> str:
        return ", ".join(self.venue_ids)

    def row(self, *, person_name: str, selectable: bool, checked: bool) -> dict:
        """What the page's list shows, flattened: dict lookups are the cheap ones in templates,
        and numbers go as text (a number in a template is localized, a tenth of the time a
        thousand-row page takes to render)."""
        move = self.pending_move
        printed = self.printed_name
        year = str(self.year or "")
        return {
            "pk": str(self.pk),
            "title": self.title,
            "facts": f"{year} · {self.venue}" if year and self.venue else year or self.venue,
            "item_id": self.item_id,
            "is_editor": self.role == Authorship.Role.EDITOR,
            "group": str(self.group) if self.group else "",
            "printed": "" if printed == person_name else printed,
            "pending": {
                "target": move.target_id,
                "changeset": move.changeset_id,
                "by": move.changeset.created_by.get_username(),
                "status": move.changeset.status,
            }
            if move is not None
            else None,
            "disabled": move is not None or not selectable,
            "checked": checked and move is None and selectable,
        }


def person_entries(person: Person) -> list[Entry]:
    """Every entry of the person, newest first: one query, whatever the number of papers."""
    values = (
        Authorship.objects.filter(person=person)
        .order_by(
            Coalesce("paper__year", "volume__year").desc(nulls_last=True),
            F("item_id").desc(),
            "role",
        )
        .values_list(
            "id",
            "item_id",
            "role",
            "first",
            "last",
            "paper_id",
            "paper__title",
            "paper__year",
            "paper__venue_ids",
            "volume__title",
            "volume__year",
            "volume__venue_ids",
        )
    )
    entries = []
    for (
        pk,
        item_id,
        role,
        first,
        last,
        paper_id,
        title,
        year,
        venues,
        volume_title,
        volume_year,
        volume_venues,
    ) in values:
        on_paper = paper_id is not None
        entries.append(
            Entry(
                pk=pk,
                item_id=item_id,
                role=role,
                first=first,
                last=last,
                title=title if on_paper else volume_title,
                year=(year or volume_year) if on_paper else volume_year,
                venue_ids=(venues if on_paper else volume_venues) or [],
            )
        )
    return entries


@dataclass(slots=True)
class ItemEntry:
    """An author or editor of an item, as printed, and the person it resolves to."""

    person_id: str
    name: str
    affiliation: str


@dataclass
class Item:
    """A paper, or a volume (what its editors' entries are written on), with everything the
    person pages leave to be loaded on demand: abstract, authors or editors, affiliations."""

    id: str
    title: str
    year: int | None
    venue_ids: list[str]
    booktitle: str  # the volume's title for a paper ("" for a volume)
    abstract: str
    pdf_url: str
    is_volume: bool
    entries: list[ItemEntry] = field(default_factory=list)

    @property
    def venue(self) -> str:
        return ", ".join(self.venue_ids)

    @property
    def url(self) -> str:
        """The item on the Anthology's site (volumes under /volumes/)."""
        return f"https://aclanthology.org/{'volumes/' if self.is_volume else ''}{self.id}/"


def item_detail(item_id: str) -> Item | None:
    """A paper or volume by its Anthology id, with its authors (editors for a volume) in
    order: two or three queries, whatever the number of authors."""
    paper = (
        Paper.objects.filter(pk=item_id)
        .values_list("title", "year", "venue_ids", "booktitle", "abstract", "pdf_url")
        .first()
    )
    if paper is not None:
        title, year, venues, booktitle, abstract, pdf_url = paper
        item = Item(item_id, title, year, venues or [], booktitle, abstract, pdf_url, False)
        role = Authorship.Role.AUTHOR
    else:
        volume = Volume.objects.filter(pk=item_id).values_list("title", "year", "venue_ids")
        found = volume.first()
        if found is None:
            return None
        title, year, venues = found
        item = Item(item_id, title, year, venues or [], "", "", "", True)
        role = Authorship.Role.EDITOR
    item.entries = [
        ItemEntry(person_id, f"{first} {last}".strip(), affiliation)
        for person_id, first, last, affiliation in Authorship.objects.filter(
            item_id=item_id, role=role
        )
        .order_by("position")
        .values_list("person_id", "first", "last", "affiliation")
    ]
    return item


def _word_boost(query: str) -> Case:
    """Trigrams alone rank "Mengxin Zheng" level with "Zhengxin Yang" for "zhengxin" (the
    letters are all there); whole words and word starts as typed decide between them."""
    starts_word = Q(normalized__startswith=query) | Q(normalized__contains=f" {query}")
    whole_word = (
        Q(normalized__startswith=f"{query} ")
        | Q(normalized__endswith=f" {query}")
        | Q(normalized__contains=f" {query} ")
    )
    return Case(
        When(normalized=query, then=Value(1.0)),
        When(whole_word, then=Value(0.6)),
        When(starts_word, then=Value(0.3)),
        default=Value(0.0),
        output_field=FloatField(),
    )


@dataclass
class SearchHit:
    person: Person
    matched_name: str  # the variant that matched, when not the canonical name
    score: float
    # the newest paper: with the years and the comment, what tells namesakes apart at a glance
    latest_title: str = ""
    latest_year: int | None = None


# A query that is one word as names are stored (`normalize_name`: lower-case ASCII).
ONE_WORD = re.compile(r"[a-z0-9]+")


def person_search(query: str, *, limit: int = 25) -> list[SearchHit]:
    """Persons by any of their names: accent/case-insensitive, typo-tolerant, best first.

    Names are stored transliterated and lower-cased (`normalize_name`, i.e. unaccented), and the
    query gets the same treatment; `%>` (word similarity) then uses the trigram GIN index, so a
    partial name ("peiyu l") or a typo ("peiyu lui") still finds the page.
    """
    query = query.strip()
    if not query:
        return []
    normalized = normalize_name("", query)
    hits: dict[str, SearchHit] = {}
    # An exact id or ORCID iD goes first.
    exact = Q(pk=query) | Q(pk=f"{query}/unverified")
    orcid = orcid_normalize(query)
    if len(orcid) == 19:
        exact |= Q(orcid=orcid)
    for exact_person in Person.objects.filter(exact):
        hits[exact_person.pk] = SearchHit(exact_person, "", 2.0)
    if normalized:
        scores: dict[str, float] = {}
        if ONE_WORD.fullmatch(normalized):
            scores = _whole_word_scores(normalized, limit)
            if len(scores) < limit and len(normalized) >= 3:
                scores = _word_start_scores(normalized, limit)
        if len(scores) < limit:
            scores = _similar_scores(normalized, limit)
        # With each person, the name that matched best (the canonical one among equals): one
        # query, where each round trip costs most on a busy server.
        best_name = (
            PersonName.objects.filter(person_id=OuterRef("pk"))
            .annotate(score=TrigramWordSimilarity(normalized, "normalized"))
            .order_by("-score", "-is_canonical", "pk")
        )
        persons = Person.objects.filter(pk__in=list(scores)).annotate(
            matched_first=Subquery(best_name.values("first")[:1]),
            matched_last=Subquery(best_name.values("last")[:1]),
        )
        by_id = {person.pk: person for person in persons}
        for pid, score in scores.items():
            person = by_id.get(pid)
            if person is None or pid in hits:
                continue
            shown = f"{person.matched_first or ''} {person.matched_last or ''}".strip()
            hits[pid] = SearchHit(person, "" if shown == person.name else shown, score)
    ranked = sorted(hits.values(), key=lambda h: (-h.score, -h.person.item_count, h.person.pk))
    ranked = ranked[:limit]
    newest = _newest_papers([h.person.pk for h in ranked]) if ranked else {}
    for hit in ranked:
        hit.latest_title, hit.latest_year = newest.get(hit.person.pk, ("", None))
    return ranked


def _newest_papers(person_ids: list[str]) -> dict[str, tuple[str, int | None]]:
    """Each person's newest paper (title, year; the latest item id among a year's).

    One LIMIT 1 walk per person down its entries (the authorship_person_idx index), rather than
    sorting every entry of every person: the 25 persons a common name finds hold thousands.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT x.id, newest.title, newest.year
            FROM unnest(%s::text[]) AS x(id)
            CROSS JOIN LATERAL (
                SELECT p.title, p.year
                FROM papers_authorship a JOIN papers_paper p ON p.id = a.paper_id
                WHERE a.person_id = x.id
                ORDER BY p.year DESC NULLS LAST, a.item_id DESC
                LIMIT 1
            ) AS newest
            """,
            [person_ids],
        )
        return {pid: (title, year) for pid, title, year in cursor.fetchall()}


def _similar_scores(normalized: str, limit: int) -> dict[str, float]:
    """The best `limit` persons by their best name's word similarity plus `_word_boost`."""
    best = (
        PersonName.objects.filter(normalized__trigram_word_similar=normalized)
        .annotate(score=TrigramWordSimilarity(normalized, "normalized") + _word_boost(normalized))
        .values("person_id")
        .annotate(best=Max("score"), items=Max("person__item_count"))
        .order_by("-best", "-items", "person_id")[:limit]
    )
    return {row["person_id"]: row["best"] for row in best}


def _word_start_scores(word: str, limit: int) -> dict[str, float]:
    """`_similar_scores` for a one-word query of 3+ letters, when at least `limit` persons have a
    name with a word starting with it (what someone typing a name sends: "mar", "jonath");
    fewer persons: fewer than `limit`, and the caller asks `_similar_scores`.

    Why it gives the same: such a name scores at least 3/4 + 0.3 there (all the query's
    trigrams but the last, which ends the word, plus the word-start boost); a name without a
    word starting with the query gets no boost and at most 1.0. So the first `limit` are among
    these names, which the trigram index finds by LIKE without scoring every name that merely
    shares letters, and they are scored by the very same expression.
    """
    best = (
        PersonName.objects.filter(
            Q(normalized__startswith=word) | Q(normalized__contains=f" {word}")
        )
        .annotate(score=TrigramWordSimilarity(word, "normalized") + _word_boost(word))
        .values("person_id")
        .annotate(best=Max("score"), items=Max("person__item_count"))
        .order_by("-best", "-items", "person_id")[:limit]
    )
    return {row["person_id"]: row["best"] for row in best}


# The words of a stored name, as the `personname_words` index holds them.
NAME_WORDS = Func(
    F("normalized"),
    Value(" "),
    function="string_to_array",
    output_field=ArrayField(TextField()),
)


def _whole_word_scores(word: str, limit: int) -> dict[str, float]:
    """`_similar_scores` for a one-word query, when at least `limit` persons have a name with
    that whole word; fewer persons: {} or fewer than `limit`, and the caller asks
    `_similar_scores`.

    Why: a short or common word ("li", "zhang") shares trigrams with a large part of all names,
    and scoring each of them there took 100-200 ms. A name with the word as a whole word scores
    1.0 + 0.6 there (1.0 + 1.0 when it is the whole name); any other name at most 1.0 + 0.3. So
    when `limit` persons have such a name they are exactly that search's first `limit`, in the
    same order (score, then papers, then id), and the index of names' words finds them at once.
    """
    has_word = DataContains(NAME_WORDS, Value([word], output_field=ArrayField(TextField())))
    best = (
        PersonName.objects.filter(has_word)
        .values("person_id")
        .annotate(
            best=Max(
                Case(
                    When(normalized=word, then=Value(2.0)),
                    default=Value(1.6),
                    output_field=FloatField(),
                )
            ),
            items=Max("person__item_count"),
        )
        .order_by("-best", "-items", "person_id")[:limit]
    )
    return {row["person_id"]: row["best"] for row in best}


def _namesake_ids(person: Person, names: Iterable[tuple[str, str]]) -> QuerySet:
    normalized = {normalize_name(first, last) for first, last in names} or {
        normalize_name(person.first_name, person.last_name)
    }
    return (
        PersonName.objects.filter(normalized__in=normalized)
        .exclude(person=person)
        .values_list("person_id", flat=True)
        .distinct()
    )


def person_namesakes(
    person: Person, names: Iterable[tuple[str, str]], *, limit: int = 10
) -> list[Person]:
    """Other persons known by one of these names (the person's own): likely split targets."""
    return list(
        Person.objects.filter(pk__in=_namesake_ids(person, names)).order_by(
            "-is_verified", "-item_count", "pk"
        )[:limit]
    )


def person_namesake_count(person: Person, names: Iterable[tuple[str, str]]) -> int:
    """How many `person_namesakes` there are (one query): the person page says how many and
    lists them on demand."""
    return _namesake_ids(person, names).count()
