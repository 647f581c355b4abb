"""Write a snapshot into the catalog tables: COPY into empty tables, or merge what differs.

The functions here run inside the caller's transaction on the caller's cursor. Table names are
unqualified: a preview runs the merge with its own schema first on the search path. Only the
catalog's own tables are written; what reviewers decided comes in as a `Decisions` value
(`papers.importing.decisions`), never by reading the tables of the app above.
"""

from __future__ import annotations

from collections.abc import Iterable

from papers.importing.decisions import Decisions
from papers.importing.rows import TABLE, TABLES, Snapshot, Table
from papers.models import ImportRun


def _q(column: str) -> str:
    # Quoted: "similar" is an SQL keyword.
    return f'"{column}"'


def _copy_rows(cursor, table: str, rows: Iterable[tuple], columns: tuple[str, ...]) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(map(_q, columns))}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def table_is_empty(cursor, table: str) -> bool:
    cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {table})")
    return cursor.fetchone()[0]


def catalog_is_empty(cursor) -> bool:
    return table_is_empty(cursor, "papers_authorship") and table_is_empty(cursor, "papers_person")


def load_empty(cursor, snap: Snapshot) -> dict[str, int]:
    """First import: COPY straight into the tables.

    Secondary indexes and foreign keys are dropped first and recreated after the load, in the
    same transaction: building an index once and validating a foreign key with one join is
    several times faster than maintaining them row by row (and checking deferred FK triggers
    per row at commit).
    """
    tables = [t.name for t in TABLES]
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
    for table in TABLES:
        if table.name == "papers_person":
            # With their statistics, which persons_refresh_stats would otherwise compute after.
            stats = _person_stats(snap)
            rows = (row + stats.get(row.id, (0, None, None)) for row in snap.persons)
            _copy_rows(cursor, table.name, rows, (*table.columns, *STATS_COLUMNS))
        else:
            _copy_rows(cursor, table.name, table.rows(snap), table.columns)
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
    volume_year = {row.id: row.year for row in snap.volumes}
    items: dict[str, set[str]] = {}
    years: dict[str, list[int]] = {}
    for row in snap.authorships:
        items.setdefault(row.person_id, set()).add(row.item_id)
        year = volume_year.get(row.volume_id)
        if year is not None:
            span = years.setdefault(row.person_id, [year, year])
            span[0], span[1] = min(span[0], year), max(span[1], year)
    return {
        pid: (len(item_ids), *(years.get(pid) or (None, None))) for pid, item_ids in items.items()
    }


def _stage(cursor, rows: dict[str, list[tuple]]) -> None:
    for table in TABLES:
        cols = ", ".join(map(_q, table.columns))
        # ON COMMIT DROP is not enough when one transaction imports twice (promote, tests).
        cursor.execute(f"DROP TABLE IF EXISTS stage_{table.name}")
        cursor.execute(
            f"CREATE TEMP TABLE stage_{table.name} ON COMMIT DROP AS "
            f"SELECT {cols} FROM {table.name} WITH NO DATA"
        )
        _copy_rows(cursor, f"stage_{table.name}", rows[table.name], table.columns)
        cursor.execute(f"CREATE INDEX ON stage_{table.name} ({', '.join(table.key)})")
        cursor.execute(f"ANALYZE stage_{table.name}")


def _on_key(table: Table) -> str:
    return " AND ".join(f"t.{_q(k)} = s.{_q(k)}" for k in table.key)


def _upsert(cursor, table: Table, *, exclude_sql: str = "") -> tuple[int, int]:
    """Insert rows that are new and update rows that differ. Returns (added, changed)."""
    values = [c for c in table.columns if c not in table.key]
    cursor.execute(
        f"""
        UPDATE {table.name} t SET {", ".join(f"{_q(c)} = s.{_q(c)}" for c in values)}
        FROM stage_{table.name} s
        WHERE {_on_key(table)}
          AND ({", ".join(f"t.{_q(c)}" for c in values)})
              IS DISTINCT FROM ({", ".join(f"s.{_q(c)}" for c in values)})
          {exclude_sql}
        """
    )
    changed = cursor.rowcount
    cursor.execute(
        f"""
        INSERT INTO {table.name} ({", ".join(map(_q, table.columns))})
        SELECT {", ".join(f"s.{_q(c)}" for c in table.columns)} FROM stage_{table.name} s
        WHERE NOT EXISTS (SELECT 1 FROM {table.name} t WHERE {_on_key(table)})
        """
    )
    return cursor.rowcount, changed


def _delete_missing(cursor, table: Table, extra_sql: str = "") -> int:
    cursor.execute(
        f"""
        DELETE FROM {table.name} t
        WHERE NOT EXISTS (SELECT 1 FROM stage_{table.name} s WHERE {_on_key(table)}) {extra_sql}
        """
    )
    return cursor.rowcount


