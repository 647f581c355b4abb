"""Write applied, not yet exported change sets into an Anthology data folder.

    python manage.py export_changes --data-dir ~/acl-anthology/data [--dry-run]

Goes through the official `acl-anthology` library (people.json entries, `id` attributes on the
moved <author>/<editor> entries). With --dry-run, prints the unified diff and writes nothing. If
the folder no longer matches what was approved, names each conflict and writes nothing.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assignments.export import services


class Command(BaseCommand):
    help = "Export applied change sets into an Anthology data folder (a checkout's data/)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data-dir", required=True, metavar="PATH")
        parser.add_argument("--dry-run", action="store_true", help="print the diff only")

    def handle(self, *args, **opts) -> None:
        result = services.changes_export(data_dir=opts["data_dir"], dry_run=opts["dry_run"])
        if result.conflicts:
            raise CommandError(
                f"{len(result.conflicts)} conflict(s), nothing written:\n  "
                + "\n  ".join(result.conflicts)
            )
        if opts["dry_run"]:
            self.stdout.write(result.diff, ending="")
        if not result.changeset_ids:
            self.stderr.write("Nothing to export.")
            return
        verb = "would change" if opts["dry_run"] else "changed"
        self.stderr.write(
            f"change sets {', '.join(map(str, result.changeset_ids))}: {verb} "
            f"{len(result.files)} file(s): {', '.join(result.files) or 'none'}"
        )
