"""Export services: applied change sets written into an Anthology data folder.

Everything goes through the official `acl-anthology` library, so the files are exactly what the
Anthology's own tools write: a moved `<author>`/`<editor>` gets the target's `id` attribute, a
new person gets an entry in `people.json` (created with `PersonIndex.create`), a name the target
was not yet listed under is added to its entry. The library's save of an unchanged collection
is byte-identical to the input (checked on the whole 2025-05 data), and only the collections
the export modified are saved, so the diff is minimal.

A revert's export puts back exactly what the original export changed (recorded per move in
`Move.export_record`): the previous `id` attribute, names added, persons created. Exporting a
change set and then its revert therefore restores the original files byte for byte.

Safety: entries are checked against what the change set saw (the printed name, and the person
the entry resolves to in the folder); every entry whose resolution the export would change
without being moved is kept where it was (an explicit id for a verified person, or
`disable_name_matching` on a person this export creates), or reported. Any conflict: nothing is
written. Files are written to a temporary file next to the target and renamed into place.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from acl_anthology.collections import Volume
from acl_anthology.config import config
from acl_anthology.exceptions import AnthologyException
from acl_anthology.people import Name
from acl_anthology.people.person import NameLink
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from omegaconf import OmegaConf

from assignments.changesets import selectors
from assignments.export import people
from assignments.models import ChangeSet, Move, NewPerson
from papers import library
from papers import services as catalog
from papers.models import Authorship


@dataclass
class ExportResult:
    changeset_ids: list[int] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # paths (relative to the folder) that change
    diff: str = ""
    conflicts: list[str] = field(default_factory=list)
    written: bool = False
    summary: list[dict[str, Any]] = field(default_factory=list)
    # person id -> the people.json entry the export writes for each person it touches
    people_entries: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.conflicts


def changesets_pending_export():
    """Applied change sets not yet written to the Anthology's files, in the order applied."""
    return (
        ChangeSet.objects.filter(
            applied_at__isnull=False,
            exported_at__isnull=True,
            status__in=[ChangeSet.Status.APPLIED, ChangeSet.Status.REVERTED],
        )
        .select_related("created_by", "reviewed_by")
        .order_by("applied_at", "pk")
    )


def _namespecs(item, role: str):
    if isinstance(item, Volume):
        return item.editors if role == "editor" else ()
    return item.authors if role == "author" else item._editors


def _entry_key(ns) -> tuple[str, str, int]:
    item = ns.parent
    if isinstance(item, Volume):
        role, specs = "editor", item.editors
    elif any(other is ns for other in item.authors):
        role, specs = "author", item.authors
    else:
        role, specs = "editor", item._editors
    position = next(i for i, other in enumerate(specs) if other is ns)
    return (item.full_id, role, position)


