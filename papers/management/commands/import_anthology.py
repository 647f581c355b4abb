"""Import ACL Anthology data: a checkout, its data/ folder, or a .tar.gz/.tar.xz/.zip of either."""

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from papers.importing import services
from papers.importing.errors import AnthologyDataError


class Command(BaseCommand):
    help = (
        "Import Anthology data (checkout, data/ folder or archive). Only what changed since the "
        "last import is written; bad input changes nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="Anthology checkout, its data/ folder, or an archive")
        parser.add_argument(
            "--preview",
            metavar="NAME",
            default="",
            help="load PATH as a preview called NAME beside the current data, print its effect "
            "on people, and change nothing in the current data",
        )

    def handle(self, *args, path: str, preview: str, **options) -> None:
        bar = _ProgressBar() if sys.stderr.isatty() else None
        try:
            result = services.anthology_import(path=path, progress=bar, preview_name=preview)
        except AnthologyDataError as exc:
            raise CommandError(str(exc).splitlines()[0]) from exc
        finally:
            if bar:
                bar.close()
        for line in result.summary_lines():
            self.stdout.write(line)


class _ProgressBar:
    """tqdm on stderr, one bar per stage, only on a terminal."""

    def __init__(self) -> None:
        self.stage: str | None = None
        self.bar: Any = None  # a tqdm bar (tqdm ships no types)

    def __call__(self, stage: str, done: int, total: int) -> None:
        from tqdm import tqdm

        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = tqdm(total=total, desc=stage, file=sys.stderr, leave=False)
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
