"""The catalog's writes: compare-and-swap on entries, moving entries, creating persons."""

import threading

import pytest
from django.db import close_old_connections, connection, transaction

from papers import services as catalog
from papers.models import Authorship, Person, PersonName
from tests.factories import make_paper, make_person

pytestmark = pytest.mark.django_db


def _claim(entry: Authorship, expected: str) -> catalog.EntryClaim:
    return catalog.EntryClaim(entry.pk, entry.item_id, entry.role, entry.position, expected)


def test_claim_conflict_is_the_rule():
    claim = catalog.EntryClaim(1, "2024.acl-long.1", "author", 0, "a")
    assert catalog.claim_conflict(claim, "a") is None
    moved = catalog.claim_conflict(claim, "b")
    assert str(moved) == "2024.acl-long.1 author #1 now belongs to b, not a as proposed"
    gone = catalog.claim_conflict(claim, None)
    assert str(gone) == "2024.acl-long.1 author #1 no longer exists"


def test_compare_and_lock_reports_moved_and_vanished_entries():
    a, b = make_person(first="Ann", last="Lee"), make_person(first="Bo", last="Lee")
    kept, moved = (make_paper(authors=(a,)).authorships.get() for _ in range(2))
    vanished = catalog.EntryClaim(None, "2020.x-1.1", "author", 2, a.id)
    Authorship.objects.filter(pk=moved.pk).update(person=b)
    with transaction.atomic():
        conflicts = catalog.entries_compare_and_lock(
            [_claim(kept, a.id), _claim(moved, a.id), vanished]
        )
    assert [(c.claim, c.actual_person_id) for c in conflicts] == [
        (_claim(moved, a.id), b.id),
        (vanished, None),
    ]


def test_entries_reassign_adds_the_printed_name_and_refreshes_counts():
    page = make_person(first="Peiyu", last="Liu", id="peiyu-liu/unverified")
    target = make_person(first="P.", last="Liu", verified=True)
    entries = [make_paper(authors=(page,)).authorships.get() for _ in range(3)]
    catalog.persons_refresh_stats(person_ids=[page.id, target.id])

    catalog.entries_reassign(targets={entries[0].pk: target.id, entries[1].pk: target.id})

    assert Authorship.objects.filter(person=target).count() == 2
    page.refresh_from_db()
    target.refresh_from_db()
    assert (page.item_count, target.item_count) == (1, 2)
    name = PersonName.objects.get(person=target, first="Peiyu", last="Liu")
    assert name.is_explicit and not name.is_canonical


def test_persons_create_refuses_a_taken_id():
    make_person(first="Ann", last="Lee", id="ann-lee", verified=True)
    with pytest.raises(catalog.PersonIdTaken) as taken:
        catalog.persons_create(persons=[catalog.NewPersonSpec("ann-lee", "Ann", "Lee")])
    assert taken.value.ids == ["ann-lee"]
    catalog.persons_create(persons=[catalog.NewPersonSpec("ann-lee-2", "Ann", "Lee")])
    assert PersonName.objects.get(person_id="ann-lee-2").is_canonical


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_writers_giving_entries_the_same_name_make_one_name_row():
    page = make_person(first="Ji-Rong", last="Wen", id="ji-rong-wen/unverified")
    target = make_person(first="J.", last="Wen", verified=True)
    entries = [make_paper(authors=(page,)).authorships.get() for _ in range(2)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def move(entry: Authorship) -> None:
        try:
            with transaction.atomic():
                barrier.wait(timeout=10)
                catalog.entries_reassign(targets={entry.pk: target.id})
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=move, args=(e,)) for e in entries]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert PersonName.objects.filter(person=target, first="Ji-Rong", last="Wen").count() == 1
    assert Person.objects.get(pk=target.pk).item_count == 2
