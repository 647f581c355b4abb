"""Writes of the papers app: importing Anthology data, and keeping person statistics current."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from papers.anthology import (
    AnthologyDataError,
    ProgressCallback,
    Snapshot,
    data_checksum,
    open_data_dir,
    read_snapshot,
)
from papers.models import ImportRun

__all__ = [
    "AnthologyDataError",
    "ImportResult",
    "anthology_import",
    "persons_refresh_stats",
]

# Column order of the rows papers.anthology.Snapshot holds, per table.
COLUMNS: dict[str, tuple[str, ...]] = {
    "papers_collection": ("id", "checksum"),
    "papers_volume": ("id", "collection_id", "title", "year", "venue_ids", "url"),
    "papers_paper": (
        "id",
        "volume_id",
        "title",
        "abstract",
        "year",
        "venue_ids",
        "booktitle",
        "pdf_url",
        "is_frontmatter",
    ),
    "papers_person": (
        "id",
        "first_name",
        "last_name",
        "orcid",
        "comment",
        "degree",
        "similar",
        "disable_name_matching",
        "is_verified",
    ),
    "papers_personname": (
        "person_id",
        "first",
        "last",
        "script",
        "is_explicit",
        "is_canonical",
        "normalized",
    ),
    "papers_authorship": (
        "item_id",
        "volume_id",
        "paper_id",
        "role",
        "position",
        "first",
        "last",
        "affiliation",
        "explicit_id",
        "explicit_orcid",
        "person_id",
    ),
}
SNAPSHOT_FIELD = {
    "papers_collection": "collections",
    "papers_volume": "volumes",
    "papers_paper": "papers",
    "papers_person": "persons",
    "papers_personname": "names",
    "papers_authorship": "authorships",
}
# How a table's rows are matched between the database and a new snapshot.
KEYS = {
    "papers_collection": ("id",),
    "papers_volume": ("id",),
    "papers_paper": ("id",),
    "papers_person": ("id",),
    "papers_personname": ("person_id", "first", "last", "script"),
    "papers_authorship": ("item_id", "role", "position"),
}


@dataclass
class ImportResult:
    run: ImportRun
    counts: dict[str, int] = field(default_factory=dict)
    unchanged: bool = False
    conflicts: list[str] = field(default_factory=list)

    def summary_lines(self) -> list[str]:
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


def _copy_rows(cursor, table: str, rows: Iterable[tuple], columns: tuple[str, ...]) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(map(_q, columns))}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _table_is_empty(cursor, table: str) -> bool:
    cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {table})")
    return cursor.fetchone()[0]


def _load_empty(cursor, snap: Snapshot) -> dict[str, int]:
    """First import: COPY straight into the tables.

    Secondary indexes and foreign keys are dropped first and recreated after the load, in the
    same transaction: building an index once and validating a foreign key with one join is
    several times faster than maintaining them row by row (and checking deferred FK triggers
    per row at commit).
    """
    tables = list(COLUMNS)
    cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
    cursor.execute(
        """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
        FROM pg_constraint
        WHERE contype IN ('f', 'u') AND conrelid::regclass::text = ANY(%s)
        """,
        [tables],
    )
    constraints = cursor.fetchall()
    for table, name, _ in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisprimary
        """,
        [tables],
    )
    indexes = cursor.fetchall()
    for name, _ in indexes:
        cursor.execute(f"DROP INDEX {name}")
    for table, columns in COLUMNS.items():
        _copy_rows(cursor, table, getattr(snap, SNAPSHOT_FIELD[table]), columns)
    for _, definition in indexes:
        cursor.execute(definition)
    for table, name, definition in constraints:
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    return {
        "papers_added": len(snap.papers),
        "persons_added": len(snap.persons),
        "authorships_added": len(snap.authorships),
        "volumes_added": len(snap.volumes),
    }


def _stage(cursor, snap: Snapshot) -> None:
    for table, columns in COLUMNS.items():
        cols = ", ".join(map(_q, columns))
        cursor.execute(
            f"CREATE TEMP TABLE stage_{table} ON COMMIT DROP AS "
            f"SELECT {cols} FROM {table} WITH NO DATA"
        )
        _copy_rows(cursor, f"stage_{table}", getattr(snap, SNAPSHOT_FIELD[table]), columns)
        key = ", ".join(KEYS[table])
        cursor.execute(f"CREATE INDEX ON stage_{table} ({key})")
        cursor.execute(f"ANALYZE stage_{table}")


