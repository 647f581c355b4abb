"""Recompute the clustering suggestion of every person page with 2+ entries."""

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

from django.core.management.base import BaseCommand, CommandError
from django.db import connections, transaction

from assignments import clustering, selectors, selectors_suggestions
from assignments.models import Suggestion

_MODEL = None  # set in the parent before forking, shared copy-on-write by the workers


def _split(block: selectors_suggestions.PageBlock) -> tuple[str, dict | None, str]:
    try:
        result = clustering.split_block(
            block.signatures,
            model=_MODEL,
            must_link=block.must_link,
            cannot_link=block.cannot_link,
        )
    except (ValueError, clustering.ConstraintError) as e:
        # Contradictory reviewer decisions: keep going, report the page.
        return block.person_id, None, str(e)
    return block.person_id, result.to_dict(), ""


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
        global _MODEL
        if jobs < 1:
            raise CommandError("--jobs must be at least 1")
        start = time.perf_counter()
        _MODEL = clustering.load_model(model)
        blocks = selectors_suggestions.page_blocks(person_ids=person)
        sizes = {b.person_id: len(b.signatures) for b in blocks}
        loaded = time.perf_counter()
        # Largest pages first so that one long block does not finish last on its own.
        blocks.sort(key=lambda b: -len(b.signatures))
        results: dict[str, dict] = {}
        failures: list[tuple[str, str]] = []
        if jobs == 1 or len(blocks) < 50:
            outputs = map(_split, blocks)
            self._collect(outputs, results, failures)
        else:
            connections.close_all()  # never share a database socket with forked workers
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
                self._collect(pool.map(_split, blocks, chunksize=64), results, failures)
        computed = time.perf_counter()
        if not dry_run:
            self._store(results, sizes, only=person)
        for person_id, error in failures:
            self.stderr.write(f"{person_id}: skipped ({error})")
        mixed = sum(1 for r in results.values() if len(r["clusters"]) > 1)
        self.stdout.write(
            f"{len(results)} pages clustered ({mixed} split in 2+), {len(failures)} skipped; "
            f"load {loaded - start:.1f} s, cluster {computed - loaded:.1f} s, "
            f"total {time.perf_counter() - start:.1f} s" + (" (dry run)" if dry_run else "")
        )

    def _collect(self, outputs, results: dict, failures: list) -> None:
        for person_id, result, error in outputs:
            if result is None:
                failures.append((person_id, error))
            else:
                results[person_id] = result

    def _store(
        self, results: dict[str, dict], sizes: dict[str, int], only: list[str] | None
    ) -> None:
        rows = [
            Suggestion(
                person_id=person_id,
                estimated_people=r["estimated_people"],
                mixed_score=r["mixed_score"],
                clusters=[
                    selectors.suggestion_cluster(
                        signature_ids=c["signatures"],
                        confidence=c["confidence"],
                        evidence=c["evidence"],
                    )
                    for c in r["clusters"]
                ],
                separations=r["separations"],
                item_count=sizes[person_id],
            )
            for person_id, r in results.items()
        ]
        with transaction.atomic():
            # Pages that no longer qualify (fewer than 2 entries, or gone) lose their suggestion;
            # a page skipped this time (contradictory decisions) keeps its last one.
            stale = Suggestion.objects.exclude(person_id__in=list(sizes))
            if only is not None:
                stale = stale.filter(person_id__in=only)
            stale.delete()
            Suggestion.objects.bulk_create(
                rows,
                batch_size=2000,
                update_conflicts=True,
                unique_fields=["person"],
                update_fields=[
                    "estimated_people",
                    "mixed_score",
                    "clusters",
                    "separations",
                    "item_count",
                    "computed_at",
                ],
            )
