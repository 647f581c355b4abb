"""The data folder an import reads: a checkout, its data/ folder, or an archive of either.

Archives are unpacked into a temporary folder that is removed on every way out; unpacking
refuses path traversal, links, special files and decompression bombs.
"""

from __future__ import annotations

import hashlib
import shutil
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from papers.importing.errors import AnthologyDataError

# Limits on what an archive may unpack to (decompression bombs), from the real Anthology with
# headroom: the 2025-05 data/ folder is 1,440 files, 121 MB, its largest file 3.1 MB
# (xml/2024.emnlp.xml); a whole checkout is a few thousand files.
ARCHIVE_MAX_BYTES = 2 * 1024**3  # all members together (~16x the data)
ARCHIVE_MAX_MEMBER_BYTES = 64 * 1024**2  # any one file (~20x the largest)
ARCHIVE_MAX_MEMBERS = 20_000


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
        if size > ARCHIVE_MAX_MEMBER_BYTES:
            raise AnthologyDataError(
                f"archive member {name!r} unpacks to {size} bytes, over the limit of "
                f"{ARCHIVE_MAX_MEMBER_BYTES} bytes for one file; refused"
            )
        total += size
        if total > ARCHIVE_MAX_BYTES:
            raise AnthologyDataError(
                f"archive unpacks to more than {ARCHIVE_MAX_BYTES} bytes; refused"
            )


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
def open_data_dir(path: str | Path, *, workdir: Path | None = None) -> Iterator[Path]:
    """Yield the data folder for PATH: a checkout, its data/ folder, or an archive of either.

    An archive is unpacked into `workdir` (a fresh temporary folder when None), which is
    removed on every way out; a folder that a crash leaves behind is known by name to whoever
    owns `workdir` (the import's `runs_reap`).
    """
    path = Path(path)
    if not path.exists():
        raise AnthologyDataError(f"{path}: no such file or folder")
    if is_archive(path):
        if workdir is None:
            tmp = Path(tempfile.mkdtemp(prefix="anthology-import-"))
        else:
            shutil.rmtree(workdir, ignore_errors=True)
            workdir.mkdir(parents=True)
            tmp = workdir
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
