"""Recompute the clustering suggestion of every person page with 2+ entries."""

import sys
import time
from contextlib import nullcontext
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from assignments import clustering
from assignments.suggestions import runners, services


class Command(BaseCommand):
    help = (
        "Run the clustering service over every person page with 2+ entries and store the "
        "proposed split (Suggestion), honouring reviewers' applied moves as constraints. Pages "
        "are read, split and stored in batches: locally in --jobs processes, or on the workers "
        "of a Dask cluster with --scheduler."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--jobs", type=int, default=2, help="local worker processes (default 2)"
        )
        parser.add_argument(
            "--scheduler",
            metavar="ADDRESS",
            default=None,
            help="a Dask scheduler (e.g. tcp://10.0.0.5:8786): split the pages on its workers "
            "instead of local processes (--jobs is then not used)",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=services.BATCH_PAGES,
            help=f"pages read, and stored, at a time (default {services.BATCH_PAGES}; and at "
            f"most {services.BATCH_ITEMS:,} items)",
        )
        parser.add_argument("--person", action="append", default=None, help="only these ids")
        parser.add_argument("--model", default=None, help="model artifact path")
        parser.add_argument("--dry-run", action="store_true", help="compute, store nothing")

    def handle(
        self,
        *args,
        jobs: int,
        scheduler: str | None,
        batch_size: int,
        person: list[str] | None,
        model: str | None,
        dry_run: bool,
        **options,
    ) -> None:
        if jobs < 1:
            raise CommandError("--jobs must be at least 1")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        start = time.perf_counter()
        loaded_model = clustering.load_model(model or settings.CLUSTERING_MODEL_PATH)
        bar = _ProgressBar() if sys.stderr.isatty() else None
        try:
            # jobs is ignored when a client is given: the cluster's workers do the splitting
            cluster = runners.cluster_client(scheduler) if scheduler else nullcontext()
            with cluster as client:
                out = services.suggestions_refresh(
                    model=loaded_model,
                    person_ids=person,
                    jobs=jobs,
                    client=client,
                    batch_size=batch_size,
                    dry_run=dry_run,
                    progress=bar,
                )
            where = (
                f"on the Dask cluster at {scheduler}"
                if scheduler
                else f"locally, {jobs} process{'es' if jobs > 1 else ''}"
            )
        except runners.ClusterUnreachable as e:
            raise CommandError(str(e)) from e
        finally:
            if bar is not None:
                bar.close()
        for person_id, error in out.failures:
            self.stderr.write(f"{person_id}: skipped ({error})")
        self.stdout.write(
            f"{out.clustered} pages clustered ({out.mixed} split in 2+), "
            f"{len(out.failures)} skipped, {where}; "
            f"total {time.perf_counter() - start:.1f} s" + (" (dry run)" if dry_run else "")
        )


class _ProgressBar:
    """tqdm on stderr (only on a terminal), made at the first page back: by then the local
    processes have forked, and tqdm's monitor thread is not there to be copied into them."""

    def __init__(self) -> None:
        self.bar: Any = None  # a tqdm bar (tqdm ships no types)

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = tqdm(total=total, desc="pages", unit="page", file=sys.stderr)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
