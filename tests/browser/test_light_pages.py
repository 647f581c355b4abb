"""A light person page in headless Chromium: a paper's details load into its row (title or
`d`), the namesakes load when opened, and without JavaScript the same links lead to pages."""

import pytest
from playwright.sync_api import Browser, Page, expect

from papers.models import Authorship
from tests.browser.conftest import login
from tests.factories import make_paper, make_person, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page_with_papers():
    person = make_person(first="Peiyu", last="Liu")
    coauthor = make_person(id="wayne-xin-zhao", first="Wayne Xin", last="Zhao", verified=True)
    papers = [
        make_paper(
            title=f"Compressing language models {i}",
            authors=(person, coauthor),
            year=2020 + i,
            abstract=f"We compress model number {i}.",
        )
        for i in range(3)
    ]
    Authorship.objects.filter(person=coauthor).update(affiliation="Renmin University")
    make_person(id="peiyu-liu-ruc", first="Peiyu", last="Liu", verified=True)
    return person, papers


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def test_a_papers_details_load_into_its_row(
    page: Page, live_server, page_with_papers, console_errors
):
    person, papers = page_with_papers
    make_user(username="rita", roles=("reviewer",))
    login(page, live_server, "rita", next_url=f"/people/{person.pk}/")
    rows = page.locator("#papers > li")
    expect(rows).to_have_count(3)
    newest = rows.nth(0)
    expect(newest).not_to_contain_text("We compress model number 2.")

    with page.expect_request(lambda r: r.url.endswith(f"/papers/{papers[2].pk}/")) as request:
        newest.get_by_role("link", name="Compressing language models 2").click()
    assert request.value.headers.get("hx-request") == "true"
    details = newest.locator(".item")
    expect(details).to_contain_text("We compress model number 2.")
    expect(details).to_contain_text("(Renmin University)")
    expect(details.get_by_role("link", name="Wayne Xin Zhao")).to_have_attribute(
        "href", "/people/wayne-xin-zhao/"
    )
    expect(details.locator("a.self")).to_have_text("Peiyu Liu")  # the page's own person
    assert page.url.endswith(f"/people/{person.pk}/")  # no navigation
    expect(newest.locator("input[name=authorships]")).not_to_be_checked()

    # the title then hides and shows what was loaded, without asking again
    newest.get_by_role("link", name="Compressing language models 2").click()
    expect(details).to_be_hidden()
    newest.get_by_role("link", name="Compressing language models 2").click()
    expect(details).to_be_visible()
    expect(newest.locator(".item")).to_have_count(1)

    # the keyboard: j j goes to the second paper, d shows its details
    page.locator("h1").click()
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("d")
    expect(rows.nth(1).locator(".item")).to_contain_text("We compress model number 1.")
    page.keyboard.press("x")  # and the keys go on working
    expect(page.locator("#selected-count")).to_have_text("1")

    # the namesakes are listed when opened, and can be chosen
    page.get_by_text("Others with this name (1)").click()
    namesakes = page.locator("#namesakes")
    expect(namesakes).to_contain_text("peiyu-liu-ruc")
    namesakes.get_by_role("button", name="Choose").click()
    expect(page.locator("#id_to_person")).to_have_value("peiyu-liu-ruc")
    assert console_errors == []


def test_without_javascript_the_same_links_lead_to_pages(
    browser: Browser, live_server, page_with_papers
):
    person, papers = page_with_papers
    make_user(username="rita", roles=("reviewer",))
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    login(page, live_server, "rita", next_url=f"/people/{person.pk}/")
    page.get_by_role("link", name="Compressing language models 1").click()
    expect(page).to_have_url(f"{live_server.url}/papers/{papers[1].pk}/")
    expect(page.locator("h1")).to_have_text("Compressing language models 1")
    expect(page.locator("main")).to_contain_text("We compress model number 1.")
    page.go_back()
    page.get_by_text("Others with this name (1)").click()  # <details> opens without scripts
    page.get_by_role("link", name="List them").click()
    expect(page).to_have_url(f"{live_server.url}/people/{person.pk}/namesakes/")
    expect(page.locator("main")).to_contain_text("peiyu-liu-ruc")
    context.close()