class _Exporter:
    """One run: apply the pending change sets to an in-memory Anthology, check, then save."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.anthology = library.load_anthology(data_dir)
        self.people = self.anthology.people
        self.conflicts: list[str] = []
        self.records: dict[int, dict[str, Any]] = {}  # move pk -> export_record
        self.created: dict[str, int] = {}  # person id created by this run -> move pk
        self.moved: dict[int, str] = {}  # id(namespec) -> person it must resolve to
        self.summary: list[dict[str, Any]] = []
        self.initial: dict[int, str] = {}  # id(namespec) -> person before this run
        self.named: dict[str, int] = {}  # existing person given a name -> move pk

    # -- entries -------------------------------------------------------------------------
    def _find(self, move: Move, label: str):
        item = self.anthology.get(move.item_id)
        if item is None:
            self.conflicts.append(f"{label}: {move.item_id} is not in the data folder")
            return None
        specs = _namespecs(item, move.role)
        if move.position >= len(specs):
            self.conflicts.append(
                f"{label}: {move.item_id} has no {move.role} #{move.position + 1} any more"
            )
            return None
        ns = specs[move.position]
        a = move.authorship
        if a is not None and (ns.first or "", ns.last) != (a.first, a.last):
            self.conflicts.append(
                f"{label}: {move.item_id} {move.role} #{move.position + 1} is now "
                f"'{ns.name.as_first_last()}', not '{a.printed_name}'"
            )
            return None
        return ns

    def _ensure_explicit_name(self, person, name) -> bool:
        if (name, NameLink.EXPLICIT) in person._names:
            return False
        person.add_name(name)
        return True

    def _create_person(self, np, move_pk: int, label: str) -> bool:
        if np.person_id in self.created:
            return True
        if np.person_id in self.people:
            self.conflicts.append(f"{label}: person {np.person_id} already exists in people.json")
            return False
        self.people.create(
            id=np.person_id,
            names=[Name(np.first_name or None, np.last_name)],
            orcid=np.orcid or None,
            comment=np.comment or None,
            degree=np.degree or None,
        )
        self.created[np.person_id] = move_pk
        return True

    # -- change sets ---------------------------------------------------------------------
    def apply(self, changeset: ChangeSet) -> None:
        moves = list(
            changeset.moves.filter(status__in=[Move.Status.APPLIED, Move.Status.REVERTED])
            .select_related("authorship", "to_person", "to_new_person")
            .order_by("pk")
        )
        originals: dict[int | None, Move] = {}
        if changeset.reverts_id is not None:
            for m in Move.objects.filter(changeset_id=changeset.reverts_id).select_related(
                "to_new_person"
            ):
                originals[m.authorship_id] = m
        entry: dict[str, Any] = {"changeset": changeset.pk, "note": changeset.note, "moves": []}
        self.summary.append(entry)
        for move in moves:
            label = f"change set {changeset.pk}, move {move.pk}"
            ns = self._find(move, label)
            if ns is None:
                continue
            # Earlier moves of this run can change how later entries resolve by name (a new
            # verified "Peiyu Liu" takes every "Peiyu Liu" until the run is complete): compare
            # with the folder as it was, or as this run left the entry.
            current = self.moved.get(id(ns)) or self.initial.get(id(ns)) or ns.resolve().id
            (claim,) = selectors.claims([move])
            if catalog.claim_conflict(claim, current) is not None:
                self.conflicts.append(
                    f"{label}: {move.item_id} {move.role} #{move.position + 1} "
                    f"('{ns.name.as_first_last()}') resolves to {current} in the data folder, "
                    f"not {move.from_person_id} as approved"
                )
                continue
            original = originals.get(move.authorship_id)
            try:
                if original is not None and (original.pk in self.records or original.export_record):
                    self._undo(move, original, ns, label)
                else:
                    self._move(move, ns, label)
            except (AnthologyException, ValueError) as exc:
                # The library refuses the edit (an ORCID already taken, an id it considers
                # invalid, a name the person lacks): name it, write nothing.
                self.conflicts.append(f"{label}: {move.item_id}: {exc}")
                continue
            entry["moves"].append(
                {
                    "item_id": move.item_id,
                    "role": move.role,
                    "position": move.position,
                    "name": ns.name.as_first_last(),
                    "from": move.from_person_id,
                    "to": move.target_id,
                }
            )
        if changeset.reverts_id is not None:
            self._drop_created(originals.values())

    def _move(self, move: Move, ns, label: str) -> None:
        record: dict[str, Any] = {"previous_id": ns.id}
        if move.to_new_person is not None and not self._create_person(
            move.to_new_person, move.pk, label
        ):
            return
        target_id = move.target_id
        if target_id.endswith("/unverified"):
            # An unverified person is reached by name alone; whether the name does reach it is
            # checked when the run is complete (keep_others).
            ns.id = None
        else:
            person = self.people.get(target_id)
            if person is None or not person.is_explicit:
                self.conflicts.append(f"{label}: person {target_id} is not in people.json")
                return
            if self._ensure_explicit_name(person, ns.name):
                record["added_name"] = [ns.name.first, ns.name.last]
                self.named[target_id] = move.pk
            ns.id = target_id
        self.records[move.pk] = record
        self.moved[id(ns)] = target_id

    def _undo(self, move: Move, original: Move, ns, label: str) -> None:
        record = self.records.get(original.pk) or original.export_record
        # Checked once the whole run is done (keep_others): until the persons the original
        # created are gone, "Peiyu Liu" without an id may still resolve to one of them.
        ns.id = record.get("previous_id")
        if added := record.get("added_name"):
            person = self.people.get(original.target_id)
            name = Name(added[0], added[1])
            still_used = person is not None and any(
                other.id == person.id and other.name == name for other in person.namespecs()
            )
            if person is not None and not still_used and person.has_name(name):
                person.remove_name(name)
        for item_id, role, position, previous in record.get("collateral", ()):
            item = self.anthology.get(item_id)
            specs = _namespecs(item, role) if item is not None else ()
            if position < len(specs):
                specs[position].id = previous
        if record.get("disabled_name_matching"):
            person = self.people.get(original.target_id)
            if person is not None:
                person.disable_name_matching = False
        self.records[move.pk] = {"previous_id": original.target_id, "undoes": original.pk}
        self.moved[id(ns)] = move.target_id

    def _drop_created(self, originals) -> None:
        for original in originals:
            np = original.to_new_person
            if np is None:
                continue
            person = self.people.get(np.person_id)
            if person is None or not person.is_explicit:
                continue
            if any(ns.id == person.id for ns in person.namespecs()):
                continue  # still used explicitly (by a later change set): keep
            if person.item_ids:
                # Only reached by name matching now: release those entries first.
                person.disable_name_matching = True
            if not person.item_ids:
                self.people.remove_person(person)

    def people_entries(self) -> dict[str, dict[str, Any]]:
        """The people.json entries of the persons this run moved entries to or created."""
        touched = set(self.created) | {
            pid for pid in self.moved.values() if not pid.endswith("/unverified")
        }
        return {
            pid: people.entry_of(person)
            for pid in sorted(touched)
            if (person := self.people.get(pid)) is not None and person.is_explicit
        }

    # -- keeping everything else where it was ----------------------------------------------
    def snapshot(self, changesets: list[ChangeSet]) -> list[tuple[Any, str]]:
        """Every entry whose resolution the export could change, with its current person."""
        names = set(
            Authorship.objects.filter(moves__changeset__in=changesets).values_list("first", "last")
        )
        names.update(
            NewPerson.objects.filter(changeset__in=changesets).values_list(
                "first_name", "last_name"
            )
        )
        slugs = {Name(first or None, last).slugify() for first, last in names}
        # An unverified id is the slug of its names; verified ones are indexed by slug.
        person_ids: set[str] = set()
        for slug in slugs:
            person_ids.add(f"{slug}/unverified")
            person_ids.update(self.people.slugs_to_verified_ids.get(slug, ()))
        entries = []
        seen: set[int] = set()
        for pid in sorted(person_ids):
            person = self.people.get(pid)
            if person is None:
                continue
            # A volume's editors are listed again for its front matter: keep each entry once.
            for ns in person.namespecs():
                if id(ns) not in seen:
                    seen.add(id(ns))
                    entries.append((ns, pid))
        self.initial = {id(ns): pid for ns, pid in entries}
        return entries

    def _collateral(self, ns) -> None:
        slug = ns.name.slugify()
        for pid, move_pk in self.created.items():
            person = self.people.get(pid)
            if person is not None and any(n.slugify() == slug for n in person.names):
                item, role, position = _entry_key(ns)
                done = self.records[move_pk].setdefault("collateral", [])
                if not any(c[:3] == [item, role, position] for c in done):
                    done.append([item, role, position, ns.id])
                return

    def keep_others(self, before: list[tuple[Any, str]]) -> None:
        for _ in range(3):
            wrong = []
            for ns, was in before:
                want = self.moved.get(id(ns), was)
                now = ns.resolve().id
                if now != want:
                    wrong.append((ns, want, now))
            if not wrong:
                return
            for ns, want, now in wrong:
                if id(ns) in self.moved:
                    continue
                person = self.people.get(now)
                if person is not None and now in self.created:
                    # A person this export creates would take entries by name: it must not.
                    person.disable_name_matching = True
                elif (
                    person is not None
                    and person.is_explicit
                    and not person.disable_name_matching
                    and now in self.named
                    and all(
                        other.id == now or self.initial.get(id(other), now) != now
                        for other in person.namespecs()
                    )
                ):
                    # A name added to an existing person would take others' entries; all of
                    # the person's own entries carry the id, so matching by name can go.
                    person.disable_name_matching = True
                    self.records[self.named[now]]["disabled_name_matching"] = True
                elif not want.endswith("/unverified") and want in self.people:
                    # A second verified person of the same name ends matching by name for the
                    # first: its entries get its id, as the Anthology's tools do. Recorded on
                    # the move that created the namesake, so that a revert takes them back.
                    self._collateral(ns)
                    ns.id = want
        for ns, want, now in wrong:
            item, role, position = _entry_key(ns)
            entry = f"{item} {role} #{position + 1} ('{ns.name.as_first_last()}')"
            if id(ns) in self.moved:
                self.conflicts.append(f"{entry} would resolve to {now}, not {want} as approved")
            else:
                self.conflicts.append(f"{entry} would move from {want} to {now} as a side effect")


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


@contextmanager
def _fast_url_templates():
    """Resolve the library's URL templates once for the duration of a save.

    `Paper.to_xml` formats every paper's page URL from a config value with an OmegaConf
    interpolation, which costs ~3 ms each: 20 s of a 30 s export. The resolved value is the
    same string, so the files are too.
    """
    keys = ("paper_page_template", "volume_page_template")
    raw = cast(dict[str, Any], OmegaConf.to_container(config, resolve=False))  # of a DictConfig
    try:
        for key in keys:
            config[key] = config[key]
        yield
    finally:
        for key in keys:
            config[key] = raw[key]


def _render(save, path: Path) -> bytes:
    """What the library would write to `path`, without touching it."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".render")
    os.close(fd)
    try:
        with _fast_url_templates():
            save(tmp)
        return Path(tmp).read_bytes()
    finally:
        os.unlink(tmp)


