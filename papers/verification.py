"""Compare the database with what the official library resolves from an Anthology data folder."""

from collections.abc import Iterator

from django.db import connection

from papers.anthology import Snapshot
from papers.services import COLUMNS, KEYS, SNAPSHOT_FIELD

# What verify_import compares: papers, persons, and every author/editor entry.
VERIFIED_TABLES = {
    "papers_paper": "paper",
    "papers_person": "person",
    "papers_authorship": "entry",
}


def _keyed(table: str, rows) -> dict[tuple, tuple]:
    """Rows of `table` by their natural key (KEYS)."""
    key_idx = [COLUMNS[table].index(k) for k in KEYS[table]]
    return {tuple(row[i] for i in key_idx): tuple(row) for row in rows}


def _db_rows(table: str) -> dict[tuple, tuple]:
    with connection.cursor() as cursor:
        # Quoted: "similar" is an SQL keyword.
        columns = ", ".join(map(connection.ops.quote_name, COLUMNS[table]))
        cursor.execute(f"SELECT {columns} FROM {table}")
        return _keyed(table, cursor.fetchall())


def snapshot_differences(snap: Snapshot) -> Iterator[str]:
    """One line per difference between the database and the snapshot."""
    for table, label in VERIFIED_TABLES.items():
        columns = COLUMNS[table]
        expected = _keyed(table, getattr(snap, SNAPSHOT_FIELD[table]))
        actual = _db_rows(table)
        for key in sorted(expected.keys() - actual.keys(), key=str):
            yield f"{label} {' '.join(map(str, key))}: missing from the database"
        for key in sorted(actual.keys() - expected.keys(), key=str):
            yield f"{label} {' '.join(map(str, key))}: in the database, not in the data"
        for key in sorted(expected.keys() & actual.keys(), key=str):
            want, have = expected[key], actual[key]
            if want != have:
                diffs = [
                    f"{col} is {have[i]!r}, library says {want[i]!r}"
                    for i, col in enumerate(columns)
                    if want[i] != have[i]
                ]
                yield f"{label} {' '.join(map(str, key))}: {'; '.join(diffs)}"
