"""Reads for the pages' conditional GET: what a person page shows beyond the catalog."""

from django.db.models import CharField, Q, QuerySet, StringAgg, Subquery, Value
from django.db.models.functions import Cast, Concat

from assignments.models import Move, NewPerson, PageDecision, Suggestion
from papers.models import Authorship, Person


def person_page_version(person_id: str) -> tuple[str, str, str]:
    """What changes a person's page without changing the catalog: the moves that name the person
    or one of its entries (drafted, submitted, rejected, applied, reverted: the pending marks
    and the history), with their change sets' states, the page's decisions ("one person") and
    its stored suggestion.

    One query (three indexed subqueries), whatever the page's size: it runs for every anonymous
    visit, a 304 included, where each round trip to the database costs most on a busy server.
    The moves' ids and states, not timestamps, so a move removed from a draft counts as much as
    one added.
    """
    # Subqueries, not joins: one pass over the moves with two small hashed lookups, where an OR
    # across joined tables looked up every move's entry.
    moves = Move.objects.filter(
        Q(from_person_id=person_id)
        | Q(to_person_id=person_id)
        | Q(to_new_person__in=NewPerson.objects.filter(person_id=person_id).values("pk"))
        | Q(authorship__in=Authorship.objects.filter(person_id=person_id).values("pk"))
    )
    computed = Suggestion.objects.filter(person_id=person_id).values("computed_at")
    row = (
        Person.objects.filter(pk=person_id)
        .annotate(
            moves=_states(moves),
            decisions=_states(PageDecision.objects.filter(person_id=person_id)),
            computed=Subquery(computed[:1]),
        )
        .values_list("moves", "decisions", "computed")
        .first()
    )
    # (no person: the page is a 404, which gets no tag)
    moves_states, decisions_states, computed_at = row or ("", "", None)
    return (
        moves_states or "",
        decisions_states or "",
        computed_at.isoformat() if computed_at else "",
    )


def _states(records: QuerySet) -> Subquery:
    """Each record (a move or a page decision) as id:status:change set status, in id order."""
    states = StringAgg(
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
    )
    # grouped by a constant: one row, the aggregate over all of them
    one_row = records.order_by().annotate(_all=Value(1)).values("_all").annotate(states=states)
    return Subquery(one_row.values("states")[:1], output_field=CharField())