def changes_export(*, data_dir: str | os.PathLike, dry_run: bool = False) -> ExportResult:
    """Write every applied, not yet exported change set into the data folder `data_dir`.

    Returns the unified diff and the files that change; with conflicts nothing is written and
    `result.conflicts` names each one. Marks the exported change sets unless `dry_run`.
    """
    data_dir = Path(data_dir)
    if dry_run:
        return _export_pending(data_dir, dry_run=True)
    key = _lock_key(data_dir)
    with connection.cursor() as cursor:
        # One writer per data folder: a second export would apply the same sets again.
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        if not cursor.fetchone()[0]:
            return ExportResult(conflicts=[f"Another export into {data_dir} is running."])
    try:
        return _export_pending(data_dir, dry_run=False)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def _export_pending(data_dir: Path, *, dry_run: bool) -> ExportResult:
    changesets = list(changesets_pending_export())
    result = ExportResult(changeset_ids=[cs.pk for cs in changesets])
    if not changesets:
        return result
    if not (data_dir / "xml").is_dir() or not (data_dir / "json" / "people.json").is_file():
        result.conflicts.append(f"{data_dir} is not an Anthology data folder (xml/, json/)")
        return result
    return _export(data_dir, changesets, result, dry_run=dry_run)


def _lock_key(data_dir: Path) -> int:
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _export(
    data_dir: Path, changesets: list[ChangeSet], result: ExportResult, *, dry_run: bool
) -> ExportResult:
    exporter = _Exporter(data_dir)
    before = exporter.snapshot(changesets)
    for cs in changesets:
        exporter.apply(cs)
    if not exporter.conflicts:
        exporter.keep_others(before)
    result.summary = exporter.summary
    result.people_entries = exporter.people_entries()
    if exporter.conflicts:
        result.conflicts = exporter.conflicts
        return result

    outputs: dict[Path, bytes] = {}
    for collection in exporter.anthology.collections.values():
        if collection.is_modified:
            path = Path(collection.path)
            outputs[path] = _render(collection.save, path)
    people_path = Path(exporter.people.path)
    outputs[people_path] = _render(exporter.people.save, people_path)

    diffs = []
    base = data_dir.parent
    for path, new in sorted(outputs.items()):
        old = path.read_bytes()
        if old == new:
            continue
        rel = os.path.relpath(path, base)
        result.files.append(os.path.relpath(path, data_dir))
        diffs.append(
            "".join(
                difflib.unified_diff(
                    old.decode("utf-8").splitlines(keepends=True),
                    new.decode("utf-8").splitlines(keepends=True),
                    fromfile=f"a/{rel}",
                    tofile=f"b/{rel}",
                )
            )
        )
    result.diff = "".join(diffs)
    if dry_run:
        return result

    for path, new in outputs.items():
        if path.read_bytes() != new:
            _atomic_write(path, new)
    result.written = True
    _mark_exported(changesets, exporter.records)
    return result


