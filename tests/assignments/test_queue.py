"""The queue of mixed pages: order, filters, "one person" marks, stale figures, next page."""

from urllib.parse import quote

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertTemplateUsed

from assignments.changesets import services as drafting
from assignments.models import ChangeSet, Suggestion
from assignments.pages import queue
from assignments.review import services as review
from assignments.suggestions.split import entries_fingerprint, suggestion_cluster
from papers import services as catalog
from tests.factories import HTMX, make_paper, make_person, make_user

pytestmark = pytest.mark.django_db


def make_queued(
    *,
    papers: int,
    mixed: float,
    people: float = 2.0,
    first: str = "Peiyu",
    last: str = "Liu",
    verified: bool = False,
):
    """A page with `papers` papers and a stored split into its first paper and the rest."""
    person = make_person(first=first, last=last, verified=verified)
    entries = [
        make_paper(title=f"{last} paper {i}", authors=(person,)).authorships.get()
        for i in range(papers)
    ]
    catalog.persons_refresh_stats(person_ids=[person.pk])
    ids = [str(e.pk) for e in entries]
    Suggestion.objects.create(
        person=person,
        mixed_score=mixed,
        estimated_people=people,
        item_count=papers,
        fingerprint=entries_fingerprint(ids),
        clusters=[
            suggestion_cluster(signature_ids=ids[1:], confidence=0.9, evidence={}),
            suggestion_cluster(signature_ids=ids[:1], confidence=0.8, evidence={}),
        ],
    )
    person.refresh_from_db()
    return person, entries


def order(**filters) -> list[str]:
    return list(queue.queue(queue.QueueFilters(**filters)).values_list("person_id", flat=True))


def test_order_is_the_papers_a_split_would_move_and_the_page_shows_it(client):
    # the case: two-paper pages at 0.45 used to rank above the 9-paper, 2.6-person page
    two, _ = make_queued(papers=2, mixed=0.45, last="Two")
    nine, _ = make_queued(papers=9, mixed=0.27, people=2.6, last="Nine")
    one_person, _ = make_queued(papers=5, mixed=0.0, people=1.0, last="Single")
    assert order() == [nine.pk, two.pk]

    response = client.get(reverse("pages:mixed"))
    content = response.content.decode()
    assert content.index("Nine") < content.index("Two")
    assertNotContains(response, one_person.pk)
    # the column the order follows: 0.27 x 9 and 0.45 x 2
    assertContains(response, "<strong>2.43</strong>", html=True)
    assertContains(response, "<strong>0.90</strong>", html=True)


def test_filters_name_min_papers_verified(client):
    liu, _ = make_queued(papers=3, mixed=0.5, last="Liu")
    wang, _ = make_queued(papers=6, mixed=0.5, last="Wang", verified=True)
    assert order(name="peiyu liu") == [liu.pk]
    assert order(name="WANG") == [wang.pk]
    assert order(min_papers=4) == [wang.pk]
    assert order(verified="verified") == [wang.pk]
    assert order(verified="unverified") == [liu.pk]

    response = client.get(reverse("pages:mixed"), {"min_papers": "4", "verified": "verified"})
    assertContains(response, wang.pk)
    assertNotContains(response, liu.pk)
    # filters carried to each page, for its "next page"
    assertContains(response, f"?queue={quote('min_papers=4&verified=verified', safe='')}")


@pytest.mark.parametrize(
    "query",
    [
        {"min_papers": "many"},
        {"min_papers": "99999999999999999999"},
        {"min_papers": "-3"},
        {"verified": "maybe"},
        {"name": "x" * 5000},
        {"page": "last"},
    ],
)
def test_odd_filters_never_fail(client, query):
    make_queued(papers=3, mixed=0.5)
    response = client.get(reverse("pages:mixed"), query)
    assert response.status_code == 200


