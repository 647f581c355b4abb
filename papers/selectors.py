"""Reads behind the person pages and search; each a fixed number of queries whatever the size."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.search import TrigramWordSimilarity
from django.db.models import Case, F, FloatField, Max, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce

from papers.models import Authorship, Paper, Person, PersonName, Volume
from papers.names import normalize_name
from papers.orcid import orcid_normalize


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
        best = (
            PersonName.objects.filter(normalized__trigram_word_similar=normalized)
            .annotate(
                score=TrigramWordSimilarity(normalized, "normalized") + _word_boost(normalized)
            )
            .values("person_id")
            .annotate(best=Max("score"), items=Max("person__item_count"))
            .order_by("-best", "-items", "person_id")[:limit]
        )
        scores = {row["person_id"]: row["best"] for row in best}
        persons = Person.objects.in_bulk(list(scores))
        matched = {
            pid: (first, last)
            for pid, first, last in PersonName.objects.filter(person_id__in=list(scores))
            .annotate(score=TrigramWordSimilarity(normalized, "normalized"))
            .order_by("person_id", "-score", "-is_canonical")
            .distinct("person_id")
            .values_list("person_id", "first", "last")
        }
        for pid, score in scores.items():
            person = persons.get(pid)
            if person is None or pid in hits:
                continue
            first, last = matched.get(pid, (person.first_name, person.last_name))
            shown = f"{first} {last}".strip()
            hits[pid] = SearchHit(person, "" if shown == person.name else shown, score)
    ranked = sorted(hits.values(), key=lambda h: (-h.score, -h.person.item_count, h.person.pk))
    ranked = ranked[:limit]
    latest = (
        Authorship.objects.filter(person_id__in=[h.person.pk for h in ranked], paper__isnull=False)
        .order_by("person_id", F("paper__year").desc(nulls_last=True), "-item_id")
        .distinct("person_id")
        .values_list("person_id", "paper__title", "paper__year")
    )
    newest = {pid: (title, year) for pid, title, year in latest} if ranked else {}
    for hit in ranked:
        hit.latest_title, hit.latest_year = newest.get(hit.person.pk, ("", None))
    return ranked


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
