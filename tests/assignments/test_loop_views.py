"""Views of the review loop: suggested targets, "one person", next page, a reviewer's own change
sets, confirm steps, outcomes of double decisions, error pages."""

import json
import re

import pytest
from django.template.loader import render_to_string
from django.test import override_settings
from django.urls import reverse
from pytest_django.asserts import (
    assertContains,
    assertNotContains,
    assertRedirects,
    assertTemplateUsed,
)

from assignments.changesets import services as drafting
from assignments.models import ChangeSet, Move, NewPerson, PageDecision, Suggestion
from assignments.review import services as review
from assignments.suggestions.split import entries_fingerprint, suggestion_cluster
from papers.models import ImportRun, RemovedPerson
from tests.factories import HTMX, make_paper, make_person, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def rita(reviewer, client):
    client.force_login(reviewer)
    return reviewer


def _stored_split(person, groups):
    ids = [str(e.pk) for group in groups for e in group]
    Suggestion.objects.create(
        person=person,
        mixed_score=0.5,
        estimated_people=float(len(groups)),
        item_count=len(ids),
        fingerprint=entries_fingerprint(ids),
        clusters=[
            suggestion_cluster(
                signature_ids=[str(e.pk) for e in group], confidence=0.9, evidence={}
            )
            for group in groups
        ],
    )


# -- suggested targets ----------------------------------------------------------------------


def test_targets_need_a_reviewer_and_are_a_partial(client, person_page):
    person, entries = person_page
    url = reverse("assignments:targets")
    query = {"from_person": person.pk, "authorships": [entries[0].pk]}
    assert "/login/" in client.get(url, query, headers=HTMX)["Location"]
    client.force_login(make_user())
    assert client.get(url, query, headers=HTMX).status_code == 403
    client.force_login(make_user(roles=("reviewer",)))
    with assertTemplateUsed("assignments/person_detail.html#targets"):
        response = client.get(url, query, headers=HTMX)
    assertContains(response, "A new person")
    assertContains(response, "no other person has a compatible name")
    assert response.headers["Vary"].count("HX-Request") == 1
    # without htmx: the page itself, with the selection (and its ranking)
    response = client.get(url, query)
    assertRedirects(
        response, f"/people/{person.pk}/?select={entries[0].pk}", fetch_redirect_response=False
    )
    page = client.get(response["Location"])
    assertContains(page, "Scored on 1 selected paper.")


def test_targets_without_a_selection_say_what_to_do(client, rita, person_page):
    person, _ = person_page
    response = client.get(reverse("assignments:targets"), {"from_person": person.pk}, headers=HTMX)
    assertContains(response, "Select papers to see who they may belong to.")
    assertNotContains(response, "A new person")


def test_assigning_to_a_new_person_of_the_draft_from_another_page(client, rita, person_page):
    person, entries = person_page
    draft = drafting.changeset_get_or_create_draft(user=rita)
    drafting.moves_add_to_new_person(
        changeset=draft, authorships=entries[:1], first_name="Peiyu", last_name="Liu"
    )
    other = make_person(first="Peiyu", last="Liu")
    elsewhere = make_paper(authors=(other,)).authorships.get()
    response = client.post(
        reverse("assignments:assign"),
        {
            "from_person": other.pk,
            "authorships": [elsewhere.pk],
            "target": "person",
            "to_person": "peiyu-liu",
        },
        headers=HTMX,
    )
    assertContains(response, "Added 1 move to peiyu-liu")
    new_person = NewPerson.objects.get()
    assert set(new_person.moves.values_list("authorship_id", flat=True)) == {
        entries[0].pk,
        elsewhere.pk,
    }


# -- "one person" ---------------------------------------------------------------------------


