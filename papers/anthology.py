"""Read an Anthology data folder with the official `acl-anthology` library, into plain rows.

Resolution is the library's, never ours: every author/editor entry's person id comes from
`PersonIndex.get_by_namespec`, after `people.load()` has resolved the whole data set. This module
knows nothing of the database; `papers.services` writes what it returns.
"""

from __future__ import annotations

import hashlib
import shutil
import tarfile
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import msgspec
from lxml import etree

from papers.names import normalize_name

ProgressCallback = Callable[[str, int, int], None]

# From this much XML on, titles and abstracts are rendered in a second process.
PARALLEL_TEXTS_MIN_BYTES = 20 * 1024**2

# Unpacked archives may not be larger than this, nor hold more members (decompression bombs).
ARCHIVE_MAX_BYTES = 4 * 1024**3
ARCHIVE_MAX_MEMBERS = 50_000


class AnthologyDataError(Exception):
    """Input that is not valid Anthology data: the message names the file and the problem."""


@dataclass
class Snapshot:
    """Everything the app stores, as rows in the column order of `papers.services.COLUMNS`."""

    source: str
    checksum: str
    people_checksum: str = ""
    collections: list[tuple] = field(default_factory=list)
    volumes: list[tuple] = field(default_factory=list)
    papers: list[tuple] = field(default_factory=list)
    persons: list[tuple] = field(default_factory=list)
    names: list[tuple] = field(default_factory=list)
    authorships: list[tuple] = field(default_factory=list)


def _safe_members_tar(archive: tarfile.TarFile, dest: Path) -> list[tarfile.TarInfo]:
    members = archive.getmembers()
    _check_members(
        dest,
        [(m.name, m.size, m.issym() or m.islnk(), not (m.isfile() or m.isdir())) for m in members],
    )
    return members


def _check_members(dest: Path, members: list[tuple[str, int, bool, bool]]) -> None:
    if len(members) > ARCHIVE_MAX_MEMBERS:
        raise AnthologyDataError(f"archive has too many members ({len(members)})")
    total = 0
    root = dest.resolve()
    for name, size, is_link, is_special in members:
        target = (dest / name).resolve()
        if not target.is_relative_to(root):
            raise AnthologyDataError(f"archive member {name!r} points outside the archive")
        if is_link:
            raise AnthologyDataError(f"archive member {name!r} is a link; links are refused")
        if is_special:
            raise AnthologyDataError(f"archive member {name!r} is not a file or folder")
        total += size
        if total > ARCHIVE_MAX_BYTES:
            raise AnthologyDataError("archive unpacks to more than 4 GiB; refused")


def extract_archive(archive_path: Path, dest: Path) -> None:
    """Unpack a .tar.gz/.tar.xz/.zip safely: no path traversal, no links, no bombs."""
    name = archive_path.name.lower()
    try:
        if name.endswith(".zip"):
            with zipfile.ZipFile(archive_path) as archive:
                infos = archive.infolist()
                _check_members(
                    dest,
                    [
                        (
                            i.filename,
                            i.file_size,
                            (i.external_attr >> 16) & 0o170000 == 0o120000,
                            False,
                        )
                        for i in infos
                    ],
                )
                archive.extractall(dest)
        else:
            with tarfile.open(archive_path) as archive:
                members = _safe_members_tar(archive, dest)
                archive.extractall(dest, members=members, filter="data")
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise AnthologyDataError(f"{archive_path}: corrupt or unreadable archive ({exc})") from exc


def _is_data_dir(path: Path) -> bool:
    return (path / "xml").is_dir() and (path / "json" / "people.json").is_file()


def find_data_dir(root: Path) -> Path:
    """The `data/` folder inside an Anthology checkout, a `data/` folder, or an unpacked archive."""
    # An archive usually wraps everything in one top-level folder.
    subdirs = [p for p in root.iterdir() if p.is_dir()] if root.is_dir() else []
    tops = [root] + (subdirs if len(subdirs) == 1 else [])
    for candidate in (c for top in tops for c in (top, top / "data")):
        if _is_data_dir(candidate):
            return candidate
    raise AnthologyDataError(
        f"{root}: not Anthology data (expected xml/ and json/people.json, or a data/ folder)"
    )


ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar", ".zip")


