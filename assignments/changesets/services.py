"""Drafting: a reviewer builds a change set of moves (and new persons), then submits it.

A reviewer has at most one draft; it lives in the database, so it survives reloads, logouts and
second tabs, and collects moves from as many person pages as the reviewer visits. Every function
is one transaction: on a ValidationError nothing of the call is saved.

Errors are `ValidationError`s keyed by the assign form's field names where one field is at
fault ("authorships", "to_person", "orcid", "person_id", ...), so views can show each message
next to its field.
"""

import re
from collections.abc import Iterable

from acl_anthology.people import Name
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from slugify import slugify

from assignments.changesets import selectors
from assignments.changesets.selectors import OPEN_CHANGESET_STATUSES
from assignments.models import ChangeSet, Move, NewPerson, PageDecision
from papers import services as catalog
from papers.models import Authorship, Person
from papers.orcid import orcid_clean

PERSON_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _locked_draft(changeset: ChangeSet) -> ChangeSet:
    """Re-read the change set under a row lock; only drafts can be edited."""
    locked = ChangeSet.objects.select_for_update().filter(pk=changeset.pk).first()
    if locked is None:
        raise ValidationError("This change set no longer exists.", code="changeset_missing")
    if locked.status != ChangeSet.Status.DRAFT:
        raise ValidationError(
            f"Change set {locked.pk} is {locked.get_status_display().lower()}, not a draft: "
            "it can no longer be edited.",
            code="changeset_not_draft",
        )
    return locked


def _touch(changeset: ChangeSet) -> None:
    changeset.save(update_fields=["updated_at"])


def changeset_get_or_create_draft(*, user: User) -> ChangeSet:
    """The user's open draft, created on first use (one draft per reviewer)."""
    with transaction.atomic():
        # Lock the user row so two tabs proposing at once do not create two drafts.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        draft = selectors.draft_for_user(user)
        if draft is None:
            draft = ChangeSet.objects.create(created_by=user)
        return draft


def person_id_taken(person_id: str) -> bool:
    """An existing person, or a new person proposed by an open change set, has this id."""
    return (
        Person.objects.filter(pk=person_id).exists()
        or NewPerson.objects.filter(
            person_id=person_id, changeset__status__in=OPEN_CHANGESET_STATUSES
        ).exists()
    )


def person_id_propose(*, first_name: str, last_name: str, degree: str = "", orcid: str = "") -> str:
    """A free verified-person id by the Anthology's rules (`PersonIndex.generate_person_id`).

    The name's slug; if taken, slug plus the degree institution; if taken, slug plus the ORCID's
    last four characters. ValidationError when all of them are taken (the reviewer then types one).
    """
    slug = Name(first_name or None, last_name).slugify()
    if not slug:
        raise ValidationError({"last_name": "Enter a last name to propose an id from."})
    candidates = [slug]
    if institution := slugify(degree):
        candidates.append(f"{slug}-{institution}")
    if orcid:
        candidates.append(f"{slug}-{orcid[-4:].lower()}")
    for candidate in candidates:
        if not person_id_taken(candidate):
            return candidate
    if len(candidates) == 1:
        taken = f"The id {candidates[0]} is taken."
    else:
        taken = f"The ids {', '.join(candidates[:-1])} and {candidates[-1]} are all taken."
    raise ValidationError(
        {"person_id": f"{taken} Add the degree institution or an ORCID iD, or type an id yourself."}
    )


def _orcid_check_free(orcid: str, *, exclude: NewPerson | None = None) -> None:
    """Refuse an ORCID iD that a person has, or that an open change set proposes for a new
    person (other than `exclude`)."""
    if not orcid:
        return
    holder = Person.objects.filter(orcid=orcid).values_list("pk", flat=True).first()
    if holder is not None:
        raise ValidationError(
            {
                "orcid": f"ORCID iD {orcid} already belongs to {holder}: assign the papers "
                "to that person instead."
            }
        )
    pending = NewPerson.objects.filter(orcid=orcid, changeset__status__in=OPEN_CHANGESET_STATUSES)
    if exclude is not None:
        pending = pending.exclude(pk=exclude.pk)
    if (found := pending.first()) is not None:
        raise ValidationError(
            {
                "orcid": f"ORCID iD {orcid} is already proposed for the new person "
                f"{found.person_id} (change set {found.changeset_id})."
            }
        )


