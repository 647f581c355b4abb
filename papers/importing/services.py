"""Imports: an Anthology checkout, data folder or archive into the catalog, in one transaction.

Reading is `reader`'s (the official library), writing `writer`'s; previews (`previews`) load the
data beside the current data instead. Every import is recorded as an `ImportRun`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from papers import services as catalog
from papers.importing import changes, decisions, previews, uploads, writer
from papers.importing.archives import data_checksum, open_data_dir
from papers.importing.errors import AnthologyDataError
from papers.importing.reader import ProgressCallback, read_snapshot
from papers.importing.rows import Snapshot
from papers.models import ImportRun, Preview


@dataclass
class ImportResult:
    run: ImportRun
    counts: dict[str, int] = field(default_factory=dict)
    unchanged: bool = False
    conflicts: list[str] = field(default_factory=list)
    # records (moves) that refer to entries the new data no longer has: kept as history
    orphaned: list[str] = field(default_factory=list)
    effect: dict | None = None  # for a preview: its effect on people

    def summary_lines(self) -> list[str]:
        if self.effect is not None:
            return [f"preview {self.run.preview_name}:", *previews.effect_lines(self.effect)]
        if self.unchanged:
            return ["No change: the data is identical to the last import."]
        c = self.counts
        lines = [
            f"papers: {c.get('papers_added', 0)} added, {c.get('papers_changed', 0)} changed, "
            f"{c.get('papers_removed', 0)} removed",
            f"persons: {c.get('persons_added', 0)} added, {c.get('persons_changed', 0)} changed, "
            f"{c.get('persons_removed', 0)} removed",
            f"authorships: {c.get('authorships_added', 0)} added, "
            f"{c.get('authorships_changed', 0)} changed, "
            f"{c.get('authorships_removed', 0)} removed, "
            f"{c.get('authorships_person_changed', 0)} now resolve to a different person",
        ]
        if self.conflicts:
            lines.append(
                f"{len(self.conflicts)} conflicts with approved decisions (kept as decided):"
            )
            lines.extend(f"  {line}" for line in self.conflicts)
        if self.orphaned:
            lines.append(
                f"{len(self.orphaned)} moves refer to entries this import removed (kept as "
                "history; open ones can no longer be applied):"
            )
            lines.extend(f"  {line}" for line in self.orphaned)
        return lines


# A running import holds a session-level advisory lock (this class, the run's id) on its own
# connection: a lease that PostgreSQL ends when the worker's connection dies, however it died.
RUN_LEASE_CLASS = 0x696D  # "im"


def _lease(run: ImportRun, *, take: bool) -> None:
    function = "pg_advisory_lock" if take else "pg_advisory_unlock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)", [RUN_LEASE_CLASS, run.pk])


def work_folder(run: ImportRun) -> Path:
    """Where the run unpacks an archive; removed when it ends, or by `runs_reap` after a crash."""
    return Path(settings.IMPORT_WORK_ROOT) / f"run-{run.pk}"


def runs_reap() -> list[int]:
    """Mark failed the runs whose worker died (its lease is free while the run says running)
    and remove their work folders. Called when a worker starts an import and by the import
    pages; returns the ids it marked."""
    reaped = []
    for run in ImportRun.objects.filter(status=ImportRun.Status.RUNNING):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [RUN_LEASE_CLASS, run.pk])
            if not cursor.fetchone()[0]:
                continue  # its worker is alive
            try:
                changed = ImportRun.objects.filter(
                    pk=run.pk, status=ImportRun.Status.RUNNING
                ).update(
                    status=ImportRun.Status.FAILED,
                    error="The worker stopped (killed or restarted) before this import finished; "
                    "nothing of it was written. Start it again.",
                    finished_at=timezone.now(),
                )
            finally:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [RUN_LEASE_CLASS, run.pk])
        if changed:
            reaped.append(run.pk)
    # Work folders of runs that are not running: left by a crash (or a reaped run).
    root = Path(settings.IMPORT_WORK_ROOT)
    if root.is_dir():
        running = set(
            ImportRun.objects.filter(status=ImportRun.Status.RUNNING).values_list("pk", flat=True)
        )
        for folder in root.glob("run-*"):
            run_id = folder.name.removeprefix("run-")
            if not (run_id.isdigit() and int(run_id) in running):
                shutil.rmtree(folder, ignore_errors=True)
    return reaped


def _one_line(message: str, replacements: dict[str, str]) -> str:
    """The error as one line (whitespace folded, never cut), naming what the user gave rather
    than the server's folders."""
    for server_path, shown in replacements.items():
        if server_path:
            message = message.replace(server_path, shown)
    return " ".join(message.split())


