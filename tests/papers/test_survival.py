"""The data path survives real life: entries that vanish under moves, bad input that gets a
whole, clear message, archives that would unpack too much, and uploads refused as they arrive."""

import io
import tarfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from assignments.changesets import services as drafting
from assignments.models import ChangeSet, Move
from assignments.review import services as review
from papers.importing import archives
from papers.importing import services as importing
from papers.models import Authorship, ImportRun, Paper
from tests.factories import make_changeset, make_move, make_person, make_user

pytestmark = pytest.mark.django_db


def _drop_paper(data_dir: Path, collection: str, paper_number: str) -> None:
    xml = data_dir / "xml" / f"{collection}.xml"
    text = xml.read_text(encoding="utf-8")
    start = text.index(f'<paper id="{paper_number}">')
    end = text.index("</paper>", start) + len("</paper>")
    xml.write_text(text[:start] + text[end:], encoding="utf-8")


def test_an_import_that_drops_entries_under_moves_succeeds_and_keeps_the_moves(imported, data_copy):
    entries = list(Authorship.objects.filter(item_id="S18-1015").order_by("position"))
    assert len(entries) >= 3
    target = make_person(first="Zhengxin", last="Zhang", verified=True)
    reviewer = make_user(roles=("reviewer",))
    maintainer = make_user(roles=("maintainer",))
    applied = make_changeset(status=ChangeSet.Status.SUBMITTED)
    make_move(changeset=applied, authorship=entries[0], to_person=target)
    review.changeset_approve(changeset=applied, user=maintainer)
    submitted = make_changeset(status=ChangeSet.Status.SUBMITTED)
    make_move(changeset=submitted, authorship=entries[1], to_person=target)
    draft = drafting.changeset_get_or_create_draft(user=reviewer)
    drafting.moves_add(changeset=draft, authorships=[entries[2]], to_person=target)
    _drop_paper(data_copy, "S18", "15")

    result = importing.anthology_import(path=data_copy)

    assert not Paper.objects.filter(id="S18-1015").exists()
    moves = list(Move.objects.filter(item_id="S18-1015").order_by("position"))
    assert [m.authorship_id for m in moves] == [None, None, None]
    # the whole record stays: entry, from, to, who, when
    record = moves[0]
    assert (record.role, record.position, record.from_person_id, record.target_id) == (
        "author",
        entries[0].position,
        entries[0].person_id,
        target.id,
    )
    assert record.status == Move.Status.APPLIED and record.changeset.reviewed_by == maintainer
    assert result.counts["records_orphaned"] == 3
    assert len(result.orphaned) == 3
    assert any(f"change set {submitted.pk}" in line for line in result.orphaned)
    run = ImportRun.objects.get(pk=result.run.pk)
    assert "3 moves refer to entries this import removed" in run.summary
    # an open move whose entry vanished cannot be applied
    with pytest.raises(review.ChangeSetConflict, match="no longer exists"):
        review.changeset_approve(changeset=submitted, user=maintainer)


def test_the_reviewer_sees_that_a_moves_entry_vanished(imported, data_copy, client):
    reviewer = make_user(roles=("reviewer",))
    entry = Authorship.objects.filter(item_id="S18-1015").first()
    draft = drafting.changeset_get_or_create_draft(user=reviewer)
    drafting.moves_add(changeset=draft, authorships=[entry], to_person=make_person(verified=True))
    _drop_paper(data_copy, "S18", "15")
    importing.anthology_import(path=data_copy)
    client.force_login(reviewer)
    response = client.get("/changeset/")
    assert "removed by an import" in response.content.decode()


def test_a_duplicate_paper_id_is_refused_naming_the_file_and_the_id(imported, data_copy):
    xml = data_copy / "xml" / "S18.xml"
    text = xml.read_text(encoding="utf-8")
    start = text.index('<paper id="15">')
    end = text.index("</paper>", start) + len("</paper>")
    text = text[:end] + "\n" + text[start:end] + text[end:]  # paper 15 twice
    xml.write_text(text, encoding="utf-8")
    papers = Paper.objects.count()
    with pytest.raises(CommandError) as excinfo:
        call_command("import_anthology", str(data_copy), stdout=io.StringIO())
    message = str(excinfo.value)
    assert "S18.xml" in message and "S18-1015" in message and "more than once" in message
    assert Paper.objects.count() == papers


def test_a_person_without_names_gets_a_clear_message(imported, data_copy):
    people = data_copy / "json" / "people.json"
    text = people.read_text(encoding="utf-8")
    people.write_text(text.replace("{", '{"nobody-1": {"names": []},', 1), encoding="utf-8")
    with pytest.raises(CommandError) as excinfo:
        call_command("import_anthology", str(data_copy), stdout=io.StringIO())
    message = str(excinfo.value)
    assert "people.json" in message and "nobody-1" in message
    assert "Traceback" not in message and "\n" not in message


def test_a_corrupt_archive_message_is_whole_and_names_the_uploaded_file(db, tmp_path):
    archive = tmp_path / "stored-name.tar.gz"
    archive.write_bytes(b"\x1f\x8b\x08\x00" + b"not really gzip\n" * 20)
    run = ImportRun.objects.create(source=str(archive), source_name="my-upload.tar.gz")
    with pytest.raises(importing.AnthologyDataError):
        importing.anthology_import(path=archive, run=run)
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert "my-upload.tar.gz" in run.error and str(tmp_path) not in run.error
    assert run.error.endswith(")")  # the library's reason, not cut mid-sentence


def test_an_archive_member_over_the_limit_is_refused(db, tmp_path, monkeypatch):
    monkeypatch.setattr(archives, "ARCHIVE_MAX_MEMBER_BYTES", 1000)
    archive = tmp_path / "bomb.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("data/json/people.json")
        payload = b"{}" + b" " * 5000
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    with pytest.raises(importing.AnthologyDataError, match="over the limit of 1000 bytes"):
        importing.anthology_import(path=archive)


def test_the_work_folder_is_removed_whatever_happens(db, tmp_path, settings):
    settings.IMPORT_WORK_ROOT = tmp_path / "work"
    archive = tmp_path / "broken.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("data/xml/x.xml")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"<a>"))
    with pytest.raises(importing.AnthologyDataError):
        importing.anthology_import(path=archive)
    assert list((tmp_path / "work").glob("*")) == []


def test_an_oversized_upload_is_refused_before_it_is_stored(client, settings, tmp_path):
    settings.IMPORT_UPLOAD_MAX_BYTES = 1000
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    client.force_login(make_user(roles=("admin",)))
    body = io.BytesIO(b"x" * 200_000)
    body.name = "huge.tar.gz"
    response = client.post("/imports/new/", {"archive": body})
    assert response.status_code == 400
    assert "huge.tar.gz: 200" in response.content.decode()  # its declared size, refused
    assert "over the limit of 1000 bytes" in response.content.decode()
    assert list(tmp_path.iterdir()) == []  # nothing of it was written
    assert not ImportRun.objects.exists()


def test_pages_other_than_the_import_take_no_files(client, tmp_path, settings):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    client.force_login(make_user(roles=("reviewer",)))
    body = io.BytesIO(b"x" * 5_000_000)
    body.name = "junk.bin"
    response = client.post("/changeset/note/", {"note": "hi", "file": body})
    assert list(tmp_path.iterdir()) == []
    assert response.status_code in (200, 302)  # the note itself still goes through