def _new_person_fields(
    first_name: str, last_name: str, orcid: str, degree: str, comment: str
) -> tuple[str, str, str, str, str]:
    """The fields of a new person, trimmed and checked: ValidationError keyed by field."""
    first_name, last_name = first_name.strip(), last_name.strip()
    degree, comment = degree.strip(), comment.strip()
    errors: dict[str, str] = {}
    if not last_name:
        errors["last_name"] = "A new person needs a last name."
    try:
        orcid = orcid_clean(orcid)
    except ValidationError as e:
        errors["orcid"] = e.messages[0]
        orcid = ""
    if errors:
        raise ValidationError(errors)
    return first_name, last_name, orcid, degree, comment


def newperson_create(
    *,
    changeset: ChangeSet,
    first_name: str,
    last_name: str,
    orcid: str = "",
    degree: str = "",
    comment: str = "",
    person_id: str | None = None,
) -> NewPerson:
    """Propose a new verified person in a draft; the id is proposed when not given."""
    first_name, last_name, orcid, degree, comment = _new_person_fields(
        first_name, last_name, orcid, degree, comment
    )

    with transaction.atomic():
        changeset = _locked_draft(changeset)
        _orcid_check_free(orcid)
        if person_id:
            person_id = person_id.strip().lower()
            if not PERSON_ID_RE.fullmatch(person_id):
                raise ValidationError(
                    {
                        "person_id": "An id is lower-case letters and digits joined by hyphens, "
                        "like jane-doe or jane-doe-cmu."
                    }
                )
            if person_id_taken(person_id):
                raise ValidationError(
                    {"person_id": f"The id {person_id} is taken; choose another one."}
                )
        else:
            person_id = person_id_propose(
                first_name=first_name, last_name=last_name, degree=degree, orcid=orcid
            )
        # Two reviewers proposing the same new id at once: the second waits here, then sees
        # the first one's row and is refused.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"person-id:{person_id}"])
        if person_id_taken(person_id):
            raise ValidationError({"person_id": f"The id {person_id} was just taken; try again."})
        new_person = NewPerson.objects.create(
            changeset=changeset,
            person_id=person_id,
            first_name=first_name,
            last_name=last_name,
            orcid=orcid,
            degree=degree,
            comment=comment,
        )
        _touch(changeset)
        return new_person


def _entry_label(authorship: Authorship) -> str:
    role = "" if authorship.role == Authorship.Role.AUTHOR else f" ({authorship.role})"
    return f"{authorship.item_id}{role}"


def moves_add(
    *,
    changeset: ChangeSet,
    authorships: Iterable[Authorship],
    to_person: Person | None = None,
    to_new_person: NewPerson | None = None,
) -> list[Move]:
    """Propose moving each author entry to `to_person` or to a new person of this change set."""
    ids = sorted({a.pk for a in authorships})
    if not ids:
        raise ValidationError({"authorships": "Select at least one paper to assign."})
    if (to_person is None) == (to_new_person is None):
        raise ValidationError({"to_person": "Choose one person to assign the papers to."})

    with transaction.atomic():
        changeset = _locked_draft(changeset)
        if to_person is not None:
            target = Person.objects.filter(pk=to_person.pk).first()
            if target is None:
                raise ValidationError(
                    {"to_person": f"There is no person with the id {to_person.pk}."}
                )
            target_id = target.pk
        else:
            assert to_new_person is not None
            if not NewPerson.objects.filter(pk=to_new_person.pk, changeset=changeset).exists():
                raise ValidationError(
                    {"to_person": "That new person belongs to another change set."}
                )
            target_id = to_new_person.person_id

        # Lock the entries: a concurrent proposal for the same entry waits, then sees ours.
        locked = catalog.entries_lock(ids, write=False)
        entries = sorted(locked.values(), key=lambda a: (a.item_id, a.pk))
        problems: list[str] = []
        if len(entries) != len(ids):
            problems.append(
                f"{len(ids) - len(entries)} of the selected entries no longer exist "
                "(re-imported?). Reload the page."
            )
        # An unverified person is reached by name alone (no id on the entry), so only entries
        # printed with that name can go there.
        unverified_slug = (
            target_id.removesuffix("/unverified") if target_id.endswith("/unverified") else None
        )
        for entry in entries:
            if entry.person_id == target_id:
                problems.append(f"{_entry_label(entry)} already belongs to {target_id}.")
            elif unverified_slug is not None and (
                Name(entry.first or None, entry.last).slugify() != unverified_slug
            ):
                problems.append(
                    f"{_entry_label(entry)} is printed as “{entry.printed_name}”: the unverified "
                    f"page {target_id} only collects entries printed with its name. Choose a "
                    "verified person or create a new one."
                )
        open_moves = (
            selectors.open_moves()
            .filter(authorship_id__in=ids)
            .select_related("changeset__created_by", "to_new_person")
            .order_by("item_id")
        )
        for move in open_moves:
            where = (
                "your change set"
                if move.changeset_id == changeset.pk
                else f"change set {move.changeset_id} by {move.changeset.created_by}"
                f" ({move.changeset.status})"
            )
            problems.append(
                f"{move.item_id} is already moved to {move.target_id} in {where}; "
                "remove that move first."
            )
        if problems:
            raise ValidationError({"authorships": problems})

        try:
            with transaction.atomic():
                moves = Move.objects.bulk_create(
                    [
                        Move(
                            changeset=changeset,
                            authorship=entry,
                            item_id=entry.item_id,
                            role=entry.role,
                            position=entry.position,
                            from_person_id=entry.person_id,
                            to_person_id=target_id if to_person is not None else None,
                            to_new_person=to_new_person,
                        )
                        for entry in entries
                    ]
                )
                # Proposals made on a preview's page name the preview's rows: check now, not at
                # commit, that they exist in the current data too.
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        except IntegrityError as exc:
            raise ValidationError(
                {
                    "authorships": "Some selected entries, or the target, exist only in this "
                    "preview: propose them once the preview is promoted."
                }
            ) from exc
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        # A "one person" mark of the same draft vouches for what stays on the page: an entry
        # moved away leaves it (else the decision and the move would contradict each other).
        for decision in changeset.page_decisions.filter(
            person_id__in={e.person_id for e in entries}
        ):
            decision.authorship_ids = [i for i in decision.authorship_ids if i not in set(ids)]
            decision.save(update_fields=["authorship_ids"])
        _touch(changeset)
        return moves


