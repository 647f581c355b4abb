import json

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from pytest_django.asserts import assertTemplateUsed

from assignments import decisions
from assignments.export import services as export
from assignments.models import ChangeSet
from assignments.review import services as review
from papers import services as catalog
from papers.models import Authorship
from tests.factories import (
    HTMX,
    make_changeset,
    make_paper,
    make_person,
    make_proposal,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def maintainer(maintainer, client):
    """The conftest's maintainer ("boss"), logged in."""
    client.force_login(maintainer)
    return maintainer


def _proposal(n: int = 3, *, user=None, note: str = "RUC papers") -> ChangeSet:
    page = make_person(id=f"peiyu-liu-{n}/unverified", first="Peiyu", last="Liu")
    entries = [make_paper(authors=(page,), title=f"Paper {i}").authorships.get() for i in range(n)]
    catalog.persons_refresh_stats(person_ids=[page.id])
    return make_proposal(authorships=entries, person_id=f"peiyu-liu-ruc{n}", user=user, note=note)


def test_pages_need_a_maintainer(client):
    cs = _proposal()
    urls = [
        reverse("assignments:review_queue"),
        reverse("assignments:review_changeset", args=[cs.pk]),
        reverse("assignments:review_export", args=["json"]),
    ]
    for url in urls:
        assert client.get(url).status_code == 302  # to the login page
    client.force_login(make_user(roles=("reviewer",)))
    for url in urls:
        assert client.get(url).status_code == 403
    for name in ("review_decide", "review_revert"):
        response = client.post(
            reverse(f"assignments:{name}", args=[cs.pk]), {"decision": "approve"}
        )
        assert response.status_code == 403
    assert ChangeSet.objects.get(pk=cs.pk).status == ChangeSet.Status.SUBMITTED


def test_queue_lists_submitted_oldest_first_and_filters(client, maintainer):
    alice = make_user(username="alice", roles=("reviewer",))
    first = _proposal(2, user=alice)
    second = _proposal(3)
    make_changeset(status="draft")
    response = client.get(reverse("assignments:review_queue"))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.index(f"#{first.pk}<") < body.index(f"#{second.pk}<")
    with assertTemplateUsed("assignments/review_queue.html#queue"):
        response = client.get(
            reverse("assignments:review_queue"), {"reviewer": "ali"}, headers=HTMX
        )
    body = response.content.decode()
    assert f"#{first.pk}<" in body and f"#{second.pk}<" not in body
    assert "<html" not in body
    response = client.get(reverse("assignments:review_queue"), {"name": "ruc3"})
    assert f"#{second.pk}<" in response.content.decode()
    assert f"#{first.pk}<" not in response.content.decode()
    response = client.get(reverse("assignments:review_queue"), {"status": "applied"})
    assert "No change sets match" in response.content.decode()


def test_changeset_page_shows_the_effect(client, maintainer, django_assert_max_num_queries):
    cs = _proposal(3)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("assignments:review_changeset", args=[cs.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Papers: 3 → <strong>0</strong>" in body  # the unverified page empties
    assert "Papers: 0 → <strong>3</strong>" in body  # the new person
    assert "&quot;first&quot;: &quot;Peiyu&quot;" in body  # people.json after, escaped
    assert "+ &lt;author id=&quot;peiyu-liu-ruc3&quot;&gt;&lt;first&gt;Peiyu&lt;/first&gt;" in body


def test_changeset_page_query_count_does_not_grow_with_moves(
    client, maintainer, django_assert_max_num_queries
):
    cs = _proposal(60)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("assignments:review_changeset", args=[cs.pk]))
    assert response.content.decode().count('name="move"') == 60


def test_approve_all_redirects_and_applies(client, maintainer):
    cs = _proposal(2)
    url = reverse("assignments:review_decide", args=[cs.pk])
    response = client.post(url, {"decision": "approve", "comment": "fine"})
    assert response.status_code == 302
    cs.refresh_from_db()
    assert cs.status == ChangeSet.Status.APPLIED and cs.review_comment == "fine"
    assert set(Authorship.objects.values_list("person_id", flat=True)) == {"peiyu-liu-ruc2"}


def test_approve_some_with_htmx_redirects_the_client(client, maintainer):
    cs = _proposal(3)
    keep = cs.moves.order_by("pk").first()
    response = client.post(
        reverse("assignments:review_decide", args=[cs.pk]),
        {"decision": "approve_some", "move": [keep.pk]},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("assignments:review_changeset", args=[cs.pk])
    assert sorted(cs.moves.values_list("status", flat=True)) == ["applied", "rejected", "rejected"]


def test_approve_some_without_ticks_is_an_error(client, maintainer):
    cs = _proposal(2)
    with assertTemplateUsed("assignments/review_changeset.html#decision"):
        response = client.post(
            reverse("assignments:review_decide", args=[cs.pk]),
            {"decision": "approve_some"},
            headers=HTMX,
        )
    assert response.status_code == 400
    assert "Tick the moves" in response.content.decode()
    assert ChangeSet.objects.get(pk=cs.pk).status == ChangeSet.Status.SUBMITTED


def test_conflict_shows_what_changed(client, maintainer):
    cs = _proposal(2)
    moved = cs.moves.order_by("pk").first()
    elsewhere = make_person(verified=True, first="Peiyu", last="Liu")
    Authorship.objects.filter(pk=moved.authorship_id).update(person=elsewhere)
    response = client.post(
        reverse("assignments:review_decide", args=[cs.pk]), {"decision": "approve"}
    )
    body = response.content.decode()
    assert response.status_code == 409
    assert "Nothing was applied" in body and f"now belongs to {elsewhere.id}" in body
    assert "<html" in body  # the whole page without htmx


def test_reject_and_revert(client, maintainer):
    cs = _proposal(2)
    client.post(reverse("assignments:review_decide", args=[cs.pk]), {"decision": "reject"})
    assert ChangeSet.objects.get(pk=cs.pk).status == ChangeSet.Status.REJECTED

    other = _proposal(3)
    client.post(reverse("assignments:review_decide", args=[other.pk]), {"decision": "approve"})
    url = reverse("assignments:review_revert", args=[other.pk])
    # the server asks first, whether the page was opened (GET) or the form posted unconfirmed
    for asked in (client.get(url), client.post(url)):
        assert asked.status_code == 200
        assert f"Revert change set {other.pk}?" in asked.content.decode()
    assert not ChangeSet.objects.filter(reverts=other).exists()
    response = client.post(url, {"confirmed": "yes"})
    revert = ChangeSet.objects.get(reverts=other)
    assert response.status_code == 302
    assert response["Location"] == reverse("assignments:review_changeset", args=[revert.pk])
    assert ChangeSet.objects.get(pk=other.pk).status == ChangeSet.Status.REVERTED
    page = client.get(response["Location"]).content.decode()
    assert f"reverted (change set {revert.pk})" in page
    # reverting twice is refused with a message, not an error page
    response = client.post(url, {"confirmed": "yes"})
    assert response.status_code == 400 and "only applied ones" in response.content.decode()


def test_audit_lists_moves_and_reverts_for_person_and_paper(maintainer):
    cs = _proposal(2, note="two people")
    review.changeset_approve(changeset=cs, user=maintainer)
    revert = review.changeset_revert(changeset=cs, user=maintainer)
    events = decisions.audit_for_person("peiyu-liu-ruc2")
    assert [e.changeset.pk for e in events] == [revert.pk, cs.pk]
    assert [e.total for e in events] == [2, 2]
    item = cs.moves.first().item_id
    assert [e.changeset.pk for e in decisions.audit_for_item(item)] == [revert.pk, cs.pk]
    html = render_to_string("assignments/_audit.html", {"audit": events})
    assert "two people" in html and f"revert</strong> of change set {cs.pk}" in html
    assert "approved by boss" in html and "(undone)" in html


def test_export_downloads(client, maintainer, folder, settings):
    settings.ANTHOLOGY_DATA_DIR = None
    assert client.get(reverse("assignments:review_export", args=["patch"])).status_code == 503
    settings.ANTHOLOGY_DATA_DIR = str(folder)
    a = Authorship.objects.get(person_id="peiyu-liu/unverified", item_id="2022.coling-1.288")
    cs = make_proposal(authorships=[a], person_id="peiyu-liu-ruc", note="MoE paper")
    review.changeset_approve(changeset=cs, user=maintainer)

    patch = client.get(reverse("assignments:review_export", args=["patch"]))
    assert patch.status_code == 200 and patch["Content-Type"].startswith("text/x-diff")
    text = patch.content.decode()
    assert '+      <author id="peiyu-liu-ruc"><first>Peiyu</first><last>Liu</last></author>' in text
    summary = json.loads(client.get(reverse("assignments:review_export", args=["json"])).content)
    assert summary["files"] == ["json/people.json", "xml/2022.coling.xml"]
    assert summary["changesets"][0]["id"] == cs.pk
    assert summary["changesets"][0]["new_persons"][0]["id"] == "peiyu-liu-ruc"
    assert summary["changesets"][0]["moves"][0]["to"] == "peiyu-liu-ruc"
    # a download writes nothing
    cs.refresh_from_db()
    assert cs.exported_at is None


def test_export_is_prepared_in_the_background(client, maintainer, folder, settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    settings.ANTHOLOGY_DATA_DIR = str(folder)
    cs = _proposal(1)
    review.changeset_approve(changeset=cs, user=maintainer)
    url = reverse("assignments:review_export", args=["patch"])

    waiting = client.get(url)
    assert waiting.status_code == 202
    assert 'hx-trigger="every 3s"' in waiting.content.decode()
    assert client.get(url, headers=HTMX).status_code == 202

    # what the worker does
    key, _ = export.pending_patch_get(data_dir=str(folder))
    export.pending_patch_compute(data_dir=str(folder), key=key)

    ready = client.get(url, headers=HTMX)
    assert ready["HX-Redirect"] == url
    # the proposal's entries are not in the data folder: the export names the conflict
    patch = client.get(url)
    assert patch.status_code == 409 and "is not in the data folder" in patch.content.decode()
    assert client.get(reverse("assignments:review_export", args=["zip"])).status_code == 404


def test_queue_query_count_does_not_grow(client, maintainer, django_assert_max_num_queries):
    for i in range(12):
        _proposal(i + 1)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("assignments:review_queue"), {"name": "peiyu"})
    assert response.content.decode().count('<td><a href="/review/') == 12


def test_person_page_shows_the_history(client, maintainer):
    cs = _proposal(2, note="split by coauthors")
    review.changeset_approve(changeset=cs, user=maintainer)
    review.changeset_revert(changeset=cs, user=maintainer)
    body = client.get("/people/peiyu-liu-2/unverified/").content.decode()
    assert "History" in body and "split by coauthors" in body
    assert f"revert</strong> of change set {cs.pk}" in body
    assert "approved by boss" in body
