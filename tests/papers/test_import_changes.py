"""What an import tells the apps above: the persons whose entries changed, and the persons it
removed with where their entries went."""

import pytest

from papers.importing import decisions
from papers.importing import services as importing
from papers.models import Authorship, RemovedPerson
from tests.papers.test_previews import _give_explicit_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard(monkeypatch):
    """The persons each catalog-changed report named (the registered listeners replaced)."""
    reports: list[frozenset[str]] = []
    monkeypatch.setattr(decisions, "_listeners", [])
    decisions.on_catalog_changed(reports.append)
    return reports


def test_an_import_reports_the_persons_whose_entries_changed_once_committed(
    imported, data_copy, heard, django_capture_on_commit_callbacks
):
    entry = Authorship.objects.get(item_id="S18-1015", role="author", position=0)
    _give_explicit_id(
        data_copy, "S18", "15", "moved-person", {"first": entry.first, "last": entry.last}
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        importing.anthology_import(path=data_copy)
    assert heard == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert heard == [frozenset({entry.person_id, "moved-person"})]
    assert not RemovedPerson.objects.exists()  # the old page keeps its other papers


def test_an_unchanged_import_reports_nothing(
    imported, fixture_data_dir, data_copy, heard, django_capture_on_commit_callbacks
):
    (data_copy / "xml" / "W99.xml").write_text(
        (fixture_data_dir / "xml" / "W99.xml").read_text(encoding="utf-8") + "\n",
        encoding="utf-8",
    )
    with django_capture_on_commit_callbacks(execute=True):
        importing.anthology_import(path=data_copy)
    assert heard == []


def test_a_removed_person_is_recorded_with_where_its_entries_went(
    imported, data_copy, heard, client, django_capture_on_commit_callbacks
):
    entry = Authorship.objects.get(item_id="2021.acl-long.1", role="author", position=0)
    old = entry.person_id
    assert entry.person.item_count == 1
    _give_explicit_id(
        data_copy, "2021.acl", "1", "tilman-beck-tu", {"first": entry.first, "last": entry.last}
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = importing.anthology_import(path=data_copy)
    assert heard == [frozenset({old, "tilman-beck-tu"})]
    removed = RemovedPerson.objects.get()
    assert (removed.person_id, removed.name, removed.entries) == (old, "Tilman Beck", 1)
    assert removed.import_run == result.run
    assert removed.went_to == [{"person_id": "tilman-beck-tu", "name": "Tilman Beck", "entries": 1}]
    assert removed.deleted_entries == 0

    response = client.get(f"/people/{old}/")
    assert response.status_code == 404
    assert 'href="/people/tilman-beck-tu/"' in response.content.decode()