def moves_add_to_new_person(
    *,
    changeset: ChangeSet,
    authorships: Iterable[Authorship],
    first_name: str,
    last_name: str,
    orcid: str = "",
    degree: str = "",
    comment: str = "",
    person_id: str | None = None,
) -> list[Move]:
    """Create a new person and move the entries to it, together or not at all."""
    authorships = list(authorships)
    if not authorships:
        raise ValidationError({"authorships": "Select at least one paper to assign."})
    with transaction.atomic():
        new_person = newperson_create(
            changeset=changeset,
            first_name=first_name,
            last_name=last_name,
            orcid=orcid,
            degree=degree,
            comment=comment,
            person_id=person_id,
        )
        return moves_add(changeset=changeset, authorships=authorships, to_new_person=new_person)


def move_remove(*, changeset: ChangeSet, move: Move) -> None:
    """Take a move out of a draft; a new person left without moves goes too."""
    with transaction.atomic():
        changeset = _locked_draft(changeset)
        found = Move.objects.filter(pk=move.pk, changeset=changeset).first()
        if found is None:
            raise ValidationError("That move is not in this change set (already removed?).")
        new_person_id = found.to_new_person_id
        found.delete()
        if (
            new_person_id is not None
            and not Move.objects.filter(to_new_person_id=new_person_id).exists()
        ):
            NewPerson.objects.filter(pk=new_person_id).delete()
        _touch(changeset)


def page_decision_add(
    *, changeset: ChangeSet, person: Person, kind: str = PageDecision.Kind.ONE_PERSON
) -> PageDecision:
    """Mark a page "one person" in a draft: its entries (but those proposed to move away) are
    one person. Reviewed and applied like a move; then a must-link decision for the clustering,
    and the page leaves the queue of mixed pages."""
    with transaction.atomic():
        changeset = _locked_draft(changeset)
        moving = set(
            selectors.open_moves()
            .filter(authorship__person=person)
            .values_list("authorship_id", flat=True)
        )
        ids = sorted(
            set(Authorship.objects.filter(person=person).values_list("pk", flat=True)) - moving
        )
        if len(ids) < 2:
            raise ValidationError(
                f"{person.pk} has {len(ids)} paper{'s' if len(ids) != 1 else ''} that stay: "
                "nothing to mark as one person."
            )
        open_decisions = PageDecision.objects.filter(
            person_id=person.pk,
            kind=kind,
            status__in=[Move.Status.PENDING, Move.Status.APPROVED],
            changeset__status__in=OPEN_CHANGESET_STATUSES,
        ).select_related("changeset__created_by")
        for other in open_decisions:
            where = (
                "your change set"
                if other.changeset_id == changeset.pk
                else f"change set {other.changeset_id} by {other.changeset.created_by}"
            )
            raise ValidationError(f"{person.pk} is already marked one person in {where}.")
        decision = PageDecision.objects.create(
            changeset=changeset, person_id=person.pk, kind=kind, authorship_ids=ids
        )
        _touch(changeset)
        return decision