def _mark_exported(changesets: list[ChangeSet], records: dict[int, dict[str, Any]]) -> None:
    now = timezone.now()
    with transaction.atomic():
        moves = list(
            Move.objects.filter(pk__in=records).select_related("to_new_person").order_by("pk")
        )
        undone = {r["undoes"] for r in records.values() if "undoes" in r}
        # An original exported in this same run has its record here, not yet in the database.
        originals = {pk: records.get(pk) for pk in undone}
        missing = [pk for pk, record in originals.items() if record is None]
        for pk, original in Move.objects.in_bulk(missing).items():
            originals[pk] = original.export_record
        explicit_id: dict[int, str] = {}  # authorship -> its id attribute, later moves win
        for m in moves:
            m.export_record = records[m.pk]
            if "undoes" in m.export_record:
                # never None: _undo read the same record when it exported the move
                new_id = originals[m.export_record["undoes"]].get("previous_id")  # type: ignore[union-attr]
            else:
                new_id = m.xml_id
            if m.authorship_id is not None:
                explicit_id[m.authorship_id] = new_id or ""
        Move.objects.bulk_update(moves, ["export_record"])
        # Authorship.explicit_id mirrors the XML's `id` attribute.
        catalog.entries_set_explicit_id(explicit_ids=explicit_id)
        ChangeSet.objects.filter(pk__in=[cs.pk for cs in changesets]).update(exported_at=now)


