import re

import pytest
from playwright.sync_api import Page, expect

from assignments.models import Move, NewPerson, Suggestion
from assignments.suggestions.split import suggestion_cluster
from papers.models import Authorship, Person
from tests.browser.conftest import login
from tests.factories import make_evidence, make_user

# serialized_rollback: the flush after each test would otherwise drop the roles the data
# migration made, and later tests in the session rely on them.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def peiyu(imported):
    """The real 'Peiyu Liu' page from fixtures/, with a stored split: the papers written with
    Wayne Xin Zhao (the Renmin University person) and the rest."""
    person = Person.objects.get(pk="peiyu-liu/unverified")
    entries = list(person.authorships.order_by("item_id"))
    with_zhao = set(
        Authorship.objects.filter(
            item_id__in=[e.item_id for e in entries], person_id="wayne-xin-zhao"
        ).values_list("item_id", flat=True)
    )
    group1 = [e.pk for e in entries if e.item_id in with_zhao]
    group2 = [e.pk for e in entries if e.item_id not in with_zhao]
    assert group1 and group2
    Suggestion.objects.create(
        person=person,
        estimated_people=2.0,
        mixed_score=0.9,
        item_count=len(entries),
        clusters=[
            suggestion_cluster(
                signature_ids=[str(pk) for pk in group1],
                confidence=0.92,
                evidence=make_evidence(
                    coauthors=["Wayne Xin Zhao"], terms=["matrix", "product", "operator"]
                ),
            ),
            suggestion_cluster(
                signature_ids=[str(pk) for pk in group2],
                confidence=0.81,
                evidence=make_evidence(terms=["code", "summarization"]),
            ),
        ],
    )
    return person, group1, group2


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    """Errors the browser logs: CSP violations and script errors end up here."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


@pytest.fixture
def reviewer_page(page: Page, live_server, peiyu):
    make_user(username="rita", roles=("reviewer",))
    login(page, live_server, "rita")
    expect(page.locator(".site-header .user")).to_have_text("rita")
    return page


def boxes(page: Page):
    return page.locator('#papers input[name="authorships"]')


def test_search_select_group_assign_to_new_person(
    console_errors, reviewer_page: Page, live_server, peiyu
):
    page = reviewer_page
    _, group1, group2 = peiyu
    page.goto(f"{live_server.url}/")
    page.get_by_role("searchbox", name="Search authors").fill("peiyu lui")  # typo on purpose
    page.locator("#results").get_by_role("link", name="Peiyu Liu").click()
    expect(page).to_have_url(re.compile(r"/people/peiyu-liu/unverified/$"))

    page.locator(".group-card").first.get_by_text("Select this group").click()
    for pk in group1:
        expect(page.locator(f"#papers input[value='{pk}']")).to_be_checked()
    for pk in group2:
        expect(page.locator(f"#papers input[value='{pk}']")).not_to_be_checked()
    expect(page.locator("#selected-count")).to_have_text(str(len(group1)))

    page.get_by_label("A new person").check()
    page.get_by_label("Degree institution").fill("Renmin University of China")
    page.get_by_label("ORCID iD").fill("0000-0002-1825-0097")
    expect(page.locator("#proposed-id")).to_contain_text("peiyu-liu")
    page.get_by_role("button", name=re.compile("^Assign")).click()

    expect(page.locator("#assign .success")).to_contain_text(
        f"Added {len(group1)} moves to peiyu-liu"
    )
    # the list refreshed: moved papers are marked and can no longer be ticked
    expect(page.locator("#papers .pending-note")).to_have_count(len(group1))
    for pk in group1:
        expect(page.locator(f"#papers input[value='{pk}']")).to_be_disabled()

    page.get_by_role("link", name="My change set").click()
    expect(page.locator("#changeset")).to_contain_text("new person peiyu-liu")
    expect(page.locator("#changeset tr.move")).to_have_count(len(group1))
    assert NewPerson.objects.get().orcid == "0000-0002-1825-0097"
    assert console_errors == []


def test_assign_error_is_shown_next_to_the_form(reviewer_page: Page, live_server, peiyu):
    page = reviewer_page
    page.goto(f"{live_server.url}/people/peiyu-liu/unverified/")
    boxes(page).first.check()
    page.get_by_label("A new person").check()
    page.get_by_label("ORCID iD").fill("0000-0002-1825-0098")
    page.get_by_role("button", name=re.compile("^Assign")).click()
    expect(page.locator("#assign .errorlist")).to_contain_text("checksum")
    assert not Move.objects.exists()


def test_shift_click_selects_a_range_and_all_none(reviewer_page: Page, live_server, peiyu):
    page = reviewer_page
    page.goto(f"{live_server.url}/people/peiyu-liu/unverified/")
    all_boxes = boxes(page)
    expect(all_boxes).to_have_count(9)

    def ticked() -> list[int]:
        return [i for i in range(9) if all_boxes.nth(i).is_checked()]

    all_boxes.nth(1).click()
    all_boxes.nth(4).click(modifiers=["Shift"])
    assert ticked() == [1, 2, 3, 4]
    expect(page.locator("#selected-count")).to_have_text("4")
    # shift-click upwards unticks the range it spans
    all_boxes.nth(3).click()
    all_boxes.nth(2).click(modifiers=["Shift"])
    assert ticked() == [1, 4]
    page.get_by_role("button", name="Select all").click()
    expect(page.locator("#selected-count")).to_have_text("9")
    page.get_by_role("button", name="Select none").click()
    expect(page.locator("#selected-count")).to_have_text("0")


def test_reload_logout_and_second_tab_keep_the_draft(reviewer_page: Page, live_server, peiyu):
    page = reviewer_page
    person, group1, _ = peiyu
    page.goto(f"{live_server.url}/people/peiyu-liu/unverified/")
    page.locator(f"#papers input[value='{group1[0]}']").check()
    page.locator("#person-q").fill("wayne xin")
    page.locator("#person-choices").get_by_role("button", name="Choose").first.click()
    expect(page.locator("#id_to_person")).to_have_value("wayne-xin-zhao")
    page.get_by_role("button", name=re.compile("^Assign")).click()
    expect(page.locator("#assign .success")).to_contain_text("wayne-xin-zhao")

    page.reload()
    expect(page.locator(f"#papers input[value='{group1[0]}']")).to_be_disabled()
    expect(page.locator(".draft-summary")).to_contain_text("1 move")

    second = page.context.new_page()
    second.goto(f"{live_server.url}/changeset/")
    expect(second.locator("#changeset tr.move")).to_have_count(1)
    second.locator("#id_note").fill("Wayne Xin Zhao's student at RUC.")
    second.get_by_role("button", name="Save note").click()
    expect(second.locator("#changeset .success")).to_have_text("Note saved.")

    page.get_by_role("button", name="Log out").click()
    login(page, live_server, "rita")
    page.goto(f"{live_server.url}/changeset/")
    expect(page.locator("#changeset tr.move")).to_have_count(1)
    expect(page.locator("#id_note")).to_have_value("Wayne Xin Zhao's student at RUC.")
    assert Move.objects.get().from_person_id == person.pk


def test_header_search_from_any_page(page: Page, live_server, peiyu):
    page.goto(f"{live_server.url}/people/peiyu-liu/unverified/")
    page.locator(".header-search input").fill("wayne xin zhao")
    page.locator("#header-results").get_by_role("link", name="Wayne Xin Zhao").first.click()
    expect(page).to_have_url(re.compile(r"/people/wayne-xin-zhao/$"))
    expect(page.locator("h1")).to_contain_text("Wayne Xin Zhao")


def test_without_javascript_search_select_group_and_assign_still_work(browser, live_server, peiyu):
    make_user(username="nojs", roles=("reviewer",))
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    login(page, live_server, "nojs")
    page.goto(f"{live_server.url}/")
    page.get_by_role("searchbox", name="Search authors").fill("peiyu liu")
    page.get_by_role("searchbox", name="Search authors").press("Enter")
    page.locator("#results").get_by_role("link", name="Peiyu Liu").click()
    _, group1, group2 = peiyu
    # "Select this group" is a plain link that comes back with the group ticked
    page.locator(".group-card").first.get_by_role("link", name="Select this group").click()
    for pk in group1:
        expect(page.locator(f"#papers input[value='{pk}']")).to_be_checked()
    page.get_by_label("Person id").fill("wayne-xin-zhao")
    page.get_by_role("button", name=re.compile("^Assign")).click()
    expect(page.locator(".messages")).to_contain_text(
        f"Added {len(group1)} moves to wayne-xin-zhao"
    )
    expect(page.locator("#papers .pending-note")).to_have_count(len(group1))
    context.close()
