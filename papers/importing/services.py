"""Imports: an Anthology checkout, data folder or archive into the catalog, in one transaction.

Reading is `reader`'s (the official library), writing `writer`'s; previews (`previews`) load the
data beside the current data instead. Every import is recorded as an `ImportRun`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

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
        return lines


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

    The database is changed in one transaction: on any error it is exactly as it was, and the
    run is recorded as failed with a one-line error.
    """
    source = str(path)
    if run is None:
        run = ImportRun.objects.create(source=source, preview_name=preview_name)
    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.RUNNING)
    try:
        if preview_name:
            previews.preview_name_check(preview_name)
        with open_data_dir(path) as data_dir:
            checksums = data_checksum(data_dir)
            checksum = checksums[0]
            last = (
                ImportRun.objects.filter(status=ImportRun.Status.SUCCEEDED, preview_name="")
                .exclude(pk=run.pk)
                .order_by("-started_at")
                .first()
            )
            if not preview_name and last is not None and last.checksum == checksum:
                if promoting is not None:
                    with transaction.atomic(), connection.cursor() as cursor:
                        previews.preview_decide(cursor, promoting, Preview.Status.PROMOTED)
                result = ImportResult(run=run, unchanged=True)
            else:
                snap = read_snapshot(
                    data_dir, source=source, progress=progress, checksums=checksums
                )
                if preview_name:
                    counts, conflicts, effect = previews.preview_write(
                        run, snap, preview_name, progress
                    )
                    counts["conflicts"] = len(conflicts)
                    result = ImportResult(
                        run=run, counts=counts, conflicts=conflicts, effect=effect
                    )
                else:
                    result = _write_snapshot(run, snap, progress, promoting)
    except Exception as exc:
        message = (
            str(exc) if isinstance(exc, AnthologyDataError) else f"{type(exc).__name__}: {exc}"
        )
        ImportRun.objects.filter(pk=run.pk).update(
            status=ImportRun.Status.FAILED,
            error=message.splitlines()[0] if message else type(exc).__name__,
            finished_at=timezone.now(),
        )
        raise
    run.status = ImportRun.Status.SUCCEEDED
    run.checksum = checksum
    run.people_checksum = checksums[1].get("people.json", "")
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
    return result


def _write_snapshot(
    run: ImportRun,
    snap: Snapshot,
    progress: ProgressCallback | None,
    promoting: Preview | None = None,
) -> ImportResult:
    with transaction.atomic(), connection.cursor() as cursor:
        # One import at a time: a second one waits here instead of interleaving.
        cursor.execute("LOCK TABLE papers_authorship IN SHARE ROW EXCLUSIVE MODE")
        if promoting is not None:
            # in this transaction: the data and the decision commit together, and a discard
            # that came first fails the promotion with nothing changed
            previews.preview_decide(cursor, promoting, Preview.Status.PROMOTED)
        if progress:
            progress("write", 0, 1)
        if writer.catalog_is_empty(cursor):
            counts, conflicts = writer.load_empty(cursor, snap), []
        else:
            before = changes.catalog_before(cursor, snap)
            counts, conflicts = writer.merge(cursor, snap, decisions.current())
            catalog.persons_refresh_stats()
            changed = changes.catalog_after(cursor, before, run)
            # The apps above redo what they derived from these pages once the data is committed.
            transaction.on_commit(lambda: decisions.catalog_changed(changed))
        if progress:
            progress("write", 1, 1)
    counts["conflicts"] = len(conflicts)
    return ImportResult(run=run, counts=counts, conflicts=conflicts)


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
