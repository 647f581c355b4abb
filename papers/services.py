"""Writes of the papers app: importing Anthology data, and keeping person statistics current."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from papers.anthology import (
    ARCHIVE_SUFFIXES,
    AnthologyDataError,
    ProgressCallback,
    Snapshot,
    data_checksum,
    open_data_dir,
    read_snapshot,
)
from papers.models import ImportRun, Preview, preview_schema

__all__ = [
    "AnthologyDataError",
    "ImportResult",
    "anthology_import",
    "persons_refresh_stats",
    "effect_lines",
    "import_enqueue",
    "preview_promote_enqueue",
    "preview_discard",
    "preview_promote",
    "upload_remove",
    "upload_store",
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
    effect: dict | None = None  # for a preview: its effect on people

    def summary_lines(self) -> list[str]:
        if self.effect is not None:
            return [f"preview {self.run.preview_name}:", *effect_lines(self.effect)]
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
        if table == "papers_person":
            # With their statistics, which persons_refresh_stats would otherwise compute after.
            stats = _person_stats(snap)
            rows = (row + stats.get(row[0], (0, None, None)) for row in snap.persons)
            _copy_rows(cursor, table, rows, (*columns, *STATS_COLUMNS))
        else:
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


STATS_COLUMNS = ("item_count", "first_year", "last_year")


def _person_stats(snap: Snapshot) -> dict[str, tuple[int, int | None, int | None]]:
    """What persons_refresh_stats computes (distinct items, first and last volume year)."""
    volume_year = {row[0]: row[3] for row in snap.volumes}
    items: dict[str, set[str]] = {}
    years: dict[str, list[int]] = {}
    for row in snap.authorships:
        person_id = row[10]
        items.setdefault(person_id, set()).add(row[0])
        year = volume_year.get(row[1])
        if year is not None:
            span = years.setdefault(person_id, [year, year])
            span[0], span[1] = min(span[0], year), max(span[1], year)
    return {
        pid: (len(item_ids), *(years.get(pid) or (None, None))) for pid, item_ids in items.items()
    }


def _stage(cursor, rows: dict[str, list[tuple]]) -> None:
    for table, columns in COLUMNS.items():
        cols = ", ".join(map(_q, columns))
        # ON COMMIT DROP is not enough when one transaction imports twice (promote, tests).
        cursor.execute(f"DROP TABLE IF EXISTS stage_{table}")
        cursor.execute(
            f"CREATE TEMP TABLE stage_{table} ON COMMIT DROP AS "
            f"SELECT {cols} FROM {table} WITH NO DATA"
        )
        _copy_rows(cursor, f"stage_{table}", rows[table], columns)
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


def _scoped_rows(cursor, snap: Snapshot) -> tuple[dict[str, list[tuple]], bool]:
    """The snapshot rows a merge must look at, and whether that is every author entry.

    A collection's volumes and papers depend on its XML file alone, so only collections whose
    file changed (or that are new or gone) are staged. An entry's person depends on its XML
    file and on people.json (after load, the library resolves an entry from its explicit id and
    its name, against the persons people.json defines), so entries are staged per changed
    collection too, unless people.json changed. Persons and their names are always staged
    whole: an unverified person's names gather entries from every collection.
    """
    cursor.execute("SELECT id, checksum FROM papers_collection")
    current = dict(cursor.fetchall())
    new = dict(snap.collections)
    scope = {c for c, checksum in new.items() if current.get(c) != checksum}
    scope |= current.keys() - new.keys()
    cursor.execute("DROP TABLE IF EXISTS scope_collections")
    cursor.execute("CREATE TEMP TABLE scope_collections (id text PRIMARY KEY) ON COMMIT DROP")
    _copy_rows(cursor, "scope_collections", ((c,) for c in sorted(scope)), ("id",))

    last = (
        ImportRun.objects.filter(status=ImportRun.Status.SUCCEEDED, preview_name="")
        .exclude(people_checksum="")
        .order_by("-started_at")
        .values_list("people_checksum", flat=True)
        .first()
    )
    full_authorships = last != snap.people_checksum
    collection_of = {row[0]: row[1] for row in snap.volumes}
    rows = {table: getattr(snap, SNAPSHOT_FIELD[table]) for table in COLUMNS}
    rows["papers_volume"] = [r for r in snap.volumes if r[1] in scope]
    rows["papers_paper"] = [r for r in snap.papers if collection_of[r[1]] in scope]
    if not full_authorships:
        rows["papers_authorship"] = [r for r in snap.authorships if collection_of[r[1]] in scope]
    return rows, full_authorships


def _merge(cursor, snap: Snapshot, *, preview: bool = False) -> tuple[dict[str, int], list[str]]:
    """Later imports: stage the snapshot, then change only the rows that differ.

    Table names are unqualified: a preview runs this with its own schema first on the search
    path. Tables of other apps (moves, suggestions) are only read then, never written.
    """
    rows, full_authorships = _scoped_rows(cursor, snap)
    _stage(cursor, rows)
    counts: dict[str, int] = {}
    in_scope = (
        "AND t.volume_id IN (SELECT v.id FROM papers_volume v"
        " JOIN scope_collections c ON c.id = v.collection_id)"
    )

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
        exclude_sql=f"AND NOT (t.id = ANY('{{{','.join(map(str, conflict_ids))}}}'::bigint[]))",
    )
    counts["authorships_removed"] = _delete_missing(
        cursor, "papers_authorship", "" if full_authorships else in_scope
    )
    counts["papers_removed"] = _delete_missing(cursor, "papers_paper", in_scope)
    counts["volumes_removed"] = _delete_missing(
        cursor, "papers_volume", "AND t.collection_id IN (SELECT id FROM scope_collections)"
    )
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
    cursor.execute("DROP TABLE IF EXISTS gone_persons")
    cursor.execute(
        """
        CREATE TEMP TABLE gone_persons ON COMMIT DROP AS
        SELECT t.id FROM papers_person t
        WHERE NOT EXISTS (SELECT 1 FROM stage_papers_person s WHERE s.id = t.id)
          AND NOT EXISTS (SELECT 1 FROM papers_authorship a WHERE a.person_id = t.id)
          AND NOT EXISTS (SELECT 1 FROM assignments_move m WHERE m.to_person_id = t.id)
        """
    )
    tables = ["papers_personname"] if preview else ["papers_personname", "assignments_suggestion"]
    for table in tables:
        cursor.execute(f"DELETE FROM {table} WHERE person_id IN (SELECT id FROM gone_persons)")
    cursor.execute("DELETE FROM papers_person WHERE id IN (SELECT id FROM gone_persons)")
    counts["persons_removed"] = cursor.rowcount
    return counts, conflicts


def persons_refresh_stats(*, person_ids: Iterable[str] | None = None) -> None:
    """Recompute item_count and first/last year from authorships (all persons when None)."""
    ids = None if person_ids is None else list(set(person_ids))
    if ids is not None and not ids:
        return
    person_filter = "" if ids is None else "AND p.id = ANY(%(ids)s)"
    entry_filter = "" if ids is None else "WHERE a.person_id = ANY(%(ids)s)"
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
                {entry_filter}
                GROUP BY a.person_id
            ) s ON s.person_id = p2.id
            WHERE p.id = p2.id {person_filter}
              AND (p.item_count, p.first_year, p.last_year)
                  IS DISTINCT FROM (COALESCE(s.items, 0), s.first, s.last)
            """,
            {"ids": ids},
        )


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
    `preview_create`) and the current data is not touched. With `promoting`, the import is that
    preview's promotion (see `preview_promote`).

    The database is changed in one transaction: on any error it is exactly as it was, and the
    run is recorded as failed with a one-line error.
    """
    source = str(path)
    if run is None:
        run = ImportRun.objects.create(source=source, preview_name=preview_name)
    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.RUNNING)
    try:
        if preview_name:
            _preview_name_check(preview_name)
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
                        _preview_decide(cursor, promoting, Preview.Status.PROMOTED)
                result = ImportResult(run=run, unchanged=True)
            else:
                snap = read_snapshot(
                    data_dir, source=source, progress=progress, checksums=checksums
                )
                if preview_name:
                    result = _write_preview(run, snap, preview_name, progress)
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
):
    with transaction.atomic(), connection.cursor() as cursor:
        # One import at a time: a second one waits here instead of interleaving.
        cursor.execute("LOCK TABLE papers_authorship IN SHARE ROW EXCLUSIVE MODE")
        if promoting is not None:
            # in this transaction: the data and the decision commit together, and a discard
            # that came first fails the promotion with nothing changed
            _preview_decide(cursor, promoting, Preview.Status.PROMOTED)
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


# Previews ---------------------------------------------------------------------------------------

PREVIEW_TABLES = tuple(COLUMNS)
# Lists in a stored effect are cut here; the counts stay exact.
EFFECT_LIST_LIMIT = 2000


def _preview_name_check(name: str) -> None:
    from django.core.validators import validate_slug

    try:
        validate_slug(name)
    except Exception as exc:
        raise AnthologyDataError(
            f"preview name {name!r}: use letters, digits, - and _ only"
        ) from exc
    if len(name) > 40:
        raise AnthologyDataError(f"preview name {name!r}: at most 40 characters")
    if Preview.objects.filter(name=name).exists():
        raise AnthologyDataError(f"preview name {name!r} is taken; discard it or pick another")
    schema = preview_schema(name)
    # "A-b", "a-b" and "a_b" share one schema.
    for other in Preview.objects.values_list("name", flat=True):
        if preview_schema(other) == schema:
            raise AnthologyDataError(
                f"preview name {name!r} is too like preview {other!r} (the same once lower-cased,"
                " with - read as _); pick another"
            )


def _write_preview(
    run: ImportRun, snap: Snapshot, name: str, progress: ProgressCallback | None
) -> ImportResult:
    """Copy the current data into a schema of its own and merge the snapshot into the copy."""
    schema = preview_schema(name)
    with transaction.atomic(), connection.cursor() as cursor:
        # The lock _write_snapshot takes. Under READ COMMITTED each INSERT ... SELECT below sees
        # its own moment: an import or an applied change set committing between two of them
        # would leave the copies disagreeing. Both write papers_authorship, so while this lock
        # is held they wait, and the six copies see one moment.
        cursor.execute("LOCK TABLE papers_authorship IN SHARE ROW EXCLUSIVE MODE")
        if progress:
            progress("write", 0, 1)
        cursor.execute(f"CREATE SCHEMA {schema}")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        index_definitions = []
        for table in PREVIEW_TABLES:
            # Copy first, index after: building an index once is much faster than row by row.
            cursor.execute(
                f"CREATE TABLE {schema}.{table} "
                f"(LIKE public.{table} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS)"
            )
            cursor.execute(f"INSERT INTO {schema}.{table} SELECT * FROM public.{table}")
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = %s",
                [table],
            )
            index_definitions += [
                row[0].replace(f" ON public.{table} ", f" ON {schema}.{table} ")
                for row in cursor.fetchall()
            ]
            cursor.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
                "AND table_name = %s AND is_identity = 'YES'",
                [schema, table],
            )
            if cursor.fetchone():
                # New rows of the preview must not take ids the current data may use next.
                cursor.execute(f"SELECT COALESCE(max(id), 0) FROM public.{table}")
                start = cursor.fetchone()[0] + 1_000_000_000
                cursor.execute(f"ALTER TABLE {schema}.{table} ALTER COLUMN id RESTART WITH {start}")
        for definition in index_definitions:
            cursor.execute(definition)
        cursor.execute(f"SET LOCAL search_path TO {schema}, public")
        counts, conflicts = _merge(cursor, snap, preview=True)
        persons_refresh_stats()
        effect = _preview_effect(cursor, schema)
        effect["conflicts"] = conflicts
        cursor.execute("SET LOCAL search_path TO DEFAULT")
        Preview.objects.create(name=name, source=snap.source, import_run=run, effect=effect)
        if progress:
            progress("write", 1, 1)
    counts["conflicts"] = len(conflicts)
    return ImportResult(run=run, counts=counts, conflicts=conflicts, effect=effect)


def _rows(cursor, sql: str) -> list[dict]:
    cursor.execute(sql)
    names = [c.name for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _preview_effect(cursor, schema: str) -> dict:
    """What the preview changes for people, compared with the current data."""
    limit = EFFECT_LIST_LIMIT
    person_cols = "p.id, trim(p.first_name || ' ' || p.last_name) AS name, p.item_count"
    added = _rows(
        cursor,
        f"""SELECT {person_cols} FROM {schema}.papers_person p
        WHERE NOT EXISTS (SELECT 1 FROM public.papers_person c WHERE c.id = p.id)
        ORDER BY p.id""",
    )
    removed = _rows(
        cursor,
        f"""SELECT {person_cols} FROM public.papers_person p
        WHERE NOT EXISTS (SELECT 1 FROM {schema}.papers_person c WHERE c.id = p.id)
        ORDER BY p.id""",
    )
    renamed = _rows(
        cursor,
        f"""SELECT p.id, trim(c.first_name || ' ' || c.last_name) AS before,
                   trim(p.first_name || ' ' || p.last_name) AS after
        FROM {schema}.papers_person p JOIN public.papers_person c ON c.id = p.id
        WHERE (p.first_name, p.last_name) IS DISTINCT FROM (c.first_name, c.last_name)
        ORDER BY p.id""",
    )
    moved = _rows(
        cursor,
        f"""SELECT s.item_id, s.role, s.position, trim(s.first || ' ' || s.last) AS name,
                   c.person_id AS before, s.person_id AS after
        FROM {schema}.papers_authorship s JOIN public.papers_authorship c
          ON c.item_id = s.item_id AND c.role = s.role AND c.position = s.position
        WHERE c.person_id <> s.person_id
        ORDER BY s.item_id, s.role, s.position""",
    )
    added_ids = {row["id"] for row in added}
    gained: dict[str, list[dict]] = {}
    for entry in moved:
        # A page that existed before and now receives an entry from another person.
        if entry["after"] not in added_ids:
            gained.setdefault(entry["after"], []).append(entry)
    return {
        "counts": {
            "persons_added": len(added),
            "persons_removed": len(removed),
            "persons_renamed": len(renamed),
            "entries_changed": len(moved),
            "new_unverified": sum(1 for row in added if row["id"].endswith("/unverified")),
            "pages_gaining": len(gained),
        },
        "persons_added": added[:limit],
        "persons_removed": removed[:limit],
        "persons_renamed": renamed[:limit],
        "entries_changed": moved[:limit],
        "pages_gaining": [
            {"person": pid, "entries": entries} for pid, entries in sorted(gained.items())
        ][:limit],
    }


def effect_lines(effect: dict) -> list[str]:
    """The effect on people, one line per changed person and per entry that changes person."""
    lines = [f"person added: {p['id']} ({p['name']})" for p in effect.get("persons_added", [])]
    lines += [f"person removed: {p['id']} ({p['name']})" for p in effect.get("persons_removed", [])]
    lines += [
        f"person renamed: {p['id']}: {p['before']} -> {p['after']}"
        for p in effect.get("persons_renamed", [])
    ]
    lines += [
        f"entry {e['item_id']} {e['role']} {e['position']} ({e['name']}): "
        f"{e['before']} -> {e['after']}"
        for e in effect.get("entries_changed", [])
    ]
    lines += [f"conflict: {line}" for line in effect.get("conflicts", [])]
    counts = effect.get("counts", {})
    lines.append(
        f"{counts.get('persons_added', 0)} persons added, {counts.get('persons_removed', 0)} "
        f"removed, {counts.get('persons_renamed', 0)} renamed; "
        f"{counts.get('entries_changed', 0)} entries change person; "
        f"{counts.get('new_unverified', 0)} new unverified pages; "
        f"{counts.get('pages_gaining', 0)} pages gain papers from a namesake"
    )
    return lines


def preview_discard(*, preview: Preview) -> None:
    """Drop a preview's data (and its uploaded archive); the current data is untouched."""
    with transaction.atomic(), connection.cursor() as cursor:
        _preview_decide(cursor, preview, Preview.Status.DISCARDED)
    preview.status = Preview.Status.DISCARDED
    upload_remove(path=preview.source)


