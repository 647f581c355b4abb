"""Background tasks (django.tasks): imports and preview promotions started from the browser,
and the functions that queue them once their `ImportRun` record is committed."""

import logging
import time
from pathlib import Path

from django.contrib.auth.models import User
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from papers.importing import previews, services, uploads
from papers.importing.errors import AnthologyDataError
from papers.models import ImportRun, Preview

logger = logging.getLogger(__name__)

# Share of the progress bar each stage of an import fills.
STAGES = {"parse": (0, 55), "extract": (55, 80), "write": (80, 100)}


class RunProgress:
    """Progress callback that writes the percentage to the ImportRun, at most twice a second."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.last = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.5 and done < total:
            return
        self.last = now
        low, high = STAGES.get(stage, (0, 100))
        percent = low + (high - low) * done // max(total, 1)
        ImportRun.objects.filter(pk=self.run_id).update(progress=percent, stage=stage)


@task
def import_run(*, run_id: int) -> None:
    """Run a queued import (or preview import) recorded as ImportRun `run_id`."""
    run = ImportRun.objects.get(pk=run_id)
    try:
        services.anthology_import(
            path=run.source,
            run=run,
            preview_name=run.preview_name,
            progress=RunProgress(run_id),
        )
    except Exception as exc:
        _record_failure(run_id, exc)
    finally:
        if not run.preview_name or not Preview.objects.filter(import_run=run).exists():
            uploads.upload_remove(path=run.source)


@task
def preview_promote(*, preview_id: int, run_id: int) -> None:
    """Promote a preview to current data: an ordinary import of its source."""
    preview = Preview.objects.get(pk=preview_id)
    run = ImportRun.objects.get(pk=run_id)
    try:
        services.preview_promote(preview=preview, run=run, progress=RunProgress(run_id))
    except Exception as exc:
        _record_failure(run_id, exc)


def _record_failure(run_id: int, exc: Exception) -> None:
    """The import records its own failures; this catches what fails before it starts."""
    logger.warning("import run %s failed: %s", run_id, exc)
    ImportRun.objects.filter(pk=run_id).exclude(status=ImportRun.Status.FAILED).update(
        status=ImportRun.Status.FAILED,
        error=(str(exc).splitlines() or [type(exc).__name__])[0],
        finished_at=timezone.now(),
    )


def import_enqueue(
    *, source: str | Path, user: User, preview_name: str = "", source_name: str = ""
) -> ImportRun:
    """Record a queued import and hand it to the background worker once the record is saved."""
    if preview_name:
        previews.preview_name_check(preview_name)
    with transaction.atomic():
        run = ImportRun.objects.create(
            source=str(source),
            source_name=source_name or str(source),
            started_by=user,
            preview_name=preview_name,
            status=ImportRun.Status.QUEUED,
        )
        transaction.on_commit(lambda: import_run.enqueue(run_id=run.pk))
    return run


def preview_promote_enqueue(*, preview: Preview, user: User) -> ImportRun:
    """Queue the promotion of a preview (an ordinary import of its source)."""
    if preview.status != Preview.Status.READY:
        raise AnthologyDataError(f"preview {preview.name} is already {preview.status}")
    with transaction.atomic():
        run = ImportRun.objects.create(
            source=preview.source,
            source_name=preview.import_run.source_name,
            started_by=user,
            status=ImportRun.Status.QUEUED,
        )
        transaction.on_commit(lambda: preview_promote.enqueue(preview_id=preview.pk, run_id=run.pk))
    return run