def page_decision_remove(*, changeset: ChangeSet, decision: PageDecision) -> None:
    with transaction.atomic():
        changeset = _locked_draft(changeset)
        deleted, _ = PageDecision.objects.filter(pk=decision.pk, changeset=changeset).delete()
        if not deleted:
            raise ValidationError("That mark is not in this change set (already removed?).")
        _touch(changeset)


def newperson_update(
    *,
    changeset: ChangeSet,
    new_person: NewPerson,
    first_name: str,
    last_name: str,
    orcid: str = "",
    degree: str = "",
    comment: str = "",
) -> NewPerson:
    """Correct a new person of a draft before it is submitted. Its id stays: the moves and the
    reviewer's notes name it."""
    first_name, last_name, orcid, degree, comment = _new_person_fields(
        first_name, last_name, orcid, degree, comment
    )
    with transaction.atomic():
        changeset = _locked_draft(changeset)
        found = (
            NewPerson.objects.select_for_update()
            .filter(pk=new_person.pk, changeset=changeset)
            .first()
        )
        if found is None:
            raise ValidationError("That new person is not in your draft.")
        _orcid_check_free(orcid, exclude=found)
        found.first_name, found.last_name = first_name, last_name
        found.orcid, found.degree, found.comment = orcid, degree, comment
        found.save()
        _touch(changeset)
        return found


def changeset_withdraw(*, changeset: ChangeSet, user: User) -> ChangeSet:
    """Take a submitted change set back before a maintainer decides: its moves, new persons and
    marks return to the reviewer's draft (the set itself becomes the draft when there is
    none). Returns the draft."""
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        locked = ChangeSet.objects.select_for_update().filter(pk=changeset.pk).first()
        if locked is None or locked.created_by_id != user.pk:
            raise ValidationError("Only the reviewer who wrote a change set can withdraw it.")
        if locked.status != ChangeSet.Status.SUBMITTED:
            raise ValidationError(
                f"Change set {locked.pk} is {locked.get_status_display().lower()}: only "
                "submitted change sets can be withdrawn."
            )
        if locked.reverts_id is not None:
            raise ValidationError("A revert cannot be withdrawn; a maintainer decides it.")
        draft = selectors.draft_for_user(user)
        if draft is None:
            locked.status = ChangeSet.Status.DRAFT
            locked.submitted_at = None
            locked.save(update_fields=["status", "submitted_at", "updated_at"])
            return locked
        draft = _locked_draft(draft)
        locked.moves.update(changeset=draft)
        locked.new_persons.update(changeset=draft)
        # a page marked in both keeps the draft's mark
        marked = set(draft.page_decisions.values_list("person_id", "kind"))
        for decision in locked.page_decisions.all():
            if (decision.person_id, decision.kind) in marked:
                decision.delete()
            else:
                decision.changeset = draft
                decision.save(update_fields=["changeset"])
        if locked.note and locked.note not in draft.note:
            draft.note = f"{draft.note}\n\n{locked.note}".strip()
        draft.save(update_fields=["note", "updated_at"])
        # nothing refers to the emptied set: it never reached a maintainer
        locked.delete()
        return draft


def changeset_discard(*, changeset: ChangeSet, user: User) -> None:
    """Throw a draft away, with its moves, new persons and marks."""
    with transaction.atomic():
        changeset = _locked_draft(changeset)
        if changeset.created_by_id != user.pk:
            raise ValidationError("Only the reviewer who wrote a draft can discard it.")
        changeset.delete()


def changeset_update_note(*, changeset: ChangeSet, note: str) -> ChangeSet:
    """Set the draft's note for the maintainer who reviews it."""
    with transaction.atomic():
        changeset = _locked_draft(changeset)
        changeset.note = note.strip()
        changeset.save(update_fields=["note", "updated_at"])
        return changeset


def changeset_submit(*, changeset: ChangeSet, user: User) -> ChangeSet:
    """Send a draft to the maintainers; refuses an empty draft or moves made stale by an apply."""
    with transaction.atomic():
        changeset = _locked_draft(changeset)
        if changeset.created_by_id != user.pk:
            raise ValidationError("Only the reviewer who wrote a change set can submit it.")
        moves = list(changeset.moves.order_by("item_id", "role", "position"))
        if not moves and not changeset.page_decisions.exists():
            raise ValidationError("The change set is empty: assign some papers first.")
        stale = catalog.entries_compare_and_lock(selectors.claims(moves), write=False)
        if stale:
            raise ValidationError(
                [
                    "These moves are out of date; remove them and propose again:",
                    *map(str, stale),
                ]
            )
        changeset.status = ChangeSet.Status.SUBMITTED
        changeset.submitted_at = timezone.now()
        changeset.save(update_fields=["status", "submitted_at", "updated_at"])
        return changeset
