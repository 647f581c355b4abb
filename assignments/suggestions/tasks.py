"""Background recomputation of stored suggestions (django.tasks, the worker imports use).

What changes a page's entries (an applied or reverted change set, an import) queues the pages it
touched here, once its transaction has committed; the worker splits them again within seconds.
Until then a page whose entries changed says that its stored suggestion is out of date
(`split.stored_split`).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable

from django.db import transaction
from django.tasks import task

logger = logging.getLogger(__name__)

# Pages per task: an import that re-resolves every entry queues the whole catalog, and one task
# per few thousand pages keeps each task's arguments and run time small.
CHUNK = 2000


@task
def suggestions_refresh(*, person_ids: list[str]) -> None:
    """Recompute and store the suggestions of these pages."""
    # Looked up when run (as split.computed_split does): the services import scikit-learn,
    # which takes seconds, and every process that merely queues this task would pay for it.
    services = importlib.import_module("assignments.suggestions.services")
    try:
        out = services.suggestions_refresh_pages(person_ids=person_ids)
    except FileNotFoundError as exc:
        logger.warning("suggestions not refreshed: no clustering model (%s)", exc)
        return
    for person_id, error in out.failures:
        logger.warning("suggestion of %s not refreshed: %s", person_id, error)


def suggestions_refresh_enqueue(*, person_ids: Iterable[str]) -> None:
    """Queue the recomputation of these pages once the current transaction commits (at once
    outside one)."""
    ids = sorted({pid for pid in person_ids if pid})
    if not ids:
        return

    def enqueue() -> None:
        for start in range(0, len(ids), CHUNK):
            suggestions_refresh.enqueue(person_ids=ids[start : start + CHUNK])

    transaction.on_commit(enqueue)


def catalog_changed(person_ids: frozenset[str]) -> None:
    """The import's report (papers.importing.decisions.on_catalog_changed): these persons'
    entries changed."""
    suggestions_refresh_enqueue(person_ids=person_ids)
