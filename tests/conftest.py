import shutil
from pathlib import Path

import pytest

from papers import views as papers_views
from papers.importing import services as importing

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
def _fresh_search_results():
    # Tests write the catalog with factories, which do not move its version as the services
    # do: results kept by an earlier test must not answer a later one.
    papers_views.SEARCH_RESULTS.clear()


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

    return importing.anthology_import(path=fixture_data_dir)


@pytest.fixture
def fake_clustering(monkeypatch):
    """A stand-in for assignments.clustering that answers in the service's own result types and
    evidence shape. Returns what its split_block last saw: signatures, ids (a set), must and
    cannot (the constraints)."""
    import sys
    import types

    from assignments.clustering.service import BlockResult, Cluster
    from tests.factories import make_evidence

    seen = {}

    def split_block(signatures, *, model, must_link=(), cannot_link=()):
        ids = [s["id"] for s in signatures]
        seen.update(signatures=signatures, ids=set(ids), must=must_link, cannot=cannot_link)
        first = Cluster(ids[:2], 0.8, make_evidence(venues=["acl"], years=(2020, 2021)))
        if len(ids) <= 2:  # too few to split: one person
            return BlockResult(clusters=[first], estimated_people=1.0, separations=[])
        second = Cluster(
            ids[2:], 0.55, make_evidence(terms=["speech"], coauthors=["Wayne Xin Zhao"])
        )
        return BlockResult(
            clusters=[first, second],
            estimated_people=2.0,
            separations=[{"clusters": [0, 1], "similarity": 0.1, "reason": "different venues"}],
        )

    fake = types.ModuleType("assignments.clustering")
    fake.load_model = lambda path: object()
    fake.split_block = split_block
    monkeypatch.setitem(sys.modules, "assignments.clustering", fake)
    return seen
