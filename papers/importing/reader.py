"""Read an Anthology data folder with the official `acl-anthology` library, into typed rows.

Resolution is the library's, never ours: every author/editor entry's person id comes from
`PersonIndex.get_by_namespec`, after `people.load()` has resolved the whole data set. This module
knows nothing of the database; `papers.importing.writer` writes what it returns.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import msgspec
from acl_anthology.config import config
from acl_anthology.people import NameLink
from acl_anthology.utils.ids import build_id, parse_id
from lxml import etree

from papers import library
from papers.importing.archives import data_checksum
from papers.importing.errors import AnthologyDataError
from papers.importing.heap import full_collections_paused
from papers.importing.rows import (
    AuthorshipRow,
    CollectionRow,
    NameRow,
    PaperRow,
    PersonRow,
    Snapshot,
    VolumeRow,
)
from papers.importing.texts import markup_text as _text
from papers.importing.texts import markup_texts
from papers.names import normalize_name

ProgressCallback = Callable[[str, int, int], None]

# From this much XML on, titles and abstracts are rendered in a second process.
PARALLEL_TEXTS_MIN_BYTES = 20 * 1024**2


def _file_url(ref, template: str) -> str:
    if ref is None:
        return ""
    return ref.name if "://" in ref.name else template.format(ref.name)


def _year(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _load_library(data_dir: Path, progress: ProgressCallback | None):
    """Load with the library, turning its failures into one-line errors that name the file."""
    people_path = data_dir / "json" / "people.json"
    try:
        people = msgspec.json.decode(people_path.read_bytes())
    except (msgspec.DecodeError, OSError) as exc:
        raise AnthologyDataError(f"{people_path}: unparsable people.json ({exc})") from exc
    if not isinstance(people, dict):
        raise AnthologyDataError(f"{people_path}: unparsable people.json (not an object)")
    for person_id, entry in people.items():
        # The library fails on these deep inside, with an IndexError or a bare ValueError.
        names = entry.get("names") if isinstance(entry, dict) else None
        if not isinstance(names, list) or not names:
            raise AnthologyDataError(
                f"{people_path}: person {person_id!r} has no names (every entry needs at least "
                'one in its "names" list)'
            )

    with library.quiet():
        try:
            anthology = library.open_anthology(data_dir)
            collections = list(anthology.collections.values())
        except Exception as exc:  # e.g. no xml/schema.rnc
            raise AnthologyDataError(f"{data_dir}: {_describe(exc)}") from exc
        for done, collection in enumerate(collections, 1):
            _refuse_duplicate_ids(collection.id, Path(collection.path))
            try:
                collection.load()
            except etree.XMLSyntaxError as exc:
                raise AnthologyDataError(f"{collection.path}: malformed XML ({exc})") from exc
            except Exception as exc:  # the library's own validation errors, by many names
                raise AnthologyDataError(f"{collection.path}: {_describe(exc)}") from exc
            if progress:
                progress("parse", done, len(collections))
        try:
            anthology.people.load()
        except ExceptionGroup as group:
            first = group.exceptions[0]
            raise AnthologyDataError(_describe_resolution(data_dir, first)) from group
        except Exception as exc:
            raise AnthologyDataError(f"{people_path}: {_describe(exc)}") from exc
    return anthology


_ITEM_ID = re.compile(rb"<(volume|paper|frontmatter)\s[^>]*?\bid=\"([^\"]*)\"|<(frontmatter)[\s>]")


def _refuse_duplicate_ids(collection_id: str, path: Path) -> None:
    """The library keeps one of two papers (or volumes) with the same id and drops the other
    without a word: refuse the file instead, naming the id."""
    seen: set[str] = set()
    volume = ""
    for match in _ITEM_ID.finditer(path.read_bytes()):
        kind = (match.group(1) or match.group(3)).decode()
        if kind == "volume":
            volume = match.group(2).decode()
            item_id = build_id(collection_id, volume)
        else:
            number = "0" if kind == "frontmatter" else match.group(2).decode()
            item_id = build_id(collection_id, volume, number)
        if item_id in seen:
            raise AnthologyDataError(
                f"{path}: {kind} {item_id} is defined more than once; each id may appear once"
            )
        seen.add(item_id)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{type(exc).__name__}: {text}"


def _describe_resolution(data_dir: Path, exc: BaseException) -> str:
    """Name the XML file of the item whose author entry failed to resolve."""
    where = ""
    for note in getattr(exc, "__notes__", []):
        # The library notes "Raised in Paper 2024.acl-long.1" (or Volume ...)
        if note.startswith("Raised in "):
            item_id = note.split()[-1]
            where = item_id
    path = data_dir / "xml" / f"{parse_id(where)[0]}.xml" if where else data_dir
    message = exc.args[-1] if exc.args else str(exc)
    suffix = f" (in {where})" if where else ""
    return f"{path}: {message}{suffix}"


def read_snapshot(
    data_dir: Path,
    *,
    source: str,
    progress: ProgressCallback | None = None,
    checksums: tuple[str, dict[str, str]] | None = None,
    memoize: bool = True,
) -> Snapshot:
    """Load a data folder with the library and flatten it into rows.

    `memoize=False` asks the library for every single entry (slower): `verify_import` uses it so
    that it does not share the import's shortcut. The library's model of the data is freed
    before this returns (`papers.importing.heap`).
    """
    # The model lives only in _read's frame, which is gone when the pause ends and collects.
    with full_collections_paused():
        return _read(data_dir, source, progress, checksums, memoize)


def _read(
    data_dir: Path,
    source: str,
    progress: ProgressCallback | None,
    checksums: tuple[str, dict[str, str]] | None,
    memoize: bool,
) -> Snapshot:
    checksum, per_file = checksums or data_checksum(data_dir)
    # Turning titles and abstracts into text (the library's MarkupText.as_text) is a third of
    # the work after loading; a second process does it on the other core meanwhile.
    xml_bytes = sum(f.stat().st_size for f in (data_dir / "xml").glob("*.xml"))
    if xml_bytes < PARALLEL_TEXTS_MIN_BYTES:
        # Small data: starting a second process costs more than it saves.
        anthology = _load_library(data_dir, progress)
        return _flatten(anthology, None, source, checksum, per_file, memoize, progress)
    pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
    try:
        texts_future = pool.submit(markup_texts, str(data_dir))
        anthology = _load_library(data_dir, progress)
        return _flatten(anthology, texts_future, source, checksum, per_file, memoize, progress)
    finally:
        pool.shutdown(cancel_futures=True)


def _flatten(anthology, texts_future, source, checksum, per_file, memoize, progress) -> Snapshot:
    # The library resolves its URL templates through omegaconf on every access (~2 ms each):
    # read them once.
    pdf_template = str(config["pdf_location_template"])
    volume_template = str(config["volume_page_template"])
    # After load, an entry's person depends only on its explicit id and its name: resolve each
    # distinct (id, name) once through the library.
    resolved: dict[tuple, str] = {}

    def resolve(ns) -> str:
        if not memoize:
            return anthology.people.get_by_namespec(ns).id
        name = ns.name
        # Name equality: first names "" and None are equal; the script does not count.
        key = (ns.id, name.first or None, name.last)
        pid = resolved.get(key)
        if pid is None:
            pid = resolved[key] = anthology.people.get_by_namespec(ns).id
        return pid

    snap = Snapshot(
        source=source, checksum=checksum, people_checksum=per_file.get("people.json", "")
    )

    def entries(item_id: str, volume_id: str, paper_id: str | None, role: str, namespecs) -> None:
        for position, ns in enumerate(namespecs):
            name = ns.name
            snap.authorships.append(
                AuthorshipRow(
                    item_id=item_id,
                    volume_id=volume_id,
                    paper_id=paper_id,
                    role=role,
                    position=position,
                    first=name.first or "",
                    last=name.last,
                    affiliation=ns.affiliation or "",
                    explicit_id=ns.id or "",
                    explicit_orcid=ns.orcid or "",
                    person_id=resolve(ns),
                )
            )

    pending_texts: list = []  # volumes and papers, in the order of their rows
    collections = list(anthology.collections.values())
    for done, collection in enumerate(collections, 1):
        snap.collections.append(
            CollectionRow(id=collection.id, checksum=per_file.get(f"{collection.id}.xml", ""))
        )
        for volume in collection.volumes():
            vid = volume.full_id
            pending_texts.append(volume)
            snap.volumes.append(
                VolumeRow(
                    id=vid,
                    collection_id=collection.id,
                    title="",  # filled in by _fill_texts
                    year=_year(volume.year),
                    venue_ids=list(volume.venue_ids),
                    url=volume_template.format(vid),
                )
            )
            entries(vid, vid, None, "editor", volume.editors)
            for paper in volume.papers():
                pid = paper.full_id
                pending_texts.append(paper)
                snap.papers.append(
                    PaperRow(
                        id=pid,
                        volume_id=vid,
                        title="",  # title, abstract and booktitle: filled in by _fill_texts
                        abstract="",
                        year=_year(volume.year),
                        venue_ids=list(volume.venue_ids),
                        booktitle="",
                        pdf_url=_file_url(paper.pdf, pdf_template),
                        is_frontmatter=paper.is_frontmatter,
                    )
                )
                entries(pid, vid, pid, "author", paper.authors)
                entries(pid, vid, pid, "editor", paper._editors)
        if progress:
            progress("extract", done, len(collections))

    for person in anthology.people.values():
        canonical = person.canonical_name
        snap.persons.append(
            PersonRow(
                id=person.id,
                first_name=canonical.first or "",
                last_name=canonical.last,
                orcid=person.orcid or "",
                comment=person.comment or "",
                degree=person.degree or "",
                similar=list(person.similar_ids),
                disable_name_matching=person.disable_name_matching,
                is_verified=bool(person.is_explicit),
            )
        )
        for name, link in person._names:
            snap.names.append(
                NameRow(
                    person_id=person.id,
                    first=name.first or "",
                    last=name.last,
                    script=name.script or "",
                    is_explicit=link == NameLink.EXPLICIT,
                    is_canonical=name == canonical,
                    normalized=normalize_name(name.first, name.last),
                )
            )
    _fill_texts(snap, pending_texts, texts_future)
    return snap


def _fill_texts(snap: Snapshot, pending: list, texts_future) -> None:
    """Put the rendered titles and abstracts into the volume and paper rows."""
    try:
        texts = texts_future.result() if texts_future is not None else {}
    except Exception:  # no second process could run: render them here instead
        texts = {}
    volumes, papers = iter(snap.volumes), iter(snap.papers)
    filled_volumes: list[VolumeRow] = []
    filled_papers: list[PaperRow] = []
    booktitle: dict[str, str] = {}
    for item in pending:
        item_id = item.full_id
        title, abstract = texts.get(item_id) or (
            _text(item.title),
            _text(getattr(item, "abstract", None)),
        )
        if item.full_id_tuple[2] is None:  # a volume
            booktitle[item_id] = title
            filled_volumes.append(next(volumes)._replace(title=title))
        else:
            paper = next(papers)
            filled_papers.append(
                paper._replace(title=title, abstract=abstract, booktitle=booktitle[paper.volume_id])
            )
    snap.volumes, snap.papers = filled_volumes, filled_papers
