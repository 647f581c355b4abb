"""A maintainer reviews, approves and reverts a change set in headless Chromium."""

import re

import pytest
from playwright.sync_api import expect

from assignments.models import ChangeSet
from papers import services as catalog
from papers.models import Authorship
from tests.browser.conftest import login
from tests.factories import (
    make_changeset,
    make_paper,
    make_person,
    make_proposal,
    make_user,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_maintainer_reviews_approves_and_reverts(page, live_server):
    make_user(username="boss", roles=("maintainer",))
    unverified = make_person(id="peiyu-liu/unverified", first="Peiyu", last="Liu")
    entries = [
        make_paper(authors=(unverified,), title=f"Matrix product operators {i}").authorships.get()
        for i in range(3)
    ]
    catalog.persons_refresh_stats(person_ids=[unverified.id])
    cs = make_proposal(authorships=entries[:2], person_id="peiyu-liu-ruc", note="RUC papers")
    other = make_changeset(note="something else entirely")

    login(page, live_server, "boss")
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/review/")
    assert page.locator(f"#queue >> text=#{cs.pk}").is_visible()
    # htmx filter: only the matching change set stays
    page.fill("input[name=name]", "peiyu-liu-ruc")
    expect(page.locator("#queue")).not_to_contain_text(f"#{other.pk}")
    expect(page).to_have_url(re.compile(r"name=peiyu-liu-ruc"))
    page.click(f"#queue >> text=#{cs.pk}")

    page.wait_for_selector("text=Effect if applied")
    assert page.locator("text=Papers: 3 → 1").is_visible()
    assert page.locator("text=Papers: 0 → 2").is_visible()
    page.fill("#comment", "Coauthors agree")
    page.click("button[value=approve]")
    page.wait_for_selector("text=approved and applied")
    cs.refresh_from_db()
    assert cs.status == ChangeSet.Status.APPLIED and cs.review_comment == "Coauthors agree"
    assert Authorship.objects.filter(person_id="peiyu-liu-ruc").count() == 2

    page.click("text=Revert change set")
    # a confirm step the server renders
    page.wait_for_selector(f"text=Revert change set {cs.pk}?")
    cs.refresh_from_db()
    assert cs.status == ChangeSet.Status.APPLIED
    page.click("text=Yes, revert")
    page.wait_for_selector("text=reverted (change set")
    cs.refresh_from_db()
    assert cs.status == ChangeSet.Status.REVERTED
    assert set(Authorship.objects.values_list("person_id", flat=True)) == {unverified.id}


def test_refused_and_conflicting_decisions_show_why(page, live_server):
    make_user(username="boss", roles=("maintainer",))
    unverified = make_person(id="peiyu-liu/unverified", first="Peiyu", last="Liu")
    elsewhere = make_person(id="peiyu-liu-pku", first="Peiyu", last="Liu", verified=True)
    entries = [
        make_paper(authors=(unverified,), title=f"Tensor networks {i}").authorships.get()
        for i in range(2)
    ]
    cs = make_proposal(authorships=entries, person_id="peiyu-liu-ruc")

    login(page, live_server, "boss")
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/review/{cs.pk}/")
    page.wait_for_selector("text=Effect if applied")
    # A refused decision (400) keeps the form, with the reason in it.
    for box in page.locator("#decision input[name=move]").all():
        box.uncheck()
    page.click("button[value=approve_some]")
    expect(page.locator("#decision")).to_contain_text("Tick the moves to approve")
    expect(page.locator("#request-error")).to_be_hidden()

    # Meanwhile another change moves one of the proposed entries elsewhere.
    Authorship.objects.filter(pk=entries[0].pk).update(person=elsewhere)
    page.click("button[value=approve]")

    decision = page.locator("#decision")
    expect(decision).to_contain_text("Nothing was applied")
    expect(decision).to_contain_text(
        f"{entries[0].item_id} author #1 now belongs to peiyu-liu-pku, "
        "not peiyu-liu/unverified as proposed"
    )
    expect(page.locator("#request-error")).to_be_hidden()
    cs.refresh_from_db()
    assert cs.status == ChangeSet.Status.SUBMITTED
    assert Authorship.objects.get(pk=entries[1].pk).person_id == unverified.id
