"""Review services: maintainers approve, reject, apply and revert change sets.

Applying is the catalog's compare-and-swap (`papers.services.entries_compare_and_lock`) on the
author entries a change set moves: each must still belong to the person the proposal saw. If any
does not, nothing is written and `ChangeSetConflict` lists every entry that changed since. The
entries and persons are written through the catalog's services.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from assignments.changesets import selectors
from assignments.models import ChangeSet, Move, PageDecision
from assignments.suggestions import tasks as suggestion_tasks
from papers import permissions
from papers import services as catalog
from papers.models import Person
from papers.services import EntryConflict


class ChangeSetConflict(ValidationError):
    """Applying would overwrite changes made since the proposal; nothing was applied."""

    def __init__(self, conflicts: list[EntryConflict] | list[str]) -> None:
        self.conflicts = conflicts
        super().__init__([str(c) for c in conflicts])


def _require_maintainer(user: User | AnonymousUser) -> None:
    if not permissions.can_review(user):
        raise PermissionDenied("Only maintainers can review, apply or revert change sets.")


def _lock_changeset(changeset: ChangeSet, *, status: str, action: str) -> ChangeSet:
    """Re-read the change set under a row lock, and check that it is still in `status`: its
    status decides what may happen next."""
    locked = ChangeSet.objects.select_for_update().get(pk=changeset.pk)
    if locked.status != status:
        raise ValidationError(
            f"Change set {locked.pk} is {locked.status}; only {status} ones can be {action}."
        )
    return locked


def _sync(target: ChangeSet, source: ChangeSet) -> None:
    # Callers keep their object; give it the state the service wrote.
    for field in ChangeSet._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))


def changeset_approve(
    *,
    changeset: ChangeSet,
    user: User,
    move_ids: Iterable[int] | None = None,
    comment: str = "",
    decision_ids: Iterable[int] | None = None,
) -> ChangeSet:
    """Approve all moves and page decisions (or only `move_ids` and `decision_ids`, rejecting
    the others) and apply them at once.

    Raises `ChangeSetConflict` (and changes nothing) if an entry moved since the proposal.
    """
    _require_maintainer(user)
    with transaction.atomic():
        locked = _lock_changeset(changeset, status=ChangeSet.Status.SUBMITTED, action="approved")
        moves = list(locked.moves.filter(status=Move.Status.PENDING))
        decisions = list(locked.page_decisions.filter(status=Move.Status.PENDING))
        if not moves and not decisions:
            raise ValidationError(f"Change set {locked.pk} has no moves to approve.")
        if move_ids is None and decision_ids is None:
            chosen = {m.pk for m in moves}
            chosen_decisions = {d.pk for d in decisions}
        else:
            chosen = {int(i) for i in move_ids or ()}
            chosen_decisions = {int(i) for i in decision_ids or ()}
            unknown = chosen - {m.pk for m in moves}
            if unknown:
                raise ValidationError(
                    f"Moves {sorted(unknown)} are not pending moves of change set {locked.pk}."
                )
            if chosen_decisions - {d.pk for d in decisions}:
                raise ValidationError(
                    f"Some chosen page decisions are not pending in change set {locked.pk}."
                )
            if not chosen and not chosen_decisions:
                raise ValidationError("Select at least one move to approve, or reject all.")
        Move.objects.filter(pk__in=chosen).update(status=Move.Status.APPROVED)
        Move.objects.filter(changeset=locked, status=Move.Status.PENDING).update(
            status=Move.Status.REJECTED
        )
        PageDecision.objects.filter(pk__in=chosen_decisions).update(status=Move.Status.APPROVED)
        PageDecision.objects.filter(changeset=locked, status=Move.Status.PENDING).update(
            status=Move.Status.REJECTED
        )
        locked.reviewed_by = user
        locked.reviewed_at = timezone.now()
        locked.review_comment = comment
        _apply(locked)  # saves the change set, review fields included
    _sync(changeset, locked)
    return changeset


def changeset_reject(*, changeset: ChangeSet, user: User, comment: str = "") -> ChangeSet:
    _require_maintainer(user)
    with transaction.atomic():
        locked = _lock_changeset(changeset, status=ChangeSet.Status.SUBMITTED, action="rejected")
        locked.moves.filter(status__in=[Move.Status.PENDING, Move.Status.APPROVED]).update(
            status=Move.Status.REJECTED
        )
        locked.page_decisions.filter(status__in=[Move.Status.PENDING, Move.Status.APPROVED]).update(
            status=Move.Status.REJECTED
        )
        locked.status = ChangeSet.Status.REJECTED
        locked.reviewed_by = user
        locked.reviewed_at = timezone.now()
        locked.review_comment = comment
        locked.save()
    _sync(changeset, locked)
    return changeset


def _apply(changeset: ChangeSet) -> None:
    """Apply the approved moves and page decisions of a locked change set, or raise
    ChangeSetConflict. The touched pages' suggestions are recomputed after the commit."""
    moves = list(
        changeset.moves.filter(status=Move.Status.APPROVED).select_related("to_new_person")
    )
    decisions = list(changeset.page_decisions.filter(status=Move.Status.APPROVED))
    # a revert also undoes the page decisions of the change set it reverts
    original = changeset.reverts
    undone = (
        list(original.page_decisions.filter(status=Move.Status.APPLIED))
        if original is not None
        else []
    )
    if not moves and not decisions and not undone:
        raise ValidationError(f"Change set {changeset.pk} has no approved moves to apply.")
    now = timezone.now()
    if moves:
        _apply_moves(moves)
        Move.objects.filter(pk__in=[m.pk for m in moves]).update(
            status=Move.Status.APPLIED, applied_at=now
        )
    PageDecision.objects.filter(pk__in=[d.pk for d in decisions]).update(
        status=Move.Status.APPLIED, applied_at=now
    )
    changeset.status = ChangeSet.Status.APPLIED
    changeset.applied_at = now
    changeset.save()
    if changeset.reverts_id is not None:
        _mark_reverted(changeset, [m.authorship_id for m in moves])
    suggestion_tasks.suggestions_refresh_enqueue(
        person_ids={m.from_person_id for m in moves}
        | {m.target_id for m in moves}
        | {d.person_id for d in [*decisions, *undone]}
    )


