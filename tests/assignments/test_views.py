import pytest
from pytest_django.asserts import assertContains, assertRedirects, assertTemplateUsed

from assignments.changesets import services as drafting
from assignments.models import ChangeSet, Move, NewPerson
from tests.factories import HTMX, make_paper, make_person, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer(reviewer, client):
    """The conftest's reviewer ("rita"), logged in."""
    client.force_login(reviewer)
    return reviewer


def assign_data(person, entries, **extra):
    data = {"from_person": person.pk, "authorships": [e.pk for e in entries], "target": "person"}
    data.update(extra)
    return data


def test_assign_needs_login_and_reviewer_role(client, person_page):
    person, entries = person_page
    target = make_person(id="peiyu-liu-ruc", verified=True)
    data = assign_data(person, entries, to_person=target.pk)
    response = client.post("/changeset/assign/", data)
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(make_user(username="nobody"))
    assert client.post("/changeset/assign/", data).status_code == 403
    assert client.get("/changeset/").status_code == 403
    assert not Move.objects.exists()


def test_assign_without_htmx_redirects_back_with_message(client, reviewer, person_page):
    person, entries = person_page
    target = make_person(id="peiyu-liu-ruc", verified=True)
    response = client.post(
        "/changeset/assign/", assign_data(person, entries[:2], to_person=target.pk)
    )
    assertRedirects(response, f"/people/{person.pk}/", fetch_redirect_response=False)
    draft = ChangeSet.objects.get(created_by=reviewer)
    assert draft.moves.count() == 2
    page_response = client.get(f"/people/{person.pk}/")
    assertContains(page_response, "Added 2 moves to peiyu-liu-ruc")


def test_assign_with_htmx_returns_form_partial_and_event(client, reviewer, person_page):
    person, entries = person_page
    with assertTemplateUsed("assignments/person_detail.html#assign"):
        response = client.post(
            "/changeset/assign/",
            assign_data(
                person,
                entries,
                target="new",
                first_name="Peiyu",
                last_name="Liu",
                orcid="0000-0002-1825-0097",
                degree="Renmin University of China",
            ),
            headers=HTMX,
        )
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == '{"changeset-changed": {}}'
    assertContains(response, "Added 3 moves to peiyu-liu")
    assert b"<html" not in response.content
    new_person = NewPerson.objects.get()
    assert new_person.orcid == "0000-0002-1825-0097"
    assert new_person.moves.count() == 3


@pytest.mark.parametrize("htmx", [False, True])
def test_assign_errors_are_shown_next_to_the_form_and_nothing_is_saved(
    client, reviewer, person_page, htmx
):
    person, entries = person_page
    headers = HTMX if htmx else {}
    cases = [
        (assign_data(person, [], to_person="x"), "Select at least one paper"),
        (assign_data(person, entries, to_person="no-such-person"), "no person with the id"),
        (
            assign_data(
                person, entries, target="new", last_name="Liu", orcid="0000-0002-1825-0098"
            ),
            "checksum",
        ),
        (assign_data(person, entries, target="new", last_name=""), "needs a last name"),
        (assign_data(person, entries, to_person=person.pk), "already belongs to"),
    ]
    for data, message in cases:
        response = client.post("/changeset/assign/", data, headers=headers)
        assert response.status_code == 200
        assertContains(response, message)
        assert (b"<html" in response.content) is not htmx
    assert not Move.objects.exists()
    assert not NewPerson.objects.exists()


def test_assign_refuses_entry_moved_by_someone_else(client, reviewer, person_page):
    person, entries = person_page
    other = drafting.changeset_get_or_create_draft(user=make_user(username="alice"))
    drafting.moves_add(
        changeset=other, authorships=entries[:1], to_person=make_person(verified=True)
    )
    response = client.post(
        "/changeset/assign/",
        assign_data(person, entries, to_person=make_person(id="liu-2", verified=True).pk),
        headers=HTMX,
    )
    assertContains(response, "by alice")
    assert not Move.objects.filter(changeset__created_by=reviewer).exists()


def test_assign_refuses_entries_of_another_page(client, reviewer, person_page):
    person, entries = person_page
    stranger = make_paper(authors=(make_person(first="Other", last="One"),)).authorships.get()
    response = client.post(
        "/changeset/assign/",
        assign_data(person, [*entries, stranger], to_person=make_person(verified=True).pk),
        headers=HTMX,
    )
    assertContains(response, "no longer on this page")
    assert not Move.objects.exists()


