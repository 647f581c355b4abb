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
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
from lxml import etree

from papers.names import normalize_name

ProgressCallback = Callable[[str, int, int], None]

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


def find_data_dir(root: Path) -> Path:
    """The `data/` folder inside an Anthology checkout, a `data/` folder, or an unpacked archive."""
    for candidate in (root, root / "data"):
        if (candidate / "xml").is_dir() and (candidate / "json" / "people.json").is_file():
            return candidate
    # An archive usually wraps everything in one top-level folder.
    subdirs = [p for p in root.iterdir() if p.is_dir()] if root.is_dir() else []
    if len(subdirs) == 1:
        for candidate in (subdirs[0], subdirs[0] / "data"):
            if (candidate / "xml").is_dir() and (candidate / "json" / "people.json").is_file():
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
    where = ""
    for note in getattr(exc, "__notes__", []):
        # The library notes "Raised in Paper 2024.acl-long.1" (or Volume ...)
        if note.startswith("Raised in "):
            item_id = note.split()[-1]
            where = item_id
    collection_id = where.split(".")[0] if "." in where else where.split("-")[0][:3]
    path = data_dir / "xml" / f"{collection_id}.xml" if collection_id else data_dir
    message = getattr(exc, "args", [str(exc)])[-1] if exc.args else str(exc)
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
    that it does not share the import's shortcut.
    """
    from acl_anthology.config import config
    from acl_anthology.people import NameLink

    checksum, per_file = checksums or data_checksum(data_dir)
    anthology = _load_library(data_dir, progress)
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
        key = (ns.id, ns.name)
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

    collections = list(anthology.collections.values())
    for done, collection in enumerate(collections, 1):
        snap.collections.append((collection.id, per_file.get(f"{collection.id}.xml", "")))
        for volume in collection.volumes():
            vid = volume.full_id
            title = _text(volume.title)
            snap.volumes.append(
                (
                    vid,
                    collection.id,
                    title,
                    _year(volume.year),
                    list(volume.venue_ids),
                    volume_template.format(vid),
                )
            )
            entries(vid, vid, None, "editor", volume.editors)
            for paper in volume.papers():
                pid = paper.full_id
                pdf = paper.pdf
                snap.papers.append(
                    (
                        pid,
                        vid,
                        _text(paper.title),
                        _text(paper.abstract),
                        _year(volume.year),
                        list(volume.venue_ids),
                        title,
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
    return snap
