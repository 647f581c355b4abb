"""Recompute the clustering suggestion of every person page with 2+ entries."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from assignments import clustering
from assignments.suggestions import blocks as page_blocks
from assignments.suggestions import services


class Command(BaseCommand):
    help = (
        "Run the clustering service over every person page with 2+ entries and store the "
        "proposed split (Suggestion), honouring reviewers' applied moves as constraints."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
        parser.add_argument("--person", action="append", default=None, help="only these ids")
        parser.add_argument("--model", default=None, help="model artifact path")
        parser.add_argument("--dry-run", action="store_true", help="compute, store nothing")

    def handle(self, *args, jobs: int, person, model, dry_run: bool, **options) -> None:
        if jobs < 1:
            raise CommandError("--jobs must be at least 1")
        start = time.perf_counter()
        loaded_model = clustering.load_model(model or settings.CLUSTERING_MODEL_PATH)
        blocks = page_blocks.page_blocks(person_ids=person)
        sizes = {b.person_id: len(b.signatures) for b in blocks}
        loaded = time.perf_counter()
        out = services.blocks_split(blocks, model=loaded_model, jobs=jobs)
        computed = time.perf_counter()
        if not dry_run:
            services.suggestions_store(results=out.results, sizes=sizes, only=person)
        for person_id, error in out.failures:
            self.stderr.write(f"{person_id}: skipped ({error})")
        self.stdout.write(
            f"{len(out.results)} pages clustered ({out.mixed} split in 2+), "
            f"{len(out.failures)} skipped; "
            f"load {loaded - start:.1f} s, cluster {computed - loaded:.1f} s, "
            f"total {time.perf_counter() - start:.1f} s" + (" (dry run)" if dry_run else "")
        )
