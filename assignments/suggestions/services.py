"""Writes of stored suggestions: the clustering service run over person pages, results kept.

Pages stream through in batches: read (`blocks.page_block_batches`), split (in this process, in
forked processes or on a Dask cluster: `runners`), stored as the results come back
(`suggestions_store`, per batch), and once every page is done the pages that no longer qualify
lose their suggestion (`suggestions_prune`). Memory on this side is bounded by the pages in
flight, whatever the size of the catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import distributed
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef

from assignments import clustering
from assignments.models import Suggestion
from assignments.suggestions import blocks, runners
from assignments.suggestions.split import entries_fingerprint, suggestion_cluster
from assignments.suggestions.work import PageBlock

BATCH_PAGES = 2000  # pages read from the database, and written back, at a time
MIN_ITEMS = 2  # a page with one item has nothing to split
LOCAL_MIN_PAGES = 50  # fewer pages than this are split in this process: forking costs more


@dataclass
class RefreshResult:
    clustered: int = 0  # pages split and stored
    mixed: int = 0  # of which split in 2+ groups
    failures: list[tuple[str, str]] = field(default_factory=list)  # (person id, why)


def suggestions_refresh(
    *,
    model: clustering.ClusteringModel,
    person_ids: Iterable[str] | None = None,
    jobs: int = 1,
    client: distributed.Client | None = None,
    batch_size: int = BATCH_PAGES,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> RefreshResult:
    """Split every page with 2+ items (or only `person_ids`) and store each split: on the Dask
    cluster of `client` when given, else in `jobs` local processes. A page that fails keeps its
    last suggestion; `progress(done, total)` is called as pages come back."""
    only = sorted(set(person_ids)) if person_ids is not None else None
    total = blocks.pages_count(min_items=MIN_ITEMS, person_ids=only)
    # The entry count of each page sent and not yet back (its Suggestion.item_count).
    sizes: dict[str, int] = {}

    def batches() -> Iterator[list[PageBlock]]:
        for batch in blocks.page_block_batches(
            min_items=MIN_ITEMS, person_ids=only, batch_size=batch_size
        ):
            sizes.update((b.person_id, len(b.signatures)) for b in batch)
            yield batch

    # Two batches in flight: the workers keep busy while the next batch is read.
    in_flight = 2 * batch_size
    if client is not None:
        outputs = runners.split_on_cluster(
            batches(), model=model, client=client, max_pages_in_flight=in_flight
        )
    elif jobs == 1 or total < LOCAL_MIN_PAGES:
        outputs = runners.split_here(batches(), model=model)
    else:
        outputs = runners.split_locally(
            batches(), model=model, jobs=jobs, max_pages_in_flight=in_flight
        )

    out = RefreshResult()
    results: dict[str, dict] = {}
    for person_id, result, error in outputs:
        if result is None:
            out.failures.append((person_id, error))
            sizes.pop(person_id)
        else:
            out.clustered += 1
            out.mixed += len(result["clusters"]) > 1
            results[person_id] = result
        if len(results) >= batch_size:
            _store(results, sizes, dry_run=dry_run)
        if progress is not None:
            progress(out.clustered + len(out.failures), total)
    _store(results, sizes, dry_run=dry_run)
    if not dry_run:
        suggestions_prune(person_ids=only)
    return out


def _store(results: dict[str, dict], sizes: dict[str, int], *, dry_run: bool) -> None:
    """Store and forget the results collected so far."""
    done = {person_id: sizes.pop(person_id) for person_id in results}
    if not dry_run and results:
        suggestions_store(results=results, sizes=done)
    results.clear()


def suggestions_store(*, results: dict[str, dict], sizes: dict[str, int]) -> None:
    """Store (insert or replace) the split of each page in `results`: person id ->
    `BlockResult.to_dict()`, with `sizes`: person id -> the page's entry count."""
    rows = [
        Suggestion(
            person_id=person_id,
            estimated_people=r["estimated_people"],
            mixed_score=r["mixed_score"],
            clusters=[
                suggestion_cluster(
                    signature_ids=c["signatures"],
                    confidence=c["confidence"],
                    evidence=c["evidence"],
                )
                for c in r["clusters"]
            ],
            separations=r["separations"],
            item_count=sizes[person_id],
            fingerprint=entries_fingerprint(s for c in r["clusters"] for s in c["signatures"]),
        )
        for person_id, r in results.items()
    ]
    with transaction.atomic():
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
                "fingerprint",
                "computed_at",
            ],
        )


def suggestions_prune(*, person_ids: Iterable[str] | None = None) -> int:
    """Pages that no longer qualify (fewer than 2 items, or gone) lose their suggestion (all
    pages, or only `person_ids`); a page that failed this time keeps its last one. Asked of the
    catalog as it is now, in one statement: no list of every page is held here."""
    stale = Suggestion.objects.filter(
        ~Exists(blocks.qualifying(min_items=MIN_ITEMS).filter(person_id=OuterRef("person_id")))
    )
    if person_ids is not None:
        stale = stale.filter(person_id__in=list(person_ids))
    deleted, _ = stale.delete()
    return deleted


def suggestions_refresh_pages(
    *, person_ids: Iterable[str], model: clustering.ClusteringModel | None = None
) -> RefreshResult:
    """Split these pages again and store the result (what follows an apply, a revert or an
    import): pages left with fewer than 2 items, or gone, lose their suggestion."""
    return suggestions_refresh(
        model=model or clustering.load_model(settings.CLUSTERING_MODEL_PATH),
        person_ids=person_ids,
    )
