"""Maintainers' applied decisions, fed back to the clustering and to the import, and the audit.

An applied move (not reverted) says "this entry belongs to the target, not to the person it came
from"; an applied "one person" page decision says "these entries of this page are one person".
The clustering gets these as constraints over signature ids (str(authorship.id)); the
import gets them through the interface it owns (`papers.importing.decisions`, registered in
`AssignmentsConfig.ready`) and keeps them when new data disagrees.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from itertools import combinations

from django.db.models import Count, F, Q
from django.db.models.functions import Coalesce

from assignments.models import ChangeSet, Move, PageDecision
from papers.importing.decisions import Decisions


def _moves_in_force():
    # Reverted moves are marked REVERTED; a revert's own moves undo decisions, they are none.
    # Of several applied moves of one entry the latest wins.
    return (
        Move.objects.filter(
            status=Move.Status.APPLIED,
            changeset__status=ChangeSet.Status.APPLIED,
            changeset__reverts__isnull=True,
        )
        .select_related("to_new_person")
        .order_by("applied_at", "pk")
    )


def _latest_by_authorship(moves) -> dict[int, Move]:
    latest: dict[int, Move] = {}
    for m in moves:
        if m.authorship_id is not None:
            latest[m.authorship_id] = m  # ordered by applied_at: later wins
    return latest


def decision_pairs(moves: Iterable[Move]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(must_link_pairs, cannot_link_pairs) of authorship ids from moves in force, oldest first
    (of several moves of one entry the latest counts).

    must-link: two entries moved to the same person. cannot-link: two entries that applied moves
    sent to different persons, and an entry moved away from a person with an entry moved to it.
    """
    latest = _latest_by_authorship(moves)
    by_target: dict[str, list[int]] = defaultdict(list)
    away_from: dict[str, list[int]] = defaultdict(list)
    for aid, m in latest.items():
        by_target[m.target_id].append(aid)
        away_from[m.from_person_id].append(aid)
    must = [(a, b) for group in by_target.values() for a, b in combinations(sorted(group), 2)]
    cannot: set[tuple[int, int]] = set()
    targets = sorted(by_target)
    for t1, t2 in combinations(targets, 2):
        for a in by_target[t1]:
            for b in by_target[t2]:
                cannot.add((min(a, b), max(a, b)))
    # an entry moved away from P cannot go with entries moved onto P
    for source, moved_away in away_from.items():
        for a in moved_away:
            for b in by_target.get(source, ()):
                if a != b:
                    cannot.add((min(a, b), max(a, b)))
    return must, sorted(cannot)