def _entries_vanishing(cursor, extra_sql: str) -> list[int]:
    """Ids of the author entries the merge is about to delete (the same condition)."""
    cursor.execute(
        f"""
        SELECT t.id FROM papers_authorship t
        WHERE NOT EXISTS (
            SELECT 1 FROM stage_papers_authorship s
            WHERE {_on_key(TABLE["papers_authorship"])}
        ) {extra_sql}
        ORDER BY t.id
        """
    )
    return [row[0] for row in cursor.fetchall()]


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
    new = {row.id: row.checksum for row in snap.collections}
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
    collection_of = {row.id: row.collection_id for row in snap.volumes}
    rows: dict[str, list[tuple]] = {t.name: t.rows(snap) for t in TABLES}
    rows["papers_volume"] = [r for r in snap.volumes if r.collection_id in scope]
    rows["papers_paper"] = [r for r in snap.papers if collection_of[r.volume_id] in scope]
    if not full_authorships:
        rows["papers_authorship"] = [
            r for r in snap.authorships if collection_of[r.volume_id] in scope
        ]
    return rows, full_authorships


def merge(
    cursor, snap: Snapshot, decisions: Decisions
) -> tuple[dict[str, int], list[str], list[str]]:
    """Later imports: stage the snapshot, then change only the rows that differ.

    An entry that an applied decision gave to its current person keeps it when the new data
    resolves it elsewhere (listed as a conflict); a person that a change set names is kept.
    Returns the counts, the conflicts, and the records (moves) whose entries the new data no
    longer has: the entries go, the records stay as history (their link is set null by the
    database).
    """
    rows, full_authorships = _scoped_rows(cursor, snap)
    _stage(cursor, rows)
    counts: dict[str, int] = {}
    in_scope = (
        "AND t.volume_id IN (SELECT v.id FROM papers_volume v"
        " JOIN scope_collections c ON c.id = v.collection_id)"
    )
    cursor.execute("DROP TABLE IF EXISTS decided_entries")
    cursor.execute(
        "CREATE TEMP TABLE decided_entries (authorship_id bigint PRIMARY KEY, person_id text)"
        " ON COMMIT DROP"
    )
    _copy_rows(
        cursor,
        "decided_entries",
        sorted(decisions.decided_entries.items()),
        ("authorship_id", "person_id"),
    )
    cursor.execute(
        """
        SELECT a.id, a.item_id, a.role, a.position, a.person_id, s.person_id
        FROM papers_authorship a
        JOIN decided_entries d ON d.authorship_id = a.id AND d.person_id = a.person_id
        JOIN stage_papers_authorship s
          ON s.item_id = a.item_id AND s.role = a.role AND s.position = a.position
        WHERE s.person_id <> a.person_id
        ORDER BY a.item_id, a.role, a.position
        """
    )
    conflict_rows = cursor.fetchall()
    conflicts = [
        f"{item} {role} #{pos + 1}: decided {current}, new data says {new}"
        for _, item, role, pos, current, new in conflict_rows
    ]
    conflict_ids = [pk for pk, *_ in conflict_rows]

    for name, label in (
        ("papers_collection", "collections"),
        ("papers_volume", "volumes"),
        ("papers_paper", "papers"),
        ("papers_person", "persons"),
    ):
        counts[f"{label}_added"], counts[f"{label}_changed"] = _upsert(cursor, TABLE[name])

    entries = TABLE["papers_authorship"]
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
        entries,
        exclude_sql=f"AND NOT (t.id = ANY('{{{','.join(map(str, conflict_ids))}}}'::bigint[]))",
    )
    entries_scope = "" if full_authorships else in_scope
    vanishing = _entries_vanishing(cursor, entries_scope)
    orphaned = [line for pk in vanishing for line in decisions.entry_records.get(pk, ())]
    counts["authorships_removed"] = _delete_missing(cursor, entries, entries_scope)
    counts["papers_removed"] = _delete_missing(cursor, TABLE["papers_paper"], in_scope)
    counts["volumes_removed"] = _delete_missing(
        cursor,
        TABLE["papers_volume"],
        "AND t.collection_id IN (SELECT id FROM scope_collections)",
    )
    counts["collections_removed"] = _delete_missing(cursor, TABLE["papers_collection"])

    # Names: drop the ones no longer known, add new ones, refresh flags.
    names = TABLE["papers_personname"]
    _delete_missing(
        cursor,
        names,
        # Names of persons that only the app knows (created by an applied change set) stay.
        "AND EXISTS (SELECT 1 FROM stage_papers_person sp WHERE sp.id = t.person_id)",
    )
    _upsert(cursor, names)
    # Persons the new data no longer has go, unless an entry here still resolves to them or a
    # change set names them (the database cascades to their names and stored suggestions).
    cursor.execute("DROP TABLE IF EXISTS kept_persons")
    cursor.execute("CREATE TEMP TABLE kept_persons (id text PRIMARY KEY) ON COMMIT DROP")
    _copy_rows(cursor, "kept_persons", ((p,) for p in sorted(decisions.kept_persons)), ("id",))
    cursor.execute(
        """
        DELETE FROM papers_person t
        WHERE NOT EXISTS (SELECT 1 FROM stage_papers_person s WHERE s.id = t.id)
          AND NOT EXISTS (SELECT 1 FROM papers_authorship a WHERE a.person_id = t.id)
          AND NOT EXISTS (SELECT 1 FROM kept_persons k WHERE k.id = t.id)
        """
    )
    counts["persons_removed"] = cursor.rowcount
    counts["records_orphaned"] = len(orphaned)
    return counts, conflicts, orphaned
