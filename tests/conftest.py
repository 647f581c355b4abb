import shutil
from pathlib import Path

import pytest

FIXTURE_DATA = Path(__file__).resolve().parent.parent / "fixtures" / "data"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Hashing passwords properly costs ~0.3 s each; tests make many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    # Background tasks run in-process in tests; the worker is for the real app.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def fixture_data_dir() -> Path:
    """The small real Anthology cut in fixtures/ (read-only: copy it to change it)."""
    return FIXTURE_DATA


@pytest.fixture
def data_copy(tmp_path) -> Path:
    """A writable copy of the fixture data folder."""
    dest = tmp_path / "data"
    shutil.copytree(FIXTURE_DATA, dest)
    return dest


@pytest.fixture
def imported(db, fixture_data_dir):
    """The database with the fixture data imported."""
    from papers import services

    return services.anthology_import(path=fixture_data_dir)
