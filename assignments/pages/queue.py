"""The queue of pages most likely mixing people: filters, order, and the page after a page.

Ordered by the work worth doing: `Suggestion.expected_moves`, the number of the page's papers
expected to belong to someone else (the probability the page mixes people, as a share of its
papers, times its papers), then by that probability. Pages marked "one person" by an applied
decision leave it for good; pages in a draft or submitted change set are "in progress".
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import (
    Exists,
    OuterRef,
    Q,
    QuerySet,
    StringAgg,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import MD5, Cast
from django.http import QueryDict

from assignments import decisions
from assignments.changesets.selectors import OPEN_CHANGESET_STATUSES, OPEN_MOVE_STATUSES
from assignments.models import ChangeSet, Move, PageDecision, Suggestion
from papers.models import Authorship, PersonName
from papers.names import normalize_name

VERIFIED_CHOICES = {"verified": True, "unverified": False}
MAX_MIN_PAPERS = 100_000


@dataclass(frozen=True)
class QueueFilters:
    name: str = ""
    min_papers: int = 0
    verified: str = ""  # "", "verified" or "unverified"
    not_reviewed: bool = False

    @classmethod
    def from_query(cls, query: QueryDict) -> QueueFilters:
        """Filters from a query string; what cannot be read is left out (a queue link is
        often typed or edited by hand: it must never fail)."""
        try:
            min_papers = int(query.get("min_papers", "") or 0)
        except ValueError:
            min_papers = 0
        verified = query.get("verified", "")
        return cls(
            name=query.get("name", "").strip()[:200],
            min_papers=max(0, min(min_papers, MAX_MIN_PAPERS)),
            verified=verified if verified in VERIFIED_CHOICES else "",
            not_reviewed=query.get("not_reviewed", "") in ("1", "on", "true"),
        )

    @classmethod
    def from_encoded(cls, encoded: str) -> QueueFilters:
        """Filters carried through the person pages as one `queue` parameter."""
        return cls.from_query(QueryDict(encoded[:1000]))

    def encode(self) -> str:
        """The filters as a query string, defaults left out ("" for the plain queue)."""
        values = {
            "name": self.name,
            "min_papers": self.min_papers or "",
            "verified": self.verified,
            "not_reviewed": "1" if self.not_reviewed else "",
        }
        return urlencode({k: v for k, v in values.items() if v})


def _reviewed_moves() -> QuerySet[Move]:
    """Moves that count as work done on the page they leave: proposed (draft, submitted) or
    applied, not rejected."""
    return Move.objects.filter(
        changeset__status__in=[*OPEN_CHANGESET_STATUSES, ChangeSet.Status.APPLIED]
    ).exclude(status=Move.Status.REJECTED)


def _open_decisions() -> QuerySet[PageDecision]:
    return PageDecision.objects.filter(
        status__in=OPEN_MOVE_STATUSES, changeset__status__in=OPEN_CHANGESET_STATUSES
    )


def _current_fingerprint() -> Subquery:
    """The page's entries now, as `split.entries_fingerprint` writes them."""
    entries = (
        Authorship.objects.filter(person_id=OuterRef("person_id"))
        .order_by()
        .values("person_id")
        .annotate(
            fingerprint=MD5(StringAgg(Cast("id", TextField()), delimiter=Value(","), order_by="id"))
        )
        .values("fingerprint")
    )
    return Subquery(entries[:1])


def queue(filters: QueueFilters = QueueFilters()) -> QuerySet[Suggestion]:
    """The queue's pages, best first, each with `in_progress` (a draft or submitted change set
    moves papers away from it or marks it) and `current_fingerprint` (compared with the
    stored one, it says whether the figures are out of date). One query."""
    in_progress = Exists(
        Move.objects.filter(
            from_person_id=OuterRef("person_id"),
            status__in=OPEN_MOVE_STATUSES,
            changeset__status__in=OPEN_CHANGESET_STATUSES,
        )
    ) | Exists(_open_decisions().filter(person_id=OuterRef("person_id")))
    qs = (
        Suggestion.objects.filter(expected_moves__gt=0)
        .exclude(person_id__in=decisions.one_person_decisions().values("person_id"))
        .select_related("person")
        .annotate(in_progress=in_progress, current_fingerprint=_current_fingerprint())
    )
    if filters.name:
        wanted = normalize_name("", filters.name)
        qs = qs.filter(
            Exists(
                PersonName.objects.filter(
                    person_id=OuterRef("person_id"), normalized__contains=wanted
                )
            )
        )
    if filters.min_papers:
        qs = qs.filter(item_count__gte=filters.min_papers)
    if filters.verified:
        qs = qs.filter(person__is_verified=VERIFIED_CHOICES[filters.verified])
    if filters.not_reviewed:
        qs = qs.exclude(
            Exists(_reviewed_moves().filter(from_person_id=OuterRef("person_id")))
        ).exclude(
            Exists(
                PageDecision.objects.filter(person_id=OuterRef("person_id"))
                .exclude(status=Move.Status.REJECTED)
                .exclude(changeset__status=ChangeSet.Status.REJECTED)
            )
        )
    return qs.order_by("-expected_moves", "-mixed_score", "person_id")


def queue_next(filters: QueueFilters, *, after: str = "") -> str | None:
    """The page to work on after `after`: the first page that follows it in the queue's order
    and is not in progress. A page just worked on is in progress (its moves are in a draft),
    so its stored figures, and with them its place, are still those the reviewer saw."""
    # (a Q: the type checker does not see annotations as fields)
    pages = queue(filters).filter(Q(in_progress=False))
    if after:
        pages = pages.exclude(person_id=after)
        current = Suggestion.objects.filter(person_id=after).first()
        # a page outside the queue (one person, say) is followed by the queue's first page
        if current is not None and current.expected_moves > 0:
            e, m = current.expected_moves, current.mixed_score
            pages = pages.filter(
                Q(expected_moves__lt=e)
                | Q(expected_moves=e, mixed_score__lt=m)
                | Q(expected_moves=e, mixed_score=m, person_id__gt=after)
            )
    return pages.values_list("person_id", flat=True).first()