# -- the pending patch for the web app ------------------------------------------------------
# Loading the data takes seconds, so pages never export in the request: a background task
# writes the dry run to MEDIA_ROOT/exports/<key>.json, keyed by what it depends on (the data
# folder, its people.json, the pending change sets), and the page serves that file.


def _pending_key(data_dir: str) -> str:
    pending = list(changesets_pending_export().values_list("pk", "applied_at"))
    try:
        stamp = os.stat(Path(data_dir) / "json" / "people.json").st_mtime_ns
    except OSError:
        stamp = 0
    text = repr((str(Path(data_dir).resolve()), stamp, [(pk, str(at)) for pk, at in pending]))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _pending_path(key: str) -> Path:
    return Path(settings.MEDIA_ROOT) / "exports" / f"{key}.json"


def pending_patch_get(*, data_dir: str) -> tuple[str, ExportResult | None]:
    """(key, the stored dry run for the current state, or None if not computed yet)."""
    key = _pending_key(data_dir)
    path = _pending_path(key)
    if not path.is_file():
        return key, None
    return key, ExportResult(**json.loads(path.read_text(encoding="utf-8")))


def pending_patch_compute(*, data_dir: str, key: str) -> ExportResult:
    """Dry-run the export and store it under `key` (called by the background task)."""
    result = changes_export(data_dir=data_dir, dry_run=True)
    path = _pending_path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, json.dumps(result.__dict__, ensure_ascii=False).encode("utf-8"))
    return result
