"""Move a person's entries on some papers to another person, through the review workflow.

    python manage.py move_papers --from peiyu-liu/unverified \\
        --papers 2021.acl-long.418,2022.coling-1.288 --to peiyu-liu-ruc \\
        --new-person "Peiyu Liu" --user alice [--note TEXT] [--approve]

Creates a change set by USER and submits it for review; with --approve (USER must be a
maintainer) it is approved and applied at once, with the same compare-and-swap checks as the web
page. Prints the change set's id.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from assignments.changesets import services as changesets
from assignments.models import ChangeSet
from assignments.review import services as review
from papers import permissions
from papers.models import Authorship, Person


class Command(BaseCommand):
    help = "Move a person's entries on the given papers to another person, as a change set."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="from_id", required=True, metavar="PERSON_ID")
        parser.add_argument("--papers", required=True, help="comma-separated Anthology ids")
        parser.add_argument("--to", dest="to_id", required=True, metavar="PERSON_ID")
        parser.add_argument("--new-person", metavar='"FIRST LAST"')
        parser.add_argument("--orcid", default="")
        parser.add_argument("--degree", default="")
        parser.add_argument("--comment", default="")
        parser.add_argument("--user", required=True, metavar="USERNAME")
        parser.add_argument("--note", default="")
        parser.add_argument("--approve", action="store_true")

    def handle(self, *args, **opts) -> None:
        try:
            user = get_user_model().objects.get(username=opts["user"])
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user {opts['user']!r}.") from None
        if opts["approve"] and not permissions.can_review(user):
            raise CommandError(f"--approve: {user.username} is not a maintainer.")
        paper_ids = [p.strip() for p in opts["papers"].split(",") if p.strip()]
        if not paper_ids:
            raise CommandError("--papers: give at least one Anthology id.")
        if not Person.objects.filter(id=opts["from_id"]).exists():
            raise CommandError(f"--from: no person {opts['from_id']!r}.")
        entries = list(
            Authorship.objects.filter(person_id=opts["from_id"], item_id__in=paper_ids).order_by(
                "item_id", "role", "position"
            )
        )
        missing = sorted(set(paper_ids) - {a.item_id for a in entries})
        if missing:
            raise CommandError(
                f"{opts['from_id']} has no entry on {', '.join(missing)} (check the ids)."
            )
        new_name = None
        if opts["new_person"]:
            parts = opts["new_person"].strip().rsplit(" ", 1)
            new_name = ("", parts[0]) if len(parts) == 1 else (parts[0], parts[1])
            if Person.objects.filter(id=opts["to_id"]).exists():
                raise CommandError(
                    f"--new-person: {opts['to_id']!r} already exists; drop --new-person."
                )
        elif not Person.objects.filter(id=opts["to_id"]).exists():
            raise CommandError(f"--to: no person {opts['to_id']!r} (use --new-person to create).")
        elif opts["to_id"] == opts["from_id"]:
            raise CommandError("--to is the same person as --from.")

        try:
            changeset = _submit(user=user, entries=entries, opts=opts, new_name=new_name)
            if opts["approve"]:
                review.changeset_approve(changeset=changeset, user=user, comment=opts["note"])
        except review.ChangeSetConflict as exc:
            raise CommandError(
                f"change set {changeset.pk} was not applied; changed since:\n  "
                + "\n  ".join(exc.messages)
            ) from exc
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError("; ".join(getattr(exc, "messages", [str(exc)]))) from exc
        changeset.refresh_from_db()
        self.stdout.write(str(changeset.pk))
        self.stderr.write(
            f"change set {changeset.pk} ({changeset.status}): {len(entries)} entries "
            f"{opts['from_id']} -> {opts['to_id']}"
        )


def _submit(*, user, entries: list[Authorship], opts: dict, new_name) -> ChangeSet:
    """The reviewers' own drafting path: same validation as the web pages."""
    with transaction.atomic():
        changeset = changesets.changeset_get_or_create_draft(user=user)
        if changeset.moves.exists():
            # The script must not submit what the reviewer is still drafting on the web.
            raise ValidationError(
                f"{user.username} has a draft change set ({changeset.pk}) with moves in "
                "progress: submit or empty it in the web app first."
            )
        if new_name is not None:
            changesets.moves_add_to_new_person(
                changeset=changeset,
                authorships=entries,
                first_name=new_name[0],
                last_name=new_name[1],
                orcid=opts["orcid"],
                degree=opts["degree"],
                comment=opts["comment"],
                person_id=opts["to_id"],
            )
        else:
            changesets.moves_add(
                changeset=changeset,
                authorships=entries,
                to_person=Person.objects.get(id=opts["to_id"]),
            )
        if opts["note"]:
            changeset = changesets.changeset_update_note(changeset=changeset, note=opts["note"])
        return changesets.changeset_submit(changeset=changeset, user=user)
