"""Conditional GET (papers.caching) on person pages and search: 304 while nothing the page shows
changed, a new tag after a decision or an import, and nothing shared between users."""

import pytest
from django.utils import timezone

from assignments.models import Suggestion
from assignments.review import services as review
from papers import selectors
from papers import services as catalog
from papers.importing import services as importing
from papers.models import Authorship
from tests.factories import (
    HTMX,
    make_changeset,
    make_move,
    make_paper,
    make_person,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def page():
    """A person with two papers and a namesake: (person, namesake, its two entries)."""
    person = make_person(first="Peiyu", last="Liu")
    namesake = make_person(first="Peiyu", last="Liu")
    papers = [make_paper(title=f"Paper {i}", authors=(person,)) for i in range(2)]
    return person, namesake, [p.authorships.get() for p in papers]


def revalidate(client, url: str, etag: str, **headers):
    return client.get(url, headers={"If-None-Match": etag, **headers})


@pytest.mark.parametrize("kind", ["person", "search"])
def test_unchanged_page_is_answered_with_304(client, page, kind):
    person = page[0]
    url = f"/people/{person.pk}/" if kind == "person" else "/search/?q=peiyu"
    first = client.get(url)
    assert first.status_code == 200
    etag = first["ETag"]
    assert etag.startswith('W/"')
    assert first["Cache-Control"] == "private, no-cache"
    assert {"Cookie", "HX-Request"} <= {v.strip() for v in first["Vary"].split(",")}
    again = revalidate(client, url, etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert again["Cache-Control"] == "private, no-cache"
    assert "Cookie" in again["Vary"]
    assert revalidate(client, url, 'W/"something else"').status_code == 200


def test_the_htmx_fragment_has_a_tag_of_its_own(client, page):
    url = f"/people/{page[0].pk}/"
    whole = client.get(url)["ETag"]
    fragment = client.get(url, headers=HTMX)
    assert fragment["ETag"] != whole
    assert revalidate(client, url, whole, **HTMX).status_code == 200
    assert revalidate(client, url, fragment["ETag"], **HTMX).status_code == 304


def test_a_revalidation_costs_a_few_queries_whatever_the_page(
    client, page, django_assert_max_num_queries
):
    person = page[0]
    for i in range(20):
        make_paper(title=f"More {i}", authors=(person,))
    url = f"/people/{person.pk}/"
    etag = client.get(url)["ETag"]
    # the catalog version, the page's moves, its decisions, its suggestion
    with django_assert_max_num_queries(4):
        assert revalidate(client, url, etag).status_code == 304


def test_a_move_proposed_on_the_page_changes_its_tag(client, page):
    person, namesake, (entry, _) = page
    url = f"/people/{person.pk}/"
    etag = client.get(url)["ETag"]
    draft = make_changeset(status="draft")
    move = make_move(changeset=draft, authorship=entry, to_person=namesake)
    after_draft = revalidate(client, url, etag)
    assert after_draft.status_code == 200
    assert "pending" in after_draft.content.decode()
    # The target's page changes too ("incoming"), and so does a removal from the draft.
    target_etag = client.get(f"/people/{namesake.pk}/")["ETag"]
    move.delete()
    assert revalidate(client, url, after_draft["ETag"]).status_code == 200
    assert revalidate(client, f"/people/{namesake.pk}/", target_etag).status_code == 200


def test_an_applied_decision_changes_the_tags(client, page, django_capture_on_commit_callbacks):
    person, namesake, (entry, _) = page
    other = make_person(first="Someone", last="Else")
    make_paper(authors=(other,))
    urls = [f"/people/{person.pk}/", f"/people/{other.pk}/", "/search/?q=peiyu"]
    etags = {url: client.get(url)["ETag"] for url in urls}
    changeset = make_changeset()
    make_move(changeset=changeset, authorship=entry, to_person=namesake)
    maintainer = make_user(roles=("maintainer",))
    before = selectors.catalog_version()
    with django_capture_on_commit_callbacks(execute=True):
        review.changeset_approve(changeset=changeset, user=maintainer)
    assert selectors.catalog_version() > before
    # Every page of the catalog: the apply may have changed coauthors' links anywhere.
    for url, etag in etags.items():
        assert revalidate(client, url, etag).status_code == 200, url


def test_the_catalog_version_moves_only_after_the_commit(page, django_capture_on_commit_callbacks):
    person, namesake, (entry, _) = page
    before = selectors.catalog_version()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        catalog.entries_reassign(targets={entry.pk: namesake.pk})
        # Not yet: a page read now, before the commit, must not carry the new number.
        assert selectors.catalog_version() == before
    for callback in callbacks:
        callback()
    assert selectors.catalog_version() == before + 1


def test_an_import_that_changes_data_changes_the_tags(
    client, data_copy, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        importing.anthology_import(path=data_copy)
    url = "/people/{}/".format(Authorship.objects.get(item_id="S18-1015", position=0).person_id)
    etag = client.get(url)["ETag"]
    # The same data again changes nothing, and keeps the tags.
    with django_capture_on_commit_callbacks(execute=True):
        assert importing.anthology_import(path=data_copy).unchanged
    assert revalidate(client, url, etag).status_code == 304
    xml = data_copy / "xml" / "S18.xml"
    text = xml.read_text(encoding="utf-8")
    title_at = text.index("<title>", text.index('<paper id="15">')) + len("<title>")
    xml.write_text(text[:title_at] + "Changed " + text[title_at:], encoding="utf-8")
    with django_capture_on_commit_callbacks(execute=True):
        importing.anthology_import(path=data_copy)
    changed = revalidate(client, url, etag)
    assert changed.status_code == 200
    assert "Changed " in changed.content.decode()


def test_a_new_suggestion_changes_the_tag(client, page):
    person = page[0]
    url = f"/people/{person.pk}/"
    etag = client.get(url)["ETag"]
    Suggestion.objects.create(person=person, computed_at=timezone.now())
    assert revalidate(client, url, etag).status_code == 200


def test_logged_in_users_get_no_tag_and_never_a_304(client, page):
    person = page[0]
    url = f"/people/{person.pk}/"
    anonymous_etag = client.get(url)["ETag"]
    client.force_login(make_user(roles=("reviewer",)))
    response = revalidate(client, url, anonymous_etag)
    assert response.status_code == 200
    assert "ETag" not in response
    assert response["Cache-Control"] == "private, no-cache"
    assert "Cookie" in response["Vary"]


def test_marking_the_page_one_person_changes_its_tag(client, page):
    from assignments.models import PageDecision
    from tests.factories import make_changeset

    person, _, (entry, _) = page
    url = f"/people/{person.pk}/"
    before = client.get(url)["ETag"]
    PageDecision.objects.create(
        changeset=make_changeset(), person_id=person.pk, authorship_ids=[entry.pk]
    )
    assert client.get(url)["ETag"] != before