def decisions_for_person_ids(
    person_ids: Iterable[str],
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """`decision_pairs` for entries now on these persons or moved away from them by applied
    moves."""
    ids = set(person_ids)
    moves = _moves_in_force().filter(authorship__isnull=False)
    return decision_pairs(
        moves.filter(Q(authorship__person_id__in=ids) | Q(from_person_id__in=ids))
    )


def _as_signature_pairs(
    pairs: tuple[list[tuple[int, int]], list[tuple[int, int]]], authorship_ids: Iterable[int]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    ids = set(authorship_ids)
    must, cannot = pairs
    return (
        [(str(a), str(b)) for a, b in must if a in ids and b in ids],
        [(str(a), str(b)) for a, b in cannot if a in ids and b in ids],
    )


def one_person_decisions():
    """Applied "one person" page decisions that are in force (not reverted)."""
    return PageDecision.objects.filter(
        kind=PageDecision.Kind.ONE_PERSON,
        status=Move.Status.APPLIED,
        changeset__status=ChangeSet.Status.APPLIED,
    )


def _one_person_pairs(person_ids: Collection[str]) -> dict[str, list[tuple[int, int]]]:
    """Must-link pairs per page from its "one person" decisions: a chain through the entries
    each decision covers (the clustering joins the chain into one cluster)."""
    pairs: dict[str, list[tuple[int, int]]] = defaultdict(list)
    rows = one_person_decisions().order_by("pk")
    if len(person_ids) <= 1000:
        rows = rows.filter(person_id__in=list(person_ids))
    # else: every page is asked about (refresh_suggestions); the decisions are few, filter here
    for person_id, ids in rows.values_list("person_id", "authorship_ids"):
        if person_id in person_ids:
            chain = sorted(set(ids))
            pairs[person_id].extend(zip(chain, chain[1:], strict=False))
    return pairs


def constraints_for_signatures(
    person_id: str, authorship_ids: Iterable[int]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """`split_block(must_link=..., cannot_link=...)` for a page's entries: the decisions about
    this person, restricted to the given entries, as signature ids (str(authorship.id))."""
    must, cannot = decisions_for_person_ids([person_id])
    must = must + _one_person_pairs({person_id}).get(person_id, [])
    return _as_signature_pairs((must, cannot), authorship_ids)


def constraints_for_pages(
    pages: dict[str, list[int]],
) -> dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]]:
    """`constraints_for_signatures` for many pages (person id -> authorship ids) in two queries:
    the moves and page decisions in force are read once and grouped per page here. Pages
    without decisions are left out."""
    moves_of: dict[str, list[Move]] = defaultdict(list)
    moves = (
        _moves_in_force()
        .filter(authorship__isnull=False)
        .annotate(entry_person_id=F("authorship__person_id"))
    )
    for m in moves:  # oldest first, kept so in each page's list
        for person_id in {m.entry_person_id, m.from_person_id}:
            if person_id in pages:
                moves_of[person_id].append(m)
    one_person = _one_person_pairs(pages)
    constraints = {}
    for person_id in sorted(moves_of.keys() | one_person.keys()):
        must, cannot = decision_pairs(moves_of.get(person_id, []))
        must = must + one_person.get(person_id, [])
        constraints[person_id] = _as_signature_pairs((must, cannot), pages[person_id])
    return constraints


def import_decisions() -> Decisions:
    """What an import must respect: each entry an applied move gave to a person (the latest
    move of an entry counts), and every person a move names as its target."""
    decided = dict(
        Move.objects.filter(status=Move.Status.APPLIED, authorship__isnull=False)
        .order_by("applied_at", "pk")
        .values_list("authorship_id", Coalesce("to_person_id", "to_new_person__person_id"))
    )
    kept = Move.objects.filter(to_person__isnull=False).values_list("to_person_id", flat=True)
    records: dict[int, list[str]] = defaultdict(list)
    moves = (
        Move.objects.filter(authorship__isnull=False)
        .select_related("changeset__created_by", "to_new_person")
        .order_by("pk")
    )
    for m in moves:
        if m.authorship_id is None:  # filtered out above; for the type checker
            continue
        cs = m.changeset
        records[m.authorship_id].append(
            f"change set {cs.pk} ({cs.status}, by {cs.created_by.get_username()}): "
            f"{m.item_id} {m.role} #{m.position + 1} {m.from_person_id} -> {m.target_id}"
        )
    return Decisions(
        decided_entries=decided, kept_persons=frozenset(kept), entry_records=dict(records)
    )


# -- audit: who moved what, when, why ---------------------------------------------------------

AUDIT_LIMIT = 50  # change sets shown; a person page must not grow with its history
AUDIT_ENTRIES = 10  # entries listed per change set


@dataclass
class AuditEvent:
    changeset: ChangeSet
    moves: list[Move]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.moves)


def _audit(moves_q: Q) -> list[AuditEvent]:
    """Applied (and since reverted) moves matching `moves_q`, grouped by change set, newest
    first. Two queries whatever the history's size."""
    base = Move.objects.filter(moves_q, status__in=[Move.Status.APPLIED, Move.Status.REVERTED])
    sets = list(
        ChangeSet.objects.filter(pk__in=base.values("changeset_id"))
        .select_related("created_by", "reviewed_by")
        .annotate(n=Count("moves", filter=Q(moves__in=base)))
        .order_by("-applied_at", "-pk")[:AUDIT_LIMIT]
    )
    moves: dict[int, list[Move]] = defaultdict(list)
    rows = (
        base.filter(changeset__in=sets)
        .select_related("to_new_person", "authorship__paper")
        .order_by("changeset_id", "item_id", "position")
    )
    for m in rows:
        if len(moves[m.changeset_id]) < AUDIT_ENTRIES:
            moves[m.changeset_id].append(m)
    return [AuditEvent(cs, moves[cs.pk], cs.n) for cs in sets]


def audit_for_person(person_id: str) -> list[AuditEvent]:
    """Change sets that moved entries onto or away from this person, including reverts."""
    return _audit(
        Q(from_person_id=person_id)
        | Q(to_person_id=person_id)
        | Q(to_new_person__person_id=person_id)
    )


def audit_for_item(item_id: str) -> list[AuditEvent]:
    """Change sets that moved an author/editor entry of this paper (or volume)."""
    return _audit(Q(item_id=item_id))