def test_mark_one_person_with_and_without_htmx(client, rita, person_page):
    person, entries = person_page
    url = reverse("assignments:one_person")
    response = client.post(url, {"from_person": person.pk}, headers=HTMX)
    assertContains(response, f"Marked {person.pk} as one person (3 papers) in your change set.")
    assertContains(response, "Next page in the queue")
    assert json.loads(response.headers["HX-Trigger"]) == {"changeset-changed": {}}
    # twice: refused, and said in the panel (409, which htmx swaps)
    response = client.post(url, {"from_person": person.pk}, headers=HTMX)
    assert response.status_code == 409
    assertContains(response, "already marked one person in your change set", status_code=409)
    response = client.post(url, {"from_person": person.pk})
    assertRedirects(response, f"/people/{person.pk}/", fetch_redirect_response=False)
    assert PageDecision.objects.count() == 1
    assert client.get(reverse("assignments:draft")).content.decode().count('class="mark"') == 1


def test_the_page_offers_next_and_says_when_a_group_is_already_proposed(client, rita, person_page):
    person, entries = person_page
    _stored_split(person, [entries[:2], entries[2:]])
    draft = drafting.changeset_get_or_create_draft(user=rita)
    drafting.moves_add_to_new_person(
        changeset=draft, authorships=entries[2:], first_name="Peiyu", last_name="Liu"
    )
    response = client.get(f"/people/{person.pk}/", {"queue": "min_papers=2"})
    content = response.content.decode()
    assert "all proposed already" in content  # group 2: nothing left to select
    assert content.count("data-select-ids=") == 1  # group 1 only
    assertContains(response, "1 of its papers is in a change set already")
    next_url = f"/mixed/next/?after={person.pk.replace('/', '%2F')}&amp;queue=min_papers%3D2"
    assertContains(response, next_url)


# -- the draft page: counter, edits, discard --------------------------------------------------


def test_the_note_is_counted_not_cut(client, rita, person_page):
    person, entries = person_page
    draft = drafting.changeset_get_or_create_draft(user=rita)
    drafting.page_decision_add(changeset=draft, person=person)
    response = client.get(reverse("assignments:draft"))
    note = re.search(r"<textarea[^>]*>", response.content.decode()).group(0)
    assert "maxlength" not in note and 'data-max-length="5000"' in note
    assertContains(response, "At most 5,000 characters.")
    assertContains(response, 'data-counter-for="id_note"')


def test_editing_a_new_person_in_the_draft(client, rita, person_page):
    person, entries = person_page
    draft = drafting.changeset_get_or_create_draft(user=rita)
    drafting.moves_add_to_new_person(
        changeset=draft, authorships=entries[:1], first_name="Peiyu", last_name="Liu"
    )
    new_person = NewPerson.objects.get()
    url = reverse("assignments:newperson_edit", args=[new_person.pk])
    prefix = f"np{new_person.pk}-"
    response = client.post(
        url,
        {prefix + "first_name": "Peiyu", prefix + "last_name": "", prefix + "orcid": "12"},
        headers=HTMX,
    )
    assert response.status_code == 422
    assertContains(response, "A new person needs a last name.", status_code=422)
    assertContains(response, "peiyu-liu not saved: fix it first.", status_code=422)
    response = client.post(
        url,
        {
            prefix + "first_name": "Peiyu",
            prefix + "last_name": "Liu",
            prefix + "degree": "Renmin University of China",
            prefix + "comment": "<b>LLM</b> compression",
        },
        headers=HTMX,
    )
    assertContains(response, "Saved new person peiyu-liu.")
    assertContains(response, "&lt;b&gt;LLM&lt;/b&gt; compression")
    new_person.refresh_from_db()
    assert new_person.degree == "Renmin University of China"
    # someone else's new person is not found
    client.force_login(make_user(username="sam", roles=("reviewer",)))
    assert client.post(url, {prefix + "last_name": "X"}).status_code in (302, 404)
    new_person.refresh_from_db()
    assert new_person.last_name == "Liu"