def test_changeset_page_lists_moves_and_htmx_gets_partial(client, reviewer, person_page):
    person, entries = person_page
    draft = drafting.changeset_get_or_create_draft(user=reviewer)
    drafting.moves_add_to_new_person(
        changeset=draft, authorships=entries, first_name="Peiyu", last_name="Liu"
    )
    response = client.get("/changeset/")
    assertContains(response, "new person <code>peiyu-liu</code>", html=False)
    assertContains(response, "Paper 2")
    with assertTemplateUsed("assignments/changeset.html#changeset"):
        response = client.get("/changeset/", headers=HTMX)
    assert b"<html" not in response.content


@pytest.mark.parametrize("htmx", [False, True])
def test_remove_note_and_submit(client, reviewer, person_page, htmx):
    person, entries = person_page
    headers = HTMX if htmx else {}
    draft = drafting.changeset_get_or_create_draft(user=reviewer)
    moves = drafting.moves_add(
        changeset=draft, authorships=entries, to_person=make_person(verified=True)
    )
    response = client.post(f"/changeset/moves/{moves[0].pk}/remove/", headers=headers)
    assert response.status_code == (200 if htmx else 302)
    assert draft.moves.count() == 2
    client.post("/changeset/note/", {"note": "Two people."}, headers=headers)
    draft.refresh_from_db()
    assert draft.note == "Two people."
    response = client.post("/changeset/submit/", {"note": "Two people, see DBLP."}, headers=headers)
    draft.refresh_from_db()
    assert draft.status == ChangeSet.Status.SUBMITTED
    assert draft.note == "Two people, see DBLP."
    if htmx:
        assertContains(response, "submitted for review")


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize(
    "url, error",
    [("/changeset/submit/", "Not submitted"), ("/changeset/note/", "Note not saved")],
)
def test_a_too_long_note_comes_back_with_its_error_and_changes_nothing(
    client, reviewer, person_page, htmx, url, error
):
    _, entries = person_page
    draft = drafting.changeset_get_or_create_draft(user=reviewer)
    drafting.moves_add(changeset=draft, authorships=entries, to_person=make_person(verified=True))
    drafting.changeset_update_note(changeset=draft, note="Old note.")
    note = "Two people. " + "x" * 5000
    template = "assignments/changeset.html#changeset" if htmx else "assignments/changeset.html"
    with assertTemplateUsed(template):
        response = client.post(url, {"note": note}, headers=HTMX if htmx else {})
    assertContains(response, error)
    assertContains(response, "at most 5000 characters")
    assertContains(response, note)  # what was typed is not lost
    assert (b"<html" in response.content) != htmx
    draft.refresh_from_db()
    assert (draft.status, draft.note) == (ChangeSet.Status.DRAFT, "Old note.")


def test_cannot_remove_moves_of_someone_elses_draft(client, reviewer, person_page):
    _, entries = person_page
    other = drafting.changeset_get_or_create_draft(user=make_user(username="alice"))
    (move,) = drafting.moves_add(
        changeset=other, authorships=entries[:1], to_person=make_person(verified=True)
    )
    drafting.changeset_get_or_create_draft(user=reviewer)
    response = client.post(f"/changeset/moves/{move.pk}/remove/")
    assert response.status_code == 404
    assert Move.objects.filter(pk=move.pk).exists()


def test_propose_id_fragment(client, reviewer):
    make_person(id="peiyu-liu", first="Peiyu", last="Liu", verified=True)
    response = client.get(
        "/changeset/propose-id/", {"first_name": "Peiyu", "last_name": "Liu", "degree": "SDU"}
    )
    assertContains(response, "peiyu-liu-sdu")


def test_submit_of_empty_draft_shows_error(client, reviewer):
    draft = drafting.changeset_get_or_create_draft(user=reviewer)
    response = client.post("/changeset/submit/", headers=HTMX)
    # the page of an empty draft always says "empty": look for the refusal itself
    assertContains(
        response,
        '<p class="error" role="alert">The change set is empty: assign some papers first.</p>',
    )
    draft.refresh_from_db()
    assert draft.status == ChangeSet.Status.DRAFT


def test_changeset_page_query_count_does_not_grow_with_moves(
    client, reviewer, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    draft = drafting.changeset_get_or_create_draft(user=reviewer)

    def add_moves(n: int, name: str) -> None:
        person = make_person(first=name, last="Page")
        entries = [make_paper(authors=(person,)).authorships.get() for _ in range(n)]
        drafting.moves_add(
            changeset=draft, authorships=entries[: n // 2], to_person=make_person(verified=True)
        )
        drafting.moves_add_to_new_person(
            changeset=draft, authorships=entries[n // 2 :], first_name=name, last_name="Page"
        )

    add_moves(2, "Small")
    with CaptureQueriesContext(connection) as few:
        client.get("/changeset/")
    add_moves(40, "Big")
    with django_assert_max_num_queries(len(few)):
        response = client.get("/changeset/")
    assert response.context["move_count"] == 42