def _preview_decide(cursor, preview: Preview, status: str) -> None:
    """Drop a READY preview's schema and record `status`, in the caller's transaction. The row
    lock orders a discard and a promotion of one preview: the second finds it decided."""
    locked = Preview.objects.select_for_update().get(pk=preview.pk)
    if locked.status != Preview.Status.READY:
        raise AnthologyDataError(f"preview {preview.name} is already {locked.status}")
    cursor.execute(f"DROP SCHEMA IF EXISTS {preview.schema} CASCADE")
    locked.status = status
    locked.save(update_fields=["status"])


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
    upload_remove(path=preview.source)
    return result


def import_enqueue(
    *, source: str | Path, user: AbstractBaseUser, preview_name: str = ""
) -> ImportRun:
    """Record a queued import and hand it to the background worker once the record is saved."""
    from papers import tasks

    if preview_name:
        _preview_name_check(preview_name)
    with transaction.atomic():
        run = ImportRun.objects.create(
            source=str(source),
            started_by=user,
            preview_name=preview_name,
            status=ImportRun.Status.QUEUED,
        )
        transaction.on_commit(lambda: tasks.import_run.enqueue(run_id=run.pk))
    return run


def preview_promote_enqueue(*, preview: Preview, user: AbstractBaseUser) -> ImportRun:
    """Queue the promotion of a preview (an ordinary import of its source)."""
    from papers import tasks

    if preview.status != Preview.Status.READY:
        raise AnthologyDataError(f"preview {preview.name} is already {preview.status}")
    with transaction.atomic():
        run = ImportRun.objects.create(
            source=preview.source, started_by=user, status=ImportRun.Status.QUEUED
        )
        transaction.on_commit(
            lambda: tasks.preview_promote.enqueue(preview_id=preview.pk, run_id=run.pk)
        )
    return run