def test_discarding_the_draft_asks_first(client, rita, person_page):
    person, entries = person_page
    draft = drafting.changeset_get_or_create_draft(user=rita)
    drafting.moves_add_to_new_person(
        changeset=draft, authorships=entries[:2], first_name="Peiyu", last_name="Liu"
    )
    url = reverse("assignments:discard")
    for asked in (client.get(url), client.post(url)):
        assertContains(asked, f"Discard draft {draft.pk}?")
        assertContains(asked, "Its 2 moves")
    assert ChangeSet.objects.filter(pk=draft.pk).exists()
    response = client.post(url, {"confirmed": "yes"})
    assertRedirects(response, reverse("assignments:draft"), fetch_redirect_response=False)
    assert not ChangeSet.objects.exists()


# -- my change sets, withdraw --------------------------------------------------------------


def test_my_change_sets_list_withdraw_and_the_authors_view(client, rita, person_page):
    person, entries = person_page
    draft = drafting.changeset_get_or_create_draft(user=rita)
    drafting.moves_add_to_new_person(
        changeset=draft, authorships=entries[:1], first_name="Peiyu", last_name="Liu"
    )
    drafting.changeset_submit(changeset=draft, user=rita)
    others = make_user(username="sam", roles=("reviewer",))
    theirs = drafting.changeset_get_or_create_draft(user=others)

    response = client.get(reverse("assignments:mine"))
    assertContains(response, f'href="/review/{draft.pk}/"')
    assertContains(response, "Withdraw")
    assertNotContains(response, f"#{theirs.pk}<")
    # the author may read their change set (not decide it); others may not
    page = client.get(reverse("assignments:review_changeset", args=[draft.pk]))
    assertContains(page, f"Withdraw change set {draft.pk}")
    assertNotContains(page, "Approve all and apply")
    client.force_login(others)
    assert client.get(reverse("assignments:review_changeset", args=[draft.pk])).status_code == 403
    assert client.post(reverse("assignments:withdraw", args=[draft.pk])).status_code == 404

    client.force_login(rita)
    response = client.post(reverse("assignments:withdraw", args=[draft.pk]), follow=True)
    assertContains(response, f"Change set {draft.pk} withdrawn")
    draft.refresh_from_db()
    assert draft.status == ChangeSet.Status.DRAFT


# -- maintainers: outcome of a second decision, next, revert confirm --------------------------


@pytest.fixture
def boss(maintainer, client):
    client.force_login(maintainer)
    return maintainer


def _submitted(person_entries, user=None, degree=""):
    person, entries = person_entries
    user = user or make_user(roles=("reviewer",))
    draft = drafting.changeset_get_or_create_draft(user=user)
    drafting.moves_add_to_new_person(
        changeset=draft,
        authorships=entries[:1],
        first_name="Peiyu",
        last_name="Liu",
        degree=degree,
    )
    return drafting.changeset_submit(changeset=draft, user=user)


@pytest.mark.parametrize("headers", [HTMX, {}])
def test_a_second_approve_shows_the_outcome(client, boss, person_page, headers):
    cs = _submitted(person_page)
    url = reverse("assignments:review_decide", args=[cs.pk])
    client.post(url, {"decision": "approve"}, headers=headers)
    response = client.post(url, {"decision": "approve"}, headers=headers)
    assert response.status_code == 200
    assertContains(response, f"Change set {cs.pk} was approved and applied by boss")
    assert Move.objects.get().status == Move.Status.APPLIED


def test_next_change_set_in_review_order(client, boss, person_page):
    first = _submitted(person_page)
    other = make_person(first="Peiyu", last="Liu")
    second = _submitted((other, [make_paper(authors=(other,)).authorships.get()]), degree="PKU")
    url = reverse("assignments:review_next")
    assertRedirects(client.get(url), f"/review/{first.pk}/", fetch_redirect_response=False)
    assertRedirects(
        client.get(url, {"after": first.pk}), f"/review/{second.pk}/", fetch_redirect_response=False
    )
    review.changeset_approve(changeset=second, user=boss)
    response = client.get(url, {"after": second.pk})
    assertRedirects(response, f"/review/{first.pk}/", fetch_redirect_response=False)
    for odd in ("x", "9" * 30, str(first.pk)):
        assert client.get(url, {"after": odd}).status_code == 302
    client.force_login(make_user(roles=("reviewer",)))
    assert client.get(url).status_code == 403


