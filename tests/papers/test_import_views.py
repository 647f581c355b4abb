import io
import tarfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.utils import override_settings
from django.urls import reverse
from pytest_django.asserts import assertContains, assertTemplateUsed

from papers.importing import services as importing
from papers.models import ImportRun, Paper, Preview
from tests.factories import HTMX, make_user


def _archive_bytes(fixture_data_dir, extra=None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(fixture_data_dir, arcname="acl-anthology/data")
        if extra:
            extra(tar)
    return buffer.getvalue()


def _upload(client, content: bytes, name="anthology.tar.gz", **data):
    with_file = {"archive": SimpleUploadedFile(name, content), **data}
    return client.post(reverse("papers:import_new"), with_file)


@pytest.fixture
def site_admin_client(client, db):
    """The test client logged in as a user with the app's admin role (not pytest-django's
    superuser admin_client)."""
    client.force_login(make_user(roles=("admin",)))
    return client


def test_anonymous_users_are_sent_to_log_in(client, db):
    for name in ("papers:import_list", "papers:import_new"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("role", ["reviewer", "maintainer"])
def test_only_admins_may_start_an_import(client, db, role, fixture_data_dir):
    client.force_login(make_user(roles=(role,)))
    response = client.post(reverse("papers:import_new"), {"server_path": str(fixture_data_dir)})
    assert response.status_code == 403
    assert not ImportRun.objects.exists()


def test_reviewers_cannot_see_imports(client, db):
    client.force_login(make_user(roles=("reviewer",)))
    assert client.get(reverse("papers:import_list")).status_code == 403


def test_admin_uploads_an_archive_and_sees_the_summary(
    site_admin_client, fixture_data_dir, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(site_admin_client, _archive_bytes(fixture_data_dir))
    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("papers:import_detail", args=[run.pk])
    assert run.status == ImportRun.Status.SUCCEEDED
    assert Paper.objects.filter(id="2024.acl-long.1").exists()

    page = site_admin_client.get(response.url)
    assert b"papers: 99 added" in page.content
    with assertTemplateUsed("papers/import_detail.html#progress"):
        partial = site_admin_client.get(response.url, headers=HTMX)
    assert b"<html" not in partial.content
    assert b'hx-trigger="every 1s"' not in partial.content  # finished: polling stops
    assert "HX-Request" in partial["Vary"]


def test_a_running_import_page_polls(site_admin_client, db):
    run = ImportRun.objects.create(source="/x", status=ImportRun.Status.RUNNING, progress=40)
    page = site_admin_client.get(reverse("papers:import_detail", args=[run.pk]))
    assert b'hx-trigger="every 1s"' in page.content
    assert b'value="40"' in page.content


def test_upload_with_path_traversal_is_refused_and_changes_nothing(
    site_admin_client, fixture_data_dir, django_capture_on_commit_callbacks
):
    def evil(tar):
        info = tarfile.TarInfo("../../evil.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))

    with django_capture_on_commit_callbacks(execute=True):
        _upload(site_admin_client, _archive_bytes(fixture_data_dir, evil))
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.FAILED
    assert "outside the archive" in run.error
    assert not Paper.objects.exists()
    page = site_admin_client.get(reverse("papers:import_detail", args=[run.pk]))
    assert b"outside the archive" in page.content
    assert b"Nothing was changed." in page.content


def test_upload_with_a_symlink_is_refused(
    site_admin_client, fixture_data_dir, django_capture_on_commit_callbacks
):
    def link(tar):
        info = tarfile.TarInfo("acl-anthology/data/xml/link.xml")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        tar.addfile(info)

    with django_capture_on_commit_callbacks(execute=True):
        _upload(site_admin_client, _archive_bytes(fixture_data_dir, link))
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.FAILED
    assert "is a link" in run.error


def test_corrupt_upload_fails_cleanly(site_admin_client, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _upload(site_admin_client, b"\x1f\x8b not gzip at all")
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.FAILED
    assert "corrupt or unreadable archive" in run.error


def test_upload_must_be_an_archive_within_the_size_limit(site_admin_client, fixture_data_dir):
    response = _upload(site_admin_client, b"hello", name="notes.txt")
    assert response.status_code == 400
    assert b"upload a .tar.gz, .tar.xz or .zip archive" in response.content
    with override_settings(IMPORT_UPLOAD_MAX_BYTES=10):
        response = _upload(site_admin_client, _archive_bytes(fixture_data_dir))
    assert response.status_code == 400
    assert b"over the limit" in response.content
    assert not ImportRun.objects.exists()


def test_form_needs_exactly_one_source(site_admin_client):
    response = site_admin_client.post(reverse("papers:import_new"), {})
    assert response.status_code == 400
    assert b"Upload an archive or name a server path" in response.content


def test_a_form_error_is_shown_once(site_admin_client):
    response = site_admin_client.post(reverse("papers:import_new"), {})
    assert response.content.count(b"Upload an archive or name a server path") == 1


def test_preview_from_the_browser_then_discard(
    site_admin_client, imported, fixture_data_dir, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = site_admin_client.post(
            reverse("papers:import_new"),
            {"server_path": str(fixture_data_dir), "preview_name": "same-data"},
        )
    preview = Preview.objects.get(name="same-data")
    page = site_admin_client.get(response.url)
    assert b"Effect on people" in page.content
    assert b"0 author entries change person" in page.content

    # the server asks first
    url = reverse("papers:preview_decide", args=["same-data"])
    response = site_admin_client.post(url, {"action": "discard"})
    assert response.status_code == 200
    assertContains(response, "Discard preview “same-data”?")
    assertContains(response, '<input type="hidden" name="confirmed" value="yes">', html=True)
    preview.refresh_from_db()
    assert preview.status == Preview.Status.READY

    response = site_admin_client.post(url, {"action": "discard", "confirmed": "yes"})
    assert response.status_code == 302
    preview.refresh_from_db()
    assert preview.status == Preview.Status.DISCARDED


def test_promoting_a_preview_asks_first(site_admin_client, imported, fixture_data_dir):
    importing.anthology_import(path=fixture_data_dir, preview_name="p2")
    url = reverse("papers:preview_decide", args=["p2"])
    response = site_admin_client.post(url, {"action": "promote"})
    assertContains(response, "Promote preview “p2”?")
    assertContains(response, "Yes, promote")
    assert not ImportRun.objects.filter(status=ImportRun.Status.QUEUED).exists()
    assert Preview.objects.get(name="p2").status == Preview.Status.READY


def test_reviewer_cannot_promote_or_discard(client, imported, fixture_data_dir):

    importing.anthology_import(path=fixture_data_dir, preview_name="p1")
    client.force_login(make_user(roles=("reviewer",)))
    response = client.post(reverse("papers:preview_decide", args=["p1"]), {"action": "discard"})
    assert response.status_code == 403
    assert Preview.objects.get(name="p1").status == Preview.Status.READY


def test_only_admins_see_the_start_link(client, db):
    client.force_login(make_user(roles=("maintainer",)))
    assert (
        reverse("papers:import_new").encode()
        not in client.get(reverse("papers:import_list")).content
    )
    client.force_login(make_user(roles=("admin",)))
    assert (
        reverse("papers:import_new").encode() in client.get(reverse("papers:import_list")).content
    )
