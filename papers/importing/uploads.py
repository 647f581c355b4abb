"""Archives uploaded on the import page: stored under MEDIA_ROOT/imports/, removed when done."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.urls import reverse

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


class LimitedUploadHandler(FileUploadHandler):
    """Refuse an upload as it arrives, not after: files only on the import page, and there at
    most IMPORT_UPLOAD_MAX_BYTES (by the declared Content-Length first, then by what arrives).
    The refusal is left on the request (`upload_refused`) for the view to show."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None) -> None:
        self.limit = settings.IMPORT_UPLOAD_MAX_BYTES if _takes_files(self.request) else 0
        self.received = 0
        # The form fields around the file are small: the declared length says it all. (The
        # refusal itself comes at the file's first bytes, where the parser can stop cleanly
        # with the fields before it, the CSRF token among them, already read.)
        self.declared_too_large = bool(self.limit) and content_length > self.limit + 64 * 1024
        self.content_length = content_length

    def new_file(self, field_name, file_name, *args, **kwargs) -> None:
        self.file_name = Path(file_name or "").name
        if not self.limit:
            self._refuse("this page takes no files")
        if self.declared_too_large:
            self._refuse(f"{self.content_length} bytes is over the limit of {self.limit} bytes")
        super().new_file(field_name, file_name, *args, **kwargs)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self._refuse(f"over the limit of {self.limit} bytes")
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler (to a temporary file) makes the file

    def _refuse(self, why: str) -> None:
        name = getattr(self, "file_name", "") or "upload"
        # read by the view
        self.request.upload_refused = (  # type: ignore[union-attr]
            f"{name}: {why}; refused before it was stored."
        )
        raise StopUpload(connection_reset=True)


def _takes_files(request) -> bool:
    return request is not None and request.path == reverse("papers:import_new")