def test_review_page_offers_keys_and_the_revert_confirm(client, boss, person_page):
    cs = _submitted(person_page)
    page = client.get(reverse("assignments:review_changeset", args=[cs.pk]))
    assertContains(page, 'data-key-focus="a"')
    assertContains(page, 'data-key-focus="r"')
    assertContains(page, f'href="/review/next/?after={cs.pk}"')
    review.changeset_approve(changeset=cs, user=boss)
    page = client.get(reverse("assignments:review_changeset", args=[cs.pk]))
    assertContains(page, f'href="/review/{cs.pk}/revert/"')
    confirm = client.get(reverse("assignments:review_revert", args=[cs.pk]))
    assertContains(confirm, "gets back 1 paper")
    assertContains(confirm, "the new person <code>peiyu-liu</code> is removed again", html=False)


# -- pages that are gone, error pages ------------------------------------------------------


def test_a_page_an_import_removed_says_where_its_papers_went(client):
    landing = make_person(id="peiyu-liu-ruc", first="Peiyu", last="Liu", verified=True)
    run = ImportRun.objects.create(source="/data", status=ImportRun.Status.SUCCEEDED)
    RemovedPerson.objects.create(
        person_id="peiyu-liu/unverified",
        name="Peiyu Liu",
        import_run=run,
        entries=5,
        went_to=[{"person_id": landing.pk, "name": "Peiyu Liu", "entries": 4}],
    )
    response = client.get("/people/peiyu-liu/unverified/")
    assert response.status_code == 404
    assertContains(response, "Its 5 papers went to:", status_code=404)
    assertContains(response, 'href="/people/peiyu-liu-ruc/"', status_code=404)
    assertContains(response, "1 paper removed from the data", status_code=404)
    assertContains(response, 'class="header-search"', status_code=404)


def test_unknown_pages_get_the_sites_404(client):
    response = client.get("/people/nobody-at-all/")
    assertContains(response, "There is no person with this id.", status_code=404)
    response = client.get("/no/such/page/")
    assertContains(response, "There is nothing at this address", status_code=404)
    assertContains(response, 'class="site-header"', status_code=404)


def test_403_is_the_sites_page(client):
    client.force_login(make_user(username="nobody"))
    response = client.get(reverse("assignments:review_queue"))
    assertContains(response, "You are not allowed to do that", status_code=403)
    assertContains(response, "This needs the maintainer or admin role.", status_code=403)
    assertContains(response, 'class="header-search"', status_code=403)


def test_500_renders_without_a_request_context(client):
    html = render_to_string("500.html")
    assert "Something went wrong on our side" in html and 'class="site-header"' in html


@override_settings(DEBUG=False)
def test_admins_get_a_link_to_the_admin(client, admin_user):
    client.force_login(admin_user)
    assertContains(client.get("/"), 'href="/admin/"')
    client.force_login(make_user(roles=("maintainer",)))
    assertNotContains(client.get("/"), 'href="/admin/"')


def test_a_person_removed_by_a_revert_says_so(client, maintainer, person_page):
    cs = _submitted(person_page)
    review.changeset_approve(changeset=cs, user=maintainer)
    assert client.get("/people/peiyu-liu/").status_code == 200
    review.changeset_revert(changeset=cs, user=maintainer)
    response = client.get("/people/peiyu-liu/")
    assertContains(
        response,
        f'Change set <a href="/review/{cs.pk}/">{cs.pk}</a> created this person',
        status_code=404,
    )
