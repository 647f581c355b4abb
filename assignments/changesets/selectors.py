"""Reads of change sets for pages and services: a reviewer's draft, moves in flight."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from assignments.models import ChangeSet, Move
from papers.models import Person
from papers.services import EntryClaim

OPEN_CHANGESET_STATUSES = (ChangeSet.Status.DRAFT, ChangeSet.Status.SUBMITTED)
OPEN_MOVE_STATUSES = (Move.Status.PENDING, Move.Status.APPROVED)


def draft_for_user(user: User | AnonymousUser) -> ChangeSet | None:
    """The user's open draft, without creating one (reading a page never writes)."""
    if not user.is_authenticated:
        return None
    return (
        ChangeSet.objects.filter(created_by=user, status=ChangeSet.Status.DRAFT)
        .order_by("-created_at")
        .first()
    )


def open_moves() -> QuerySet[Move]:
    """Moves in flight (in a draft or submitted change set): they block other proposals for the
    same author entry."""
    return Move.objects.filter(
        status__in=OPEN_MOVE_STATUSES, changeset__status__in=OPEN_CHANGESET_STATUSES
    )


def open_moves_from(person: Person) -> dict[int, Move]:
    """Moves in flight for entries on this person's page, by authorship."""
    moves = (
        open_moves()
        .filter(authorship__person=person)
        .select_related("to_new_person", "changeset__created_by")
        .order_by("pk")
    )
    return {m.authorship_id: m for m in moves if m.authorship_id is not None}


def open_moves_to(person: Person) -> int:
    return open_moves().filter(to_person=person).count()


def claims(moves: Iterable[Move]) -> list[EntryClaim]:
    """What each move saw when it was proposed, for the catalog's compare-and-swap."""
    return [
        EntryClaim(
            authorship_id=m.authorship_id,
            item_id=m.item_id,
            role=m.role,
            position=m.position,
            expected_person_id=m.from_person_id,
        )
        for m in moves
    ]