def _apply_moves(moves: list[Move]) -> None:
    conflicts = catalog.entries_compare_and_lock(selectors.claims(moves))
    if conflicts:
        raise ChangeSetConflict(conflicts)
    new_persons = sorted(
        {m.to_new_person for m in moves if m.to_new_person is not None}, key=lambda np: np.pk
    )
    try:
        catalog.persons_create(
            persons=[
                catalog.NewPersonSpec(
                    id=np.person_id,
                    first_name=np.first_name,
                    last_name=np.last_name,
                    orcid=np.orcid,
                    degree=np.degree,
                    comment=np.comment,
                )
                for np in new_persons
            ]
        )
    except catalog.PersonIdTaken as exc:
        when = "was created meanwhile" if exc.meanwhile else "already exists"
        raise ChangeSetConflict([f"Person id {pid} {when}" for pid in exc.ids]) from exc
    # entries_compare_and_lock found every entry: none is None here
    catalog.entries_reassign(
        targets={m.authorship_id: m.target_id for m in moves if m.authorship_id is not None}
    )


def _mark_reverted(revert: ChangeSet, authorship_ids: list[int | None]) -> None:
    original = revert.reverts
    assert original is not None  # called for a revert only
    ids = [i for i in authorship_ids if i is not None]  # moves whose entry is gone match none
    original.moves.filter(status=Move.Status.APPLIED, authorship_id__in=ids).update(
        status=Move.Status.REVERTED
    )
    original.page_decisions.filter(status=Move.Status.APPLIED).update(status=Move.Status.REVERTED)
    if not original.moves.filter(status=Move.Status.APPLIED).exists():
        original.status = ChangeSet.Status.REVERTED
        original.save(update_fields=["status", "updated_at"])
    # Persons the original created and that nothing refers to any more go away again, as the
    # export removes them from people.json: a revert restores the data as it was.
    created = list(original.new_persons.values_list("person_id", flat=True))
    catalog.persons_remove_unused(
        ids=created,
        keep=Move.objects.filter(to_person_id__in=created).values_list("to_person_id", flat=True),
    )


def changeset_revert(*, changeset: ChangeSet, user: User) -> ChangeSet:
    """Undo an applied change set in one action; returns the reverting change set.

    If later changes moved any of its entries again, the revert is not applied but submitted
    as a new proposal (moving those entries back from where they are now) for a maintainer to
    review, so nobody's later work is overwritten silently.
    """
    _require_maintainer(user)
    with transaction.atomic():
        locked = _lock_changeset(changeset, status=ChangeSet.Status.APPLIED, action="reverted")
        if locked.reverted_by.exclude(
            status__in=[ChangeSet.Status.REJECTED, ChangeSet.Status.DRAFT]
        ).exists():
            raise ValidationError(f"Change set {locked.pk} already has a pending revert.")
        moves = list(
            locked.moves.filter(status=Move.Status.APPLIED).select_related("to_new_person")
        )
        locked_entries = catalog.entries_lock(
            (m.authorship_id for m in moves if m.authorship_id), write=True
        )
        # `int | None`: a move whose entry is gone looks up None and finds nothing
        current: dict[int | None, str] = {
            pk: entry.person_id for pk, entry in locked_entries.items()
        }
        sources = {m.from_person_id for m in moves}
        missing = sorted(
            sources - set(Person.objects.filter(id__in=sources).values_list("id", flat=True))
        )
        if missing:
            raise ValidationError(
                f"Cannot revert change set {locked.pk}: "
                f"persons {', '.join(missing)} no longer exist."
            )
        now_at = [(m, current.get(m.authorship_id)) for m in moves]
        # An entry gone, or moved on since, means later work: a maintainer reviews the revert.
        touched = any(
            now is None or now not in (m.from_person_id, m.target_id) for m, now in now_at
        )
        # Entries gone, or already back where they were, have nothing to undo.
        undo = [(m, now) for m, now in now_at if now is not None and now != m.from_person_id]
        if not undo and not locked.page_decisions.filter(status=Move.Status.APPLIED).exists():
            raise ValidationError(
                f"Nothing to revert: every entry of change set {locked.pk} is back or gone."
            )
        note = f"Revert of change set {locked.pk}"
        if touched:
            note += " (entries changed since it was applied: review before applying)"
        now = timezone.now()
        revert = ChangeSet.objects.create(
            created_by=user,
            reverts=locked,
            note=note,
            status=ChangeSet.Status.SUBMITTED,
            submitted_at=now,
        )
        Move.objects.bulk_create(
            Move(
                changeset=revert,
                authorship_id=m.authorship_id,
                item_id=m.item_id,
                role=m.role,
                position=m.position,
                from_person_id=current_person,
                to_person_id=m.from_person_id,
                status=Move.Status.PENDING if touched else Move.Status.APPROVED,
            )
            for m, current_person in undo
        )
        if touched:
            return revert
        revert.reviewed_by = user
        revert.reviewed_at = now
        _apply(revert)  # saves the change set, review fields included
    return revert