def _q(column: str) -> str:
    # Quoted: "similar" is an SQL keyword.
    return f'"{column}"'


def _upsert(cursor, table: str, *, exclude_sql: str = "") -> tuple[int, int]:
    """Insert rows that are new and update rows that differ. Returns (added, changed)."""
    columns = COLUMNS[table]
    keys = KEYS[table]
    on_key = " AND ".join(f"t.{_q(k)} = s.{_q(k)}" for k in keys)
    values = [c for c in columns if c not in keys]
    cursor.execute(
        f"""
        UPDATE {table} t SET {", ".join(f"{_q(c)} = s.{_q(c)}" for c in values)}
        FROM stage_{table} s
        WHERE {on_key}
          AND ({", ".join(f"t.{_q(c)}" for c in values)})
              IS DISTINCT FROM ({", ".join(f"s.{_q(c)}" for c in values)})
          {exclude_sql}
        """
    )
    changed = cursor.rowcount
    cursor.execute(
        f"""
        INSERT INTO {table} ({", ".join(map(_q, columns))})
        SELECT {", ".join(f"s.{_q(c)}" for c in columns)} FROM stage_{table} s
        WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {on_key})
        """
    )
    return cursor.rowcount, changed


def _delete_missing(cursor, table: str, extra_sql: str = "") -> int:
    on_key = " AND ".join(f"t.{_q(k)} = s.{_q(k)}" for k in KEYS[table])
    cursor.execute(
        f"""
        DELETE FROM {table} t
        WHERE NOT EXISTS (SELECT 1 FROM stage_{table} s WHERE {on_key}) {extra_sql}
        """
    )
    return cursor.rowcount


# Entries that an applied (not reverted) move assigned to their current person, where the new
# data resolves them elsewhere: the import keeps the reviewers' decision and reports it.
DECISION_CONFLICTS_SQL = """
    SELECT a.id, a.item_id, a.role, a.position, a.person_id, s.person_id
    FROM papers_authorship a
    JOIN stage_papers_authorship s
      ON s.item_id = a.item_id AND s.role = a.role AND s.position = a.position
    WHERE s.person_id <> a.person_id
      AND EXISTS (
        SELECT 1 FROM assignments_move m
        LEFT JOIN assignments_newperson np ON np.id = m.to_new_person_id
        WHERE m.authorship_id = a.id AND m.status = 'applied'
          AND COALESCE(m.to_person_id, np.person_id) = a.person_id
      )
    ORDER BY a.item_id, a.role, a.position
"""


def _merge(cursor, snap: Snapshot) -> tuple[dict[str, int], list[str]]:
    """Later imports: stage the snapshot, then change only the rows that differ."""
    _stage(cursor, snap)
    counts: dict[str, int] = {}

    cursor.execute(DECISION_CONFLICTS_SQL)
    conflict_rows = cursor.fetchall()
    conflicts = [
        f"{item} {role} {pos}: decided {current}, new data says {new}"
        for _, item, role, pos, current, new in conflict_rows
    ]
    conflict_ids = [row[0] for row in conflict_rows]

    for table, label in (
        ("papers_collection", "collections"),
        ("papers_volume", "volumes"),
        ("papers_paper", "papers"),
        ("papers_person", "persons"),
    ):
        counts[f"{label}_added"], counts[f"{label}_changed"] = _upsert(cursor, table)

    cursor.execute(
        """
        SELECT count(*) FROM papers_authorship a JOIN stage_papers_authorship s
          ON s.item_id = a.item_id AND s.role = a.role AND s.position = a.position
        WHERE s.person_id <> a.person_id AND NOT (a.id = ANY(%s))
        """,
        [conflict_ids],
    )
    counts["authorships_person_changed"] = cursor.fetchone()[0]
    counts["authorships_added"], counts["authorships_changed"] = _upsert(
        cursor,
        "papers_authorship",
        exclude_sql=f"AND NOT (t.id = ANY(ARRAY[{','.join(map(str, conflict_ids)) or 'NULL'}]"
        "::bigint[]))",
    )
    counts["authorships_removed"] = _delete_missing(cursor, "papers_authorship")
    counts["papers_removed"] = _delete_missing(cursor, "papers_paper")
    counts["volumes_removed"] = _delete_missing(cursor, "papers_volume")
    counts["collections_removed"] = _delete_missing(cursor, "papers_collection")

    # Names: drop the ones no longer known, add new ones, refresh flags.
    _delete_missing(
        cursor,
        "papers_personname",
        # Names of persons that only the app knows (created by an applied change set) stay.
        "AND EXISTS (SELECT 1 FROM stage_papers_person sp WHERE sp.id = t.person_id)",
    )
    _upsert(cursor, "papers_personname")
    # Persons the new data no longer has go, unless an entry here still resolves to them or a
    # change set names them as its target.
    cursor.execute(
        """
        CREATE TEMP TABLE gone_persons ON COMMIT DROP AS
        SELECT t.id FROM papers_person t
        WHERE NOT EXISTS (SELECT 1 FROM stage_papers_person s WHERE s.id = t.id)
          AND NOT EXISTS (SELECT 1 FROM papers_authorship a WHERE a.person_id = t.id)
          AND NOT EXISTS (SELECT 1 FROM assignments_move m WHERE m.to_person_id = t.id)
        """
    )
    for table in ("papers_personname", "assignments_suggestion"):
        cursor.execute(f"DELETE FROM {table} WHERE person_id IN (SELECT id FROM gone_persons)")
    cursor.execute("DELETE FROM papers_person WHERE id IN (SELECT id FROM gone_persons)")
    counts["persons_removed"] = cursor.rowcount
    return counts, conflicts


