"""Import previews: a proposed change's data loaded beside the current data, in a schema of its
own, with its effect on people; then promoted (an ordinary import) or discarded."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import connection, transaction

from papers import services as catalog
from papers.importing import decisions, uploads, writer
from papers.importing.errors import AnthologyDataError
from papers.importing.reader import ProgressCallback
from papers.importing.rows import TABLES, Snapshot
from papers.models import ImportRun, Preview, preview_schema

# Lists in a stored effect are cut here; the counts stay exact.
EFFECT_LIST_LIMIT = 2000


def preview_name_check(name: str) -> None:
    try:
        validate_slug(name)
    except ValidationError as exc:
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


def preview_write(
    run: ImportRun, snap: Snapshot, name: str, progress: ProgressCallback | None
) -> tuple[dict[str, int], list[str], list[str], dict]:
    """Copy the current data into a schema of its own and merge the snapshot into the copy."""
    schema = preview_schema(name)
    with transaction.atomic(), connection.cursor() as cursor:
        # The lock every catalog writer takes. Under READ COMMITTED each INSERT ... SELECT
        # below sees its own moment: an import or an applied change set committing between two
        # of them would leave the copies disagreeing. While this lock is held they wait, and the
        # copies see one moment.
        catalog.catalog_lock(exclusive=True)
        # Again under the lock: a preview of the same name started at the same moment has
        # committed by now, and this one is refused by name instead of by CREATE SCHEMA.
        preview_name_check(name)
        if progress:
            progress("write", 0, 1)
        cursor.execute(f"CREATE SCHEMA {schema}")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        index_definitions = []
        for table in (t.name for t in TABLES):
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
        counts, conflicts, orphaned = writer.merge(cursor, snap, decisions.current())
        catalog.persons_refresh_stats()
        effect = _preview_effect(cursor, schema)
        effect["conflicts"] = conflicts
        effect["orphaned"] = orphaned
        cursor.execute("SET LOCAL search_path TO DEFAULT")
        Preview.objects.create(name=name, source=snap.source, import_run=run, effect=effect)
        if progress:
            progress("write", 1, 1)
    counts["conflicts"] = len(conflicts)
    return counts, conflicts, orphaned, effect


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
        f"entry {e['item_id']} {e['role']} #{e['position'] + 1} ({e['name']}): "
        f"{e['before']} -> {e['after']}"
        for e in effect.get("entries_changed", [])
    ]
    lines += [f"conflict: {line}" for line in effect.get("conflicts", [])]
    lines += [f"orphaned: {line}" for line in effect.get("orphaned", [])]
    counts = effect.get("counts", {})
    added = counts.get("persons_added", 0)
    entries = counts.get("entries_changed", 0)
    gaining = counts.get("pages_gaining", 0)
    unverified = counts.get("new_unverified", 0)
    lines.append(
        f"{_count(added, 'person', 'persons')} added, {counts.get('persons_removed', 0)} "
        f"removed, {counts.get('persons_renamed', 0)} renamed; "
        f"{_count(entries, 'entry changes', 'entries change')} person; "
        f"{_count(unverified, 'new unverified page', 'new unverified pages')}; "
        f"{_count(gaining, 'page gains', 'pages gain')} papers from a namesake"
    )
    return lines


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def preview_discard(*, preview: Preview) -> None:
    """Drop a preview's data (and its uploaded archive); the current data is untouched."""
    with transaction.atomic(), connection.cursor() as cursor:
        preview_decide(cursor, preview, Preview.Status.DISCARDED)
    preview.status = Preview.Status.DISCARDED
    uploads.upload_remove(path=preview.source)


def preview_decide(cursor, preview: Preview, status: str) -> None:
    """Drop a READY preview's schema and record `status`, in the caller's transaction. The row
    lock orders a discard and a promotion of one preview: the second finds it decided."""
    locked = Preview.objects.select_for_update().get(pk=preview.pk)
    if locked.status != Preview.Status.READY:
        raise AnthologyDataError(f"preview {preview.name} is already {locked.status}")
    cursor.execute(f"DROP SCHEMA IF EXISTS {preview.schema} CASCADE")
    locked.status = status
    locked.save(update_fields=["status"])
