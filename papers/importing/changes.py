"""What an import changed for persons, worked out around the writer's merge in its transaction.

`catalog_before` notes, before the merge, a fingerprint of each person's set of entries and the
entries of every person the new data no longer lists; `catalog_after` compares after it. It
returns the persons whose entries changed (for `decisions.catalog_changed`) and records each
person the import removed with where its entries went (`RemovedPerson`), for its old page.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from papers.importing.rows import Snapshot
from papers.models import ImportRun, Person, RemovedPerson

# One fingerprint per person: its entries' ids, in order. Entries keep their ids while they
# exist (the merge matches them on item, role and position), so the fingerprint changes
# exactly when an entry arrives, leaves or is replaced.
_FINGERPRINTS = """
    SELECT person_id, md5(string_agg(id::text, ',' ORDER BY id)) AS fingerprint
    FROM papers_authorship GROUP BY person_id
"""

EntryKey = tuple[str, str, int]  # item_id, role, position


@dataclass
class CatalogBefore:
    names: dict[str, str] = field(default_factory=dict)  # persons the new data drops: names
    entries: dict[str, list[EntryKey]] = field(default_factory=dict)  # and their entries


def catalog_before(cursor, snap: Snapshot) -> CatalogBefore:
    """Call in the import's transaction, before the merge."""
    cursor.execute("DROP TABLE IF EXISTS entries_before")
    cursor.execute(f"CREATE TEMP TABLE entries_before ON COMMIT DROP AS {_FINGERPRINTS}")
    kept = {row.id for row in snap.persons}
    cursor.execute("SELECT id, trim(first_name || ' ' || last_name) FROM papers_person")
    names = {pid: name for pid, name in cursor.fetchall() if pid not in kept}
    entries: dict[str, list[EntryKey]] = defaultdict(list)
    if names:
        cursor.execute(
            "SELECT person_id, item_id, role, position FROM papers_authorship "
            "WHERE person_id = ANY(%s) ORDER BY item_id, role, position",
            [sorted(names)],
        )
        for person_id, item_id, role, position in cursor.fetchall():
            entries[person_id].append((item_id, role, position))
    return CatalogBefore(names=names, entries=dict(entries))


def catalog_after(cursor, before: CatalogBefore, run: ImportRun) -> frozenset[str]:
    """Call in the same transaction after the merge: the persons whose entries changed. Records
    the persons the import removed."""
    cursor.execute(
        f"""
        SELECT coalesce(now.person_id, b.person_id)
        FROM ({_FINGERPRINTS}) now FULL JOIN entries_before b ON b.person_id = now.person_id
        WHERE now.fingerprint IS DISTINCT FROM b.fingerprint
        """
    )
    changed = frozenset(row[0] for row in cursor.fetchall())
    still = set(Person.objects.filter(id__in=list(before.names)).values_list("id", flat=True))
    removed = sorted(set(before.names) - still)
    if removed:
        _record_removed(cursor, before, removed, run)
    return changed


def _record_removed(cursor, before: CatalogBefore, removed: list[str], run: ImportRun) -> None:
    keys = [key for pid in removed for key in before.entries.get(pid, ())]
    now: dict[EntryKey, str] = {}
    if keys:
        items, roles, positions = (list(column) for column in zip(*keys, strict=True))
        cursor.execute(
            """
            SELECT a.item_id, a.role, a.position, a.person_id
            FROM papers_authorship a
            JOIN unnest(%s::text[], %s::text[], %s::int[]) AS k(item_id, role, position)
              ON a.item_id = k.item_id AND a.role = k.role AND a.position = k.position
            """,
            [items, roles, positions],
        )
        now = {(item, role, pos): pid for item, role, pos, pid in cursor.fetchall()}
    went: dict[str, Counter[str]] = {
        pid: Counter(now[key] for key in before.entries.get(pid, ()) if key in now)
        for pid in removed
    }
    targets = {t for counter in went.values() for t in counter}
    target_names = {p.pk: p.name for p in Person.objects.filter(pk__in=targets)}
    RemovedPerson.objects.bulk_create(
        RemovedPerson(
            person_id=pid,
            name=before.names[pid],
            import_run=run,
            entries=len(before.entries.get(pid, ())),
            went_to=[
                {"person_id": target, "name": target_names.get(target, target), "entries": n}
                for target, n in sorted(went[pid].items(), key=lambda tn: (-tn[1], tn[0]))
            ],
        )
        for pid in removed
    )