def persons_refresh_stats(*, person_ids: Iterable[str] | None = None) -> None:
    """Recompute item_count and first/last year from authorships (all persons when None)."""
    ids = None if person_ids is None else list(set(person_ids))
    if ids is not None and not ids:
        return
    where = "" if ids is None else "WHERE p.id = ANY(%(ids)s)"
    inner_where = "" if ids is None else "WHERE a.person_id = ANY(%(ids)s)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE papers_person p
            SET item_count = COALESCE(s.items, 0), first_year = s.first, last_year = s.last
            FROM papers_person p2
            LEFT JOIN (
                SELECT a.person_id, count(DISTINCT a.item_id) AS items,
                       min(v.year) AS first, max(v.year) AS last
                FROM papers_authorship a JOIN papers_volume v ON v.id = a.volume_id
                {inner_where}
                GROUP BY a.person_id
            ) s ON s.person_id = p2.id
            WHERE p.id = p2.id {where.replace("WHERE", "AND")}
              AND (p.item_count, p.first_year, p.last_year)
                  IS DISTINCT FROM (COALESCE(s.items, 0), s.first, s.last)
            """,
            {"ids": ids},
        )


def anthology_import(
    *,
    path: str | Path,
    user: AbstractBaseUser | None = None,
    progress: ProgressCallback | None = None,
    run: ImportRun | None = None,
) -> ImportResult:
    """Import an Anthology checkout, data folder or archive; change only what differs.

    The database is changed in one transaction: on any error it is exactly as it was, and the
    run is recorded as failed with a one-line error.
    """
    source = str(path)
    if run is None:
        run = ImportRun.objects.create(source=source, started_by=user)
    try:
        with open_data_dir(path) as data_dir:
            checksums = data_checksum(data_dir)
            checksum = checksums[0]
            last = (
                ImportRun.objects.filter(status=ImportRun.Status.SUCCEEDED)
                .exclude(pk=run.pk)
                .order_by("-started_at")
                .first()
            )
            if last is not None and last.checksum == checksum:
                result = ImportResult(run=run, unchanged=True)
            else:
                snap = read_snapshot(
                    data_dir, source=source, progress=progress, checksums=checksums
                )
                result = _write_snapshot(run, snap, progress)
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
    run.counts = result.counts
    run.summary = "\n".join(result.summary_lines())
    run.finished_at = timezone.now()
    run.progress = 100
    run.save(update_fields=["status", "checksum", "counts", "summary", "finished_at", "progress"])
    return result


def _write_snapshot(run: ImportRun, snap: Snapshot, progress: ProgressCallback | None):
    with transaction.atomic(), connection.cursor() as cursor:
        # One import at a time: a second one waits here instead of interleaving.
        cursor.execute("LOCK TABLE papers_authorship IN SHARE ROW EXCLUSIVE MODE")
        if progress:
            progress("write", 0, 1)
        if _table_is_empty(cursor, "papers_authorship") and _table_is_empty(
            cursor, "papers_person"
        ):
            counts, conflicts = _load_empty(cursor, snap), []
        else:
            counts, conflicts = _merge(cursor, snap)
        persons_refresh_stats()
        if progress:
            progress("write", 1, 1)
    counts["conflicts"] = len(conflicts)
    return ImportResult(run=run, counts=counts, conflicts=conflicts)
