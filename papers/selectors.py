"""Reads behind the person pages and search; each a fixed number of queries whatever the size."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.postgres.search import TrigramWordSimilarity
from django.db.models import F, Max, Q
from django.db.models.functions import Coalesce

from papers.models import Authorship, Person, PersonName
from papers.names import normalize_name
from papers.orcid import orcid_normalize


def person_url(person_id: str) -> str:
    """The Anthology's path for a person id (`x/unverified` lives at /people/x/unverified/)."""
    return f"/people/{person_id}/"


@dataclass
class Coauthor:
    name: str
    person_id: str

    @property
    def url(self) -> str:
        return person_url(self.person_id)


@dataclass
class Entry:
    """One author/editor entry of the page's person, with what the page shows about it."""

    authorship: Authorship
    coauthors: list[Coauthor] = field(default_factory=list)
    pending_move: object | None = None  # assignments.models.Move, set by the view
    group: int | None = None  # index of the suggested group it falls in, 1-based

    @property
    def pk(self) -> int:
        return self.authorship.pk

    @property
    def title(self) -> str:
        a = self.authorship
        return a.paper.title if a.paper is not None else a.volume.title

    @property
    def year(self) -> int | None:
        a = self.authorship
        return a.paper.year if a.paper is not None and a.paper.year else a.volume.year

    @property
    def abstract(self) -> str:
        return self.authorship.paper.abstract if self.authorship.paper is not None else ""

    @property
    def venue(self) -> str:
        a = self.authorship
        venues = a.paper.venue_ids if a.paper is not None else a.volume.venue_ids
        return ", ".join(venues)

    @property
    def url(self) -> str:
        return f"https://aclanthology.org/{self.authorship.item_id}/"

    def row(self, *, person_name: str, selectable: bool, checked: bool) -> dict:
        """What the page's list shows, flattened: dict lookups are the cheap ones in templates,
        which matters on a page with a thousand rows."""
        a = self.authorship
        move = self.pending_move
        return {
            "pk": a.pk,
            "title": self.title,
            "url": self.url,
            "year": self.year or "",
            "venue": self.venue,
            "item_id": a.item_id,
            "is_editor": a.role == Authorship.Role.EDITOR,
            "group": self.group,
            "coauthors": self.coauthors,
            "affiliation": a.affiliation,
            "printed": "" if a.printed_name == person_name else a.printed_name,
            "abstract": self.abstract,
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
    """Every entry of the person, newest first, with coauthors (co-editors for editors)."""
    authorships = list(
        Authorship.objects.filter(person=person)
        .select_related("paper", "volume")
        .only(
            "id",
            "item_id",
            "role",
            "position",
            "first",
            "last",
            "affiliation",
            "person_id",
            "paper__id",
            "paper__title",
            "paper__abstract",
            "paper__year",
            "paper__venue_ids",
            "paper__booktitle",
            "paper__is_frontmatter",
            "volume__id",
            "volume__title",
            "volume__year",
            "volume__venue_ids",
        )
        .order_by(
            Coalesce("paper__year", "volume__year").desc(nulls_last=True),
            F("item_id").desc(),
            "role",
        )
    )
    entries = [Entry(a) for a in authorships]
    if not entries:
        return entries
    others: dict[tuple[str, str], list[Coauthor]] = defaultdict(list)
    own = {a.pk for a in authorships}
    rows = (
        Authorship.objects.filter(item_id__in={a.item_id for a in authorships})
        .order_by("item_id", "role", "position")
        .values_list("pk", "item_id", "role", "first", "last", "person_id")
    )
    for pk, item_id, role, first, last, person_id in rows:
        if pk not in own:
            others[(item_id, role)].append(Coauthor(f"{first} {last}".strip(), person_id))
    for entry in entries:
        entry.coauthors = others.get((entry.authorship.item_id, entry.authorship.role), [])
    return entries


@dataclass
class SearchHit:
    person: Person
    matched_name: str  # the variant that matched, when not the canonical name
    score: float


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
    for person in Person.objects.filter(exact):
        hits[person.pk] = SearchHit(person, "", 2.0)
    if normalized:
        best = (
            PersonName.objects.filter(normalized__trigram_word_similar=normalized)
            .annotate(score=TrigramWordSimilarity(normalized, "normalized"))
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
    return ranked[:limit]