def anthology_import(
    *,
    path: str | Path,
    progress: ProgressCallback | None = None,
    run: ImportRun | None = None,
    preview_name: str = "",
    promoting: Preview | None = None,
) -> ImportResult:
    """Import an Anthology checkout, data folder or archive; change only what differs.

    With `preview_name`, the data is loaded beside the current data as a preview (see
    `papers.importing.previews`) and the current data is not touched. With `promoting`, the
    import is that preview's promotion (see `preview_promote`).

    The data, the checksum that later decides "no change", and the run's outcome are written
    in one transaction: on any error (or a killed worker) the database is exactly as it was,
    and the run is recorded as failed with a one-line error.
    """
    source = str(path)
    if run is None:
        run = ImportRun.objects.create(source=source, preview_name=preview_name)
    runs_reap()
    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.RUNNING)
    workdir = work_folder(run)
    shown = run.source_name or Path(source).name
    _lease(run, take=True)
    try:
        if preview_name:
            previews.preview_name_check(preview_name)
        with open_data_dir(path, workdir=workdir) as data_dir:
            checksums = data_checksum(data_dir)
            success = partial(
                _record_success,
                run,
                checksum=checksums[0],
                people_checksum=checksums[1].get("people.json", ""),
            )
            # "No change" is decided against the last import that committed, whose outcome
            # was written with its data.
            last = (
                ImportRun.objects.filter(status=ImportRun.Status.SUCCEEDED, preview_name="")
                .exclude(pk=run.pk)
                .order_by("-finished_at", "-pk")
                .first()
            )
            if not preview_name and last is not None and last.checksum == checksums[0]:
                result = ImportResult(run=run, unchanged=True)
                with transaction.atomic(), connection.cursor() as cursor:
                    if promoting is not None:
                        previews.preview_decide(cursor, promoting, Preview.Status.PROMOTED)
                    success(result)
            else:
                snap = read_snapshot(
                    data_dir, source=source, progress=progress, checksums=checksums
                )
                if preview_name:
                    result = _write_preview(run, snap, preview_name, progress, success)
                else:
                    result = _write_snapshot(run, snap, progress, promoting, success)
    except Exception as exc:
        message = (
            str(exc) if isinstance(exc, AnthologyDataError) else f"{type(exc).__name__}: {exc}"
        )
        ImportRun.objects.filter(pk=run.pk).update(
            status=ImportRun.Status.FAILED,
            error=_one_line(message, {str(workdir): shown, source: shown}) or type(exc).__name__,
            finished_at=timezone.now(),
        )
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        _lease(run, take=False)
    return result


def _record_success(
    run: ImportRun, result: ImportResult, *, checksum: str, people_checksum: str
) -> None:
    """The run's outcome, written inside the data's transaction."""
    run.status = ImportRun.Status.SUCCEEDED
    run.checksum = checksum
    run.people_checksum = people_checksum
    run.counts = result.counts
    run.summary = "\n".join(result.summary_lines())
    run.finished_at = timezone.now()
    run.progress = 100
    run.save(
        update_fields=[
            "status",
            "checksum",
            "people_checksum",
            "counts",
            "summary",
            "finished_at",
            "progress",
        ]
    )


def _write_snapshot(
    run: ImportRun,
    snap: Snapshot,
    progress: ProgressCallback | None,
    promoting: Preview | None,
    success: Callable[[ImportResult], None],
) -> ImportResult:
    with transaction.atomic(), connection.cursor() as cursor:
        # One catalog writer at a time, and the lock before any row: a second import, or an
        # approval, waits here instead of interleaving (or deadlocking).
        catalog.catalog_lock(exclusive=True)
        if promoting is not None:
            # in this transaction: the data and the decision commit together, and a discard
            # that came first fails the promotion with nothing changed
            previews.preview_decide(cursor, promoting, Preview.Status.PROMOTED)
        if progress:
            progress("write", 0, 1)
        conflicts: list[str]
        orphaned: list[str] = []
        if writer.catalog_is_empty(cursor):
            counts, conflicts = writer.load_empty(cursor, snap), []
        else:
            before = changes.catalog_before(cursor, snap)
            counts, conflicts, orphaned = writer.merge(cursor, snap, decisions.current())
            catalog.persons_refresh_stats()
            changed = changes.catalog_after(cursor, before, run)
            # The apps above redo what they derived from these pages once the data is committed.
            transaction.on_commit(lambda: decisions.catalog_changed(changed))
        catalog.catalog_changed()
        counts["conflicts"] = len(conflicts)
        result = ImportResult(run=run, counts=counts, conflicts=conflicts, orphaned=orphaned)
        success(result)
        if progress:
            progress("write", 1, 1)
    return result


def _write_preview(
    run: ImportRun,
    snap: Snapshot,
    name: str,
    progress: ProgressCallback | None,
    success: Callable[[ImportResult], None],
) -> ImportResult:
    with transaction.atomic():
        counts, conflicts, orphaned, effect = previews.preview_write(run, snap, name, progress)
        counts["conflicts"] = len(conflicts)
        result = ImportResult(
            run=run, counts=counts, conflicts=conflicts, orphaned=orphaned, effect=effect
        )
        success(result)
    return result


def preview_promote(
    *,
    preview: Preview,
    progress: ProgressCallback | None = None,
    run: ImportRun | None = None,
) -> ImportResult:
    """Make a preview the current data: an ordinary import of the same source, then drop it."""
    # Fresh from the database: it may have been decided since it was queued.
    preview.refresh_from_db(fields=["status"])
    if preview.status != Preview.Status.READY:
        raise AnthologyDataError(f"preview {preview.name} is already {preview.status}")
    result = anthology_import(path=preview.source, progress=progress, run=run, promoting=preview)
    preview.status = Preview.Status.PROMOTED
    uploads.upload_remove(path=preview.source)
    return result