# Uploads ----------------------------------------------------------------------------------------


def upload_store(*, uploaded_file, max_bytes: int) -> Path:
    """Save an uploaded archive under MEDIA_ROOT/imports/ (size-limited); return its path."""
    import uuid

    from django.conf import settings

    name = Path(uploaded_file.name).name
    if not name.lower().endswith(ARCHIVE_SUFFIXES):
        raise AnthologyDataError(f"{name}: upload a .tar.gz, .tar.xz or .zip archive")
    if uploaded_file.size > max_bytes:
        raise AnthologyDataError(
            f"{name}: {uploaded_file.size} bytes is over the limit of {max_bytes} bytes"
        )
    folder = Path(settings.MEDIA_ROOT) / "imports" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    dest = folder / name
    with open(dest, "wb") as out:
        for chunk in uploaded_file.chunks():
            out.write(chunk)
    return dest


def upload_remove(*, path: str | Path) -> None:
    """Delete an uploaded archive once nothing needs it (never a file outside the uploads)."""
    import shutil

    from django.conf import settings

    uploads = (Path(settings.MEDIA_ROOT) / "imports").resolve()
    target = Path(path).resolve()
    if target.is_relative_to(uploads) and target.parent != uploads:
        shutil.rmtree(target.parent, ignore_errors=True)
