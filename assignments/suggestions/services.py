"""Writes of stored suggestions: the clustering service run over person pages, results kept."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connections, transaction

from assignments import clustering
from assignments.models import Suggestion
from assignments.suggestions.blocks import PageBlock, page_blocks
from assignments.suggestions.split import entries_fingerprint, suggestion_cluster

_MODEL = None  # set in the parent before forking, shared copy-on-write by the workers


def _split(block: PageBlock) -> tuple[str, dict | None, str]:
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


@dataclass
class RefreshResult:
    results: dict[str, dict] = field(default_factory=dict)  # person id -> BlockResult.to_dict()
    failures: list[tuple[str, str]] = field(default_factory=list)  # (person id, why)

    @property
    def mixed(self) -> int:
        return sum(1 for r in self.results.values() if len(r["clusters"]) > 1)


def blocks_split(
    blocks: list[PageBlock], *, model: clustering.ClusteringModel, jobs: int = 1
) -> RefreshResult:
    """Split every block, in `jobs` forked processes for many blocks."""
    global _MODEL
    _MODEL = model
    # Largest pages first so that one long block does not finish last on its own.
    blocks = sorted(blocks, key=lambda b: -len(b.signatures))
    out = RefreshResult()
    outputs: Iterable[tuple[str, dict | None, str]]
    if jobs == 1 or len(blocks) < 50:
        outputs = map(_split, blocks)
        _collect(outputs, out)
    else:
        connections.close_all()  # never share a database socket with forked workers
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            _collect(pool.map(_split, blocks, chunksize=64), out)
    return out


def _collect(outputs: Iterable, out: RefreshResult) -> None:
    for person_id, result, error in outputs:
        if result is None:
            out.failures.append((person_id, error))
        else:
            out.results[person_id] = result


def suggestions_store(
    *, results: dict[str, dict], sizes: dict[str, int], only: list[str] | None = None
) -> None:
    """Store the split of each page; pages that no longer qualify (fewer than 2 entries, or
    gone) lose their suggestion; a page that failed this time keeps its last one."""
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
                "fingerprint",
                "computed_at",
            ],
        )


def suggestions_refresh_pages(
    *, person_ids: Iterable[str], model: clustering.ClusteringModel | None = None
) -> RefreshResult:
    """Split these pages again and store the result (what follows an apply, a revert or an
    import): pages left with fewer than 2 entries, or gone, lose their suggestion."""
    ids = sorted(set(person_ids))
    blocks = page_blocks(person_ids=ids)
    out = blocks_split(blocks, model=model or clustering.load_model(settings.CLUSTERING_MODEL_PATH))
    sizes = {b.person_id: len(b.signatures) for b in blocks}
    suggestions_store(results=out.results, sizes=sizes, only=ids)
    return out