def test_not_yet_reviewed_hides_pages_in_change_sets_and_marked_one_person(client, maintainer):
    moved, entries = make_queued(papers=3, mixed=0.5, last="Moved")
    marked, _ = make_queued(papers=3, mixed=0.4, last="Marked")
    fresh, _ = make_queued(papers=3, mixed=0.3, last="Fresh")
    rita = make_user(roles=("reviewer",))
    draft = drafting.changeset_get_or_create_draft(user=rita)
    drafting.moves_add_to_new_person(
        changeset=draft, authorships=entries[:1], first_name="Peiyu", last_name="Moved"
    )
    drafting.page_decision_add(changeset=draft, person=marked)
    assert order(not_reviewed=True) == [fresh.pk]
    # both stay in the plain queue, marked as in progress
    rows = {s.person_id: s.in_progress for s in queue.queue()}
    assert rows == {moved.pk: True, marked.pk: True, fresh.pk: False}
    assertContains(client.get(reverse("pages:mixed")), "in a change set", count=2)

    # once approved, a page marked one person leaves the queue for good
    drafting.changeset_submit(changeset=draft, user=rita)
    review.changeset_approve(changeset=draft, user=maintainer)
    assert marked.pk not in order()
    assert ChangeSet.objects.get(pk=draft.pk).status == ChangeSet.Status.APPLIED


def test_a_page_whose_papers_changed_shows_no_stale_figures(client):
    person, entries = make_queued(papers=4, mixed=0.6, people=2.6, last="Stale")
    make_paper(title="Arrived since", authors=(person,))
    response = client.get(reverse("pages:mixed"))
    assertContains(response, "Its papers changed since it was split: being recomputed.")
    assertNotContains(response, "2.6")


def test_queue_is_a_partial_for_htmx_and_its_queries_do_not_grow(
    client, django_assert_max_num_queries
):
    make_queued(papers=3, mixed=0.5)
    with assertTemplateUsed("assignments/mixed.html#queue"):
        response = client.get(reverse("pages:mixed"), headers=HTMX)
    assertNotContains(response, "<html")
    with django_assert_max_num_queries(6) as few:
        client.get(reverse("pages:mixed"))
    for k in range(8):
        make_queued(papers=2 + k, mixed=0.5, last=f"More{k}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("pages:mixed"))


def test_next_page_follows_the_order_skipping_pages_in_progress(client):
    first, entries = make_queued(papers=9, mixed=0.5, last="First")
    second, _ = make_queued(papers=6, mixed=0.5, last="Second")
    third, _ = make_queued(papers=4, mixed=0.5, last="Third")
    url = reverse("pages:mixed_next")

    assert client.get(url)["Location"] == f"/people/{quote(first.pk)}/"
    # skipped (nothing done): the next one in order
    assert client.get(url, {"after": first.pk})["Location"] == f"/people/{quote(second.pk)}/"
    # worked on: `second` is in a draft now, and skipped from anywhere
    rita = make_user(roles=("reviewer",))
    draft = drafting.changeset_get_or_create_draft(user=rita)
    drafting.page_decision_add(changeset=draft, person=second)
    assert client.get(url, {"after": first.pk})["Location"] == f"/people/{quote(third.pk)}/"
    assert client.get(url, {"after": second.pk})["Location"] == f"/people/{quote(third.pk)}/"
    # the end of the queue says so
    response = client.get(url, {"after": third.pk}, follow=True)
    assertContains(response, "That was the last page of the queue")


def test_next_page_keeps_the_filters(client):
    big, _ = make_queued(papers=9, mixed=0.5, last="Big", verified=True)
    small, _ = make_queued(papers=3, mixed=0.9, last="Small", verified=True)
    make_queued(papers=8, mixed=0.5, last="Unverified")
    encoded = "verified=verified"
    response = client.get(reverse("pages:mixed_next"), {"after": big.pk, "queue": encoded})
    assert response["Location"] == f"/people/{quote(small.pk)}/?queue=verified%3Dverified"
    # and the page links onwards with them
    rita = make_user(roles=("reviewer",))
    client.force_login(rita)
    page = client.get(response["Location"])
    assertContains(
        page, f"/mixed/next/?after={quote(small.pk, safe='')}&amp;queue=verified%3Dverified"
    )


def test_home_lists_the_queue_in_its_order(client):
    two, _ = make_queued(papers=2, mixed=0.45, last="Two")
    nine, _ = make_queued(papers=9, mixed=0.27, last="Nine")
    content = client.get("/").content.decode()
    assert content.index("Nine") < content.index("Two")
    assert "2.4 to move" in content
