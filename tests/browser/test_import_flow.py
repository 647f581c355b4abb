"""An admin uploads an Anthology archive, watches the worker import it, reads the summary."""

import tarfile
import threading

import pytest
from django.db import connections
from django_tasks_db.management.commands.db_worker import Worker
from playwright.sync_api import Page, expect

from papers.models import ImportRun, Paper
from tests.browser.conftest import login
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _run_worker() -> None:
    """The database-backed worker, as `manage.py db_worker --batch` runs it (in a thread here:
    signals are for the main thread only, so they are not configured)."""
    try:
        Worker(
            queue_names=["default"],
            interval=0.1,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="browser-test",
            excluded_queue_names=[],
        ).run()
    finally:
        connections.close_all()  # this thread's connection, so the test database can go


def test_admin_uploads_the_fixture_archive_and_watches_it_finish(
    page: Page, live_server, settings, fixture_data_dir, tmp_path
):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    admin = make_user(roles=("admin",))
    archive = tmp_path / "anthology.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(fixture_data_dir, arcname="acl-anthology/data")

    login(page, live_server, admin.username, next_url="/imports/new/")
    page.set_input_files("#id_archive", str(archive))
    page.locator("form.import-form button[type=submit]").click()

    # Queued: nothing runs until the worker picks it up; the page keeps polling meanwhile.
    expect(page.locator("#progress")).to_contain_text("queued")
    worker = threading.Thread(target=_run_worker, daemon=True)
    worker.start()
    expect(page.locator("#progress progress")).to_have_attribute("value", "100", timeout=60_000)
    expect(page.locator("#progress")).to_contain_text("succeeded")
    expect(page.locator("#progress .summary")).to_contain_text("papers: 99 added")
    worker.join(timeout=30)

    page.goto(f"{live_server.url}/imports/")
    expect(page.locator("table.runs")).to_contain_text(admin.username)
    expect(page.locator("table.runs")).to_contain_text("succeeded")
    assert ImportRun.objects.get().status == ImportRun.Status.SUCCEEDED
    assert Paper.objects.filter(id="2021.acl-long.418").exists()
