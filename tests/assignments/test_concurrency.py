"""Writers of the catalog take one lock, in one order: an approval during an import waits
briefly, or is refused with a clear message; never a deadlock, never a 500."""

import threading

import pytest
from django.db import connection, transaction

from assignments.models import ChangeSet
from assignments.review import services as review
from papers import services as catalog
from papers.importing import services as importing
from papers.importing import writer
from papers.models import Authorship
from tests.factories import HTMX, make_user

# serialized_rollback: the flush after each test would otherwise drop the roles the data
# migration made, which the tests after these expect.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

UNVERIFIED = "peiyu-liu/unverified"


def _proposal() -> ChangeSet:
    from tests.factories import make_proposal

    entries = list(Authorship.objects.filter(person_id=UNVERIFIED).order_by("item_id")[:2])
    return make_proposal(authorships=entries, person_id="peiyu-liu-ruc")


class _HeldCatalog:
    """Another session holding the catalog lock, as an import does while it writes."""

    def __init__(self) -> None:
        self.holding, self.release = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        try:
            with transaction.atomic():
                catalog.catalog_lock(exclusive=True)
                self.holding.set()
                self.release.wait(timeout=30)
        finally:
            connection.close()

    def __enter__(self) -> "_HeldCatalog":
        self.thread.start()
        assert self.holding.wait(timeout=10)
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.thread.join(timeout=30)


def test_an_approval_while_an_import_writes_is_refused_with_a_message(imported, client, settings):
    settings.CATALOG_LOCK_WAIT_SECONDS = 0.3
    cs = _proposal()
    client.force_login(make_user(roles=("maintainer",)))
    with _HeldCatalog():
        response = client.post(f"/review/{cs.pk}/decide/", {"decision": "approve"}, headers=HTMX)
    assert response.status_code == 409
    assert "An import is running" in response.content.decode()
    cs.refresh_from_db()
    assert cs.status == ChangeSet.Status.SUBMITTED
    # once the import is done, the same approval goes through
    response = client.post(f"/review/{cs.pk}/decide/", {"decision": "approve"})
    assert response.status_code == 302
    cs.refresh_from_db()
    assert cs.status == ChangeSet.Status.APPLIED


def test_an_import_and_an_approval_at_once_both_finish(imported, fixture_data_dir, monkeypatch):
    cs = _proposal()
    maintainer = make_user(roles=("maintainer",))
    in_merge, approving = threading.Event(), threading.Event()
    merge = writer.merge

    def slow_merge(cursor, snap, decisions):
        in_merge.set()
        approving.wait(timeout=10)  # the approval is under way while the import writes
        return merge(cursor, snap, decisions)

    monkeypatch.setattr(writer, "merge", slow_merge)
    monkeypatch.setattr(importing.writer, "merge", slow_merge)
    # the import must really merge (not stop at "no change"): a different source checksum
    monkeypatch.setattr(importing, "data_checksum", lambda d: ("other", {}))
    errors: list[BaseException] = []

    def run_import() -> None:
        try:
            importing.anthology_import(path=fixture_data_dir)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run_import)
    thread.start()
    assert in_merge.wait(timeout=30)
    approving.set()
    review.changeset_approve(changeset=cs, user=maintainer)  # waits for the import, then applies
    thread.join(timeout=60)
    assert errors == []
    cs.refresh_from_db()
    assert cs.status == ChangeSet.Status.APPLIED
    assert Authorship.objects.filter(person_id="peiyu-liu-ruc").count() == 2
