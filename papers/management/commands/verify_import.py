"""Compare the database with what the official acl-anthology library resolves from PATH."""

from django.core.management.base import BaseCommand, CommandError

from papers.importing.archives import open_data_dir
from papers.importing.errors import AnthologyDataError
from papers.importing.reader import read_snapshot
from papers.importing.verification import snapshot_differences


class Command(BaseCommand):
    help = (
        "Compare every paper, person and author/editor entry in the database with what the "
        "official library resolves from PATH; print each difference and, last, 'N mismatches'."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="Anthology checkout, its data/ folder, or an archive")

    def handle(self, *args, path: str, **options) -> None:
        try:
            with open_data_dir(path) as data_dir:
                snap = read_snapshot(data_dir, source=path, memoize=False)
        except AnthologyDataError as exc:
            raise CommandError(str(exc)) from exc
        mismatches = 0
        for line in snapshot_differences(snap):
            mismatches += 1
            self.stdout.write(line)
        self.stdout.write(f"{mismatches} mismatches")
        if mismatches:
            raise SystemExit(1)
