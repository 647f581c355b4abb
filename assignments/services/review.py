"""Review services: maintainers approve, reject, apply and revert change sets.

Applying is a compare-and-swap on the author entries a change set moves: inside one transaction
the affected `Authorship` rows are locked (`select_for_update`, in id order so two appliers
cannot deadlock) and each must still belong to the person the proposal saw. If any does not,
nothing is written and `ChangeSetConflict` lists every entry that changed since.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from assignments.models import ChangeSet, Move, NewPerson
from papers import permissions
from papers import services as papers_services
from papers.models import Authorship, Person, PersonName
from papers.names import normalize_name

__all__ = [
    "ChangeSetConflict",
    "MoveConflict",
    "changeset_approve",
    "changeset_reject",
    "changeset_revert",
    "user_is_maintainer",
]


@dataclass(frozen=True)
class MoveConflict:
    """One moved entry that no longer is what the proposal saw."""

    move_id: int
    item_id: str
    role: str
    position: int
    expected_person_id: str
    actual_person_id: str | None  # None: the entry no longer exists

    def __str__(self) -> str:
        entry = f"{self.item_id} {self.role} #{self.position + 1}"
        if self.actual_person_id is None:
            return f"{entry} no longer exists"
        return (
            f"{entry} now belongs to {self.actual_person_id}, "
            f"not {self.expected_person_id} as proposed"
        )


class ChangeSetConflict(ValidationError):
    """Applying would overwrite changes made since the proposal; nothing was applied."""

    def __init__(self, conflicts: list[MoveConflict] | list[str]) -> None:
        self.conflicts = conflicts
        super().__init__([str(c) for c in conflicts])


def user_is_maintainer(user: AbstractBaseUser | AnonymousUser) -> bool:
    return permissions.user_has_role(user, permissions.MAINTAINER, permissions.ADMIN)


def _require_maintainer(user: AbstractBaseUser | AnonymousUser) -> None:
    if not user_is_maintainer(user):
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
    user: AbstractBaseUser,
    move_ids: Iterable[int] | None = None,
    comment: str = "",
) -> ChangeSet:
    """Approve all moves (or only `move_ids`, rejecting the others) and apply them at once.

    Raises `ChangeSetConflict` (and changes nothing) if an entry moved since the proposal.
    """
    _require_maintainer(user)
    with transaction.atomic():
        locked = _lock_changeset(changeset, status=ChangeSet.Status.SUBMITTED, action="approved")
        moves = list(locked.moves.filter(status=Move.Status.PENDING))
        if not moves:
            raise ValidationError(f"Change set {locked.pk} has no moves to approve.")
        if move_ids is None:
            chosen = {m.pk for m in moves}
        else:
            chosen = {int(i) for i in move_ids}
            unknown = chosen - {m.pk for m in moves}
            if unknown:
                raise ValidationError(
                    f"Moves {sorted(unknown)} are not pending moves of change set {locked.pk}."
                )
            if not chosen:
                raise ValidationError("Select at least one move to approve, or reject all.")
        Move.objects.filter(pk__in=chosen).update(status=Move.Status.APPROVED)
        Move.objects.filter(changeset=locked, status=Move.Status.PENDING).update(
            status=Move.Status.REJECTED
        )
        locked.reviewed_by = user
        locked.reviewed_at = timezone.now()
        locked.review_comment = comment
        _apply(locked)  # saves the change set, review fields included
    _sync(changeset, locked)
    return changeset


def changeset_reject(
    *, changeset: ChangeSet, user: AbstractBaseUser, comment: str = ""
) -> ChangeSet:
    _require_maintainer(user)
    with transaction.atomic():
        locked = _lock_changeset(changeset, status=ChangeSet.Status.SUBMITTED, action="rejected")
        locked.moves.filter(status__in=[Move.Status.PENDING, Move.Status.APPROVED]).update(
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
    """Apply the approved moves of a locked change set, or raise ChangeSetConflict."""
    moves = list(
        changeset.moves.filter(status=Move.Status.APPROVED).select_related("to_new_person")
    )
    if not moves:
        raise ValidationError(f"Change set {changeset.pk} has no approved moves to apply.")
    authorship_ids = sorted(m.authorship_id for m in moves if m.authorship_id is not None)
    # Lock in id order: two maintainers applying overlapping sets wait for each other instead of
    # deadlocking, and the second then sees the first one's committed persons.
    current = {
        a.pk: a
        for a in Authorship.objects.select_for_update()
        .filter(pk__in=authorship_ids)
        .order_by("pk")
        .only("id", "person_id", "first", "last", "item_id")
    }
    conflicts = []
    for m in moves:
        a = current.get(m.authorship_id)
        actual = a.person_id if a is not None else None
        if actual != m.from_person_id:
            conflicts.append(
                MoveConflict(m.pk, m.item_id, m.role, m.position, m.from_person_id, actual)
            )
    if conflicts:
        raise ChangeSetConflict(conflicts)

    new_persons = sorted(
        {m.to_new_person for m in moves if m.to_new_person_id}, key=lambda np: np.pk
    )
    taken = set(
        Person.objects.filter(id__in=[np.person_id for np in new_persons]).values_list(
            "id", flat=True
        )
    )
    if taken:
        raise ChangeSetConflict([f"Person id {pid} already exists" for pid in sorted(taken)])
    try:
        with transaction.atomic():
            Person.objects.bulk_create(
                [
                    Person(
                        id=np.person_id,
                        first_name=np.first_name,
                        last_name=np.last_name,
                        orcid=np.orcid,
                        degree=np.degree,
                        comment=np.comment,
                        is_verified=True,
                    )
                    for np in new_persons
                ]
            )
    except IntegrityError as exc:
        # Another change set created the same id concurrently and committed first.
        raise ChangeSetConflict(
            [f"Person id {np.person_id} was created meanwhile" for np in new_persons]
        ) from exc

    by_target: dict[str, list[int]] = defaultdict(list)
    names_by_target: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for np in new_persons:
        names_by_target[np.person_id].add((np.first_name, np.last_name))
    for m in moves:
        target = m.target_id
        by_target[target].append(m.authorship_id)
        a = current[m.authorship_id]
        names_by_target[target].add((a.first, a.last))
    for target, ids in by_target.items():
        Authorship.objects.filter(pk__in=ids).update(person_id=target)
    _ensure_names(names_by_target, canonical={np.person_id: np for np in new_persons})

    now = timezone.now()
    Move.objects.filter(pk__in=[m.pk for m in moves]).update(
        status=Move.Status.APPLIED, applied_at=now
    )
    changeset.status = ChangeSet.Status.APPLIED
    changeset.applied_at = now
    changeset.save()
    if changeset.reverts_id is not None:
        _mark_reverted(changeset, [m.authorship_id for m in moves])

    affected = {m.from_person_id for m in moves} | set(by_target)
    papers_services.persons_refresh_stats(person_ids=affected)


def _ensure_names(
    names_by_target: dict[str, set[tuple[str, str]]], *, canonical: dict[str, NewPerson]
) -> None:
    verified = set(
        Person.objects.filter(id__in=names_by_target, is_verified=True).values_list("id", flat=True)
    )
    existing = set(
        PersonName.objects.filter(person_id__in=names_by_target).values_list(
            "person_id", "first", "last"
        )
    )
    rows = []
    for pid, names in names_by_target.items():
        np = canonical.get(pid)
        for first, last in sorted(names):
            if (pid, first, last) in existing:
                continue
            rows.append(
                PersonName(
                    person_id=pid,
                    first=first,
                    last=last,
                    is_explicit=pid in verified,
                    is_canonical=np is not None and (first, last) == (np.first_name, np.last_name),
                    normalized=normalize_name(first, last),
                )
            )
    PersonName.objects.bulk_create(rows)


def _mark_reverted(revert: ChangeSet, authorship_ids: list[int | None]) -> None:
    original = revert.reverts
    original.moves.filter(status=Move.Status.APPLIED, authorship_id__in=authorship_ids).update(
        status=Move.Status.REVERTED
    )
    if not original.moves.filter(status=Move.Status.APPLIED).exists():
        original.status = ChangeSet.Status.REVERTED
        original.save(update_fields=["status", "updated_at"])
    # Persons the original created and that nothing refers to any more go away again, as the
    # export removes them from people.json: a revert restores the data as it was.
    created = list(original.new_persons.values_list("person_id", flat=True))
    (
        Person.objects.filter(id__in=created)
        .annotate(n=Count("authorships"), m=Count("incoming_moves"))
        .filter(n=0, m=0)
        .delete()
    )


def changeset_revert(*, changeset: ChangeSet, user: AbstractBaseUser) -> ChangeSet:
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
        current = dict(
            Authorship.objects.select_for_update()
            .filter(pk__in=sorted(m.authorship_id for m in moves if m.authorship_id))
            .order_by("pk")
            .values_list("pk", "person_id")
        )
        missing = sorted(
            {m.from_person_id for m in moves}
            - set(
                Person.objects.filter(id__in={m.from_person_id for m in moves}).values_list(
                    "id", flat=True
                )
            )
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
        if not undo:
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
