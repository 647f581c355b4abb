"""Reads for the pages' conditional GET: what a person page shows beyond the catalog."""

from django.db.models import CharField, Q, QuerySet, StringAgg, Value
from django.db.models.functions import Cast, Concat

from assignments.models import Move, NewPerson, PageDecision, Suggestion
from papers.models import Authorship


def person_page_version(person_id: str) -> tuple[str, str, str]:
    """What changes a person's page without changing the catalog: the moves that name the person
    or one of its entries (drafted, submitted, rejected, applied, reverted: the pending marks
    and the history), with their change sets' states, the page's decisions ("one person") and
    its stored suggestion.

    Three indexed queries, whatever the page's size; the moves' ids and states, not timestamps,
    so a move removed from a draft counts as much as one added.
    """
    # Subqueries, not joins: one pass over the moves with two small hashed lookups, where an OR
    # across joined tables looked up every move's entry.
    moves = _states(
        Move.objects.filter(
            Q(from_person_id=person_id)
            | Q(to_person_id=person_id)
            | Q(to_new_person__in=NewPerson.objects.filter(person_id=person_id).values("pk"))
            | Q(authorship__in=Authorship.objects.filter(person_id=person_id).values("pk"))
        )
    )
    decisions = _states(PageDecision.objects.filter(person_id=person_id))
    computed = (
        Suggestion.objects.filter(person_id=person_id).values_list("computed_at", flat=True).first()
    )
    return moves, decisions, computed.isoformat() if computed else ""


def _states(records: QuerySet) -> str:
    """Each record (a move or a page decision) as id:status:change set status, in id order."""
    return records.aggregate(
        states=StringAgg(
            Concat(
                Cast("pk", CharField()),
                Value(":"),
                "status",
                Value(":"),
                "changeset__status",
                output_field=CharField(),
            ),
            delimiter=Value(","),
            order_by="pk",
            default="",
        )
    )["states"]
