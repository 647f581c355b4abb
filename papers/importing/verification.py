"""Compare the database with what the official library resolves from an Anthology data folder."""

from collections.abc import Iterator

from django.db import connection

from papers.importing.rows import TABLE, Snapshot, Table

# What verify_import compares: papers, persons, and every author/editor entry.
VERIFIED_TABLES = {
    "papers_paper": "paper",
    "papers_person": "person",
    "papers_authorship": "entry",
}


def _keyed(table: Table, rows) -> dict[tuple, tuple]:
    """Rows of `table` by their natural key."""
    return {tuple(getattr(row, k) for k in table.key): row for row in rows}


def _db_rows(table: Table) -> dict[tuple, tuple]:
    with connection.cursor() as cursor:
        # Quoted: "similar" is an SQL keyword.
        columns = ", ".join(map(connection.ops.quote_name, table.columns))
        cursor.execute(f"SELECT {columns} FROM {table.name}")
        return _keyed(table, (table.row(*r) for r in cursor.fetchall()))


def snapshot_differences(snap: Snapshot) -> Iterator[str]:
    """One line per difference between the database and the snapshot."""
    for name, label in VERIFIED_TABLES.items():
        table = TABLE[name]
        columns = table.columns
        expected = _keyed(table, table.rows(snap))
        actual = _db_rows(table)
        for key in sorted(expected.keys() - actual.keys(), key=str):
            yield f"{label} {' '.join(map(str, key))}: missing from the database"
        for key in sorted(actual.keys() - expected.keys(), key=str):
            yield f"{label} {' '.join(map(str, key))}: in the database, not in the data"
        for key in sorted(expected.keys() & actual.keys(), key=str):
            want, have = expected[key], actual[key]
            if want != have:
                diffs = [
                    f"{col} is {getattr(have, col)!r}, library says {getattr(want, col)!r}"
                    for col in columns
                    if getattr(want, col) != getattr(have, col)
                ]
                yield f"{label} {' '.join(map(str, key))}: {'; '.join(diffs)}"