def is_archive(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(ARCHIVE_SUFFIXES)


@contextmanager
def open_data_dir(path: str | Path) -> Iterator[Path]:
    """Yield the data folder for PATH: a checkout, its data/ folder, or an archive of either."""
    path = Path(path)
    if not path.exists():
        raise AnthologyDataError(f"{path}: no such file or folder")
    if is_archive(path):
        tmp = Path(tempfile.mkdtemp(prefix="anthology-import-"))
        try:
            extract_archive(path, tmp)
            yield find_data_dir(tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    elif path.is_dir():
        yield find_data_dir(path)
    else:
        raise AnthologyDataError(f"{path}: not Anthology data (not a folder or a known archive)")


def data_checksum(data_dir: Path) -> tuple[str, dict[str, str]]:
    """A hash of everything the import reads, and one per collection file."""
    total = hashlib.sha256()
    per_file: dict[str, str] = {}
    files = [data_dir / "json" / "people.json", *sorted((data_dir / "xml").glob("*.xml"))]
    for f in files:
        digest = hashlib.sha256(f.read_bytes()).hexdigest()
        per_file[f.name] = digest
        total.update(f.name.encode() + b"\0" + digest.encode())
    return total.hexdigest(), per_file


def _text(markup) -> str:
    return markup.as_text() if markup is not None else ""


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
    from acl_anthology import Anthology

    people_path = data_dir / "json" / "people.json"
    try:
        people = msgspec.json.decode(people_path.read_bytes())
    except (msgspec.DecodeError, OSError) as exc:
        raise AnthologyDataError(f"{people_path}: unparsable people.json ({exc})") from exc
    if not isinstance(people, dict):
        raise AnthologyDataError(f"{people_path}: unparsable people.json (not an object)")

    with warnings.catch_warnings():
        # The data may ship a newer schema.rnc than the library; the import does not validate.
        warnings.simplefilter("ignore")
        try:
            anthology = Anthology(datadir=data_dir, verbose=False)
            collections = list(anthology.collections.values())
        except Exception as exc:  # e.g. no xml/schema.rnc
            raise AnthologyDataError(f"{data_dir}: {_describe(exc)}") from exc
        for done, collection in enumerate(collections, 1):
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
            exc = group.exceptions[0]
            raise AnthologyDataError(_describe_resolution(data_dir, exc)) from group
        except Exception as exc:
            raise AnthologyDataError(f"{people_path}: {_describe(exc)}") from exc
    return anthology


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{type(exc).__name__}: {text}"


def _describe_resolution(data_dir: Path, exc: BaseException) -> str:
    """Name the XML file of the item whose author entry failed to resolve."""
    from acl_anthology.utils.ids import parse_id

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


def library_resolutions(data_dir: Path | str) -> dict[tuple[str, str, int], str]:
    """Every author/editor entry, (item id, role, position), and the person id the official
    library resolves it to, asked entry by entry. Checks and benchmarks compare with this."""
    from acl_anthology import Anthology

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        anthology = Anthology(datadir=str(data_dir), verbose=False)
        anthology.people.load()
    resolve = anthology.people.get_by_namespec
    out = {}
    for volume in anthology.volumes():
        for i, ns in enumerate(volume.editors):
            out[(volume.full_id, "editor", i)] = resolve(ns).id
        for paper in volume.papers():
            for role, specs in (("author", paper.authors), ("editor", paper._editors)):
                for i, ns in enumerate(specs):
                    out[(paper.full_id, role, i)] = resolve(ns).id
    return out


def markup_texts(data_dir: str) -> dict[str, tuple[str, str]]:
    """Every volume's and paper's (title, abstract) as text, as the library renders them.

    Runs in a separate process beside the main load; errors are the main process's to report,
    so a collection that fails to load here is simply left out (the main process then renders
    its texts itself).
    """
    from acl_anthology import Anthology

    texts: dict[str, tuple[str, str]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        anthology = Anthology(datadir=data_dir, verbose=False)
        for collection in anthology.collections.values():
            try:
                collection.load()
            except Exception:
                continue
            for volume in collection.volumes():
                texts[volume.full_id] = (_text(volume.title), "")
                for paper in volume.papers():
                    texts[paper.full_id] = (_text(paper.title), _text(paper.abstract))
    return texts


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
    that it does not share the import's shortcut.
    """

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
    from acl_anthology.config import config
    from acl_anthology.people import NameLink

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

    def entries(item_id, volume_id, paper_id, role, namespecs):
        for position, ns in enumerate(namespecs):
            name = ns.name
            snap.authorships.append(
                (
                    item_id,
                    volume_id,
                    paper_id,
                    role,
                    position,
                    name.first or "",
                    name.last,
                    ns.affiliation or "",
                    ns.id or "",
                    ns.orcid or "",
                    resolve(ns),
                )
            )

    pending_texts: list = []  # volumes and papers, in the order of their rows
    collections = list(anthology.collections.values())
    for done, collection in enumerate(collections, 1):
        snap.collections.append((collection.id, per_file.get(f"{collection.id}.xml", "")))
        for volume in collection.volumes():
            vid = volume.full_id
            pending_texts.append(volume)
            snap.volumes.append(
                (
                    vid,
                    collection.id,
                    None,  # title: filled in below
                    _year(volume.year),
                    list(volume.venue_ids),
                    volume_template.format(vid),
                )
            )
            entries(vid, vid, None, "editor", volume.editors)
            for paper in volume.papers():
                pid = paper.full_id
                pdf = paper.pdf
                pending_texts.append(paper)
                snap.papers.append(
                    (
                        pid,
                        vid,
                        None,  # title, abstract and booktitle: filled in below
                        None,
                        _year(volume.year),
                        list(volume.venue_ids),
                        None,
                        _file_url(pdf, pdf_template),
                        paper.is_frontmatter,
                    )
                )
                entries(pid, vid, pid, "author", paper.authors)
                entries(pid, vid, pid, "editor", paper._editors)
        if progress:
            progress("extract", done, len(collections))

    for person in anthology.people.values():
        canonical = person.canonical_name
        snap.persons.append(
            (
                person.id,
                canonical.first or "",
                canonical.last,
                person.orcid or "",
                person.comment or "",
                person.degree or "",
                list(person.similar_ids),
                person.disable_name_matching,
                bool(person.is_explicit),
            )
        )
        for name, link in person._names:
            snap.names.append(
                (
                    person.id,
                    name.first or "",
                    name.last,
                    name.script or "",
                    link == NameLink.EXPLICIT,
                    name == canonical,
                    normalize_name(name.first, name.last),
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
    filled_volumes, filled_papers = [], []
    booktitle = {}
    for item in pending:
        item_id = item.full_id
        title, abstract = texts.get(item_id) or (
            _text(item.title),
            _text(getattr(item, "abstract", None)),
        )
        if item.full_id_tuple[2] is None:  # a volume
            row = next(volumes)
            booktitle[item_id] = title
            filled_volumes.append((row[0], row[1], title, *row[3:]))
        else:
            row = next(papers)
            filled_papers.append(
                (row[0], row[1], title, abstract, row[4], row[5], booktitle[row[1]], *row[7:])
            )
    snap.volumes, snap.papers = filled_volumes, filled_papers
