"""Archives uploaded on the import page: stored under MEDIA_ROOT/imports/, removed when done."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from django.conf import settings

from papers.importing.archives import ARCHIVE_SUFFIXES
from papers.importing.errors import AnthologyDataError


def upload_store(*, uploaded_file, max_bytes: int) -> Path:
    """Save an uploaded archive under MEDIA_ROOT/imports/ (size-limited); return its path."""
    name = Path(uploaded_file.name).name
    if not name.lower().endswith(ARCHIVE_SUFFIXES):
        raise AnthologyDataError(f"{name}: upload a .tar.gz, .tar.xz or .zip archive")
    if uploaded_file.size > max_bytes:
        raise AnthologyDataError(
            f"{name}: {uploaded_file.size} bytes is over the limit of {max_bytes} bytes"
        )
    folder = Path(settings.MEDIA_ROOT) / "imports" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    dest = folder / name
    with open(dest, "wb") as out:
        for chunk in uploaded_file.chunks():
            out.write(chunk)
    return dest


def upload_remove(*, path: str | Path) -> None:
    """Delete an uploaded archive once nothing needs it (never a file outside the uploads)."""
    uploads = (Path(settings.MEDIA_ROOT) / "imports").resolve()
    target = Path(path).resolve()
    if target.is_relative_to(uploads) and target.parent != uploads:
        shutil.rmtree(target.parent, ignore_errors=True)
