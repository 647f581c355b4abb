"""Imports that crash or race. A worker really killed (SIGKILL) in a subprocess, at the two
moments that matter. Before its data commits: nothing is written, the run is found dead and marked
failed, its work folder removed, and the same data imports again (it was not "no change").
After: the data, its checksum and the run's success committed together, so the database and the
record agree. And two previews of one name started at once."""

import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from papers.importing import services as importing
from papers.models import ImportRun, Paper

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ROOT = Path(__file__).resolve().parent.parent.parent

# Run in the subprocess: an import of ARCHIVE as run RUN_ID that stops for good (until killed)
# at PAUSE: "write" (inside the data's transaction) or "after" (once it has committed).
DRIVER = """
import os, sys, time, django
sys.path.insert(0, os.environ["ROOT"])
django.setup()
from papers.importing import services, writer
from papers.models import ImportRun

def stop_here(*args, **kwargs):
    print("paused", flush=True)
    time.sleep(600)

if os.environ["PAUSE"] == "write":
    writer.load_empty = stop_here
    writer.merge = stop_here
else:  # right after the data's transaction committed, before any clean-up
    write = services._write_snapshot

    def write_then_stop(*args, **kwargs):
        write(*args, **kwargs)
        stop_here()

    services._write_snapshot = write_then_stop
run = ImportRun.objects.get(pk=int(os.environ["RUN_ID"]))
services.anthology_import(path=os.environ["ARCHIVE"], run=run)
"""


def _database_url() -> str:
    s = connection.settings_dict
    return (
        f"postgresql://{quote(s['USER'])}:{quote(s['PASSWORD'] or '')}@/{quote(s['NAME'])}"
        f"?host={quote(s['HOST'])}&port={s['PORT']}"
        if s["HOST"].startswith("/")
        else f"postgresql://{quote(s['USER'])}:{quote(s['PASSWORD'] or '')}@{s['HOST']}:"
        f"{s['PORT']}/{quote(s['NAME'])}"
    )


def _import_and_kill(archive: Path, run: ImportRun, pause: str, work_root: Path) -> None:
    env = {
        **os.environ,
        "ROOT": str(ROOT),
        "PAUSE": pause,
        "RUN_ID": str(run.pk),
        "ARCHIVE": str(archive),
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "anthology_review.settings",
        "IMPORT_WORK_ROOT": str(work_root),
    }
    process = subprocess.Popen(
        [sys.executable, "-c", DRIVER], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # waits until the import reaches its pause
        assert line.strip() == "paused", line
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    time.sleep(0.2)  # the server notices the dropped connection


def _archive(fixture_data_dir: Path, tmp_path: Path) -> Path:
    archive = tmp_path / "anthology.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(fixture_data_dir, arcname="data")
    return archive


def test_a_worker_killed_inside_the_write_leaves_nothing_and_is_found(
    fixture_data_dir, tmp_path, settings
):
    settings.IMPORT_WORK_ROOT = tmp_path / "work"
    archive = _archive(fixture_data_dir, tmp_path)
    run = ImportRun.objects.create(source=str(archive))

    _import_and_kill(archive, run, "write", settings.IMPORT_WORK_ROOT)

    run.refresh_from_db()
    assert run.status == ImportRun.Status.RUNNING  # what the dead worker left
    assert Paper.objects.count() == 0
    assert (settings.IMPORT_WORK_ROOT / f"run-{run.pk}").is_dir()
    assert importing.runs_reap() == [run.pk]
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED and "worker stopped" in run.error
    assert not (settings.IMPORT_WORK_ROOT / f"run-{run.pk}").exists()
    # the same data again: imported, not skipped as "no change"
    result = importing.anthology_import(path=archive)
    assert not result.unchanged and Paper.objects.count() > 0


def test_a_worker_killed_after_the_commit_left_data_and_record_in_agreement(
    fixture_data_dir, tmp_path, settings
):
    settings.IMPORT_WORK_ROOT = tmp_path / "work"
    archive = _archive(fixture_data_dir, tmp_path)
    run = ImportRun.objects.create(source=str(archive))

    _import_and_kill(archive, run, "after", settings.IMPORT_WORK_ROOT)

    run.refresh_from_db()
    assert run.status == ImportRun.Status.SUCCEEDED and run.checksum
    assert Paper.objects.count() > 0
    folder = settings.IMPORT_WORK_ROOT / f"run-{run.pk}"
    assert folder.is_dir()  # left by the kill
    assert importing.runs_reap() == []  # nothing to mark: it committed
    assert not folder.exists()  # its leftovers go
    assert importing.anthology_import(path=archive).unchanged


def test_two_previews_of_one_name_at_once_one_is_refused_by_name(imported, data_copy):
    import threading

    from papers.importing.errors import AnthologyDataError

    outcomes: list[object] = []
    barrier = threading.Barrier(2)

    def preview() -> None:
        try:
            barrier.wait(timeout=10)
            outcomes.append(importing.anthology_import(path=data_copy, preview_name="same"))
        except AnthologyDataError as exc:
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=preview) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    errors = [o for o in outcomes if isinstance(o, AnthologyDataError)]
    try:
        assert len(outcomes) == 2 and len(errors) == 1
        assert "preview name 'same' is taken" in str(errors[0])
    finally:
        # schemas outlive the flush after a transactional test
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA IF EXISTS preview_same CASCADE")
